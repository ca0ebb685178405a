"""Messages (issue 7): who may write to whom, recipients expanded at send time, replies, read
receipts, attachments, the 'message' event delivered once in each recipient's language, and the
pages' query counts. Real Redis and a real SMTP server on loopback (fixtures of
test_notifications)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from accounts.models import Role
from classroom import MONDAY, new_account
from conftest import login, marked_invalid, post_form
from dienynas.database import db
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.i18n import in_locale
from gradebook.lessons.services import MAX_FILE_BYTES, Upload
from notifications.messages import services
from notifications.messages.models import (
    Message,
    MessageFile,
    MessageReceipt,
    MessageThread,
    ThreadParticipant,
)
from notifications.models import NotificationDelivery, NotificationEvent
from school.classes.models import Group, GroupStudent, GroupTeacher
from school.curriculum.models import Subject
from school.people.models import Guardianship, Person, Student
from tenants.services import bind_to_school
from test_notifications import family, run_jobs, smtp

#: test_notifications' fixtures, used here by name (pytest finds them in this module)
SHARED_FIXTURES = (family, smtp)
PDF = b"%PDF-1.4 tiny"


@pytest.fixture
def other_family(family):
    """A guardian (with an account) of the 6b student ``outsider``: another class's family."""
    session = family.session
    account = new_account(
        session, family.school, "guardian.6b", "Petras Kitas", Role.GUARDIAN, locale="lt"
    )
    person = Person(
        first_name="Petras", last_name="Kitas", document_kind="other", account_id=account.id
    )
    session.add(person)
    session.flush()
    session.add(Guardianship(guardian_id=person.id, student_id=family.outsider.id))
    session.flush()
    family.accounts["other_guardian"] = account
    family.other_guardian = person
    return family


def _start(classroom, who: str, **kwargs) -> MessageThread:
    values = {"subject": "Ekskursija", "body": "Penktadienį vyksime į muziejų."} | kwargs
    return services.start_thread(
        classroom.session, classroom.account(who), classroom.school, MONDAY, **values
    )


def _receivers(session, message_id: int) -> set[int]:
    return set(
        session.scalars(
            select(MessageReceipt.account_id).where(MessageReceipt.message_id == message_id)
        )
    )


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_who_may_address_whom(other_family):
    c = other_family
    session, school = c.session, c.school
    pupils = {p.id for p in c.students}
    olga = session.scalar(select(Person.id).where(Person.account_id == c.account("russian").id))

    colleagues = {c.teacher.id, c.other_teacher.id, c.director.id}
    head = services.addressable(session, c.account("head"), school, MONDAY)
    assert head.classes == {c.c5a.id: "5a"} and head.groups == {}
    # the class's students and guardians with an account, and the staff; nobody of 6b
    assert set(head.persons) == {c.students[0].id, c.guardian.id, olga} | colleagues

    teacher = services.addressable(session, c.account("teacher"), school, MONDAY)
    assert teacher.classes == {} and teacher.groups == {c.maths.id: "5a matematika"}
    assert c.other_guardian.id not in teacher.persons
    assert {c.head.id, c.other_teacher.id, c.director.id} <= set(teacher.persons)

    guardian = services.addressable(session, c.account("guardian"), school, MONDAY)
    assert guardian.classes == {} and guardian.groups == {}
    assert set(guardian.persons) == {c.head.id, c.teacher.id, c.other_teacher.id}

    student = services.addressable(session, c.account("student"), school, MONDAY)
    assert set(student.persons) == {c.head.id, c.teacher.id, c.other_teacher.id}

    director = services.addressable(session, c.account("director"), school, MONDAY)
    assert set(director.classes) == {c.c5a.id, c.c6b.id}
    assert set(director.groups) == {c.maths.id, c.english.id}
    assert {c.other_guardian.id, c.guardian.id, c.head.id} <= set(director.persons)
    assert c.director.id not in director.persons  # not oneself
    assert not pupils - {c.students[0].id} & set(director.persons)  # no account: not listed


