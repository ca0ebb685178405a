"""Attendance marks, excuses (class heads, guardians and their quota) and the monthly summary."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.orm import Session

from accounts.models import Account, Role, SchoolGrant
from accounts.services import grant_role
from classroom import _person, _student, new_account
from conftest import login, marked_invalid, post_form, waits_for_commit
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.i18n import in_locale
from gradebook.attendance import services
from gradebook.attendance.models import Attendance, Excuse
from gradebook.lessons.models import Lesson
from gradebook.lessons.services import Upload
from notifications.models import NotificationEvent
from school.calendar.models import Term
from school.calendar.services import create_year, set_terms
from school.classes.models import Group, GroupStudent, SchoolClass
from school.curriculum.models import GradeScale, Subject
from school.people.models import Guardianship, Person, Student
from tenants import roles
from tenants.models import School
from tenants.services import bind_to_school, create_school

BASE = "/s/school-a"
TODAY = date(2026, 9, 30)  # a Wednesday of semester 1
MONDAY = date(2026, 9, 7)
PDF = b"%PDF-1.4\n% a doctor's certificate\n%%EOF\n"


@pytest.fixture(autouse=True)
def english():
    with in_locale("en"):
        yield


@pytest.fixture(autouse=True)
def pages_today(school_day):
    """The pages' "today" (``dienynas.clock.today``) is ``TODAY``."""
    school_day(TODAY)


def make_lesson(classroom, day: date, group=None, lesson_no: int = 1, teacher=None) -> Lesson:
    group = group or classroom.maths
    term = classroom.terms[0] if day <= classroom.terms[0].ends_on else classroom.terms[1]
    lesson = Lesson(
        group_id=group.id, on_day=day, lesson_no=lesson_no, term_id=term.id,
        teacher_id=(teacher or classroom.teacher).id,
    )  # fmt: skip
    classroom.session.add(lesson)
    classroom.session.flush()
    return lesson


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def events(session, kind: str) -> list[dict]:
    return list(
        session.scalars(
            select(NotificationEvent.payload)
            .where(NotificationEvent.kind == kind)
            .order_by(NotificationEvent.id)
        )
    )


def mark(classroom, lesson, student, value, who="teacher", today=TODAY):
    return services.mark_attendance(
        classroom.session, classroom.account(who), classroom.school, lesson, student.id, value,
        today=today,
    )  # fmt: skip


def head_excuse(classroom, student, start, end, reason="illness", **extra):
    return services.excuse_by_class_head(
        classroom.session, classroom.account("head"), classroom.school, student_id=student.id,
        from_day=start, to_day=end, reason=reason, note=extra.pop("note", None), **extra,
    )  # fmt: skip


def guardian_request(
    classroom, start, end, reason="illness", today=TODAY, student=None, document=None
):
    return services.request_excuse_by_guardian(
        classroom.session, classroom.account("guardian"), classroom.school,
        student_id=(student or classroom.students[0]).id, from_day=start, to_day=end,
        reason=reason, note="", today=today, document=document,
    )  # fmt: skip


# --- marks --------------------------------------------------------------------------------------


def test_marking_writes_one_event_per_new_or_changed_absence(classroom):
    lesson = make_lesson(classroom, MONDAY)
    student = classroom.students[1]
    row = mark(classroom, lesson, student, "absent")
    assert (row.mark, row.excused, row.marked_by) == (
        "absent", False, classroom.account("teacher").id,
    )  # fmt: skip
    assert events(classroom.session, "absence") == [
        {"lesson_id": lesson.id, "student_id": student.id}
    ]
    mark(classroom, lesson, student, "absent")  # unchanged: no event
    mark(classroom, lesson, student, "late")  # changed: an event
    mark(classroom, lesson, student, "left_early")  # not notified
    assert len(events(classroom.session, "absence")) == 2
    assert mark(classroom, lesson, student, "") is None  # cleared: present again
    assert mark(classroom, lesson, student, None) is None
    assert count(classroom.session, Attendance) == 0
    assert len(events(classroom.session, "absence")) == 2


def test_mark_for_a_student_outside_the_group_is_refused(classroom):
    lesson = make_lesson(classroom, MONDAY)
    with pytest.raises(ServiceError, match=r"not in this lesson's group \(5a matematika\)"):
        mark(classroom, lesson, classroom.outsider, "absent")
    assert count(classroom.session, Attendance) == 0
    assert events(classroom.session, "absence") == []


def test_unknown_mark_is_refused(classroom):
    lesson = make_lesson(classroom, MONDAY)
    with pytest.raises(ServiceError, match="Choose present, absent, late or left early"):
        mark(classroom, lesson, classroom.students[0], "sick")
    assert count(classroom.session, Attendance) == 0


def test_a_future_lesson_gets_no_marks(classroom):
    lesson = make_lesson(classroom, date(2026, 10, 2))
    with pytest.raises(ServiceError, match="has not taken place yet"):
        mark(classroom, lesson, classroom.students[0], "absent")
    assert count(classroom.session, Attendance) == 0
    assert mark(classroom, lesson, classroom.students[0], "absent", today=date(2026, 10, 2))


def test_another_teachers_group_is_refused_but_a_substitute_writes(classroom):
    lesson = make_lesson(classroom, MONDAY)
    with pytest.raises(PermissionDenied):
        mark(classroom, lesson, classroom.students[0], "absent", who="other_teacher")
    assert count(classroom.session, Attendance) == 0
    held = make_lesson(classroom, MONDAY, lesson_no=5, teacher=classroom.other_teacher)
    assert mark(classroom, held, classroom.students[0], "late", who="other_teacher").mark == "late"


