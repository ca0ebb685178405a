"""The periodic job that publishes scheduled announcements in every active school."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from dienynas.extensions import db
from dienynas.jobs import periodic, task
from notifications.announcements.services import publish_due
from tenants.binding import unbind_session
from tenants.models import School, SchoolStatus
from tenants.services import bind_to_school


@periodic(every_seconds=60)
@task
def publish_announcements() -> int:
    """Publish the due announcements of every active school (each once, whatever runs twice);
    the commit enqueues their dispatch. Returns how many were published."""
    schools = db.session.scalars(
        select(School).where(School.status == SchoolStatus.ACTIVE).order_by(School.id)
    ).all()
    db.session.commit()
    published = 0
    for school in schools:
        bind_to_school(db.session, school)
        published += len(publish_due(db.session, datetime.now(UTC)))
        db.session.commit()
        unbind_session(db.session)
    return published