def test_recipients_say_who_they_are_to_the_writer(other_family, client, school_day):
    """Namesakes and a page of bare names: each recipient says what they are to the writer:
    the class they head and the subjects they teach the writer's child, a student's class, a
    guardian's children."""
    c = other_family
    school_day(MONDAY)
    session, school = c.session, c.school
    namesake_account = new_account(session, school, "namesake.6b", "Agnė Ambrazaitė", Role.STUDENT)
    namesake = Person(
        first_name="Agnė", last_name="Ambrazaitė", document_kind="other",
        account_id=namesake_account.id,
    )  # fmt: skip
    session.add(namesake)
    session.flush()
    session.add(Student(person_id=namesake.id, class_id=c.c6b.id))
    session.flush()
    with in_locale("en"):
        guardian = services.addressable(session, c.account("guardian"), school, MONDAY)
        director = services.addressable(session, c.account("director"), school, MONDAY)
    assert guardian.persons == {
        c.head.id: "Kristina Vadovė — class head of 5a",
        c.teacher.id: "Tomas Mokytojas — Mathematics",
        c.other_teacher.id: "Jonas Anglas — English",
    }
    assert director.persons[c.students[0].id] == "Agnė Ambrazaitė (5a)"
    assert director.persons[namesake.id] == "Agnė Ambrazaitė (6b)"
    assert director.persons[c.guardian.id] == "Irena Globėja — guardian of Agnė (5a)"
    assert director.persons[c.other_guardian.id] == "Petras Kitas — guardian of Ignas (6b)"
    # sorted by name as before
    assert list(director.persons)[:2] in (
        [c.students[0].id, namesake.id],
        [namesake.id, c.students[0].id],
    )
    c.account("guardian").locale = "en"
    session.commit()
    login(client, "guardian.both")
    page = client.get("/s/school-a/messages/new").get_data(as_text=True)
    assert "Tomas Mokytojas — Mathematics</option>" in page
    assert "Kristina Vadovė — class head of 5a</option>" in page


@pytest.mark.parametrize("writer", ["guardian.both", "head.a", "director.a"])
def test_the_new_message_page_runs_as_many_queries_for_30_recipients_as_for_3(
    family, world, app, client, count_queries, school_day, writer
):
    c = family
    school_day(MONDAY)
    year_id, child_id, scale_id = c.year.id, c.students[0].id, c.maths.subject.scale_id
    c.session.commit()
    login(client, writer)

    def queries() -> int:
        with count_queries() as statements:
            assert client.get("/s/school-a/messages/new").status_code == 200
        return len(statements)

    few = queries()
    session = bind(world)
    for index in range(27):  # teachers of the child, each with a group of a subject of its own
        account = new_account(session, world.school_a, f"teacher.x{index}", "X", Role.TEACHER)
        teacher = Person(
            first_name="Mokytojas", last_name=f"Nr{index}", document_kind="other",
            account_id=account.id,
        )  # fmt: skip
        subject = Subject(code=f"X{index}", name=f"Dalykas {index}", scale_id=scale_id)
        session.add_all([teacher, subject])
        session.flush()
        group = Group(year_id=year_id, subject_id=subject.id, name=f"X {index}", kind="mixed")
        session.add(group)
        session.flush()
        session.add_all(
            [
                GroupTeacher(group_id=group.id, teacher_id=teacher.id),
                GroupStudent(group_id=group.id, student_id=child_id),
            ]
        )
    session.commit()
    page = client.get("/s/school-a/messages/new").get_data(as_text=True)
    assert page.count("<option") >= 30 and "Dalykas 26" in page
    assert queries() == few
    assert few <= 15, few


def test_staff_write_to_each_other_and_both_see_the_replies(family):
    """A teacher writes to a colleague; in a thread of staff every reply reaches the others;
    families still reach only the teachers of their own children."""
    c = family
    session = c.session
    thread = _start(c, "teacher", person_ids=[c.other_teacher.id], subject="Kontrolinis")
    first = session.scalars(select(Message).where(Message.thread_id == thread.id)).one()
    assert _receivers(session, first.id) == {c.account("other_teacher").id}
    services.reply(session, c.account("other_teacher"), thread.id, body="Gerai, perkelsiu.")
    answer = session.scalars(select(Message).order_by(Message.id.desc())).first()
    assert _receivers(session, answer.id) == {c.account("teacher").id}
    with pytest.raises(NotFound):
        services.thread_page(session, c.account("guardian"), thread.id)


