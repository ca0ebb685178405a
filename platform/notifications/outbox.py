"""Writing outbox events. Services call :func:`record_event` in the transaction that makes the
change, so a rolled-back grade leaves no event and a committed one always has its event."""

from __future__ import annotations

from sqlalchemy.orm import Session

from notifications.models import NotificationEvent

#: The event kinds the gradebook writes (delivery is the notifications issue's work).
EVENT_KINDS = frozenset(
    {
        "grade",
        "grade_changed",
        "absence",
        "remark",
        "homework",
        "test",
        "term_grade",
        "excuse_decision",
    }
)


def record_event(
    session: Session, kind: str, *, actor_id: int | None, **ids: int
) -> NotificationEvent:
    """Add an event of ``kind`` whose payload is ``ids`` (record ids, never personal data)."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    event = NotificationEvent(kind=kind, payload=ids, actor_id=actor_id)
    session.add(event)
    return event
