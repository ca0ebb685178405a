"""Account housekeeping: login events are kept for the activity reports, then deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from accounts.models import LoginEvent
from dienynas.extensions import db
from dienynas.jobs import periodic, task

#: How long a login is remembered: a school year and a quarter, for the quarterly reports.
LOGIN_EVENT_DAYS = 460


@periodic(every_seconds=24 * 3600)
@task
def prune_login_events() -> int:
    """Delete the login events older than ``LOGIN_EVENT_DAYS``; how many. Idempotent."""
    cutoff = datetime.now(UTC) - timedelta(days=LOGIN_EVENT_DAYS)
    deleted = db.session.execute(delete(LoginEvent).where(LoginEvent.logged_in_at < cutoff))
    db.session.commit()
    return deleted.rowcount
