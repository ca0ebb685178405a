"""Fixtures: a real PostgreSQL test database built once per session, rolled back per test.

The test database is ``dienynas_test`` on the server of ``DATABASE_URL`` (or the embedded one),
or ``TEST_DATABASE_URL`` when given; it is dropped and rebuilt from the migrations at the start
of every session. Redis is ``TEST_REDIS_URL``, else database 15 of ``REDIS_URL``, else database
1 of the embedded Redis; it is flushed at the start.
"""

from __future__ import annotations

import contextvars
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import pytest
import redis
from flask import Flask
from flask.globals import _cv_app
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from accounts.models import Account, Role
from accounts.services import create_account, grant_role
from dienynas import config, embedded
from dienynas.app import create_app
from dienynas.database import db
from school.calendar.services import create_year
from tenants import migrations
from tenants.binding import session_binding, unbind_session
from tenants.models import School
from tenants.services import bind_to_school, create_school

TEST_PASSWORD = "correct-horse-battery"
REPO = Path(__file__).resolve().parents[1]


def _test_database_url() -> URL:
    if url := os.environ.get("TEST_DATABASE_URL"):
        return config.sqlalchemy_url(url)
    base = os.environ.get("DATABASE_URL") or embedded.postgres_url(
        config.instance_path(), "postgres"
    )
    return config.sqlalchemy_url(base).set(database="dienynas_test")


def _test_redis_url() -> str:
    if url := os.environ.get("TEST_REDIS_URL"):
        return url
    if url := os.environ.get("REDIS_URL"):
        return re.sub(r"/\d*$", "", url.split("?")[0]) + "/15"
    return embedded.redis_url(config.instance_path()).replace("?db=0", "?db=1")