def test_a_mark_on_an_excused_day_is_excused_at_once(classroom):
    student = classroom.students[2]
    excuse = head_excuse(classroom, student, MONDAY, MONDAY)
    row = mark(classroom, make_lesson(classroom, MONDAY), student, "absent")
    assert row.excuse_id == excuse.id
    other_day = mark(classroom, make_lesson(classroom, date(2026, 9, 9)), student, "absent")
    assert other_day.excuse_id is None


def test_marking_a_whole_lesson_checks_every_mark_first(classroom):
    lesson = make_lesson(classroom, MONDAY)
    first, second, third = classroom.students[:3]
    account = classroom.account("teacher")
    with pytest.raises(ServiceError):
        services.mark_lesson(
            classroom.session, account, classroom.school, lesson,
            {first.id: "absent", second.id: "asleep"}, today=TODAY,
        )  # fmt: skip
    assert count(classroom.session, Attendance) == 0
    marks = services.mark_lesson(
        classroom.session, account, classroom.school, lesson,
        {first.id: "absent", second.id: "late", third.id: ""}, today=TODAY,
    )  # fmt: skip
    assert {sid: row.mark for sid, row in marks.items()} == {first.id: "absent", second.id: "late"}
    marks = services.mark_lesson(
        classroom.session, account, classroom.school, lesson, {first.id: None}, today=TODAY
    )
    assert list(marks) == [second.id]
    assert len(events(classroom.session, "absence")) == 2


# --- the lesson page ----------------------------------------------------------------------------


def test_lesson_page_marks_the_whole_lesson(client, classroom, count_queries):
    lesson = make_lesson(classroom, MONDAY)
    student = classroom.students[1]
    classroom.session.commit()
    login(client, "teacher.a")
    url = f"{BASE}/lessons/{lesson.id}/attendance"
    page = client.get(url).get_data(as_text=True)
    assert "Butkus Benas" in page and f'name="mark-{student.id}" value="" ' in page
    form = {f"mark-{s.id}": "" for s in classroom.students} | {f"mark-{student.id}": "absent"}
    response = post_form(client, url, form)
    assert response.status_code == 302
    bind_to_school(classroom.session, classroom.school)
    assert classroom.session.scalar(select(Attendance.student_id)) == student.id
    with count_queries() as queries:
        page = client.get(url).get_data(as_text=True)
    assert len(queries) <= 10, "\n".join(queries)
    assert f'name="mark-{student.id}" value="absent" aria-label="Absent" checked' in page


def test_lesson_page_refuses_outsiders_and_bad_marks(app, client, classroom):
    lesson = make_lesson(classroom, MONDAY)
    classroom.session.commit()
    url = f"{BASE}/lessons/{lesson.id}/attendance"
    outsider, student = classroom.outsider.id, classroom.students[0].id
    login(client, "teacher.a")
    response = post_form(client, url, {f"mark-{outsider}": "absent"})
    assert response.status_code == 400
    assert "is not in this lesson&#39;s group" in response.get_data(as_text=True)
    response = post_form(client, url, {f"mark-{student}": "sick"})
    assert response.status_code == 400
    assert "Choose present, absent, late or left early." in response.get_data(as_text=True)
    bind_to_school(classroom.session, classroom.school)
    future = make_lesson(classroom, date(2026, 10, 2))
    classroom.session.commit()
    future_url = f"{BASE}/lessons/{future.id}/attendance"
    assert "marked when the lesson takes place" in client.get(future_url).get_data(as_text=True)
    response = post_form(client, future_url, {f"mark-{student}": "absent"}, form_page=url)
    assert response.status_code == 400
    assert "has not taken place yet" in response.get_data(as_text=True)
    bind_to_school(classroom.session, classroom.school)
    assert count(classroom.session, Attendance) == 0

    other = app.test_client()
    login(other, "teacher2.a")
    assert other.get(url).status_code == 403
    response = post_form(other, url, {f"mark-{student}": "absent"}, form_page=f"{BASE}/")
    assert response.status_code == 403
    bind_to_school(classroom.session, classroom.school)
    assert count(classroom.session, Attendance) == 0


def test_class_head_reads_the_lesson_without_the_form(client, classroom):
    lesson = make_lesson(classroom, MONDAY)
    classroom.session.commit()
    login(client, "head.a")
    page = client.get(f"{BASE}/lessons/{lesson.id}/attendance")
    assert page.status_code == 200
    assert "Ambrazaitė Agnė" in page.get_data(as_text=True)
    assert 'type="radio"' not in page.get_data(as_text=True)


# --- excuses by the class head ------------------------------------------------------------------


def test_class_head_excuse_links_the_marks_of_the_span(classroom):
    student = classroom.students[1]
    monday = make_lesson(classroom, MONDAY)
    wednesday = make_lesson(classroom, date(2026, 9, 9))
    friday = make_lesson(classroom, date(2026, 9, 11))
    for lesson, value in ((monday, "absent"), (wednesday, "late"), (friday, "absent")):
        mark(classroom, lesson, student, value)
    mark(classroom, monday, classroom.students[2], "absent")
    excuse = head_excuse(classroom, student, MONDAY, date(2026, 9, 9), document=None)
    assert (excuse.status, excuse.source, excuse.school_days) == ("approved", "class_head", 3)
    linked = classroom.session.execute(
        select(Attendance.lesson_id)
        .where(Attendance.excuse_id == excuse.id)
        .order_by(Attendance.lesson_id)
    ).scalars()
    assert list(linked) == [monday.id, wednesday.id]  # lateness is excused too
    assert count(classroom.session, Attendance, Attendance.excuse_id.is_(None)) == 2
    assert events(classroom.session, "excuse_decision") == [
        {"excuse_id": excuse.id, "student_id": student.id}
    ]


