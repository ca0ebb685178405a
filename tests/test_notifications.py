"""Notifications (issue 7): outbox → dispatch → batched send, against real Redis and a real SMTP
server on loopback (aiosmtpd). Jobs run synchronously in the test's transaction: what the
code enqueues is taken from the real queue and run here, as a worker would."""

from __future__ import annotations

import email
import html
import os
import re
import socket
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from email.policy import default as default_policy
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from accounts.models import Role
from accounts.services import create_account, grant_role
from classroom import MONDAY, new_account
from conftest import login, post_form, run_sql
from dienynas import clock
from dienynas.database import db
from dienynas.errors import ServiceError
from dienynas.i18n import in_locale
from dienynas.jobs import PERIODIC, queue
from gradebook.grades.models import Grade
from gradebook.lessons.models import Homework, Lesson
from gradebook.remarks.models import Remark
from notifications import services
from notifications import settings as school_settings
from notifications.models import (
    NotificationDelivery,
    NotificationEvent,
    NotificationPreference,
)
from notifications.outbox import record_event
from notifications.tasks import DeliveriesToRetry, sweep_notifications
from school.curriculum.models import AssessmentKind
from school.people.models import Guardianship, Person, Student
from tenants import roles
from tenants.models import School
from tenants.services import bind_to_school, create_school


class SmtpSink:
    """An aiosmtpd handler keeping what it receives; ``refuse`` makes it answer 451."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "451 4.3.0 Mailbox temporarily unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    sink = SmtpSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{port}")
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def family(classroom):
    """students[0] has two guardians with e-mail: guardian.both (Polish) and a Russian one;
    the student's own account (Lithuanian) has an e-mail too. Maths is named in Polish."""
    session = classroom.session
    maths = classroom.maths.subject
    maths.name_translations = {**maths.name_translations, "pl": "Matematyka"}
    classroom.account("guardian").email = "irena@example.lt"
    classroom.account("student").email = "agne@example.lt"
    russian = new_account(
        session, classroom.school, "guardian.ru", "Olga Opekunova", Role.GUARDIAN, locale="ru"
    )
    russian.email = "olga@example.lt"
    olga = Person(
        first_name="Olga", last_name="Opekunova", document_kind="other", account_id=russian.id
    )
    session.add(olga)
    session.flush()
    session.add(Guardianship(guardian_id=olga.id, student_id=classroom.students[0].id))
    session.flush()
    classroom.accounts["russian"] = russian
    return classroom


def _grade(classroom, value: str = "9", kind_code: str | None = "test") -> tuple[int, int]:
    """A grade for students[0] in maths by the teacher, with its outbox event (not committed)."""
    session = classroom.session
    kind = session.scalar(select(AssessmentKind).where(AssessmentKind.code == kind_code))
    grade = Grade(
        student_id=classroom.students[0].id, group_id=classroom.maths.id, on_day=MONDAY,
        term_id=classroom.terms[0].id, value=value, kind_id=kind.id if kind else None,
        created_by=classroom.account("teacher").id,
    )  # fmt: skip
    session.add(grade)
    session.flush()
    event = record_event(
        session, "grade", actor_id=classroom.account("teacher").id,
        grade_id=grade.id, student_id=grade.student_id, group_id=grade.group_id,
    )  # fmt: skip
    session.flush()
    return grade.id, event.id


def run_jobs(max_rounds: int = 20) -> list[Exception]:
    """Run what is queued, as a worker would (jobs enqueue more jobs: run until empty).
    Returns the exceptions jobs raised (RQ would retry those jobs)."""
    errors: list[Exception] = []
    q = queue()
    for _ in range(max_rounds):
        job_ids = q.job_ids
        if not job_ids:
            return errors
        for job_id in job_ids:
            job = q.fetch_job(job_id)
            q.remove(job_id)
            try:
                job.func(*job.args, **job.kwargs)
            except DeliveriesToRetry as exc:
                errors.append(exc)
    raise AssertionError("jobs kept enqueueing jobs")


def _school_session(world):
    """The test's session again bound to school A (a job removes the session it ran in)."""
    bind_to_school(db.session, world.school_a)
    return db.session


def _deliveries(session, **where) -> list[NotificationDelivery]:
    query = select(NotificationDelivery).order_by(NotificationDelivery.id)
    for key, value in where.items():
        query = query.where(getattr(NotificationDelivery, key) == value)
    return list(session.scalars(query))


def test_grade_event_emails_each_guardian_once_in_their_own_language(family, smtp, world):
    grade_id, event_id = _grade(family)
    teacher_id = family.account("teacher").id
    family.session.commit()
    assert [j.func_name for j in queue().jobs] == ["notifications.tasks.dispatch_events"]

    run_jobs()

    polish = smtp.to("irena@example.lt")
    russian = smtp.to("olga@example.lt")
    student = smtp.to("agne@example.lt")
    assert len(polish) == len(russian) == len(student) == 1
    assert "Matematyka" in polish[0]["Subject"] and "Sprawdzian" in polish[0]["Subject"]
    assert polish[0]["Content-Language"] == "pl"
    assert "Математика" in russian[0]["Subject"] and "Контрольная работа" in russian[0]["Subject"]
    assert russian[0]["Content-Language"] == "ru"
    assert "Matematika" in student[0]["Subject"] and student[0]["Content-Language"] == "lt"
    # HTML and plain text
    assert {p.get_content_type() for p in polish[0].iter_parts()} == {"text/plain", "text/html"}
    assert "Agnė Ambrazaitė" in polish[0].get_body(("plain",)).get_content()
    assert '<html lang="pl">' in polish[0].get_body(("html",)).get_content()

    session = _school_session(world)
    rows = _deliveries(session, event_id=event_id)
    assert {(r.channel, r.state) for r in rows} == {("in_app", "sent"), ("email", "sent")}
    assert len(rows) == 6  # three recipients × (in-app, e-mail); SMS is off by default
    assert teacher_id not in {r.account_id for r in rows}  # the actor is not notified
    event = session.get(NotificationEvent, event_id)
    assert event.dispatched_at is not None and grade_id