def test_an_archived_thread_leaves_the_inbox_until_its_next_message(family):
    c = family
    session = c.session
    thread = _start(c, "head", class_ids=[c.c5a.id])
    guardian = c.account("guardian")
    services.archive_thread(session, guardian, thread.id, archived=True)
    assert thread.id not in {r.thread.id for r in services.inbox(session, guardian)}
    assert [r.thread.id for r in services.inbox(session, guardian, archived=True)] == [thread.id]
    assert services.thread_page(session, guardian, thread.id).archived
    # the head still has it; the head's reply brings it back to the guardian
    assert thread.id in {r.thread.id for r in services.inbox(session, c.account("head"))}
    services.reply(session, c.account("head"), thread.id, body="Primenu: penktadienį.")
    assert thread.id in {r.thread.id for r in services.inbox(session, guardian)}
    assert services.inbox(session, guardian, archived=True) == []
    # put back by hand; a stranger to the thread cannot touch it
    services.archive_thread(session, guardian, thread.id, archived=True)
    services.archive_thread(session, guardian, thread.id, archived=False)
    assert thread.id in {r.thread.id for r in services.inbox(session, guardian)}
    with pytest.raises(NotFound):
        services.archive_thread(session, c.account("teacher"), thread.id, archived=True)


def test_archiving_through_the_pages(family, client, school_day):
    c = family
    school_day(MONDAY)
    c.account("guardian").locale = "en"
    thread_id = _start(c, "head", class_ids=[c.c5a.id]).id
    c.session.commit()
    login(client, "guardian.both")
    page = client.get(f"/s/school-a/messages/{thread_id}").get_data(as_text=True)
    assert "Archive the conversation" in page
    done = post_form(client, f"/s/school-a/messages/{thread_id}/archive", {"archived": "1"},
                     form_page=f"/s/school-a/messages/{thread_id}")  # fmt: skip
    assert done.status_code == 302
    inbox = client.get("/s/school-a/messages").get_data(as_text=True)
    assert f"/messages/{thread_id}" not in inbox and "Archived conversations" in inbox
    archived = client.get("/s/school-a/messages?archived=1").get_data(as_text=True)
    assert f"/messages/{thread_id}" in archived


def test_class_head_writes_to_the_class_guardians_expanded_at_send_time(family):
    c = family
    thread = _start(c, "head", class_ids=[c.c5a.id], audience="guardians")
    message = c.session.scalar(select(Message).where(Message.thread_id == thread.id))
    guardians = {c.account("guardian").id, c.account("russian").id}
    assert _receivers(c.session, message.id) == guardians
    participants = {
        p.account_id: p.is_staff
        for p in c.session.scalars(
            select(ThreadParticipant).where(ThreadParticipant.thread_id == thread.id)
        )
    }
    assert participants == {
        c.account("head").id: True,
        c.account("guardian").id: False,
        c.account("russian").id: False,
    }
    event = c.session.scalar(select(NotificationEvent).where(NotificationEvent.kind == "message"))
    assert event.payload == {"message_id": message.id}
    assert event.actor_id == c.account("head").id

    both = _start(c, "head", class_ids=[c.c5a.id], audience="both")
    message = c.session.scalar(select(Message).where(Message.thread_id == both.id))
    assert _receivers(c.session, message.id) == guardians | {c.account("student").id}

    # a teacher to the students of a group they teach
    to_students = _start(c, "teacher", group_ids=[c.maths.id], audience="students")
    message = c.session.scalar(select(Message).where(Message.thread_id == to_students.id))
    assert _receivers(c.session, message.id) == {c.account("student").id}


