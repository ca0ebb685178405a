"""Issue 7's guarantee "a worker killed in the middle of a job: the job is retried and every
recipient gets exactly one e-mail", end to end: really committed rows, real Redis, a real
`dienynas worker` process (RQ's worker and its forked work horse) SIGKILLed while the loopback
SMTP server (aiosmtpd) holds the 3rd e-mail of the send job unanswered (then drops it, so it
was never accepted). Two ways to die: the whole worker (its job is abandoned: the sweeper re-sends
what was left pending, run by a new worker), or only the work horse (RQ retries the job)."""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import signal
import socket
import subprocess
import sys
import threading
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.orm import Session

from accounts.models import Role
from accounts.services import create_account, grant_role
from classroom import MONDAY
from conftest import run_sql
from dienynas.jobs import enqueue, queue
from gradebook.remarks.models import Remark
from notifications.outbox import record_event
from notifications.tasks import STALE_DELIVERIES
from school.people.models import Guardianship, Person, Student
from tenants import roles
from tenants.models import School
from tenants.services import bind_to_school, create_school

DIENYNAS = str(Path(sys.executable).parent / "dienynas")
GUARDIANS = 5
#: The e-mail (1-based, in the order the server receives them) the server holds, then drops.
HELD = 3


class HoldingSink:
    """An aiosmtpd handler that keeps what it accepts, except the ``HELD``-th message: it sets
    :attr:`holding` once that message's DATA is in, leaves the client waiting for the answer
    until :attr:`release` is set, and then drops the message (never accepted)."""

    def __init__(self) -> None:
        self.accepted: list[email.message.EmailMessage] = []
        self.received = 0
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.received += 1
        if self.received == HELD:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Dropped"  # nobody reads it: the client was killed
        self.accepted.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    def count_to(self, address: str) -> int:
        return sum(1 for m in self.accepted if m["To"] == address)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def holding_smtp():
    sink = HoldingSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, f"smtp://127.0.0.1:{port}"
    finally:
        sink.release.set()
        controller.stop()


@pytest.fixture
def committed_school(fresh_engine):
    """A school of its own, really committed (the worker is another process): one student with
    ``GUARDIANS`` guardians, each with an account and an e-mail address; removed afterwards."""
    with Session(fresh_engine) as session:
        school = create_school(session, slug="worker-kill", name="Nužudyto darbininko mokykla")
        school_id, schema, role = school.id, school.schema_name, school.role_name
        session.commit()
    logins = [f"guardian.kill{n}" for n in range(GUARDIANS)] + ["teacher.kill"]
    try:
        with Session(fresh_engine) as session:
            school = session.get(School, school_id)
            guardians = []
            for n in range(GUARDIANS):
                account, _ = create_account(
                    session, login=logins[n], name=f"Globėjas {n}",
                    email=f"guardian{n}@example.lt", locale="lt", issue_password=False,
                )  # fmt: skip
                grant_role(session, account, school, Role.GUARDIAN)
                guardians.append(account)
            teacher, _ = create_account(
                session, login=logins[-1], name="Tomas", locale="lt", issue_password=False
            )
            session.commit()
            bind_to_school(session, school)
            student = Person(first_name="Jonas", last_name="Jonaitis", document_kind="other")
            session.add(student)
            session.flush()
            session.add(Student(person_id=student.id))
            for n, account in enumerate(guardians):
                parent = Person(
                    first_name="Globėjas", last_name=str(n), document_kind="other",
                    account_id=account.id,
                )  # fmt: skip
                session.add(parent)
                session.flush()
                session.add(Guardianship(guardian_id=parent.id, student_id=student.id))
            session.flush()
            yield session, school_id, schema, student.id, teacher.id
    finally:
        with fresh_engine.begin() as conn:
            roles.drop_school_role_and_schema(conn, role=role, schema=schema)
            conn.execute(text("DELETE FROM public.schools WHERE id = :id"), {"id": school_id})
            conn.execute(
                text("DELETE FROM public.accounts WHERE login = ANY(:logins)"), {"logins": logins}
            )


def _worker_env(app, smtp_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"].render_as_string(
        hide_password=False
    )
    env["REDIS_URL"] = app.config["REDIS_URL"]
    env["SMTP_URL"] = smtp_url
    return env