def test_dispatch_and_send_running_twice_deliver_once(family, smtp, world):
    from notifications.tasks import dispatch_events, send_deliveries

    _, event_id = _grade(family)
    family.session.commit()
    school_id = world.school_a.id
    queue().empty()
    assert dispatch_events(school_id) == 6
    assert dispatch_events(school_id) == 0  # the events are dispatched: nothing new
    send_jobs = queue().jobs
    assert [j.func_name for j in send_jobs] == ["notifications.tasks.send_deliveries"]
    ids = send_jobs[0].args[1]
    assert send_deliveries(school_id, ids) == 6
    assert send_deliveries(school_id, ids) == 0  # a second run (at-least-once) sends nothing
    assert len(smtp.messages) == 3
    # even an event marked undispatched again (a crash before the mark) writes no duplicates
    session = _school_session(world)
    session.get(NotificationEvent, event_id).dispatched_at = None
    session.commit()
    assert dispatch_events(school_id) == 0
    assert len(_deliveries(_school_session(world), event_id=event_id)) == 6


def test_send_jobs_are_batched_not_one_per_delivery(family, world, monkeypatch):
    from notifications import tasks

    monkeypatch.setattr(tasks, "SEND_BATCH", 4)
    _grade(family)
    _grade(family, value="7")
    family.session.commit()
    queue().empty()
    assert tasks.dispatch_events(world.school_a.id) == 12
    assert [len(j.args[1]) for j in queue().jobs] == [4, 4, 4]


def test_redis_down_at_commit_saves_the_grade_and_the_sweeper_delivers_later(
    family, smtp, world, app, monkeypatch, caplog
):
    extension = app.extensions["dienynas_redis"]
    working = extension["client"]
    monkeypatch.setitem(
        extension, "client", redis.Redis(host="127.0.0.1", port=_free_port(), socket_timeout=1)
    )
    grade_id, event_id = _grade(family)
    family.session.commit()  # no exception: the grade is saved
    assert "could not enqueue notification dispatch" in caplog.text
    extension["client"] = working  # Redis is back
    assert queue().count == 0

    session = _school_session(world)
    assert session.get(Grade, grade_id) is not None
    sweep_notifications()
    assert queue().count == 0  # younger than a minute: a dispatch may still be on its way
    session = _school_session(world)
    session.get(NotificationEvent, event_id).created_at = func.now() - timedelta(minutes=2)
    session.commit()
    sweep_notifications()
    run_jobs()
    assert len(smtp.to("irena@example.lt")) == 1
    assert len(smtp.messages) == 3


def test_smtp_refusing_is_retried_then_failed_and_shown_to_the_administrator(
    family, smtp, world, client
):
    from notifications.tasks import send_deliveries

    smtp.refuse = True
    _, event_id = _grade(family)
    family.session.commit()
    errors = run_jobs()
    assert len(errors) == 1  # the send job raised: RQ retries it with backoff
    session = _school_session(world)
    emails = _deliveries(session, event_id=event_id, channel="email")
    assert {(d.state, d.attempts) for d in emails} == {("pending", 1)}
    ids = [d.id for d in _deliveries(session, event_id=event_id)]
    session.commit()
    for _ in range(services.MAX_ATTEMPTS - 2):
        with pytest.raises(DeliveriesToRetry):
            send_deliveries(world.school_a.id, ids)
    assert send_deliveries(world.school_a.id, ids) == 0  # the last attempt: failed for good
    session = _school_session(world)
    emails = _deliveries(session, event_id=event_id, channel="email")
    assert {(d.state, d.attempts) for d in emails} == {("failed", services.MAX_ATTEMPTS)}
    assert all("451" in d.error for d in emails)
    assert smtp.messages == []
    failed_id = emails[0].id
    session.commit()

    login(client, "admin.a")
    page = client.get("/s/school-a/notifications/deliveries?state=failed").get_data(as_text=True)
    assert page.count("Mailbox temporarily unavailable") == 3
    assert "Failed" in page

    smtp.refuse = False
    response = post_form(
        client, "/s/school-a/notifications/deliveries/retry", {"id": str(failed_id)},
        form_page="/s/school-a/notifications/deliveries",
    )  # fmt: skip
    assert response.status_code == 302
    run_jobs()
    session = _school_session(world)
    states = {d.id: d.state for d in _deliveries(session, event_id=event_id, channel="email")}
    assert states[failed_id] == "sent" and list(states.values()).count("failed") == 2
    assert len(smtp.messages) == 1


