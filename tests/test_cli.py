"""The CLI contract operators script against, with its bad inputs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from accounts.models import Account, SchoolGrant
from dienynas.cli import cli
from tenants.models import School

DIENYNAS = str(Path(sys.executable).parent / "dienynas")


@pytest.fixture
def run(app, db_session):
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, list(args), input=input, env={"LANG": "en_US.UTF-8"})

    return invoke


def counts(session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count(School.id))),
        session.scalar(select(func.count(Account.id))),
        session.scalar(select(func.count(SchoolGrant.id))),
    )


def test_schools_create_list_suspend_resume(run, db_session):
    result = run(
        "schools",
        "create",
        "--slug",
        "zirmunu-gimnazija",
        "--name",
        "Žirmūnų gimnazija",
        "--locale",
        "lt",
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(run("schools", "list", "--json").output)
    school = next(s for s in listed if s["slug"] == "zirmunu-gimnazija")
    assert school["status"] == "active" and school["name"] == "Žirmūnų gimnazija"
    assert run("schools", "suspend", "zirmunu-gimnazija").exit_code == 0
    assert (
        db_session.scalar(select(School.status).where(School.slug == "zirmunu-gimnazija"))
        == "suspended"
    )
    assert run("schools", "resume", "zirmunu-gimnazija").exit_code == 0
    assert (
        db_session.scalar(select(School.status).where(School.slug == "zirmunu-gimnazija"))
        == "active"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slug", "school-a", "--name", "Dup"], "already exists"),
        (["--slug", "Bad Slug!", "--name", "X"], "address name must be"),
        (["--slug", "-starts-with-hyphen", "--name", "X"], "address name must be"),
        (["--slug", "ok-slug", "--name", "   "], "Enter the school's name"),
        (["--slug", "ok-slug", "--name", "X", "--locale", "de"], "language must be one of"),
    ],
)
def test_schools_create_bad_input_creates_nothing(run, db_session, args, message):
    before = counts(db_session)
    result = run("schools", "create", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert counts(db_session) == before


def test_schools_suspend_unknown_school(run):
    result = run("schools", "suspend", "no-such-school")
    assert result.exit_code != 0
    assert "no school" in result.output


def test_accounts_create_with_one_time_password(run, db_session):
    result = run(
        "accounts",
        "create",
        "--login",
        "Ona.Onaite",
        "--name",
        "Ona Onaitė",
        "--email",
        "ona@example.lt",
    )
    assert result.exit_code == 0, result.output
    assert "one-time password" in result.output
    one_time = result.output.strip().split()[-1]
    account = db_session.scalar(select(Account).where(Account.login == "ona.onaite"))
    assert account.must_change_password
    from accounts.services import verify_password

    assert verify_password(account, one_time)


def test_accounts_create_with_password_from_stdin(run, db_session):
    result = run(
        "accounts",
        "create",
        "--login",
        "jonas",
        "--name",
        "Jonas",
        "--locale",
        "ru",
        "--password-stdin",
        input="a-good-long-secret\n",
    )
    assert result.exit_code == 0, result.output
    assert "one-time" not in result.output
    account = db_session.scalar(select(Account).where(Account.login == "jonas"))
    assert account.locale == "ru" and not account.must_change_password


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["--login", "weak.one", "--name", "W", "--password-stdin"],
            "short\n",
            "at least 10 characters",
        ),
        (
            ["--login", "weak.two", "--name", "W", "--password-stdin"],
            "1234567890\n",
            "too easy to guess",
        ),
        (
            ["--login", "weak.three", "--name", "W", "--password-stdin"],
            "weak.three-secret\n",
            "must not contain the login",
        ),
        (["--login", "admin.a", "--name", "Dup"], None, "is taken"),
        (["--login", "x", "--name", "Short"], None, "login must be"),
        (
            ["--login", "ok.login", "--name", "E", "--email", "not-an-email"],
            None,
            "is not an e-mail address",
        ),
        (["--login", "ok.login", "--name", "L", "--locale", "xx"], None, "language must be one of"),
    ],
)
def test_accounts_create_bad_input_creates_nothing(run, db_session, args, stdin, message):
    before = counts(db_session)
    result = run("accounts", "create", *args, input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert counts(db_session) == before


def test_accounts_grant_and_operator(run, db_session):
    run(
        "accounts",
        "create",
        "--login",
        "new.head",
        "--name",
        "N",
        "--password-stdin",
        input="a-good-long-secret\n",
    )
    assert (
        run(
            "accounts",
            "grant",
            "--login",
            "new.head",
            "--school",
            "school-a",
            "--role",
            "class_head",
        ).exit_code
        == 0
    )
    assert (
        run(
            "accounts",
            "grant",
            "--login",
            "new.head",
            "--school",
            "school-a",
            "--role",
            "class_head",
        ).exit_code
        == 0
    )  # idempotent
    roles = db_session.scalars(
        select(SchoolGrant.role).join(Account).where(Account.login == "new.head")
    ).all()
    assert roles == ["class_head"]
    assert run("accounts", "grant-operator", "--login", "new.head").exit_code == 0
    assert db_session.scalar(select(Account.is_operator).where(Account.login == "new.head"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--login", "admin.a", "--school", "school-a", "--role", "janitor"], "Unknown role"),
        (["--login", "admin.a", "--school", "no-such", "--role", "teacher"], "no school"),
        (["--login", "nobody", "--school", "school-a", "--role", "teacher"], "no account"),
    ],
)
def test_accounts_grant_bad_input_creates_nothing(run, db_session, args, message):
    before = counts(db_session)
    result = run("accounts", "grant", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert counts(db_session) == before


def test_operator_resets_a_password_from_the_command_line(run, db_session):
    from accounts.services import verify_password

    result = run("accounts", "reset-password", "--login", "guardian.both")
    assert result.exit_code == 0, result.output
    one_time = result.output.strip().split()[-1]
    account = db_session.scalar(select(Account).where(Account.login == "guardian.both"))
    assert verify_password(account, one_time) and account.must_change_password
    assert run("accounts", "reset-password", "--login", "nobody").exit_code != 0


def test_grant_operator_unknown_login(run):
    result = run("accounts", "grant-operator", "--login", "nobody")
    assert result.exit_code != 0 and "no account" in result.output


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(LANG="en_US.UTF-8", **overrides)
    return env


def test_console_script_runs_against_the_given_database(app):
    url = (
        app.config["SQLALCHEMY_DATABASE_URI"]
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    result = subprocess.run(
        [DIENYNAS, "schools", "list", "--json"],
        env=_env(DATABASE_URL=url, REDIS_URL=app.config["REDIS_URL"]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert {"school-a", "school-b"} <= {s["slug"] for s in json.loads(result.stdout)}


@pytest.mark.parametrize(
    ("database_url", "redis_url", "message"),
    [
        ("mysql://root@localhost/x", None, "must point to PostgreSQL"),
        ("not a url at all", None, "not a valid database URL"),
        (
            "postgresql://nobody@127.0.0.1:1/dienynas",
            None,
            "Cannot reach PostgreSQL at 127.0.0.1:1",
        ),
        (None, "redis://127.0.0.1:1/0", "Cannot reach Redis"),
    ],
)
def test_bad_configuration_fails_at_start_with_a_clear_message(
    app, database_url, redis_url, message
):
    good_db = (
        app.config["SQLALCHEMY_DATABASE_URI"]
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    result = subprocess.run(
        [DIENYNAS, "schools", "list"],
        env=_env(
            DATABASE_URL=database_url or good_db, REDIS_URL=redis_url or app.config["REDIS_URL"]
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
