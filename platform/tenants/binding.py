"""Binding a database transaction to one school.

Every transaction of a session bound to a school starts with one round trip::

    SELECT set_config('search_path', '<school schema>', true),
           set_config('role', '<school role>', true)

Both settings are transaction-local, so a pooled connection (or PgBouncer in transaction mode)
never carries a school into the next transaction. Because the role is the school's own role,
a query that names another school's schema fails with "permission denied" even when the
application code is wrong.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, scoped_session

BIND_SQL = text("SELECT set_config('search_path', :schema, true), set_config('role', :role, true)")
_INFO_KEY = "dienynas.school_binding"


class SchoolBinding(NamedTuple):
    school_id: int
    schema: str
    role: str


def bind_connection(connection: Connection, binding: SchoolBinding) -> None:
    """Bind the connection's current transaction to the school."""
    connection.execute(BIND_SQL, {"schema": binding.schema, "role": binding.role})


def _real(session: Session | scoped_session) -> Session:
    return session() if isinstance(session, scoped_session) else session


def bind_session(session: Session | scoped_session, binding: SchoolBinding) -> None:
    """Bind this and every following transaction of ``session`` to the school.

    If a transaction is already open (the registry lookup that found the school), it is bound
    at once; later transactions are bound as they begin.
    """
    session = _real(session)
    session.info[_INFO_KEY] = binding
    if session.in_transaction():
        bind_connection(session.connection(), binding)


def remember_binding(session: Session | scoped_session, binding: SchoolBinding) -> None:
    """Like :func:`bind_session` when the caller's own statement has just bound the open
    transaction (``tenants.services.find_and_bind_school``): only the following transactions
    are bound by this module."""
    _real(session).info[_INFO_KEY] = binding


def session_binding(session: Session | scoped_session) -> SchoolBinding | None:
    return _real(session).info.get(_INFO_KEY)


def unbind_session(session: Session | scoped_session) -> None:
    """Forget the school for the following transactions (the current one stays bound)."""
    _real(session).info.pop(_INFO_KEY, None)


@event.listens_for(Session, "after_begin")
def _bind_new_transaction(session: Session, transaction, connection: Connection) -> None:
    binding = session.info.get(_INFO_KEY)
    if binding is not None:
        bind_connection(connection, binding)