def test_send_job_is_enqueued_with_retries_and_bounded_failure_retention(family, world):
    from notifications.tasks import FAILURE_TTL_SECONDS, dispatch_events

    _grade(family)
    family.session.commit()
    queue().empty()
    dispatch_events(world.school_a.id)
    (job,) = queue().jobs
    assert job.retries_left == 3 and job.retry_intervals == [10, 60, 300]
    assert job.failure_ttl == FAILURE_TTL_SECONDS


def test_rolled_back_grade_sends_nothing(family, smtp, world):
    family.session.commit()
    _grade(family)
    family.session.rollback()
    family.session.commit()  # the next commit of the session enqueues nothing either
    assert queue().count == 0
    session = _school_session(world)
    assert session.scalar(select(func.count()).select_from(NotificationEvent)) == 0
    sweep_notifications()
    run_jobs()
    assert smtp.messages == []


def test_group_event_reaches_every_student_of_the_group_and_guardians(family, world):
    session = family.session
    lesson = Lesson(
        group_id=family.maths.id, on_day=MONDAY, lesson_no=1, term_id=family.terms[0].id
    )
    session.add(lesson)
    session.flush()
    homework = Homework(lesson_id=lesson.id, text="Nr. 5–7", due_on=date(2026, 9, 9))
    session.add(homework)
    session.flush()
    head = family.account("head")
    record_event(
        session, "homework", actor_id=head.id,
        homework_id=homework.id, lesson_id=lesson.id, group_id=family.maths.id,
    )  # fmt: skip
    outsider_guardian = new_account(
        session, family.school, "guardian.out", "Kitas Globėjas", Role.GUARDIAN
    )
    person = Person(
        first_name="K", last_name="G", document_kind="other", account_id=outsider_guardian.id
    )
    session.add(person)
    session.flush()
    session.add(Guardianship(guardian_id=person.id, student_id=family.outsider.id))
    ids = {key: family.account(key).id for key in ("guardian", "russian", "student")}
    session.commit()
    run_jobs()
    session = _school_session(world)
    recipients = {d.account_id for d in _deliveries(session, channel="in_app")}
    # the other students have no accounts; the 6b outsider's guardian is not told
    assert recipients == set(ids.values())
    (mine,) = _deliveries(session, channel="in_app", account_id=ids["guardian"])
    assert "Matematyka" in mine.subject and mine.locale == "pl"


def test_preferences_choose_channels_per_kind(family, smtp, world, monkeypatch):
    # midday in Vilnius: outside the school's SMS quiet hours, whenever the suite runs
    noon = datetime.combine(date(2026, 9, 7), time(12), tzinfo=clock.zone())
    monkeypatch.setattr(school_settings, "utc_now", lambda: noon)
    guardian = family.account("guardian")
    with in_locale("en"):
        services.save_preferences(
            family.session, guardian,
            {f"{k}.{c}": ("off" if (k, c) == ("grade", "email") else "instant")
             for k in services.KIND_LABELS for c in ("in_app", "email", "sms")},
            services.KIND_LABELS,
        )  # fmt: skip
    guardian.phone = "+37060000000"
    guardian_id = guardian.id
    _grade(family)
    family.session.commit()
    run_jobs()
    session = _school_session(world)
    mine = {(d.channel, d.state) for d in _deliveries(session, account_id=guardian_id)}
    assert mine == {("in_app", "sent"), ("sms", "sent")}
    assert smtp.to("irena@example.lt") == []


def test_bad_preferences_are_refused_and_nothing_saved(family):
    with in_locale("en"), pytest.raises(ServiceError) as refused:
        services.save_preferences(
            family.session, family.account("guardian"), {"grade.email": "x"}, ["grade"]
        )
    assert "for every kind of notification" in str(refused.value)
    count = family.session.scalar(select(func.count()).select_from(NotificationPreference))
    assert count == 0


def test_inbox_bell_count_and_mark_read(family, world, client):
    _grade(family)
    family.session.commit()
    run_jobs()
    db.session.commit()
    login(client, "guardian.both")
    bell = client.get("/s/school-a/notifications/unread.json")
    assert bell.get_json() == {"unread": 1}
    # the browser keeps the count for a minute while the reader moves between pages
    assert bell.cache_control.private and bell.cache_control.max_age == 60
    page = client.get("/s/school-a/notifications").get_data(as_text=True)
    assert "Matematyka" in page
    home = client.get("/s/school-a/").get_data(as_text=True)
    before = re.search(r'data-unread-url="([^"]+)"', home).group(1)
    assert before.startswith("/s/school-a/notifications/unread.json")
    post_form(client, "/s/school-a/notifications/read", {}, form_page="/s/school-a/notifications")
    # after reading, pages ask at another address: the kept count is not reused
    home = client.get("/s/school-a/").get_data(as_text=True)
    after = re.search(r'data-unread-url="([^"]+)"', home).group(1)
    assert after != before
    assert client.get(html.unescape(after)).get_json() == {"unread": 0}
    # the same account in another school sees none of school A's notifications
    assert client.get("/s/school-b/notifications/unread.json").get_json() == {"unread": 0}
    assert "Matematyka" not in client.get("/s/school-b/notifications").get_data(as_text=True)