def test_writing_outside_what_one_may_address_is_refused_and_nothing_saved(other_family):
    c = other_family
    refused = [
        ("guardian", {"person_ids": [c.other_guardian.id]}),  # another class's guardian
        ("guardian", {"class_ids": [c.c6b.id]}),
        ("guardian", {"class_ids": [c.c5a.id]}),  # a guardian addresses people, not classes
        ("teacher", {"group_ids": [c.english.id]}),  # a colleague's group
        ("teacher", {"class_ids": [c.c5a.id]}),  # not the class head
        ("head", {"class_ids": [c.c6b.id]}),
        ("student", {"person_ids": [c.guardian.id]}),
    ]
    for who, targets in refused:
        with pytest.raises(PermissionDenied):
            _start(c, who, **targets)
    assert _count(c.session, MessageThread) == 0
    assert _count(c.session, NotificationEvent) == 0


@pytest.mark.parametrize(
    ("values", "field", "text"),
    [
        ({"subject": "  "}, "subject", "Write the subject"),
        ({"subject": "x" * 201}, "subject", "longer than 200"),
        ({"body": ""}, "body", "Write the message"),
        ({"audience": "everyone"}, "audience", "Choose whom"),
        ({"class_ids": []}, "recipients", "at least one recipient"),
        ({"uploads": [Upload("virusas.exe", b"MZ")]}, "files", "cannot be attached"),
        ({"uploads": [Upload("netikras.pdf", b"not a pdf")]}, "files", "not the kind of file"),
        ({"uploads": [Upload("didelis.pdf", PDF + b"0" * MAX_FILE_BYTES)]}, "files", "larger"),
        ({"uploads": [Upload(f"{i}.pdf", PDF) for i in range(11)]}, "files", "At most 10"),
    ],
)
def test_bad_messages_are_refused_and_nothing_saved(family, values, field, text):
    c = family
    values = {"class_ids": [c.c5a.id]} | values
    with pytest.raises(ServiceError) as refused:
        _start(c, "head", **values)
    assert refused.value.field == field and text in refused.value.message
    assert _count(c.session, MessageThread) == 0
    assert _count(c.session, MessageFile) == 0


def test_replies_read_receipts_and_who_sees_what(family):
    c = family
    session = c.session
    thread = _start(c, "head", class_ids=[c.c5a.id])
    services.reply(session, c.account("guardian"), thread.id, body="Ar reikia pinigų?")
    # the guardian's reply reaches the class head only, not the other family
    answer = session.scalars(select(Message).order_by(Message.id.desc())).first()
    assert _receivers(session, answer.id) == {c.account("head").id}
    russian_view = services.thread_page(session, c.account("russian"), thread.id)
    assert [m.message.body for m in russian_view.messages] == ["Penktadienį vyksime į muziejų."]
    # the head's reply reaches everyone again
    services.reply(session, c.account("head"), thread.id, body="Ne, nereikia.")
    last = session.scalars(select(Message).order_by(Message.id.desc())).first()
    assert _receivers(session, last.id) == {c.account("guardian").id, c.account("russian").id}

    guardian_view = services.thread_page(session, c.account("guardian"), thread.id)
    assert len(guardian_view.messages) == 3
    head_view = services.thread_page(session, c.account("head"), thread.id)
    first = head_view.messages[0]
    read = {r.name: r.read_at is not None for r in first.receipts}
    assert read == {"Irena Globėja": True, "Olga Opekunova": True}
    latest = head_view.messages[2]
    assert {r.name: r.read_at is not None for r in latest.receipts} == {
        "Irena Globėja": True,
        "Olga Opekunova": False,
    }
    assert head_view.messages[1].receipts == []  # not the head's own message
    assert services.unread_count(session, c.account("russian")) == 1
    assert services.unread_count(session, c.account("head")) == 0

    # not a participant: no such conversation (reading or replying)
    with pytest.raises(NotFound):
        services.thread_page(session, c.account("teacher"), thread.id)
    with pytest.raises(NotFound):
        services.reply(session, c.account("teacher"), thread.id, body="Labas")
    with pytest.raises(ServiceError, match="Write the message"):
        services.reply(session, c.account("guardian"), thread.id, body=" ")


