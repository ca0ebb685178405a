"""Pooled connections: idle ones are checked before use, busy ones are not (a round trip each)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from dienynas.database import configure_engine, ping_idle_connections
from tenants.binding import bind_connection
from tenants.services import binding_for

BACKEND = text("SELECT pg_backend_pid()")


def _pooled_connection_closed_by_the_server(engine_url, idle_seconds: float):
    """A pool of one connection, checked after ``idle_seconds`` idle, whose connection the
    server has closed while it waited in the pool (as a restart or a failover does); the
    engine and the closed connection's backend pid."""
    engine = create_engine(engine_url, pool_size=1, max_overflow=0)
    ping_idle_connections(engine, idle_seconds=idle_seconds)
    with engine.connect() as conn:
        pid = conn.execute(BACKEND).scalar()
    other = create_engine(engine_url)
    try:
        with other.connect() as conn:
            assert conn.execute(
                text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}
            ).scalar()
    finally:
        other.dispose()
    return engine, pid


def test_an_idle_connection_the_server_closed_is_replaced_before_use(engine_url):
    engine, pid = _pooled_connection_closed_by_the_server(engine_url, idle_seconds=0)
    try:
        with engine.connect() as conn:  # no error: the check found it closed
            assert conn.execute(BACKEND).scalar() != pid
    finally:
        engine.dispose()


def test_a_connection_back_in_the_pool_moments_ago_is_used_without_a_check(engine_url):
    engine, pid = _pooled_connection_closed_by_the_server(engine_url, idle_seconds=60)
    try:
        with engine.connect() as conn, pytest.raises(OperationalError):
            conn.execute(BACKEND)  # not checked, so this one request fails ...
        with engine.connect() as conn:  # ... and the pool replaces the connection
            assert conn.execute(BACKEND).scalar() != pid
    finally:
        engine.dispose()


# --- prepared statements ----------------------------------------------------------------------

YEAR_NAMES = text("SELECT name FROM school_years ORDER BY name")
PREPARED = text("SELECT count(*) FROM pg_prepared_statements WHERE statement = :text").bindparams(
    text=YEAR_NAMES.text
)


@pytest.fixture
def app_engine(engine_url):
    """An engine configured as the application's (one pooled connection)."""
    engine = create_engine(engine_url, pool_size=1, max_overflow=0)
    configure_engine(engine)
    yield engine
    engine.dispose()


def _read_in(engine, school, statement):
    """One request's transaction: bound to the school, read, rolled back (as a page that only
    reads ends)."""
    with engine.connect() as conn:
        bind_connection(conn, binding_for(school))
        rows = conn.execute(statement).scalars().all()
        prepared = conn.execute(PREPARED).scalar()
        conn.rollback()
    return rows, prepared


def test_statements_stay_prepared_across_read_only_transactions(app_engine, world):
    for _ in range(6):  # psycopg prepares a statement at its fifth execution
        rows, prepared = _read_in(app_engine, world.school_a, YEAR_NAMES)
    assert rows == ["2026–2027 A"]
    assert prepared == 1  # still there after five rollbacks


def test_a_prepared_statement_reads_the_school_it_runs_for(app_engine, world):
    for _ in range(6):
        _read_in(app_engine, world.school_a, YEAR_NAMES)
    # the same statement, prepared while bound to school A, reads school B's own table
    rows, prepared = _read_in(app_engine, world.school_b, YEAR_NAMES)
    assert rows == ["2026–2027 B"] and prepared == 1
    rows, _prepared = _read_in(app_engine, world.school_a, YEAR_NAMES)
    assert rows == ["2026–2027 A"]


def test_prepared_statements_are_forgotten_after_a_schema_change_is_rolled_back(app_engine, world):
    for _ in range(6):
        _read_in(app_engine, world.school_a, YEAR_NAMES)
    with app_engine.connect() as conn:
        bind_connection(conn, binding_for(world.school_a))
        conn.execute(text("CREATE TEMPORARY TABLE scratch (id int)"))
        conn.rollback()
        assert conn.execute(PREPARED).scalar() == 0
        conn.rollback()