def test_settings_page_saves_and_refuses_bad_input(family, client, world):
    family.session.commit()
    login(client, "guardian.both")
    page = client.get("/s/school-a/notifications/settings").get_data(as_text=True)
    assert 'name="grade.email"' in page
    kinds = services.kinds_for({Role.GUARDIAN})
    form = {f"{k}.{c}": "instant" for k in kinds for c in ("in_app", "email", "sms")}
    bad = post_form(client, "/s/school-a/notifications/settings", {**form, "grade.sms": "loud"})
    assert bad.status_code == 400
    assert "Dla każdego rodzaju powiadomień wybierz" in bad.get_data(as_text=True)  # Polish
    session = _school_session(world)
    assert session.scalar(select(func.count()).select_from(NotificationPreference)) == 0
    session.commit()
    ok = post_form(client, "/s/school-a/notifications/settings", {**form, "grade.sms": "off"})
    assert ok.status_code == 302
    session = _school_session(world)
    saved = services.preferences_of(session, world.guardian_both.id)
    assert saved[("grade", "sms")] == "off" and saved[("test", "sms")] == "instant"


def test_the_settings_stack_on_a_phone_each_field_named_by_its_channel(family, client):
    """On a narrow screen the table of 33 fields stacks (class "stack"): each kind is a block
    and each field, shown at a readable width beside its channel's name (data-label), is not
    squeezed into a table column."""
    family.session.commit()
    login(client, "guardian.both")
    page = client.get("/s/school-a/notifications/settings").get_data(as_text=True)
    assert '<table class="stack">' in page
    head = page[page.index("<thead>") : page.index("</thead>")]
    channels = re.findall(r"<th>([^<]+)</th>", head)[1:]
    assert len(channels) == 3
    fields = re.findall(
        r'<td data-label="([^"]+)" class="stack-control">\s*<label[^>]*>[^<]*</label>\s*<select',
        page,
    )
    table = page[page.index('<table class="stack">') :]
    assert len(fields) == len(re.findall(r"<select id=", table)) == 33
    assert fields == channels * 11


def test_the_settings_offer_each_reader_the_kinds_their_roles_get(app, family):
    """A parent is not asked about transfers between schools, nor a teacher about grades."""
    assert set(services.KIND_READERS) == set(services.KIND_LABELS)  # every kind has readers
    family.session.commit()

    def offered(login_name: str) -> set[str]:
        client = app.test_client()
        login(client, login_name)
        page = client.get("/s/school-a/notifications/settings").get_data(as_text=True)
        return set(re.findall(r'name="([a-z_]+)\.email"', page))

    assert offered("guardian.both") == {
        "grade", "grade_changed", "absence", "remark", "homework", "test", "term_grade",
        "excuse_decision", "transfer_new_school", "message", "announcement",
    }  # fmt: skip
    assert offered("teacher.a") == {"student_joined", "health_recommendation", "message",
                                    "announcement"}  # fmt: skip
    assert offered("director.a") == {"transfer_incoming", "transfer_claimed", "message",
                                     "announcement"}  # fmt: skip


def test_the_actor_is_not_notified_even_as_a_guardian(family, world):
    """A teacher who is also a guardian of the student gets nothing about their own grade."""
    session = family.session
    session.add(Guardianship(guardian_id=family.teacher.id, student_id=family.students[0].id))
    teacher_id, guardian_id = family.account("teacher").id, family.account("guardian").id
    _grade(family)
    session.commit()
    run_jobs()
    recipients = {d.account_id for d in _deliveries(_school_session(world))}
    assert guardian_id in recipients and teacher_id not in recipients


def test_only_the_administrator_sees_deliveries(family, client):
    family.session.commit()
    login(client, "teacher.a")
    assert client.get("/s/school-a/notifications/deliveries").status_code == 403
    response = post_form(
        client, "/s/school-a/notifications/deliveries/retry", {},
        form_page="/s/school-a/notifications/settings",
    )  # fmt: skip
    assert response.status_code == 403


def test_sweeper_is_a_periodic_job():
    assert "notifications.tasks.sweep_notifications" in {p.func for p in PERIODIC}


DIENYNAS = str(Path(sys.executable).parent / "dienynas")