def _recreate_database(url: URL) -> None:
    """Drop and create the test database, and the school roles a previous run left behind."""
    maintenance = config.libpq_url(url.set(database="postgres"))
    prefix = url.database[:40].lower() + "_"
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        stale_roles = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE %s",
            (prefix.replace("_", r"\_") + "%",),
        ).fetchall()
        for (role,) in stale_roles:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        conn.execute(f'CREATE DATABASE "{url.database}"')


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in an app context of its own, as in production
    (otherwise requests would share the test's app context: one ``g``, one database session)."""

    def open(self, *args, **kwargs):
        def in_fresh_context():
            _cv_app.set(None)
            return FlaskClient.open(self, *args, **kwargs)

        return contextvars.copy_context().run(in_fresh_context)


@dataclass
class World:
    """What every test can rely on: two active schools, each with a school year, and accounts
    (committed once per session)."""

    school_a: School
    school_b: School
    admin_a: Account
    teacher_a: Account
    guardian_both: Account
    operator: Account


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    database_url = _test_database_url()
    _recreate_database(database_url)
    redis_url = _test_redis_url()
    redis.Redis.from_url(redis_url).flushdb()
    app = create_app(
        {
            "DATABASE_URL": database_url.render_as_string(hide_password=False),
            "REDIS_URL": redis_url,
            "TESTING": True,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        with db.engine.begin() as connection:
            migrations.upgrade_public(connection)
        yield app
        db.session.remove()
        db.engine.dispose()


def _account(login: str, name: str, locale: str | None = None) -> Account:
    account, _ = create_account(
        db.session, login=login, name=name, locale=locale, password=TEST_PASSWORD
    )
    return account


@pytest.fixture(scope="session")
def world(app: Flask) -> World:
    with app.app_context():
        school_a = create_school(
            db.session, slug="school-a", name="Alpha progimnazija", locale="lt"
        )
        school_b = create_school(db.session, slug="school-b", name="Бета гимназия", locale="ru")
        # Staff of school A read English, so tests can assert English messages; the locale
        # chain itself is tested with accounts that have no preference (test_i18n.py).
        admin_a = _account("admin.a", "Aldona Administratorė", locale="en")
        teacher_a = _account("teacher.a", "Tomas Mokytojas", locale="en")
        guardian_both = _account("guardian.both", "Irena Globėja", locale="pl")
        operator = _account("operator.test", "Operatorius")
        operator.is_operator = True
        grant_role(db.session, admin_a, school_a, Role.ADMIN)
        grant_role(db.session, teacher_a, school_a, Role.TEACHER)
        grant_role(db.session, guardian_both, school_a, Role.GUARDIAN)
        grant_role(db.session, guardian_both, school_b, Role.GUARDIAN)
        db.session.commit()
        for school, name in ((school_a, "2026–2027 A"), (school_b, "2026–2027 B")):
            bind_to_school(db.session, school)
            create_year(
                db.session, name=name, starts_on=date(2026, 9, 1), ends_on=date(2027, 8, 31)
            )
            unbind_session(db.session)
            db.session.commit()
        result = World(school_a, school_b, admin_a, teacher_a, guardian_both, operator)
        for obj in vars(result).values():
            db.session.refresh(obj)
        db.session.expunge_all()
        return result


_RESET_SQL = "SELECT set_config('role', 'none', true), set_config('search_path', 'public', true)"


class _ConnectionSession(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's session picks the engine itself; in tests it must use the one
    connection that holds the outer transaction."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@event.listens_for(_ConnectionSession, "after_begin")
def _leave_school(session, transaction, connection):
    """In production a commit ends the transaction and with it the school binding; in tests
    commits are savepoints of one outer transaction, so an unbound session resets explicitly."""
    if session_binding(session) is None:
        connection.exec_driver_sql(_RESET_SQL)


@pytest.fixture
def db_session(app: Flask, world: World) -> Iterator[Session]:
    """The app's session joined to an outer transaction that is rolled back after the test;
    the code under test may commit (savepoints)."""
    connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {
            "class_": _ConnectionSession,
            "bind": connection,
            "join_transaction_mode": "create_savepoint",
        }
    )

    try:
        yield db.session
    finally:
        db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def in_school_a(db_session: Session, world: World) -> Session:
    """The test's session bound to school A (for calling school services directly)."""
    bind_to_school(db_session, world.school_a)
    return db_session


@pytest.fixture
def in_school_b(db_session: Session, world: World) -> Session:
    bind_to_school(db_session, world.school_b)
    return db_session


@pytest.fixture(autouse=True)
def empty_queues(request) -> None:
    """Each test starts with empty job queues (the Redis test database is flushed)."""
    if "app" in request.fixturenames:
        from dienynas.jobs import redis_connection

        redis_connection(request.getfixturevalue("app")).flushdb()


@pytest.fixture
def client(app: Flask, db_session: Session) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on ``path`` (every form carries one)."""
    response = client.get(path)
    page = response.get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path} ({response.status_code}): {page[:2000]}"
    return match.group(1)


def post_form(
    client: FlaskClient, path: str, data: dict, *, form_page: str | None = None, **kwargs
):
    """POST like a browser: with the CSRF token of the page holding the form."""
    token = csrf_token(client, form_page or path)
    return client.post(path, data={**data, "csrf_token": token}, **kwargs)


def login(client: FlaskClient, login_name: str, password: str = TEST_PASSWORD):
    response = post_form(client, "/login", {"login": login_name, "password": password})
    assert response.status_code in (302, 400), response.status_code
    return response


def marked_invalid(page: str, element_id: str, field: str) -> bool:
    """Whether the input, select or textarea ``element_id`` carries ``aria-invalid`` and points
    at the error paragraph of ``field`` shown on the page (what a screen reader announces)."""
    tag = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{element_id}"[^>]*>', page)
    assert tag, f"no field {element_id} on the page"
    return (
        'aria-invalid="true"' in tag.group()
        and f'aria-describedby="{field}-error"' in tag.group()
        and f'id="{field}-error"' in page
    )


#: Statements only the test harness runs (savepoints of the rolled-back outer transaction).
_TEST_ONLY_STATEMENTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", _RESET_SQL)


@pytest.fixture
def count_queries(app: Flask) -> Iterator:
    """``with count_queries() as queries: ...`` then ``len(queries)``: the SQL statements run."""

    @contextmanager
    def counter() -> Iterator[list[str]]:
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if not statement.startswith(_TEST_ONLY_STATEMENTS):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counter


@pytest.fixture(scope="session")
def engine_url(app: Flask) -> URL:
    return app.config["SQLALCHEMY_DATABASE_URI"]


@pytest.fixture
def fresh_engine(engine_url: URL):
    """A separate engine with a one-connection pool (for tests that must really commit)."""
    engine = create_engine(engine_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def waits_for_commit(first: Session, second_work: Callable[[], None]) -> None:
    """Run ``second_work`` (another connection's transaction) while ``first``'s transaction is
    open: assert that it waits for ``first``, then commit ``first`` and let it finish."""
    waiting = threading.Thread(target=second_work)
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive(), "the second transaction did not wait for the first"
    first.commit()
    waiting.join(10)
    assert not waiting.is_alive()


def run_sql(engine, sql: str, **params):
    with engine.begin() as conn:
        return conn.execute(text(sql), params).fetchall()


@pytest.fixture
def classroom(in_school_a: Session, world: World):
    """School A ready for the gradebook (tests/classroom.py), inside the test's transaction."""
    from classroom import build_classroom

    return build_classroom(in_school_a, world)


@pytest.fixture
def school_day(monkeypatch):
    """``school_day(date(2026, 9, 7))`` makes that the app's today (``dienynas.clock.today``),
    for pages, jobs and commands run in the test's process."""
    from dienynas import clock

    def freeze(day: date) -> date:
        monkeypatch.setattr(clock, "today", lambda: day)
        return day

    return freeze
