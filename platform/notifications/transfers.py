"""Outbox events of transfers, some of which belong to another school than the one the
transaction is bound to.

An event row lives in one school's schema. Leaving runs bound to the leaving school but tells
the *destination* school; a claim runs bound to the receiving school but tells the *leaving*
school. Both are written in the same transaction as the transfer (so a rolled-back claim tells
nobody and a committed one always tells): :func:`_as_school` switches the transaction's binding
(role and search_path, both transaction-local) to the other school for the one INSERT of an
event holding ids only, then switches back. The after-commit hook enqueues the dispatch of
every school whose events the transaction wrote. docs/transfers.md explains the choice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from notifications.models import NotificationEvent
from notifications.outbox import record_event
from tenants import roles
from tenants.binding import SchoolBinding, bind_session, session_binding, unbind_session
from tenants.models import School, SchoolStatus
from transfers.models import PoolEntry


@contextmanager
def _as_school(session: Session, binding: SchoolBinding) -> Iterator[None]:
    """Run the block bound to the school of ``binding`` inside the current transaction, then
    restore the previous binding (or none)."""
    previous = session_binding(session)
    session.flush()  # what the bound school wrote goes in under its own role
    bind_session(session, binding)
    try:
        yield
        session.flush()
    finally:
        if previous is not None:
            bind_session(session, previous)
        else:
            unbind_session(session)
            roles.reset_role(session.connection())


def _forget(session: Session, outbox_event: NotificationEvent) -> None:
    """Keep another school's event out of the session's identity map: its id comes from that
    school's sequence and may equal the id of an event of the bound school."""
    session.expunge(outbox_event)


_ACTIVE_SCHOOL = select(School.id, School.schema_name, School.role_name).where(
    School.id == bindparam("school_id"), School.status == SchoolStatus.ACTIVE
)


def _active_school(session: Session, school_id: int | None) -> SchoolBinding | None:
    """The binding of the school if it is active (one query, no School object loaded)."""
    if school_id is None:
        return None
    found = session.execute(_ACTIVE_SCHOOL, {"school_id": school_id}).one_or_none()
    return SchoolBinding(found.id, found.schema_name, found.role_name) if found else None


def notify_incoming(session: Session, entry: PoolEntry, *, actor_id: int | None) -> bool:
    """When the leaving school named a destination school of the municipality, tell that
    school's directors and administrators (an event in its schema). True when written."""
    destination = _active_school(session, entry.to_school_id)
    if destination is None or destination.school_id == entry.from_school_id:
        return False
    with _as_school(session, destination):
        outbox_event = record_event(
            session, "transfer_incoming", actor_id=actor_id, pool_id=entry.id
        )
    _forget(session, outbox_event)
    return True


def notify_claimed(
    session: Session, entry: PoolEntry, class_id: int, *, actor_id: int | None
) -> None:
    """After a claim (the session bound to the claiming school): the guardians learn their
    child's new school and the teachers and head of ``class_id`` their new student (events
    here, rendered in each reader's language), and the leaving school's directors and
    administrators learn who took the student (an event there)."""
    leaving = _active_school(session, entry.from_school_id)
    if leaving is not None:
        with _as_school(session, leaving):
            outbox_event = record_event(
                session, "transfer_claimed", actor_id=actor_id, pool_id=entry.id
            )
        _forget(session, outbox_event)
    record_event(
        session,
        "transfer_new_school",
        actor_id=actor_id,
        pool_id=entry.id,
        student_id=entry.claimed_person_id,
    )
    record_event(
        session,
        "student_joined",
        actor_id=actor_id,
        student_id=entry.claimed_person_id,
        class_id=class_id,
    )