def test_real_worker_process_delivers_a_committed_remark_once(app, fresh_engine, smtp):
    """End to end with really committed rows: the commit enqueues the dispatch, a `dienynas
    worker --burst` process runs dispatch and send, the guardian gets one e-mail in Russian."""
    with Session(fresh_engine) as session:
        school = create_school(session, slug="notify-worker", name="Pranešimų mokykla")
        school_id, schema, role = school.id, school.schema_name, school.role_name
        session.commit()
    logins = ("guardian.worker", "teacher.worker")
    try:
        with Session(fresh_engine) as session:
            school = session.get(School, school_id)
            guardian, _ = create_account(
                session, login=logins[0], name="Olga Opekunova", email="olga.w@example.lt",
                locale="ru", issue_password=False,
            )  # fmt: skip
            teacher, _ = create_account(
                session, login=logins[1], name="Tomas", locale="en", issue_password=False
            )
            grant_role(session, guardian, school, Role.GUARDIAN)
            session.commit()
            bind_to_school(session, school)
            student = Person(first_name="Ivan", last_name="Ivanov", document_kind="other")
            parent = Person(
                first_name="Olga", last_name="Opekunova", document_kind="other",
                account_id=guardian.id,
            )  # fmt: skip
            session.add_all([student, parent])
            session.flush()
            session.add(Student(person_id=student.id))
            session.flush()
            session.add(Guardianship(guardian_id=parent.id, student_id=student.id))
            remark = Remark(
                student_id=student.id, kind="praise", text="Molodec!", on_day=MONDAY,
                written_by=teacher.id,
            )  # fmt: skip
            session.add(remark)
            session.flush()
            record_event(
                session, "remark", actor_id=teacher.id, remark_id=remark.id, student_id=student.id
            )
            session.commit()  # the after-commit hook enqueues the dispatch
        assert [j.func_name for j in queue().jobs] == ["notifications.tasks.dispatch_events"]
        env = dict(os.environ)
        env["DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"].render_as_string(
            hide_password=False
        )
        env["REDIS_URL"] = app.config["REDIS_URL"]
        env["SMTP_URL"] = app.config["SMTP_URL"]
        result = subprocess.run(
            [DIENYNAS, "worker", "--burst"], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        (message,) = smtp.to("olga.w@example.lt")
        assert message["Content-Language"] == "ru"
        assert "Ivan Ivanov" in message.get_body(("plain",)).get_content()
        states = run_sql(
            fresh_engine,
            f'SELECT channel, state FROM "{schema}".notification_deliveries ORDER BY channel',
        )
        assert [tuple(row) for row in states] == [("email", "sent"), ("in_app", "sent")]
    finally:
        with fresh_engine.begin() as conn:
            roles.drop_school_role_and_schema(conn, role=role, schema=schema)
            conn.execute(text("DELETE FROM public.schools WHERE id = :id"), {"id": school_id})
            conn.execute(
                text("DELETE FROM public.accounts WHERE login = ANY(:logins)"),
                {"logins": list(logins)},
            )


class RecordingSms:
    """An SMS gateway for the test (plugged in through SMS_PROVIDER, as docs/notifications.md
    describes)."""

    sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        RecordingSms.sent.append((phone, text))


def test_sms_goes_through_the_configured_provider_in_the_recipients_language(
    family, world, app, monkeypatch
):
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "test_notifications:RecordingSms")
    monkeypatch.setattr(RecordingSms, "sent", [])
    # midday in Vilnius: outside the school's SMS quiet hours (tests/test_digests.py)
    noon = datetime.combine(date(2026, 9, 7), time(12), tzinfo=clock.zone())
    monkeypatch.setattr(school_settings, "utc_now", lambda: noon)
    guardian = family.account("guardian")
    guardian.phone = "+37060000001"
    with in_locale("en"):
        form = {
            f"{k}.{c}": "instant" for k in services.KIND_LABELS for c in ("in_app", "email", "sms")
        }
        services.save_preferences(family.session, guardian, form, services.KIND_LABELS)
    _grade(family)
    family.session.commit()
    run_jobs()
    (sms,) = RecordingSms.sent
    assert sms[0] == "+37060000001" and "Matematyka" in sms[1]


def test_pages_run_a_constant_number_of_queries(family, world, app, client, count_queries):
    ids = {
        "student": family.students[0].id, "group": family.maths.id,
        "term": family.terms[0].id, "teacher": family.account("teacher").id,
    }  # fmt: skip

    def new_grades(count: int) -> None:
        session = _school_session(world)
        for _ in range(count):
            grade = Grade(
                student_id=ids["student"], group_id=ids["group"], on_day=MONDAY,
                term_id=ids["term"], value="8", created_by=ids["teacher"],
            )  # fmt: skip
            session.add(grade)
            session.flush()
            record_event(
                session, "grade", actor_id=ids["teacher"], grade_id=grade.id,
                student_id=ids["student"], group_id=ids["group"],
            )  # fmt: skip
        session.commit()
        run_jobs()
        db.session.commit()

    guardian_client = app.test_client()
    login(client, "admin.a")
    login(guardian_client, "guardian.both")

    def queries(user_client, path: str) -> int:
        with count_queries() as statements:
            assert user_client.get(path).status_code == 200
        return len(statements)

    new_grades(1)
    before = {
        "admin": queries(client, "/s/school-a/notifications/deliveries"),
        "guardian": queries(guardian_client, "/s/school-a/notifications"),
    }
    new_grades(3)
    after = {
        "admin": queries(client, "/s/school-a/notifications/deliveries"),
        "guardian": queries(guardian_client, "/s/school-a/notifications"),
    }
    assert after == before and before["admin"] <= 8
    # without SMTP_URL the e-mails are skipped, with the reason in the administrator's language
    page = client.get("/s/school-a/notifications/deliveries?state=skipped").get_data(as_text=True)
    assert page.count("No SMTP server is configured") == 3 * 4