def test_attachment_is_downloaded_by_recipients_only(family, app, client, school_day):
    c = family
    school_day(MONDAY)
    thread = _start(c, "teacher", group_ids=[c.maths.id], uploads=[Upload("Planas.pdf", PDF)])
    file_id = c.session.scalar(select(MessageFile.id))
    thread_id = thread.id
    c.session.commit()
    login(client, "guardian.both")
    page = client.get(f"/s/school-a/messages/{thread_id}").get_data(as_text=True)
    assert "Planas.pdf" in page
    response = client.get(f"/s/school-a/messages/files/{file_id}")
    assert response.status_code == 200 and response.data == PDF
    colleague = app.test_client()
    login(colleague, "teacher2.a")
    assert colleague.get(f"/s/school-a/messages/files/{file_id}").status_code == 404
    assert colleague.get(f"/s/school-a/messages/{thread_id}").status_code == 404


def test_pages_send_reply_and_refuse(other_family, app, client, world, school_day):
    c = other_family
    school_day(MONDAY)
    other_guardian_id, class_6b = c.other_guardian.id, c.c6b.id
    head_id = c.head.id
    c.account("guardian").locale = "en"  # the messages asserted below are the English ones
    c.session.commit()
    login(client, "guardian.both")
    page = client.get("/s/school-a/messages/new").get_data(as_text=True)
    assert "Kristina Vadovė" in page and "Petras Kitas" not in page
    assert 'name="classes"' not in page
    refused = post_form(
        client,
        "/s/school-a/messages/new",
        {"subject": "Klausimas", "body": "Labas", "persons": [other_guardian_id]},
    )
    assert refused.status_code == 403
    refused = post_form(
        client,
        "/s/school-a/messages/new",
        {"subject": "Klausimas", "body": "Labas", "classes": [class_6b]},
    )
    assert refused.status_code == 403
    bad = post_form(
        client, "/s/school-a/messages/new", {"subject": "", "body": "Labas", "persons": [head_id]}
    )
    assert bad.status_code == 400 and "Write the subject" in bad.get_data(as_text=True)
    assert marked_invalid(bad.get_data(as_text=True), "message-subject", "subject")
    assert not marked_invalid(bad.get_data(as_text=True), "message-body", "body")
    bad = post_form(
        client,
        "/s/school-a/messages/new",
        {"subject": "Klausimas", "body": "Labas", "persons": ["x"]},
    )
    assert bad.status_code == 400 and "Choose the recipients" in bad.get_data(as_text=True)
    session = bind(world)
    assert _count(session, MessageThread) == 0
    session.commit()
    sent = post_form(
        client,
        "/s/school-a/messages/new",
        {
            "subject": "Klausimas",
            "body": "Ar rytoj bus pamokos?",
            "persons": [head_id],
            "files": (io.BytesIO(PDF), "pažyma.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    session = bind(world)
    thread = session.scalar(select(MessageThread))
    assert session.scalar(select(MessageFile.file_name)) == "pažyma.pdf"
    session.commit()
    client = app.test_client()
    login(client, "head.a")
    inbox = client.get("/s/school-a/messages").get_data(as_text=True)
    assert "Klausimas" in inbox and "1 unread" in inbox
    replied = post_form(
        client, f"/s/school-a/messages/{thread.id}", {"body": "Taip."},
        form_page=f"/s/school-a/messages/{thread.id}",
    )  # fmt: skip
    assert replied.status_code == 302
    page = client.get(f"/s/school-a/messages/{thread.id}").get_data(as_text=True)
    assert "Taip." in page and "Read by 0 of 1" in page
    # the menu offers messages to every role
    assert "/s/school-a/messages" in client.get("/s/school-a/").get_data(as_text=True)
    # another school: no such conversation
    assert client.get(f"/s/school-b/messages/{thread.id}").status_code in (403, 404)


def bind(world):
    bind_to_school(db.session, world.school_a)
    return db.session


def test_message_event_is_delivered_once_in_each_recipients_language(family, smtp, world):
    c = family
    _start(c, "head", subject="Tėvų susirinkimas", class_ids=[c.c5a.id], audience="both")
    head_id = c.account("head").id
    c.session.commit()
    run_jobs()
    run_jobs()
    polish = smtp.to("irena@example.lt")
    russian = smtp.to("olga@example.lt")
    student = smtp.to("agne@example.lt")
    assert len(polish) == len(russian) == len(student) == 1
    assert polish[0]["Content-Language"] == "pl" and "Tėvų susirinkimas" in polish[0]["Subject"]
    assert russian[0]["Content-Language"] == "ru" and "Kristina Vadovė" in russian[0]["Subject"]
    assert "Penktadienį" in student[0].get_body(("plain",)).get_content()
    session = bind(world)
    rows = session.scalars(select(NotificationDelivery)).all()
    assert {(r.channel, r.state) for r in rows} == {("in_app", "sent"), ("email", "sent")}
    assert len(rows) == 6
    assert head_id not in {r.account_id for r in rows}


def test_pages_run_a_constant_number_of_queries(
    family, world, app, client, count_queries, school_day
):
    c = family
    school_day(MONDAY)
    head = c.account("head")

    def threads(count: int) -> int:
        session = bind(world)
        last = None
        for index in range(count):
            last = services.start_thread(
                session, head, world.school_a, MONDAY,
                subject=f"Tema {index}", body="Tekstas", class_ids=[c.c5a.id],
                uploads=[Upload("a.pdf", PDF)],
            )  # fmt: skip
            services.reply(session, c.account("guardian"), last.id, body="Atsakymas")
        session.commit()
        return last.id

    head_client = app.test_client()
    login(head_client, "head.a")
    login(client, "guardian.both")

    def queries(user_client, path: str) -> int:
        with count_queries() as statements:
            assert user_client.get(path).status_code == 200
        return len(statements)

    first = threads(1)
    before = {
        "inbox": queries(client, "/s/school-a/messages"),
        "thread": queries(head_client, f"/s/school-a/messages/{first}"),
    }
    last = threads(3)
    session = bind(world)
    for _ in range(3):
        services.reply(session, head, last, body="Dar", uploads=[Upload("b.pdf", PDF)])
    session.commit()
    after = {
        "inbox": queries(client, "/s/school-a/messages"),
        "thread": queries(head_client, f"/s/school-a/messages/{last}"),
    }
    assert after == before, after
    assert before["inbox"] <= 5 and before["thread"] <= 10, before


def test_english_readers_see_the_day_before_the_month_and_a_24_hour_clock(family, app, school_day):
    c = family
    school_day(MONDAY)
    thread = _start(c, "teacher", person_ids=[c.head.id])
    evening = datetime(2026, 12, 7, 23, 12, tzinfo=UTC)  # 01:12 on 8 December in Vilnius
    thread.last_message_at = evening
    for message in c.session.scalars(select(Message).where(Message.thread_id == thread.id)):
        message.created_at = evening
    c.session.commit()
    client = app.test_client()
    login(client, "head.a")  # reads English
    for path in ("/s/school-a/messages", f"/s/school-a/messages/{thread.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "8 Dec 2026, 01:12" in page, path
        assert "12/8/26" not in page and not re.search(r"\d [AP]M\b", page), path


def _css_rules(stylesheet: str) -> dict[str, str]:
    """Each selector of the stylesheet's rules (inside media queries too) with the
    declarations of its rules joined."""
    rules: dict[str, str] = {}
    for selectors, declarations in re.findall(r"([^{}]+)\{([^{}]*)\}", stylesheet):
        for selector in selectors.split(","):
            selector = re.sub(r"/\*.*?\*/", "", selector, flags=re.S).strip()
            rules[selector] = rules.get(selector, "") + declarations
    return rules


def test_the_new_message_form_styles_every_field(family, app):
    """The subject is a text field, the body a full-width text area and the lists to choose
    several recipients from are tall enough to read (not one 2.5rem line)."""
    family.session.commit()
    client = app.test_client()
    login(client, "head.a")
    page = client.get("/s/school-a/messages/new").get_data(as_text=True)
    assert '<input type="text" id="message-subject"' in page
    assert '<select id="message-persons" name="persons" multiple>' in page
    assert '<textarea id="message-body"' in page
    rules = _css_rules(client.get("/static/dienynas.css").get_data(as_text=True))
    for field in ("input[type=text]", "textarea"):
        assert "width: 100%" in rules[field] and "border: 1px solid" in rules[field], field
    assert "height: auto" in rules["select[multiple]"]
    assert "min-height: 10rem" in rules["select[multiple]"]