def test_only_the_class_head_excuses(classroom):
    with pytest.raises(PermissionDenied):
        services.excuse_by_class_head(
            classroom.session, classroom.account("teacher"), classroom.school,
            student_id=classroom.students[0].id, from_day=MONDAY, to_day=MONDAY,
            reason="illness", note=None,
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        head_excuse(classroom, classroom.outsider, MONDAY, MONDAY)  # a 6b student
    with pytest.raises(NotFound):
        services.excuse_by_class_head(
            classroom.session, classroom.account("head"), classroom.school,
            student_id=None, from_day=MONDAY, to_day=MONDAY, reason="illness", note=None,
        )  # fmt: skip
    assert count(classroom.session, Excuse) == 0
    admin_excuse = services.excuse_by_class_head(
        classroom.session, classroom.account("admin"), classroom.school,
        student_id=classroom.outsider.id, from_day=MONDAY, to_day=MONDAY,
        reason="other", note="Olympiad",
    )  # fmt: skip
    assert admin_excuse.status == "approved"


@pytest.mark.parametrize(
    ("start", "end", "extra", "message"),
    [
        (date(2026, 9, 9), MONDAY, {}, "The last day must not be before the first day"),
        (date(2027, 7, 5), date(2027, 7, 9), {}, "There are no school days from"),
        (date(2026, 10, 26), date(2026, 10, 30), {}, "There are no school days from"),
        (MONDAY, MONDAY, {"reason": "holiday"}, "Choose the reason"),
        (MONDAY, MONDAY, {"note": "x" * 1001}, "at most 1000 characters"),
        (MONDAY, MONDAY, {"document": Upload("a.txt", b"hello")}, "PDF, JPEG or PNG"),
        (MONDAY, MONDAY, {"document": Upload("a.docx", b"PK\x03\x04")}, "PDF, JPEG or PNG"),
        (MONDAY, MONDAY, {"document": Upload("a.pdf", b"")}, "The file “a.pdf” is empty"),
        (
            MONDAY,
            MONDAY,
            {"document": Upload("scan.pdf", b"\x89PNG\r\n\x1a\n...")},
            "not the kind of file its name says",
        ),
        (
            MONDAY,
            MONDAY,
            {"document": Upload("a.pdf", b"%PDF-" + b"0" * 5 * 2**20)},
            "larger than 5 MB",
        ),
    ],
)
def test_bad_class_head_excuses_save_nothing(classroom, start, end, extra, message):
    with pytest.raises(ServiceError, match=message):
        head_excuse(classroom, classroom.students[0], start, end, **extra)
    assert count(classroom.session, Excuse) == 0
    assert events(classroom.session, "excuse_decision") == []


# --- guardians and their quota ------------------------------------------------------------------


def test_guardian_excuse_within_the_quota_is_approved_at_once(classroom):
    child = classroom.students[0]
    lesson = make_lesson(classroom, date(2026, 9, 14))
    mark(classroom, lesson, child, "absent")
    result = guardian_request(classroom, date(2026, 9, 14), date(2026, 9, 18))
    assert result.over_quota == []
    assert (result.excuse.status, result.excuse.school_days) == ("approved", 5)
    assert result.excuse.decided_by is None  # approved by the rule, not by a person
    assert classroom.session.get(Attendance, (lesson.id, child.id)).excuse_id == result.excuse.id
    assert events(classroom.session, "excuse_decision") == [
        {"excuse_id": result.excuse.id, "student_id": child.id}
    ]


def test_guardian_beyond_the_illness_quota_waits_for_the_class_head(classroom):
    child = classroom.students[0]
    guardian_request(classroom, date(2026, 9, 14), date(2026, 9, 18))  # 5 days: the quota
    lesson = make_lesson(classroom, date(2026, 9, 21))
    mark(classroom, lesson, child, "absent")
    result = guardian_request(classroom, date(2026, 9, 21), date(2026, 9, 21))
    assert result.excuse.status == "pending"
    assert result.over_quota == [
        "September 2026: with this request 6 school days would be excused for illness, and a "
        "guardian may excuse at most 5 a month."
    ]
    assert classroom.session.get(Attendance, (lesson.id, child.id)).excuse_id is None
    assert len(events(classroom.session, "excuse_decision")) == 1  # only the first one


def test_a_span_across_months_counts_the_days_of_each_month(classroom):
    october = date(2026, 10, 9)
    first = guardian_request(classroom, date(2026, 9, 28), date(2026, 10, 2), today=october)
    assert first.over_quota == []  # 3 days of September, 2 of October
    result = guardian_request(classroom, date(2026, 9, 21), date(2026, 9, 23), today=october)
    assert result.excuse.status == "pending"
    assert [m.split(":")[0] for m in result.over_quota] == ["September 2026"]
    assert guardian_request(classroom, date(2026, 10, 5), date(2026, 10, 7), today=october)
    result = guardian_request(classroom, date(2026, 10, 8), date(2026, 10, 8), today=october)
    assert result.over_quota == [
        "October 2026: with this request 6 school days would be excused for illness, and a "
        "guardian may excuse at most 5 a month."
    ]


def test_other_reasons_count_per_term(classroom):
    today = date(2027, 2, 26)
    assert guardian_request(
        classroom, date(2027, 2, 1), date(2027, 2, 2), "other", today
    ).over_quota == []  # fmt: skip
    # An illness day does not count against the other reasons' quota.
    assert guardian_request(classroom, date(2027, 2, 3), date(2027, 2, 3), "illness", today)
    result = guardian_request(classroom, date(2027, 2, 8), date(2027, 2, 9), "other", today)
    assert result.excuse.status == "pending"
    assert result.over_quota == [
        "Semester 2: with this request 4 school days would be excused for other reasons, and a "
        "guardian may excuse at most 3 in a term."
    ]


def test_guardian_of_another_child_is_refused(classroom):
    with pytest.raises(PermissionDenied, match="your own children"):
        guardian_request(classroom, MONDAY, MONDAY, student=classroom.students[1])
    with pytest.raises(PermissionDenied):  # a student does not excuse themselves
        services.request_excuse_by_guardian(
            classroom.session, classroom.account("student"), classroom.school,
            student_id=classroom.students[0].id, from_day=MONDAY, to_day=MONDAY,
            reason="illness", note=None, today=TODAY,
        )  # fmt: skip
    assert count(classroom.session, Excuse) == 0


@pytest.mark.parametrize(
    ("start", "end", "today", "message"),
    [
        (date(2026, 9, 18), date(2026, 9, 14), TODAY, "must not be before the first day"),
        (date(2026, 9, 30), date(2026, 10, 1), TODAY, "Guardians excuse days that have passed"),
        (date(2027, 1, 28), date(2027, 2, 2), date(2027, 2, 10), "days of the current term only"),
        (date(2026, 8, 24), date(2026, 8, 28), TODAY, "days of the current term only"),
        (date(2026, 10, 26), date(2026, 10, 30), date(2026, 11, 2), "There are no school days"),
    ],
)
def test_bad_guardian_spans_save_nothing(classroom, start, end, today, message):
    with pytest.raises(ServiceError, match=message):
        guardian_request(classroom, start, end, today=today)
    assert count(classroom.session, Excuse) == 0


def test_class_head_decides_pending_requests(classroom):
    child = classroom.students[0]
    guardian_request(classroom, date(2026, 9, 14), date(2026, 9, 18))
    lesson = make_lesson(classroom, date(2026, 9, 21))
    mark(classroom, lesson, child, "absent")
    pending = guardian_request(classroom, date(2026, 9, 21), date(2026, 9, 22)).excuse
    with pytest.raises(PermissionDenied):
        services.decide_excuse(
            classroom.session, classroom.account("teacher"), classroom.school, pending,
            approve=True, note=None,
        )  # fmt: skip
    assert pending.status == "pending"
    services.decide_excuse(
        classroom.session, classroom.account("head"), classroom.school, pending,
        approve=True, note="Certificate seen",
    )  # fmt: skip
    assert (pending.status, pending.decided_by, pending.decision_note) == (
        "approved", classroom.account("head").id, "Certificate seen",
    )  # fmt: skip
    assert classroom.session.get(Attendance, (lesson.id, child.id)).excuse_id == pending.id
    assert events(classroom.session, "excuse_decision")[-1] == {
        "excuse_id": pending.id, "student_id": child.id,
    }  # fmt: skip
    with pytest.raises(ServiceError, match="already been decided"):
        services.decide_excuse(
            classroom.session, classroom.account("head"), classroom.school, pending,
            approve=False, note=None,
        )  # fmt: skip
    refused = guardian_request(classroom, date(2026, 9, 23), date(2026, 9, 23)).excuse
    services.decide_excuse(
        classroom.session, classroom.account("admin"), classroom.school, refused,
        approve=False, note=None,
    )  # fmt: skip
    assert refused.status == "rejected"


# --- one excuse a day, documents from guardians -----------------------------------------------


def test_days_already_excused_or_waiting_are_not_excused_again(classroom):
    child = classroom.students[0]
    guardian_request(classroom, date(2026, 9, 14), date(2026, 9, 18))  # approved: the quota
    waiting = guardian_request(classroom, date(2026, 9, 21), date(2026, 9, 22)).excuse
    assert waiting.status == "pending"
    with pytest.raises(ServiceError) as refused:
        guardian_request(classroom, date(2026, 9, 16), date(2026, 9, 17))
    assert (refused.value.message, refused.value.field) == (
        "The absences of Sep 16, 2026 – Sep 17, 2026 are already excused or waiting for the "
        "class head's decision.",
        "from_day",
    )
    with pytest.raises(ServiceError) as refused:  # partly covered: Friday to Tuesday is one run
        guardian_request(classroom, date(2026, 9, 18), date(2026, 9, 23))
    assert refused.value.message == (
        "The absences of Sep 18, 2026 – Sep 22, 2026 are already excused or waiting for the "
        "class head's decision. Choose only the other days."
    )
    with pytest.raises(ServiceError, match="Sep 15, 2026 are already excused"):  # the class head
        head_excuse(classroom, child, date(2026, 9, 15), date(2026, 9, 15))
    assert count(classroom.session, Excuse) == 2
    # A refused request does not hold its days: they may be asked for (or excused) again.
    services.decide_excuse(
        classroom.session, classroom.account("head"), classroom.school, waiting,
        approve=False, note=None,
    )  # fmt: skip
    head_excuse(classroom, child, date(2026, 9, 24), date(2026, 9, 24))
    with pytest.raises(ServiceError) as refused:
        guardian_request(classroom, date(2026, 9, 17), date(2026, 9, 25))
    assert refused.value.message.startswith(
        "The absences of Sep 17, 2026 – Sep 18, 2026 and Sep 24, 2026 are already excused"
    )
    again = guardian_request(classroom, date(2026, 9, 21), date(2026, 9, 22)).excuse
    assert again.status == "pending"
    with pytest.raises(ServiceError, match="Sep 21, 2026 – Sep 22, 2026 and Sep 24, 2026"):
        head_excuse(classroom, child, date(2026, 9, 21), date(2026, 9, 25))  # decide it instead
    assert head_excuse(classroom, child, date(2026, 9, 25), date(2026, 9, 25)).status == "approved"
    rows = services.excuses_of(classroom.session, [child.id])
    assert sorted((r.excuse.from_day.day, r.excuse.status) for r in rows) == [
        (14, "approved"), (21, "pending"), (21, "rejected"), (24, "approved"), (25, "approved"),
    ]  # fmt: skip
    # Another child's excuses are their own.
    assert head_excuse(classroom, classroom.students[1], MONDAY, date(2026, 9, 11)).school_days == 5


def test_guardian_request_keeps_a_document_as_the_class_heads_excuse_does(classroom):
    scan = b"\xff\xd8\xff\xe0 a photo of the certificate"
    result = guardian_request(
        classroom, MONDAY, MONDAY, document=Upload("C:\\fakepath\\pažyma.jpg", scan)
    )
    excuse = result.excuse
    assert (excuse.status, excuse.source) == ("approved", "guardian")
    assert (excuse.document_name, excuse.document_type, excuse.document_size) == (
        "pažyma.jpg", "image/jpeg", len(scan),
    )  # fmt: skip
    assert excuse.document == scan


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (Upload("a.txt", b"hello"), "Attach the document as a PDF, JPEG or PNG file."),
        (Upload("a.docx", b"PK\x03\x04"), "Attach the document as a PDF, JPEG or PNG file."),
        (Upload("a.pdf", b""), "The file “a.pdf” is empty."),
        (Upload("scan.pdf", b"\x89PNG\r\n\x1a\n..."), "“scan.pdf” is not the kind of file"),
        (Upload("a.pdf", b"%PDF-" + b"0" * 5 * 2**20), "The file “a.pdf” is larger than 5 MB."),
    ],
)
def test_bad_guardian_documents_save_nothing(classroom, document, message):
    with pytest.raises(ServiceError) as refused:
        guardian_request(classroom, MONDAY, MONDAY, document=document)
    assert refused.value.message.startswith(message) and refused.value.field == "document"
    assert count(classroom.session, Excuse) == 0
    assert events(classroom.session, "excuse_decision") == []