def test_a_lost_send_job_is_sent_by_the_sweeper_without_duplicates(family, smtp, world):
    """A worker killed in the middle of a send job: what it committed stays sent, the rest stays
    pending; the sweeper re-sends the pending ones and every recipient gets exactly one e-mail."""
    from notifications.tasks import STALE_DELIVERIES, dispatch_events, send_deliveries

    _, event_id = _grade(family)
    family.session.commit()
    queue().empty()
    dispatch_events(world.school_a.id)
    (lost,) = queue().jobs
    queue().empty()  # the worker died with the job
    session = _school_session(world)
    first_email = _deliveries(session, event_id=event_id, channel="email")[0]
    first_id = first_email.id
    assert first_id in lost.args[1]
    session.commit()
    send_deliveries(world.school_a.id, [first_id])  # what the worker did before it died
    assert len(smtp.messages) == 1

    sweep_notifications()
    assert queue().count == 0  # not yet stale: its job may still be running or retrying
    session = _school_session(world)
    for delivery in _deliveries(session, event_id=event_id):
        delivery.created_at = func.now() - STALE_DELIVERIES - timedelta(minutes=1)
    session.commit()
    sweep_notifications()
    run_jobs()
    assert sorted(m["To"] for m in smtp.messages) == sorted(
        ["irena@example.lt", "olga@example.lt", "agne@example.lt"]
    )
    states = {d.state for d in _deliveries(_school_session(world), event_id=event_id)}
    assert states == {"sent"}


def test_every_event_kind_reads_well_in_the_recipients_language(family, world):
    """One event of each kind for students[0]; the guardian (switched to English here) reads
    each in English with the subject's English name."""
    from gradebook.attendance.models import Attendance, Excuse
    from gradebook.grades.models import GradeChange, TermGrade
    from gradebook.planning.models import PlannedTest

    session = family.session
    family.account("guardian").locale = "en"
    guardian_id = family.account("guardian").id
    head = family.account("head").id
    student, maths = family.students[0].id, family.maths.id
    lesson = Lesson(group_id=maths, on_day=MONDAY, lesson_no=1, term_id=family.terms[0].id)
    session.add(lesson)
    session.flush()
    kind = session.scalar(select(AssessmentKind).where(AssessmentKind.code == "test"))
    rows = {
        "absence": Attendance(
            lesson_id=lesson.id, student_id=student, mark="absent", marked_by=head
        ),
        "remark": Remark(
            student_id=student, group_id=maths, kind="praise", text="Great work", on_day=MONDAY,
            written_by=head,
        ),
        "homework": Homework(lesson_id=lesson.id, text="Exercises 5–7", due_on=date(2026, 9, 9)),
        "test": PlannedTest(
            group_id=maths, on_day=date(2026, 9, 18), topic="Fractions", kind_id=kind.id,
            announced_by=head,
        ),
        "term_grade": TermGrade(
            student_id=student, group_id=maths, year_id=family.year.id,
            term_id=family.terms[0].id, value="8",
        ),
        "excuse_decision": Excuse(
            student_id=student, from_day=MONDAY, to_day=date(2026, 9, 8), reason="illness",
            source="guardian", status="approved", school_days=2, submitted_by=guardian_id,
            decided_by=head,
        ),
        "grade_changed": GradeChange(
            grade_id=999_999, student_id=student, group_id=maths, on_day=MONDAY,
            action="delete", old_value="4", changed_by=head,
        ),
    }  # fmt: skip
    session.add_all(rows.values())
    session.flush()
    for event_kind, ids in (
        ("absence", {"lesson_id": lesson.id, "student_id": student}),
        ("remark", {"remark_id": rows["remark"].id, "student_id": student}),
        (
            "homework",
            {"homework_id": rows["homework"].id, "lesson_id": lesson.id, "group_id": maths},
        ),
        ("test", {"planned_test_id": rows["test"].id, "group_id": maths}),
        (
            "term_grade",
            {"term_grade_id": rows["term_grade"].id, "student_id": student, "group_id": maths},
        ),
        ("excuse_decision", {"excuse_id": rows["excuse_decision"].id, "student_id": student}),
        ("grade_changed", {"grade_id": 999_999, "student_id": student}),
    ):
        record_event(session, event_kind, actor_id=head, **ids)
    session.commit()
    run_jobs()
    session = _school_session(world)
    subjects = [d.subject for d in _deliveries(session, channel="in_app", account_id=guardian_id)]
    assert subjects == [
        "Absent from Mathematics on Sep 7, 2026",
        "New praise",
        "Homework in Mathematics for Sep 9, 2026",
        "Test in Mathematics on Sep 18, 2026",
        "Term grade in Mathematics: 8",
        "Excuse for Sep 7, 2026 – Sep 8, 2026 approved",
        "A grade in Mathematics was removed: 4",
    ]


# --- a new student in a class under way -----------------------------------------------------


def _new_student(classroom, today: date):
    from school.people.services import PersonDetails, add_student

    details = PersonDetails(first_name="Naujokas", last_name="Atvykėlis", document_kind="other",
                            birth_date=date(2015, 2, 1), document_number="X-1")  # fmt: skip
    return add_student(
        classroom.session, classroom.account("admin"), classroom.school, details,
        classroom.c5a.id, today,
    )  # fmt: skip


def _held_maths_lesson(classroom) -> None:
    classroom.session.add(Lesson(group_id=classroom.maths.id, on_day=MONDAY, lesson_no=1,
                                 term_id=classroom.terms[0].id))  # fmt: skip
    classroom.session.flush()