def _children(pid: int) -> dict[int, int]:
    """The processes whose parent is ``pid``, with their process group (RQ's work horse runs in
    a process group of its own, so killing the worker's process group would not reach it)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                children[int(entry.name)] = int(fields[2])
    return children


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, not yet reaped


def _kill(pids: list[int]) -> None:
    for pid in pids:
        # one that ended on its own (a work horse that finished its job) is already what we want
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if not any(_alive(pid) for pid in pids):
            return
        threading.Event().wait(0.05)
    raise AssertionError("a process of the worker survived SIGKILL")


def _stop_worker(worker: subprocess.Popen) -> None:
    """Kill the worker and every process it started. A worker left running would take the
    later tests' jobs from the shared test queue, so it is frozen first (SIGSTOP): it cannot
    fork a new work horse between the listing of its children and their killing."""
    if worker.poll() is None:
        os.kill(worker.pid, signal.SIGSTOP)
        _kill([*_children(worker.pid), worker.pid])
    worker.wait(timeout=10)


def _states(engine, schema: str) -> dict[tuple[str, str], int]:
    rows = run_sql(
        engine,
        f'SELECT channel, state, count(*) FROM "{schema}".notification_deliveries '
        "GROUP BY channel, state",
    )
    return {(channel, state): count for channel, state, count in rows}


def _wait_for_row_locks_released(engine, schema: str, pending: int) -> None:
    """The killed work horse's database connection is gone once PostgreSQL has rolled back its
    transaction: every pending delivery can be locked again."""
    for _ in range(100):
        with engine.begin() as conn:
            free = conn.execute(
                text(
                    f'SELECT id FROM "{schema}".notification_deliveries '
                    "WHERE state = 'pending' FOR UPDATE SKIP LOCKED"
                )
            ).fetchall()
        if len(free) == pending:
            return
        threading.Event().wait(0.1)
    raise AssertionError("the killed worker's transaction still holds deliveries")


def _commit_remark(school) -> None:
    """A remark about the student, committed with its outbox event (which enqueues the
    dispatch)."""
    session, _, _, student_id, teacher_id = school
    remark = Remark(
        student_id=student_id, kind="praise", text="Šaunuolis!", on_day=MONDAY,
        written_by=teacher_id,
    )  # fmt: skip
    session.add(remark)
    session.flush()
    record_event(session, "remark", actor_id=teacher_id, remark_id=remark.id, student_id=student_id)
    session.commit()  # the after-commit hook enqueues the dispatch
    session.close()
    assert [j.func_name for j in queue().jobs] == ["notifications.tasks.dispatch_events"]


def _assert_killed_with_the_held_email_unsent(sink, engine, schema: str) -> None:
    """What the killed job left: the e-mails before the held one sent (committed one by one),
    the held one and the rest pending, and no row still locked by the dead transaction."""
    assert len(sink.accepted) == HELD - 1
    states = _states(engine, schema)
    assert states[("email", "sent")] == HELD - 1
    assert states[("email", "pending")] == GUARDIANS - HELD + 1  # the held one rolled back
    pending = sum(count for (_, state), count in states.items() if state == "pending")
    _wait_for_row_locks_released(engine, schema, pending)


def _assert_each_recipient_got_exactly_one_email(sink, engine, schema: str) -> None:
    for n in range(GUARDIANS):
        assert sink.count_to(f"guardian{n}@example.lt") == 1, n
    assert len(sink.accepted) == GUARDIANS
    assert sink.received == GUARDIANS + 1  # the dropped one was sent again, once
    assert _states(engine, schema) == {
        ("email", "sent"): GUARDIANS,
        ("in_app", "sent"): GUARDIANS,
    }


def test_worker_killed_mid_send_job_every_recipient_gets_exactly_one_email(
    app, fresh_engine, holding_smtp, committed_school
):
    sink, smtp_url = holding_smtp
    schema = committed_school[2]
    _commit_remark(committed_school)
    env = _worker_env(app, smtp_url)

    # The worker dispatches, then its work horse (forked per job) sends; the server holds the
    # 3rd e-mail's DATA unanswered.
    worker = subprocess.Popen(
        [DIENYNAS, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        assert sink.holding.wait(timeout=30), "the worker never reached the 3rd e-mail"
        # the machine pulls the plug: the worker and all its processes (the work horse, RQ's
        # scheduler) die at once
        _kill([*_children(worker.pid), worker.pid])
        worker.wait(timeout=10)
    finally:
        _stop_worker(worker)
    sink.release.set()  # the server drops the held message: it was never accepted

    _assert_killed_with_the_held_email_unsent(sink, fresh_engine, schema)

    # RQ would give the abandoned job back only after its timeout (10 minutes), and the sweeper
    # re-sends pending deliveries nobody has tried for STALE_DELIVERIES: let that time pass.
    with fresh_engine.begin() as conn:
        conn.execute(
            text(
                f'UPDATE "{schema}".notification_deliveries SET created_at = created_at - :stale,'
                " last_attempt_at = last_attempt_at - :stale WHERE state = 'pending'"
            ),
            {"stale": STALE_DELIVERIES},
        )
    enqueue("notifications.tasks.sweep_notifications")
    result = subprocess.run(
        [DIENYNAS, "worker", "--burst"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr

    _assert_each_recipient_got_exactly_one_email(sink, fresh_engine, schema)


def test_work_horse_killed_mid_send_job_is_retried_by_the_worker(
    app, fresh_engine, holding_smtp, committed_school
):
    """The work horse alone SIGKILLed (e.g. the kernel's OOM killer): the worker sees it die,
    RQ retries the job after its first backoff (10 s), and the retry sends what was left."""
    sink, smtp_url = holding_smtp
    schema = committed_school[2]
    _commit_remark(committed_school)
    worker = subprocess.Popen(
        [DIENYNAS, "worker"], env=_worker_env(app, smtp_url),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert sink.holding.wait(timeout=30), "the worker never reached the 3rd e-mail"
        (horse,) = [pid for pid, group in _children(worker.pid).items() if group == pid]
        _kill([horse])
        sink.release.set()  # the server drops the held message: it was never accepted
        _assert_killed_with_the_held_email_unsent(sink, fresh_engine, schema)
        for _ in range(300):  # the retry comes after 10 s
            if _states(fresh_engine, schema).keys() == {("email", "sent"), ("in_app", "sent")}:
                break
            threading.Event().wait(0.1)
        _assert_each_recipient_got_exactly_one_email(sink, fresh_engine, schema)
    finally:
        _stop_worker(worker)
