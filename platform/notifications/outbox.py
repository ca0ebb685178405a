"""Writing outbox events. Services call :func:`record_event` in the transaction that makes the
change, so a rolled-back grade leaves no event and a committed one always has its event.

After the commit, a dispatch job is enqueued for the school (an ``after_commit`` hook on the
session). If Redis is down then, the commit has already succeeded: the error is logged and the
periodic sweeper (notifications.tasks) dispatches the events later.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from notifications.models import NotificationEvent
from tenants.binding import session_binding

#: session.info key: ids of the schools whose new events this transaction recorded.
_PENDING_SCHOOLS = "notifications.pending_schools"

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
        # transfers (notifications/transfers.py): a student heading to the school, a former
        # student claimed by another school, the guardians told of the child's new school
        "transfer_incoming",
        "transfer_claimed",
        "transfer_new_school",
        # a new message in a thread (notifications/messages), a published announcement
        "message",
        "announcement",
        # a student joined a class under way (school.people) or was claimed into it: the
        # teachers of their groups and the class head are told
        "student_joined",
        # the health specialist wrote a recommendation (school/health): the same teachers and
        # head are told, without its text (it stays in the diary, not in e-mail or SMS)
        "health_recommendation",
    }
)


def record_event(
    session: Session, kind: str, *, actor_id: int | None, **ids: int
) -> NotificationEvent:
    """Add an event of ``kind`` whose payload is ``ids`` (record ids, never personal data)."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    outbox_event = NotificationEvent(kind=kind, payload=ids, actor_id=actor_id)
    session.add(outbox_event)
    binding = session_binding(session)
    if binding is not None:
        session.info.setdefault(_PENDING_SCHOOLS, set()).add(binding.school_id)
    return outbox_event


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    school_ids = session.info.pop(_PENDING_SCHOOLS, None)
    if not school_ids:
        return
    from notifications.tasks import enqueue_dispatch

    for school_id in sorted(school_ids):
        enqueue_dispatch(school_id)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:
    """A rolled-back transaction sends nothing (a rolled-back savepoint inside a transaction
    that commits only costs a dispatch job that finds no events)."""
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_SCHOOLS, None)