def test_a_new_student_in_a_class_under_way_is_announced_to_its_teachers(classroom, world):
    """5a has had a lesson: the teachers of the groups the new student joined (maths,
    English) and the class head are told, each in their language; the administrator who
    enrolled the student is not."""
    c = classroom
    _held_maths_lesson(c)
    c.account("head").locale = "lt"
    teachers = {c.account(k).id for k in ("teacher", "other_teacher", "head")}
    head_id, admin_id, class_id = c.account("head").id, c.account("admin").id, c.c5a.id
    teacher_id = c.account("teacher").id
    student = _new_student(c, MONDAY + timedelta(days=1))
    student_id = student.person_id
    c.session.commit()
    run_jobs()
    session = _school_session(world)
    (event,) = session.scalars(
        select(NotificationEvent).where(NotificationEvent.kind == "student_joined")
    )
    assert event.payload == {"student_id": student_id, "class_id": class_id}
    delivered = {d.account_id: d for d in _deliveries(session, channel="in_app")}
    assert set(delivered) == teachers and admin_id not in delivered
    teacher = delivered[teacher_id]
    assert teacher.subject == "A new student in class 5a"
    assert "Student: Naujokas Atvykėlis" in teacher.body
    assert delivered[head_id].subject == "Naujas mokinys 5a klasėje"


def test_class_lists_made_before_the_lessons_begin_tell_no_one(classroom):
    c = classroom
    _held_maths_lesson(c)  # on MONDAY: the lists made that morning are not arrivals
    _new_student(c, MONDAY)
    c.session.flush()
    count = select(func.count()).select_from(NotificationEvent)
    assert c.session.scalar(count.where(NotificationEvent.kind == "student_joined")) == 0


def test_moving_a_student_into_a_class_under_way_is_announced(classroom):
    from school.people.services import PersonDetails, update_student

    c = classroom
    _held_maths_lesson(c)
    outsider = c.session.get(Student, c.outsider.id)
    outsider.person.document_number, outsider.person.birth_date = "X-2", date(2014, 5, 5)
    details = PersonDetails.of(outsider.person)
    update_student(c.session, c.account("admin"), c.school, outsider, details, c.c5a.id,
                   MONDAY + timedelta(days=2))  # fmt: skip
    c.session.flush()
    (event,) = c.session.scalars(
        select(NotificationEvent).where(NotificationEvent.kind == "student_joined")
    )
    assert event.payload == {"student_id": c.outsider.id, "class_id": c.c5a.id}


def test_an_import_builds_lists_and_announces_no_one(classroom):
    """A school starting with the diary mid-year imports its lists: hundreds of students would
    otherwise be announced one by one to every teacher."""
    from school.imports.services import run_import

    c = classroom
    _held_maths_lesson(c)
    header = "Vardas,Pavardė,Dokumento numeris,Gimimo data,Klasė"
    data = f"{header}\nNaujokas,Atvykėlis,X-9,2015-02-01,5a\n"
    report = run_import(c.session, c.school, c.account("admin"), "students", "m.csv",
                        data.encode())  # fmt: skip
    assert report.errors == [] and report.created == 1
    count = select(func.count()).select_from(NotificationEvent)
    assert c.session.scalar(count.where(NotificationEvent.kind == "student_joined")) == 0


# --- links from the inbox ---------------------------------------------------------------------


def _inbox_links(client, slug: str = "school-a") -> list[str]:
    page = client.get(f"/s/{slug}/notifications").get_data(as_text=True)
    listed = page[page.index('<ul class="notifications">') :]
    return [html.unescape(href) for href in re.findall(r'<strong><a href="([^"]+)"', listed)]


def _every_family_event(family) -> dict[str, int]:
    """An event of each kind the family of students[0] is told of, each about a record of its
    own day; returns the ids the links are made of."""
    from gradebook.attendance.models import Attendance, Excuse
    from gradebook.grades.models import TermGrade
    from gradebook.planning.models import PlannedTest
    from notifications.announcements.models import Announcement
    from notifications.messages.services import start_thread

    session = family.session
    head = family.account("head").id
    student, maths = family.students[0].id, family.maths.id
    grade_id, _ = _grade(family)
    session.get(Grade, grade_id).on_day = MONDAY + timedelta(days=2)  # Wednesday
    next_monday = MONDAY + timedelta(days=7)
    lesson = Lesson(group_id=maths, on_day=next_monday, lesson_no=1, term_id=family.terms[0].id)
    session.add(lesson)
    session.flush()
    kind = session.scalar(select(AssessmentKind).where(AssessmentKind.code == "test"))
    rows = {
        "absence": Attendance(
            lesson_id=lesson.id, student_id=student, mark="absent", marked_by=head
        ),
        "remark": Remark(
            student_id=student, group_id=maths, kind="praise", text="Puiku",
            on_day=MONDAY + timedelta(days=1), written_by=head,
        ),
        "homework": Homework(lesson_id=lesson.id, text="Nr. 5–7", due_on=next_monday),
        "test": PlannedTest(
            group_id=maths, on_day=date(2026, 9, 18), topic="Trupmenos", kind_id=kind.id,
            announced_by=head,
        ),
        "term_grade": TermGrade(
            student_id=student, group_id=maths, year_id=family.year.id,
            term_id=family.terms[0].id, value="8",
        ),
        "excuse_decision": Excuse(
            student_id=student, from_day=MONDAY, to_day=MONDAY, reason="illness",
            source="guardian", status="approved", school_days=1,
            submitted_by=family.account("guardian").id, decided_by=head,
        ),
        "announcement": Announcement(
            title="Tėvų susirinkimas", body="Ketvirtadienį 18 val.", author_id=head,
            audiences=["guardians"], publish_at=func.now(), published_at=func.now(),
        ),
    }  # fmt: skip
    session.add_all(rows.values())
    session.flush()
    for event_kind, ids in (
        ("absence", {"lesson_id": lesson.id, "student_id": student}),
        ("remark", {"remark_id": rows["remark"].id, "student_id": student}),
        (
            "homework",
            {"homework_id": rows["homework"].id, "lesson_id": lesson.id, "group_id": maths},
        ),
        ("test", {"planned_test_id": rows["test"].id, "group_id": maths}),
        (
            "term_grade",
            {"term_grade_id": rows["term_grade"].id, "student_id": student, "group_id": maths},
        ),
        ("excuse_decision", {"excuse_id": rows["excuse_decision"].id, "student_id": student}),
        ("announcement", {"announcement_id": rows["announcement"].id}),
    ):
        record_event(session, event_kind, actor_id=head, **ids)
    thread = start_thread(
        session, family.account("head"), family.school, MONDAY,
        subject="Ekskursija", body="Penktadienį", person_ids=[family.guardian.id],
    )  # fmt: skip
    return {"student": student, "thread": thread.id}


