"""The SQLAlchemy handle and the two declarative bases: shared (``public``) and per school.

``PublicModel`` tables live in the ``public`` schema and are always schema-qualified.
``SchoolModel`` tables declare no schema: they are created in each school's schema and found
through the transaction-local ``search_path`` that ``tenants.binding`` sets.
"""

from __future__ import annotations

import re
import time

import psycopg
from flask_sqlalchemy import SQLAlchemy
from psycopg._preparing import PrepareManager
from sqlalchemy import Engine, MetaData, event, exc, text
from sqlalchemy.orm import DeclarativeBase, Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class PublicModel(DeclarativeBase):
    metadata = MetaData(schema="public", naming_convention=NAMING_CONVENTION)


class SchoolModel(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=PublicModel)


def _escape_like(word: str) -> str:
    """``word`` taken literally by LIKE/ILIKE: its ``%``, ``_`` and backslashes escaped (the
    default escape character is the backslash)."""
    return word.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")


def contains_pattern(word: str) -> str:
    """A LIKE/ILIKE pattern matching text that contains ``word``."""
    return f"%{_escape_like(word)}%"


def prefix_pattern(word: str) -> str:
    """A LIKE/ILIKE pattern matching text that starts with ``word``."""
    return f"{_escape_like(word)}%"


_TAKE_TURNS = text("SELECT pg_advisory_xact_lock(hashtext(:key))")
_TAKE_TURNS_IN_SCHOOL = text(
    "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':' || :key))"
)


def take_turns(session: Session, key: str, *, in_school: bool) -> None:
    """Wait for the lock named ``key``, then hold it until this transaction ends: in the school
    the transaction is bound to (``in_school``), else in the whole municipality. Two
    transactions that check something and then write it take turns, so the second one's check
    sees what the first wrote (an advisory lock, one round trip)."""
    session.execute(_TAKE_TURNS_IN_SCHOOL if in_school else _TAKE_TURNS, {"key": key})


#: A pooled connection idle this long is checked before it is used again.
PING_AFTER_IDLE_SECONDS = 10.0


def ping_idle_connections(engine: Engine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Check a pooled connection before use only when it has been idle for ``idle_seconds``.

    A database restart, a failover or a firewall closes connections that wait in the pool, and
    the next request would fail on one. SQLAlchemy's ``pool_pre_ping`` checks on every checkout,
    a round trip on every request of a busy site, where connections come back to the pool
    within milliseconds. A connection that fails the check is replaced (the pool retries the
    checkout); one that breaks while in use fails its request, and the pool then replaces every
    connection older than the failure.
    """

    @event.listens_for(engine, "checkin")
    def _remember_checkin(dbapi_connection, record) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        checked_in_at = record.info.get("checked_in_at")  # None: a new connection
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(str(error)) from error


#: Statements that change the schema (or may, as a DO block): a rollback after one of them
#: forgets the prepared statements, as psycopg always does.
_SCHEMA_CHANGE = re.compile(
    r"\s*(CREATE|ALTER|DROP|TRUNCATE|DO|COMMENT|GRANT|REVOKE|REINDEX|SECURITY)\b", re.IGNORECASE
)


class PreparingConnection(psycopg.Connection):
    """A psycopg connection that keeps its prepared statements when a transaction rolls back.

    psycopg prepares a statement on its fifth execution and then skips PostgreSQL's parsing and
    planning, but it forgets them all at every rollback, in case the transaction dropped what they
    refer to. Every request that only reads ends with a rollback, so no statement of the
    application was ever prepared: a kept diary page cost its database about 1.6 ms of CPU
    instead of 0.7. PostgreSQL re-plans a prepared statement whose tables changed or whose
    ``search_path`` differs (another school), and checks privileges at every execution, so
    keeping them is safe; after a transaction that changed the schema they are still forgotten,
    as before (:func:`configure_engine` marks such transactions).
    """

    changed_schema = False

    def rollback(self) -> None:
        if self.changed_schema:
            super().rollback()
        else:
            kept, self._prepared = self._prepared, PrepareManager()
            try:
                super().rollback()
            finally:
                self._prepared = kept
        self.changed_schema = False

    def commit(self) -> None:
        super().commit()
        self.changed_schema = False


def configure_engine(engine: Engine) -> None:
    """The application's engine: connections that keep their prepared statements, and pooled
    connections checked before use only after they have been idle (ping_idle_connections)."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, connection_record, cargs, cparams) -> PreparingConnection:
        return PreparingConnection.connect(*cargs, **cparams)

    @event.listens_for(engine, "before_cursor_execute")
    def _note_schema_change(conn, cursor, statement, parameters, context, executemany) -> None:
        if _SCHEMA_CHANGE.match(statement):
            dbapi_connection = conn.connection.dbapi_connection
            if isinstance(dbapi_connection, PreparingConnection):
                dbapi_connection.changed_schema = True

    ping_idle_connections(engine)