# --- excuse pages -------------------------------------------------------------------------------


@pytest.fixture
def guardian_reads_english(classroom):
    classroom.account("guardian").locale = "en"
    classroom.session.commit()


def test_guardian_page_excuses_and_explains_the_quota(client, classroom, guardian_reads_english):
    child = classroom.students[0]
    guardian_request(classroom, date(2026, 9, 14), date(2026, 9, 18))
    classroom.session.commit()
    login(client, "guardian.both")
    assert f'href="{BASE}/excuses"' in client.get(f"{BASE}/").get_data(as_text=True)
    page = client.get(f"{BASE}/excuses").get_data(as_text=True)
    assert "Agnė Ambrazaitė" in page
    assert "Sep 14, 2026 – Sep 18, 2026" in page and "Excused" in page
    response = post_form(
        client, f"{BASE}/excuses",
        {"student_id": child.id, "from_day": "2026-09-21", "to_day": "2026-09-21",
         "reason": "illness", "note": ""},
        follow_redirects=True,
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert "The request is sent to the class head" in page
    assert "September 2026: with this request 6 school days" in page
    assert "Waiting for the class head" in page
    bind_to_school(classroom.session, classroom.school)
    assert count(classroom.session, Excuse, Excuse.status == "pending") == 1


def test_guardian_page_wraps_a_long_note_and_names_each_cell(
    client, classroom, guardian_reads_english
):
    """A note of one 1,000-letter word wraps in its cell (overflow-wrap, class "long-text")
    instead of widening the table; on a phone the rows stack, each cell named by its column."""
    word = "x" * 1000
    classroom.session.commit()
    login(client, "guardian.both")
    response = post_form(
        client, f"{BASE}/excuses",
        {"student_id": classroom.students[0].id, "from_day": "2026-09-14",
         "to_day": "2026-09-14", "reason": "illness", "note": word},
        follow_redirects=True,
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert '<table class="stack">' in page
    assert re.search(
        rf'<td data-label="Reason" class="long-text">[^<]*<br><span[^>]*>{word}<', page
    )
    assert re.search(r'<td data-label="Status" class="long-text"><span[^>]*>Excused<', page)
    labels = re.findall(r'<td data-label="([^"]+)"', page)
    assert labels == ["Student", "Days", "Reason", "Given by", "Status", "Document"]


def test_guardian_page_refuses_bad_input_and_other_children(
    client, classroom, guardian_reads_english
):
    classroom.session.commit()
    login(client, "guardian.both")
    form = {"student_id": classroom.students[0].id, "from_day": "2026-09-18",
            "to_day": "2026-09-14", "reason": "illness"}  # fmt: skip
    response = post_form(client, f"{BASE}/excuses", form)
    assert response.status_code == 400
    assert "The last day must not be before the first day." in response.get_data(as_text=True)
    assert marked_invalid(response.get_data(as_text=True), "to_day", "to_day")
    assert not marked_invalid(response.get_data(as_text=True), "from_day", "from_day")
    response = post_form(client, f"{BASE}/excuses", form | {"from_day": "14.09.2026"})
    assert response.status_code == 400
    assert "is not a date" in response.get_data(as_text=True)
    other = form | {"student_id": classroom.students[1].id, "from_day": "2026-09-14",
                    "to_day": "2026-09-14"}  # fmt: skip
    assert post_form(client, f"{BASE}/excuses", other).status_code == 403
    bind_to_school(classroom.session, classroom.school)
    assert count(classroom.session, Excuse) == 0


def second_guardian(classroom) -> Account:
    """The father of students[0], besides ``guardian.both``: login ``father.a``."""
    account = new_account(
        classroom.session, classroom.school, "father.a", "Petras Globėjas", Role.GUARDIAN
    )
    father = _person(classroom.session, "Petras", "Globėjas", account)
    classroom.session.add(
        Guardianship(guardian_id=father.id, student_id=classroom.students[0].id, relation="father")
    )
    classroom.session.flush()
    return account


def test_guardian_sends_a_document_the_class_head_reads(app, classroom, guardian_reads_english):
    child = classroom.students[0]
    second_guardian(classroom)
    guardian_request(classroom, date(2026, 9, 14), date(2026, 9, 18))  # the month's quota
    certificate = Upload("pazyma-mokyklai.png", b"\x89PNG\r\n\x1a\n...")
    heads = head_excuse(classroom, child, date(2026, 9, 7), date(2026, 9, 7), document=certificate)
    class_page = f"{BASE}/classes/{classroom.c5a.id}/excuses"
    classroom.session.commit()
    guardian = app.test_client()
    login(guardian, "guardian.both")
    form = guardian.get(f"{BASE}/excuses").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and 'name="document"' in form
    assert "Document (PDF, JPEG or PNG, up to 5 MB)" in form
    response = post_form(
        guardian, f"{BASE}/excuses",
        {"student_id": child.id, "from_day": "2026-09-21", "to_day": "2026-09-22",
         "reason": "illness", "note": "", "document": (io.BytesIO(PDF), "pažyma.pdf")},
        follow_redirects=True,
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert "The request is sent to the class head" in page
    bind_to_school(classroom.session, classroom.school)
    sent = classroom.session.scalar(select(Excuse).where(Excuse.status == "pending"))
    assert (sent.document_name, sent.document_type, sent.document_size) == (
        "pažyma.pdf", "application/pdf", len(PDF),
    )  # fmt: skip
    link = f"{BASE}/excuses/{sent.id}/document"
    assert f'<a href="{link}">pažyma.pdf</a>' in page  # on the guardian's own list
    # The class head's certificate is not the guardian's to download.
    assert "pazyma-mokyklai.png" not in page
    assert guardian.get(f"{BASE}/excuses/{heads.id}/document").status_code == 403
    download = guardian.get(link)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in download.headers["Cache-Control"]

    head = app.test_client()
    login(head, "head.a")
    page = head.get(class_page).get_data(as_text=True)
    waiting = page.split("Requests waiting for your decision")[1].split("Excuse absences")[0]
    assert f'<a href="{link}">pažyma.pdf</a>' in waiting  # next to the request it came with
    assert head.get(link).data == PDF

    # The other parent sees the request but not the document; a teacher gets nothing.
    father = app.test_client()
    login(father, "father.a")
    page = father.get(f"{BASE}/excuses").get_data(as_text=True)
    assert "Waiting for the class head" in page and link not in page
    assert father.get(link).status_code == 403
    teacher = app.test_client()
    login(teacher, "teacher.a")
    assert teacher.get(link).status_code == 403


def test_guardian_page_refuses_a_wrong_file_on_its_field(client, classroom, guardian_reads_english):
    classroom.session.commit()
    login(client, "guardian.both")
    response = post_form(
        client, f"{BASE}/excuses",
        {"student_id": classroom.students[0].id, "from_day": "2026-09-14",
         "to_day": "2026-09-14", "reason": "illness",
         "document": (io.BytesIO(b"MZ..."), "pažyma.exe")},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert (
        '<p class="field-error" id="document-error" role="alert">Attach the document as a PDF, '
        "JPEG or PNG file.</p>"
    ) in page
    bind_to_school(classroom.session, classroom.school)
    assert count(classroom.session, Excuse) == 0


def test_guardian_page_refuses_days_already_excused(client, classroom, guardian_reads_english):
    guardian_request(classroom, date(2026, 9, 14), date(2026, 9, 16))
    classroom.session.commit()
    login(client, "guardian.both")
    response = post_form(
        client, f"{BASE}/excuses",
        {"student_id": classroom.students[0].id, "from_day": "2026-09-16",
         "to_day": "2026-09-17", "reason": "illness", "note": ""},
    )  # fmt: skip
    assert response.status_code == 400
    assert (
        "The absences of Sep 16, 2026 are already excused or waiting for the class head&#39;s "
        "decision. Choose only the other days."
    ) in response.get_data(as_text=True)
    bind_to_school(classroom.session, classroom.school)
    assert count(classroom.session, Excuse) == 1


def test_class_head_page_decides_excuses_and_keeps_documents(client, classroom):
    child = classroom.students[0].id
    guardian_request(classroom, date(2026, 9, 14), date(2026, 9, 18))
    pending = guardian_request(classroom, date(2026, 9, 21), date(2026, 9, 21)).excuse.id
    classroom.session.commit()
    url = f"{BASE}/classes/{classroom.c5a.id}/excuses"
    other_child = classroom.students[1].id
    login(client, "head.a")
    assert client.get(f"{BASE}/class-attendance").headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "Requests waiting for your decision" in page and "Ambrazaitė Agnė" in page
    response = post_form(
        client, f"{BASE}/excuses/{pending}/decision", {"decision": "approve"}, form_page=url
    )
    assert response.headers["Location"].endswith(url)
    response = post_form(
        client, url,
        {"student_id": other_child, "from_day": "2026-09-14",
         "to_day": "2026-09-15", "reason": "illness", "note": "",
         "document": (io.BytesIO(PDF), "pažyma.pdf")},
    )  # fmt: skip
    assert response.status_code == 302
    # the other child has no absence on those days: the excuse waits for marks written later
    assert "No absence is marked on those days yet" in client.get(url).get_data(as_text=True)
    response = post_form(
        client, url,
        {"student_id": child, "from_day": "2026-09-14", "to_day": "2026-09-15",
         "reason": "illness", "document": (io.BytesIO(b"MZ..."), "virus.exe")},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Attach the document as a PDF, JPEG or PNG file." in response.get_data(as_text=True)
    bind_to_school(classroom.session, classroom.school)
    assert classroom.session.get(Excuse, pending).status == "approved"
    with_document = classroom.session.scalar(select(Excuse).where(Excuse.source == "class_head"))
    assert (with_document.document_type, with_document.document_size) == (
        "application/pdf", len(PDF),
    )  # fmt: skip
    assert count(classroom.session, Excuse) == 3
    download = client.get(f"{BASE}/excuses/{with_document.id}/document")
    assert download.data == PDF and "no-store" in download.headers["Cache-Control"]
    assert "attachment" in download.headers["Content-Disposition"]


def test_directors_see_every_class_summary_but_excuse_none(client, classroom):
    classroom.session.commit()
    login(client, "director.a")
    assert f'href="{BASE}/class-attendance"' in client.get(f"{BASE}/").get_data(as_text=True)
    page = client.get(f"{BASE}/class-attendance").get_data(as_text=True)
    assert f"/classes/{classroom.c6b.id}/attendance" in page
    assert f"/classes/{classroom.c5a.id}/attendance" in page
    assert "/excuses" not in page
    assert client.get(f"{BASE}/classes/{classroom.c5a.id}/excuses").status_code == 403


def test_excuse_pages_are_for_the_class_head_only(client, classroom):
    certificate = Upload("C:\\fakepath\\c.png", b"\x89PNG\r\n\x1a\n...")
    excuse = head_excuse(classroom, classroom.students[0], MONDAY, MONDAY, document=certificate)
    assert (excuse.document_name, excuse.document_type) == ("c.png", "image/png")  # no path
    classroom.session.commit()
    login(client, "teacher.a")
    assert client.get(f"{BASE}/classes/{classroom.c5a.id}/excuses").status_code == 403
    assert client.get(f"{BASE}/excuses/{excuse.id}/document").status_code == 403
    assert client.get(f"{BASE}/classes/{classroom.c5a.id}/attendance").status_code == 403


# --- the monthly summary ------------------------------------------------------------------------


def september(classroom) -> list[Lesson]:
    """Maths on 7 and 9 September and on 5 October."""
    return [make_lesson(classroom, day) for day in (MONDAY, date(2026, 9, 9), date(2026, 10, 5))]


def absent_late_absent(classroom, lessons, students) -> None:
    """Each student absent, late, absent in the three lessons (written straight to the table)."""
    for student in students:
        classroom.session.add_all(
            Attendance(lesson_id=lesson.id, student_id=student.id, mark=value, marked_by=1)
            for lesson, value in zip(lessons, ("absent", "late", "absent"), strict=True)
        )
    classroom.session.flush()


def test_monthly_summary_counts_and_highlights(classroom):
    first, second = classroom.students[:2]
    absent_late_absent(classroom, september(classroom), [first, second])
    head_excuse(classroom, first, MONDAY, MONDAY)
    extra = make_lesson(classroom, date(2026, 9, 11), lesson_no=4)
    mark(classroom, extra, second, "left_early")
    summary = services.month_summary(classroom.session, classroom.c5a, date(2026, 9, 1))
    rows = {row.student.id: row.counts for row in summary.rows}
    assert (rows[first.id].excused, rows[first.id].unexcused, rows[first.id].late) == (1, 0, 1)
    assert (rows[second.id].excused, rows[second.id].unexcused, rows[second.id].missed) == (0, 1, 1)
    assert rows[second.id].left_early == 1
    assert (summary.total.missed, summary.total.late) == (2, 2)
    assert [row.student.id for row in summary.rows] == [s.id for s in classroom.students]


def test_summary_page_has_constant_queries(client, classroom, count_queries):
    lessons = september(classroom)
    absent_late_absent(classroom, lessons, classroom.students)
    classroom.session.commit()
    url = f"{BASE}/classes/{classroom.c5a.id}/attendance?month=2026-09"
    login(client, "head.a")
    with count_queries() as five:
        page = client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.count('class="status status-suspended unexcused"') == 6  # 5 students + total
    bind_to_school(classroom.session, classroom.school)
    more = [_student(classroom.session, "Naujas", f"Mokinys{i}", classroom.c5a) for i in range(4)]
    classroom.session.add_all(GroupStudent(group_id=classroom.maths.id, student_id=p.id)
                              for p in more)  # fmt: skip
    classroom.session.flush()
    absent_late_absent(classroom, lessons, more)
    classroom.session.commit()
    with count_queries() as nine:
        page = client.get(url)
    assert "Mokinys3" in page.get_data(as_text=True)
    assert len(five) == len(nine) <= 8, "\n".join(nine)


def test_summary_readers_csv_and_bad_month(client, classroom):
    absent_late_absent(classroom, september(classroom), classroom.students[:1])
    classroom.session.commit()
    login(client, "director.a")
    base = f"{BASE}/classes/{classroom.c5a.id}/attendance"
    assert client.get(base + "?month=2026-09").status_code == 200
    response = client.get(base + "?month=September")
    assert response.status_code == 400
    assert "is not a month; use the form YYYY-MM" in response.get_data(as_text=True)
    csv_file = client.get(f"{BASE}/classes/{classroom.c5a.id}/attendance.csv?month=2026-09")
    assert csv_file.mimetype == "text/csv"
    # not the month statistics' name (5a-statistics-2026-09.csv): both are saved in one folder
    assert csv_file.headers["Content-Disposition"] == (
        "attachment; filename=5a-attendance-2026-09.csv"
    )
    lines = csv_file.data.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        'Student,"Missed lessons, excused","Missed lessons, unexcused",Missed lessons in all,'
        "Late,Left early"
    )
    assert lines[1] == "Ambrazaitė Agnė,0,1,1,1,0"
    assert len(lines) == 6


def test_two_teachers_marking_the_same_student_at_once_take_turns(app, engine_url):
    """Real connections, committed data (a school made for this test and dropped after it):
    the second writer waits for the first's transaction on the lesson's row lock, then
    changes the mark the first saved. Without the lock both would insert the mark and the
    second would fail on the primary key (a 500, the mark lost)."""
    engine = create_engine(engine_url)
    first, second = Session(engine), Session(engine)
    ids: dict[str, int] = {}
    outcome: dict[str, object] = {}

    def mark(session: Session, value: str) -> None:
        school = session.get(School, ids["school"])
        bind_to_school(session, school)
        services.mark_attendance(
            session, session.get(Account, ids["admin"]), school,
            session.get(Lesson, ids["lesson"]), ids["child"], value, today=date(2026, 9, 30),
        )  # fmt: skip

    def second_teacher() -> None:
        try:
            mark(second, "late")
            second.commit()
            outcome["saved"] = True
        except Exception as exc:  # reported below: the race must not fail
            second.rollback()
            outcome["error"] = repr(exc)

    try:
        ids.update(committed_lesson(engine))
        mark(first, "absent")
        waits_for_commit(first, second_teacher)
        assert outcome == {"saved": True}
        with Session(engine) as check:
            bind_to_school(check, check.get(School, ids["school"]))
            marks = check.execute(
                select(Attendance.student_id, Attendance.mark).where(
                    Attendance.lesson_id == ids["lesson"]
                )
            ).all()
        assert marks == [(ids["child"], "late")]
    finally:
        first.close()
        second.close()
        drop_committed_lesson(engine)
        engine.dispose()


def committed_lesson(engine) -> dict[str, int]:
    """School "attendance-race" with an administrator, this year's two semesters, class 5a
    with a maths group of one student and a lesson on MONDAY, committed."""
    with Session(engine) as setup:
        school = create_school(setup, slug="attendance-race", name="Lankomumo progimnazija")
        setup.commit()
        admin = Account(login="attendance-race.admin", name="Rasa Admin", password_hash="!")
        setup.add(admin)
        setup.flush()
        grant_role(setup, admin, school, Role.ADMIN)
        bind_to_school(setup, school)
        year = create_year(
            setup, name="2026–2027", starts_on=date(2026, 9, 1), ends_on=date(2027, 8, 31)
        )
        set_terms(setup, year, "semester", [(date(2026, 9, 1), date(2027, 1, 31)),
                                              (date(2027, 2, 1), date(2027, 6, 30))])  # fmt: skip
        c5a = SchoolClass(year_id=year.id, grade_level=5, letter="a")
        scale = setup.scalar(select(GradeScale).where(GradeScale.code == "ten_point"))
        subject = Subject(code="MAT", name="Matematika", scale_id=scale.id)
        child = Person(first_name="Ona", last_name="Onaitė", document_kind="other")
        setup.add_all([c5a, subject, child])
        setup.flush()
        group = Group(year_id=year.id, subject_id=subject.id, name="5a MAT", kind="class",
                      class_id=c5a.id)  # fmt: skip
        setup.add_all([group, Student(person_id=child.id, class_id=c5a.id, status="active")])
        setup.flush()
        term_id = setup.scalar(select(Term.id).where(Term.number == 1))
        lesson = Lesson(group_id=group.id, on_day=MONDAY, lesson_no=1, term_id=term_id)
        setup.add_all([GroupStudent(group_id=group.id, student_id=child.id), lesson])
        setup.commit()
        return {"school": school.id, "admin": admin.id, "lesson": lesson.id, "child": child.id}


def drop_committed_lesson(engine) -> None:
    """Drop what :func:`committed_lesson` made (its school's schema and role too)."""
    with engine.begin() as connection:
        made = connection.execute(
            select(School.id, School.schema_name, School.role_name).where(
                School.slug == "attendance-race"
            )
        ).one_or_none()
        connection.execute(delete(Account).where(Account.login == "attendance-race.admin"))
        if made is not None:
            connection.execute(delete(SchoolGrant).where(SchoolGrant.school_id == made.id))
            roles.drop_school_role_and_schema(
                connection, role=made.role_name, schema=made.schema_name
            )
            connection.execute(delete(School).where(School.id == made.id))