def test_a_guardians_notifications_link_to_the_diary_week_thread_and_lists(
    family, world, client, school_day, smtp
):
    """Each notification opens what it is about: a grade, absence, remark, homework, test or
    term grade the child's diary at the week of its day, a message its thread, an
    announcement the announcements, an excuse decision the excuses; every link opens."""
    school_day(MONDAY)
    ids = _every_family_event(family)
    family.session.commit()
    run_jobs()
    db.session.commit()
    login(client, "guardian.both")
    links = _inbox_links(client)
    diary = f"/s/school-a/diary?student={ids['student']}&week="
    assert sorted(links) == sorted(
        [
            f"/s/school-a/messages/{ids['thread']}",
            "/s/school-a/excuses",
            f"{diary}2026-09-07",  # the term grade: the term is under way, this week
            "/s/school-a/announcements",
            f"{diary}2026-09-14",  # the test on Friday 18th
            f"{diary}2026-09-14",  # the homework given at the lesson of Monday 14th
            f"{diary}2026-09-07",  # the remark of Tuesday 8th
            f"{diary}2026-09-14",  # the absence of Monday 14th
            f"{diary}2026-09-07",  # the grade of Wednesday 9th
        ]
    )
    for link in set(links):
        assert client.get(link).status_code == 200, link
    page = client.get(f"{diary}2026-09-07").get_data(as_text=True)
    assert "Puiku" in page  # the remark is on the page the link opens


def test_a_student_reads_a_group_event_in_their_own_diary(family, world, client, school_day, smtp):
    school_day(MONDAY)
    ids = _every_family_event(family)
    family.session.commit()
    run_jobs()
    db.session.commit()
    login(client, "student.a")
    links = _inbox_links(client)
    # the student's own excuse decision opens the diary (the excuses list is the guardians')
    assert f"/s/school-a/diary?student={ids['student']}&week=2026-09-14" in links
    assert "/s/school-a/excuses" not in links
    assert all(client.get(link).status_code == 200 for link in set(links))


def test_staff_are_linked_only_to_pages_their_roles_open(classroom, world, app, client, smtp):
    """A new student in 5a: the class head opens the student's page, a teacher (who may not)
    the class list; nobody is sent to a page that would refuse them."""
    c = classroom
    _held_maths_lesson(c)
    student_id, class_id = _new_student(c, MONDAY + timedelta(days=1)).person_id, c.c5a.id
    c.session.commit()
    run_jobs()
    db.session.commit()
    login(client, "teacher.a")
    assert _inbox_links(client) == [f"/s/school-a/people/students?class={class_id}"]
    assert client.get(_inbox_links(client)[0]).status_code == 200
    assert client.get(f"/s/school-a/people/{student_id}").status_code == 403
    head = app.test_client()
    login(head, "head.a")
    assert _inbox_links(head) == [f"/s/school-a/people/{student_id}"]
    assert head.get(_inbox_links(head)[0]).status_code == 200


def test_the_inbox_runs_as_many_queries_for_many_notifications_as_for_one(
    family, world, client, count_queries, school_day, smtp
):
    school_day(MONDAY)
    _every_family_event(family)
    guardian_id = family.account("guardian").id
    family.session.commit()
    run_jobs()
    db.session.commit()
    login(client, "guardian.both")

    def queries() -> int:
        with count_queries() as statements:
            assert client.get("/s/school-a/notifications").status_code == 200
        return len(statements)

    assert len(_inbox_links(client)) == 9
    many = queries()
    session = _school_session(world)
    kept = session.scalar(
        select(func.min(NotificationDelivery.id)).where(
            NotificationDelivery.account_id == guardian_id, NotificationDelivery.channel == "in_app"
        )
    )
    session.execute(
        NotificationDelivery.__table__.delete().where(
            NotificationDelivery.account_id == guardian_id, NotificationDelivery.id != kept
        )
    )
    session.commit()
    assert len(_inbox_links(client)) == 1
    assert queries() == many
