"""The school's notification settings (one row: the digest's time and the SMS quiet hours, in
local time) and what they mean at a given instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import Role
from accounts.services import require_role
from dienynas import clock
from notifications.models import NotificationSettings
from tenants.models import School


def utc_now() -> datetime:
    """The current instant (one place, so tests can move it)."""
    return datetime.now(UTC)


def settings_of(session: Session) -> NotificationSettings:
    """The bound school's notification settings (the defaults when never saved)."""
    saved = session.get(NotificationSettings, 1)
    if saved is not None:
        return saved
    return NotificationSettings(
        id=1, digest_at=time(18, 0), quiet_from=time(21, 0), quiet_until=time(7, 0)
    )


def save_settings(
    session: Session,
    account: Principal,
    school: School,
    *,
    digest_at: time,
    quiet_from: time,
    quiet_until: time,
) -> NotificationSettings:
    """The administrator sets the digest time and the SMS quiet hours (local times)."""
    require_role(account, school, Role.ADMIN)
    settings = session.get(NotificationSettings, 1)
    if settings is None:
        settings = NotificationSettings(id=1)
        session.add(settings)
    settings.digest_at, settings.quiet_from, settings.quiet_until = (
        digest_at,
        quiet_from,
        quiet_until,
    )
    session.flush()
    return settings


# --- quiet hours ------------------------------------------------------------------------------


def quiet_end(settings: NotificationSettings, now: datetime) -> datetime | None:
    """When ``now`` falls in the quiet hours: the instant they end (UTC); else None."""
    start, end = settings.quiet_from, settings.quiet_until
    if start == end:
        return None
    local = now.astimezone(clock.zone())
    moment = local.time()
    quiet = (start <= moment < end) if start < end else (moment >= start or moment < end)
    if not quiet:
        return None
    day = local.date() if moment < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=clock.zone()).astimezone(UTC)


def digest_day(settings: NotificationSettings, now: datetime) -> tuple[date, datetime] | None:
    """The local day whose digest is due at ``now`` and the instant it fell due, or None
    before the school's digest time."""
    local = now.astimezone(clock.zone())
    if local.time() < settings.digest_at:
        return None
    due = datetime.combine(local.date(), settings.digest_at, tzinfo=clock.zone())
    return local.date(), due.astimezone(UTC)
