"""Grades: giving them per lesson or per day, changing and deleting them with their history,
the term lock, the grade-history page and the endpoints that change one grade."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlalchemy import func, select

from conftest import login, post_form
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.i18n import in_locale
from gradebook.grades import services
from gradebook.grades.models import Grade, GradeChange
from gradebook.lessons.models import Lesson
from notifications.models import NotificationEvent
from school.curriculum.models import AssessmentKind
from school.locks.models import TermLock
from school.locks.services import TERM_GRADES
from tenants.services import bind_to_school

MONDAY = date(2026, 9, 7)
SOON_AFTER = date(2026, 9, 10)
#: Term 1 ends on Sunday 31 January 2027; its window closes five working days later.
AFTER_LOCK = date(2027, 3, 1)

#: A page whose layout carries a CSRF token (the logout form).
HOME = "/s/school-a/"


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def events(session, kind: str) -> list[NotificationEvent]:
    return list(
        session.scalars(
            select(NotificationEvent)
            .where(NotificationEvent.kind == kind)
            .order_by(NotificationEvent.id)
        )
    )


def give(classroom, value="8", *, who="teacher", student=0, on_day=MONDAY, today=SOON_AFTER,
         group=None, **kwargs) -> Grade:  # fmt: skip
    return services.add_grade(
        classroom.session, classroom.account(who), classroom.school,
        group=group or classroom.maths, student_id=classroom.students[student].id,
        value=value, on_day=None if "lesson" in kwargs else on_day, today=today, **kwargs,
    )  # fmt: skip


def set_lock(session, term, mode: str) -> None:
    session.add(TermLock(term_id=term.id, function=TERM_GRADES, mode=mode))
    session.flush()


def nothing_saved(session) -> None:
    assert count(session, Grade) == 0
    assert count(session, GradeChange) == 0
    assert count(session, NotificationEvent) == 0


def maths_lesson(classroom, on_day=date(2026, 9, 9), teacher=None) -> Lesson:
    lesson = Lesson(
        group_id=classroom.maths.id,
        on_day=on_day,
        lesson_no=2,
        term_id=classroom.terms[0].id,
        teacher_id=(teacher or classroom.teacher).id,
    )
    classroom.session.add(lesson)
    classroom.session.flush()
    return lesson


# --- giving grades ------------------------------------------------------------------------------


def test_teacher_gives_a_grade_on_a_day_with_history_and_event(classroom):
    session = classroom.session
    test_kind = session.scalar(select(AssessmentKind).where(AssessmentKind.code == "test"))
    grade = give(classroom, " 8 ", kind_id=test_kind.id, comment="  Fractions  ")
    assert (grade.value, grade.on_day, grade.term_id) == ("8", MONDAY, classroom.terms[0].id)
    assert grade.kind_id == test_kind.id and grade.comment == "Fractions"
    assert grade.created_by == classroom.account("teacher").id and grade.lesson_id is None
    change = session.scalar(select(GradeChange))
    assert (change.action, change.old_value, change.new_value) == ("create", None, "8")
    assert change.new_kind_id == test_kind.id and change.new_comment == "Fractions"
    assert change.changed_by == classroom.account("teacher").id and not change.after_lock
    [event] = events(session, "grade")
    assert event.payload == {
        "grade_id": grade.id,
        "student_id": classroom.students[0].id,
        "group_id": classroom.maths.id,
    }
    assert event.actor_id == classroom.account("teacher").id


def test_a_grade_in_a_lesson_takes_the_lessons_day_and_a_substitute_may_give_it(classroom):
    lesson = maths_lesson(classroom, teacher=classroom.other_teacher)
    grade = give(classroom, "9", who="other_teacher", lesson=lesson)
    assert (grade.lesson_id, grade.on_day) == (lesson.id, date(2026, 9, 9))
    assert classroom.session.scalar(select(GradeChange.action)) == "create"


def test_a_lesson_of_another_group_is_refused(classroom):
    lesson = maths_lesson(classroom)
    with pytest.raises(NotFound):
        give(classroom, "9", who="admin", lesson=lesson, group=classroom.english)
    nothing_saved(classroom.session)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("11", "The grade must be a whole number from 1 to 10."),
        ("0", "The grade must be a whole number from 1 to 10."),
        ("abc", "The grade must be a whole number from 1 to 10."),
        ("7.5", "The grade must be a whole number from 1 to 10."),
        ("  ", "Enter the grade."),
    ],
)
def test_a_grade_outside_the_scale_is_refused(classroom, value, message):
    with pytest.raises(ServiceError) as refused:
        give(classroom, value)
    assert refused.value.message == message and refused.value.field == "value"
    nothing_saved(classroom.session)


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (date(2026, 8, 31), "Aug 31, 2026 is outside the school's terms."),
        (date(2026, 10, 27), "Oct 27, 2026 is a holiday: Rudens atostogos."),
        (date(2026, 9, 13), "Sep 13, 2026 is not a school day."),  # Sunday
        (date(2026, 9, 11), "A grade cannot be given in advance: Sep 11, 2026 has not come yet."),
    ],
)
def test_a_day_without_lessons_or_in_the_future_is_refused(classroom, day, message):
    with pytest.raises(ServiceError) as refused:
        give(classroom, on_day=day)
    assert refused.value.message == message and refused.value.field == "on_day"
    nothing_saved(classroom.session)


def test_a_student_not_in_the_group_is_refused(classroom):
    with pytest.raises(ServiceError, match=r"The student is not in this group\."):
        services.add_grade(
            classroom.session, classroom.account("teacher"), classroom.school,
            group=classroom.maths, student_id=classroom.outsider.id, value="8",
            on_day=MONDAY, today=SOON_AFTER,
        )  # fmt: skip
    nothing_saved(classroom.session)


@pytest.mark.parametrize("who", ["teacher", "director", "head", "guardian", "student"])
def test_only_the_groups_teachers_and_the_administrator_give_grades(classroom, who):
    with pytest.raises(PermissionDenied):
        give(classroom, group=classroom.english, who=who)
    nothing_saved(classroom.session)
    give(classroom, group=classroom.english, who="other_teacher")
    give(classroom, group=classroom.english, who="admin")
    assert count(classroom.session, Grade) == 2


def test_only_active_assessment_kinds(classroom):
    session = classroom.session
    old = session.scalar(select(AssessmentKind).where(AssessmentKind.code == "oral"))
    old.is_active = False
    session.flush()
    for kind_id in (old.id, 999_999):
        with pytest.raises(ServiceError, match=r"Choose one of the school's assessment kinds\."):
            give(classroom, kind_id=kind_id)
    nothing_saved(session)


def test_a_comment_longer_than_500_characters_is_refused(classroom):
    with pytest.raises(ServiceError, match="at most 500 characters"):
        give(classroom, comment="x" * 501)
    nothing_saved(classroom.session)


# --- changing and deleting ----------------------------------------------------------------------


def test_changing_a_grade_keeps_the_old_and_new_value_kind_and_comment(classroom):
    session = classroom.session
    grade = give(classroom, "6")
    quiz = session.scalar(select(AssessmentKind).where(AssessmentKind.code == "quiz"))
    admin = classroom.account("admin")
    services.change_grade(session, admin, classroom.school, grade, value="7", kind_id=quiz.id,
                          comment="Re-marked", today=SOON_AFTER)  # fmt: skip
    assert (grade.value, grade.kind_id, grade.comment) == ("7", quiz.id, "Re-marked")
    change = session.scalar(select(GradeChange).where(GradeChange.action == "update"))
    assert (change.old_value, change.new_value) == ("6", "7")
    assert (change.old_kind_id, change.new_kind_id) == (None, quiz.id)
    assert (change.old_comment, change.new_comment) == (None, "Re-marked")
    assert change.changed_by == admin.id and not change.after_lock
    [event] = events(session, "grade_changed")
    assert event.payload["grade_id"] == grade.id and event.actor_id == admin.id

    # only the comment: history, but no notification
    services.change_grade(session, admin, classroom.school, grade, value="7", kind_id=quiz.id,
                          comment="", today=SOON_AFTER)  # fmt: skip
    assert count(session, GradeChange, GradeChange.action == "update") == 2
    assert len(events(session, "grade_changed")) == 1
    # nothing at all: nothing recorded
    services.change_grade(session, admin, classroom.school, grade, value="7", kind_id=quiz.id,
                          comment=None, today=SOON_AFTER)  # fmt: skip
    assert count(session, GradeChange, GradeChange.action == "update") == 2


def test_a_bad_change_saves_nothing(classroom):
    session = classroom.session
    grade = give(classroom, "6")
    with pytest.raises(ServiceError, match="from 1 to 10"):
        services.change_grade(session, classroom.account("teacher"), classroom.school, grade,
                              value="12", kind_id=None, comment=None, today=SOON_AFTER)  # fmt: skip
    session.refresh(grade)
    assert grade.value == "6"
    assert count(session, GradeChange) == 1 and not events(session, "grade_changed")


def test_deleting_keeps_the_history(classroom):
    session = classroom.session
    grade = give(classroom, "6", comment="Late")
    grade_id = grade.id
    services.delete_grade(session, classroom.account("teacher"), classroom.school, grade,
                          today=SOON_AFTER)  # fmt: skip
    assert session.get(Grade, grade_id) is None
    change = session.scalar(select(GradeChange).where(GradeChange.action == "delete"))
    assert (change.grade_id, change.old_value, change.new_value) == (grade_id, "6", None)
    assert change.old_comment == "Late"
    assert events(session, "grade_changed")[0].payload["grade_id"] == grade_id


@pytest.mark.parametrize("who", ["other_teacher", "director", "head"])
def test_others_cannot_change_or_delete(classroom, who):
    session = classroom.session
    grade = give(classroom, "6")
    account = classroom.account(who)
    with pytest.raises(PermissionDenied):
        services.change_grade(session, account, classroom.school, grade, value="9",
                              kind_id=None, comment=None, today=SOON_AFTER)  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.delete_grade(session, account, classroom.school, grade, today=SOON_AFTER)
    session.refresh(grade)
    assert grade.value == "6" and count(session, GradeChange) == 1


def test_the_substitute_changes_grades_of_their_own_lesson_only(classroom):
    session = classroom.session
    lesson = maths_lesson(classroom, teacher=classroom.other_teacher)
    in_lesson = give(classroom, "9", who="other_teacher", lesson=lesson)
    on_a_day = give(classroom, "5")
    substitute = classroom.account("other_teacher")
    services.change_grade(session, substitute, classroom.school, in_lesson, value="10",
                          kind_id=None, comment=None, today=SOON_AFTER)  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.delete_grade(session, substitute, classroom.school, on_a_day, today=SOON_AFTER)


# --- the term lock ------------------------------------------------------------------------------


def test_after_the_term_closes_only_the_administrator_changes_its_grades(classroom):
    session = classroom.session
    grade = give(classroom, "6")
    teacher, admin = classroom.account("teacher"), classroom.account("admin")
    message = "Semester 1 is locked: only the e-diary administrator may change its grades."
    with pytest.raises(ServiceError) as refused:
        services.change_grade(session, teacher, classroom.school, grade, value="9",
                              kind_id=None, comment=None, today=AFTER_LOCK)  # fmt: skip
    assert refused.value.message == message
    with pytest.raises(ServiceError, match="is locked"):
        services.delete_grade(session, teacher, classroom.school, grade, today=AFTER_LOCK)
    with pytest.raises(ServiceError, match="is locked"):
        give(classroom, "7", student=1, today=AFTER_LOCK)
    session.refresh(grade)
    assert grade.value == "6" and count(session, Grade) == 1
    assert count(session, GradeChange) == 1 and not events(session, "grade_changed")

    # the last day of the window is still open to the teacher
    services.change_grade(session, teacher, classroom.school, grade, value="7",
                          kind_id=None, comment=None, today=date(2027, 2, 5))  # fmt: skip
    services.change_grade(session, admin, classroom.school, grade, value="9",
                          kind_id=None, comment=None, today=AFTER_LOCK)  # fmt: skip
    late = give(classroom, "8", who="admin", student=1, today=AFTER_LOCK)
    flags = session.execute(
        select(GradeChange.new_value, GradeChange.after_lock).order_by(GradeChange.id)
    ).all()
    assert flags == [("6", False), ("7", False), ("9", True), ("8", True)]
    services.delete_grade(session, admin, classroom.school, late, today=AFTER_LOCK)
    assert session.scalar(select(GradeChange.after_lock).where(GradeChange.action == "delete"))
    assert len(events(session, "grade_changed")) == 3


def test_the_administrators_lock_and_unlock_decide(classroom):
    session = classroom.session
    grade = give(classroom, "6")
    teacher = classroom.account("teacher")
    set_lock(session, classroom.terms[0], "locked")
    assert services.term_locked(session, classroom.terms[0], SOON_AFTER)
    with pytest.raises(ServiceError, match="is locked"):
        services.change_grade(session, teacher, classroom.school, grade, value="9",
                              kind_id=None, comment=None, today=SOON_AFTER)  # fmt: skip
    session.execute(TermLock.__table__.update().values(mode="open"))
    assert not services.term_locked(session, classroom.terms[0], AFTER_LOCK)
    services.change_grade(session, teacher, classroom.school, grade, value="9",
                          kind_id=None, comment=None, today=AFTER_LOCK)  # fmt: skip
    assert session.scalar(
        select(GradeChange.after_lock).where(GradeChange.action == "update")
    ) is False  # fmt: skip


# --- history ------------------------------------------------------------------------------------


def test_history_for_the_administrator_and_the_director(classroom):
    session = classroom.session
    grade = give(classroom, "6")
    give(classroom, "10", group=classroom.english, who="other_teacher", student=1)
    services.change_grade(session, classroom.account("admin"), classroom.school, grade,
                          value="7", kind_id=None, comment=None, today=SOON_AFTER)  # fmt: skip
    for who in ("admin", "director"):
        rows = services.grade_history(session, classroom.account(who), classroom.school)
        assert [(r.change.action, r.old_label, r.new_label) for r in rows] == [
            ("update", "6", "7"),
            ("create", None, "10"),
            ("create", None, "6"),
        ]
        assert [r.changed_by for r in rows] == [
            "Aldona Administratorė", "Jonas Anglas", "Tomas Mokytojas",
        ]  # fmt: skip
        assert rows[0].student.id == classroom.students[0].id
        assert rows[0].subject.code == "MAT" and rows[1].group.id == classroom.english.id
    director = classroom.account("director")
    by_group = services.grade_history(session, director, classroom.school,
                                      group_id=classroom.english.id)  # fmt: skip
    assert [r.new_label for r in by_group] == ["10"]
    by_student = services.grade_history(session, director, classroom.school,
                                        student_id=classroom.students[0].id)  # fmt: skip
    assert len(by_student) == 2
    assert not services.grade_history(session, director, classroom.school, since=date(2099, 1, 1))


@pytest.mark.parametrize("who", ["teacher", "head", "guardian", "student"])
def test_history_is_not_for_teachers_or_families(classroom, who):
    give(classroom, "6")
    with pytest.raises(PermissionDenied):
        services.grade_history(classroom.session, classroom.account(who), classroom.school)


def test_history_page_menu_filters_and_query_count(classroom, client, count_queries, world):
    session = classroom.session
    grade = give(classroom, "6")
    session.commit()
    login(client, "director.a")
    home = client.get("/s/school-a/").get_data(as_text=True)
    assert "/s/school-a/grades/history" in home
    with count_queries() as one:
        page = client.get("/s/school-a/grades/history")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "Tomas Mokytojas" in text and "given: 6" in text and "5a matematika" in text

    bind_to_school(session, world.school_a)
    teacher = classroom.account("teacher")
    for value in ("7", "8", "9"):
        services.change_grade(
            session, teacher, classroom.school, grade,
            value=value, kind_id=None, comment=None, today=SOON_AFTER,
        )  # fmt: skip
    give(classroom, "10", group=classroom.english, who="other_teacher", student=2)
    session.commit()
    with count_queries() as five:
        page = client.get("/s/school-a/grades/history")
    assert len(one) == len(five), "\n".join(five)
    text = html.unescape(page.get_data(as_text=True))
    assert "8 → 9" in text and "Jonas Anglas" in text

    filtered = client.get(f"/s/school-a/grades/history?group={classroom.english.id}")
    text = html.unescape(filtered.get_data(as_text=True))
    assert "given: 10" in text and "8 → 9" not in text
    bad = client.get("/s/school-a/grades/history?since=yesterday")
    assert bad.status_code == 400
    assert "“yesterday” is not a date" in html.unescape(bad.get_data(as_text=True))


def test_history_page_refuses_teachers(classroom, client):
    classroom.session.commit()
    login(client, "teacher.a")
    assert "/grades/history" not in client.get("/s/school-a/").get_data(as_text=True)
    assert client.get("/s/school-a/grades/history").status_code == 403


# --- the endpoints that change one grade --------------------------------------------------------


@pytest.fixture
def open_term(classroom):
    """The first term set open, so the endpoints (which use the real date) may change it."""
    set_lock(classroom.session, classroom.terms[0], "open")


def test_teacher_changes_and_deletes_a_grade_through_the_endpoints(classroom, client, open_term,
                                                                   world):  # fmt: skip
    grade = give(classroom, "6")
    grade_id = grade.id
    classroom.session.commit()
    login(client, "teacher.a")
    response = post_form(client, f"/s/school-a/grades/{grade_id}",
                         {"value": "9", "comment": "Improved"}, form_page=HOME)  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {
        "id": grade_id, "value": "9", "label": "9", "kind_id": None, "comment": "Improved",
    }  # fmt: skip
    bad = post_form(client, f"/s/school-a/grades/{grade_id}", {"value": "abc"}, form_page=HOME)
    assert bad.status_code == 400
    assert bad.get_json() == {
        "error": "The grade must be a whole number from 1 to 10.", "field": "value",
    }  # fmt: skip
    bind_to_school(classroom.session, world.school_a)
    classroom.session.expire_all()
    assert classroom.session.get(Grade, grade_id).value == "9"
    assert count(classroom.session, GradeChange) == 2

    deleted = post_form(client, f"/s/school-a/grades/{grade_id}/delete", {}, form_page=HOME)
    assert deleted.get_json() == {"deleted": grade_id}
    bind_to_school(classroom.session, world.school_a)
    classroom.session.expire_all()
    assert classroom.session.get(Grade, grade_id) is None
    assert count(classroom.session, GradeChange) == 3
    assert len(events(classroom.session, "grade_changed")) == 2


def test_director_cannot_edit_through_the_endpoints(classroom, client, open_term, world):
    grade = give(classroom, "6")
    grade_id = grade.id
    classroom.session.commit()
    login(client, "director.a")
    response = post_form(client, f"/s/school-a/grades/{grade_id}", {"value": "9"}, form_page=HOME)
    assert response.status_code == 403
    response = post_form(client, f"/s/school-a/grades/{grade_id}/delete", {}, form_page=HOME)
    assert response.status_code == 403
    bind_to_school(classroom.session, world.school_a)
    classroom.session.expire_all()
    assert classroom.session.get(Grade, grade_id).value == "6"
    assert count(classroom.session, GradeChange) == 1


def test_locked_term_refused_through_the_endpoint(classroom, client, world):
    grade = give(classroom, "6")
    grade_id = grade.id
    set_lock(classroom.session, classroom.terms[0], "locked")
    classroom.session.commit()
    login(client, "teacher.a")
    response = post_form(client, f"/s/school-a/grades/{grade_id}", {"value": "9"}, form_page=HOME)
    assert response.status_code == 400
    assert "only the e-diary administrator" in response.get_json()["error"]
    bind_to_school(classroom.session, world.school_a)
    assert count(classroom.session, GradeChange) == 1


def test_another_schools_grade_is_not_found(client, in_school_b, world):
    """A grade of school B: school A's endpoints answer 404 for its id."""
    from school.calendar.models import SchoolYear, Term
    from school.classes.models import Group, GroupStudent
    from school.curriculum.models import GradeScale, Subject
    from school.people.models import Person, Student

    session = in_school_b
    year = session.scalar(select(SchoolYear))
    term = Term(year_id=year.id, kind="semester", number=1,
                starts_on=date(2026, 9, 1), ends_on=date(2027, 1, 31))  # fmt: skip
    scale = session.scalar(select(GradeScale).where(GradeScale.code == "ten_point"))
    subject = Subject(code="MAT", name="Математика", scale_id=scale.id, name_translations={})
    session.add_all([term, subject])
    session.flush()
    group = Group(year_id=year.id, subject_id=subject.id, name="5 математика", kind="mixed")
    person = Person(first_name="Иван", last_name="Петров", document_kind="other")
    session.add_all([group, person])
    session.flush()
    session.add(Student(person_id=person.id))
    session.flush()
    session.add(GroupStudent(group_id=group.id, student_id=person.id))
    session.flush()
    grade = Grade(student_id=person.id, group_id=group.id, on_day=MONDAY, term_id=term.id,
                  value="9", created_by=world.admin_a.id)  # fmt: skip
    session.add(grade)
    session.commit()
    login(client, "admin.a")
    response = post_form(client, f"/s/school-a/grades/{grade.id}", {"value": "2"}, form_page=HOME)
    assert response.status_code == 404
    response = post_form(client, f"/s/school-a/grades/{grade.id}/delete", {}, form_page=HOME)
    assert response.status_code == 404
    bind_to_school(session, world.school_b)
    session.expire_all()
    assert session.get(Grade, grade.id).value == "9"


# --- grades from another school (a hospital school) ---------------------------------------


def outside(classroom, value="9", *, who="head", student=0, on_day=MONDAY, today=SOON_AFTER,
            origin="Vaikų ligoninės mokykla", group=None, **kwargs) -> Grade:  # fmt: skip
    return services.add_outside_grade(
        classroom.session, classroom.account(who), classroom.school,
        class_id=classroom.c5a.id, student_id=classroom.students[student].id,
        group_id=(group or classroom.maths).id, on_day=on_day, value=value, origin=origin,
        today=today, **kwargs,
    )  # fmt: skip


def test_the_class_head_enters_a_grade_from_a_hospital_school(classroom):
    c = classroom
    grade = outside(c, "9", comment="Trupmenos")
    assert (grade.value, grade.origin, grade.lesson_id) == ("9", "Vaikų ligoninės mokykla", None)
    assert grade.created_by == c.account("head").id
    [change] = c.session.scalars(select(GradeChange)).all()
    assert (change.action, change.new_value) == ("create", "9")
    assert [e.payload["grade_id"] for e in events(c.session, "grade")] == [grade.id]
    rows = services.outside_grades(c.session, c.c5a)
    assert [(r.student.id, r.subject.id, r.label) for r in rows] == [
        (c.students[0].id, c.maths.subject_id, "9")
    ]
    # the class head (not the group's teacher) corrects it; the teacher cannot
    with pytest.raises(PermissionDenied):
        services.delete_grade(c.session, c.account("teacher"), c.school, grade, today=SOON_AFTER)
    services.delete_grade(c.session, c.account("head"), c.school, grade, today=SOON_AFTER)
    assert count(c.session, Grade) == 0


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"origin": "  "}, "origin", "Enter the school where the grade was given"),
        ({"origin": "x" * 201}, "origin", "at most 200 characters"),
        ({"value": "11"}, "value", "whole number from 1 to 10"),
        ({"on_day": date(2026, 9, 12)}, "on_day", "not a school day"),
        ({"on_day": date(2026, 9, 9), "today": date(2026, 9, 8)}, "on_day", "in advance"),
        ({"on_day": None}, "on_day", "Enter a date"),
    ],
)
def test_bad_grades_from_another_school_save_nothing(classroom, kwargs, field, text):
    with pytest.raises(ServiceError, match=text) as excinfo:
        outside(classroom, **kwargs)
    assert excinfo.value.field == field
    nothing_saved(classroom.session)


def test_only_the_class_head_and_the_administrator_enter_them(classroom):
    for who in ("teacher", "director", "guardian"):
        with pytest.raises(PermissionDenied):
            outside(classroom, who=who)
    nothing_saved(classroom.session)
    assert outside(classroom, who="admin").origin == "Vaikų ligoninės mokykla"


def test_a_student_not_in_the_group_or_a_locked_term_is_refused(classroom):
    c = classroom
    with pytest.raises(ServiceError):  # 6b's student is in none of 5a's groups
        services.add_outside_grade(
            c.session, c.account("admin"), c.school, class_id=c.c6b.id,
            student_id=c.outsider.id, group_id=c.maths.id, on_day=MONDAY,
            value="8", origin="Sanatorinė mokykla", today=SOON_AFTER,
        )  # fmt: skip
    nothing_saved(c.session)
    set_lock(c.session, c.terms[0], "locked")
    with pytest.raises((ServiceError, PermissionDenied)):
        outside(c)
    nothing_saved(c.session)
    # the administrator still may; the history says it came after the lock
    grade = outside(c, who="admin")
    change = c.session.scalar(select(GradeChange).where(GradeChange.grade_id == grade.id))
    assert change.after_lock


def test_the_diary_and_the_page_show_where_it_was_given(classroom, client, school_day):
    c = classroom
    school_day(SOON_AFTER)
    outside(c, "10")
    class_id, student_id, maths_id = c.c5a.id, c.students[1].id, c.maths.id
    c.session.commit()
    login(client, "guardian.both")
    diary = client.get(f"/s/school-a/diary?student={c.students[0].id}&week={MONDAY.isoformat()}")
    assert "Vaikų ligoninės mokykla" in html.unescape(diary.get_data(as_text=True))
    post_form(client, "/logout", {}, form_page=HOME)
    login(client, "head.a")
    page = client.get(f"/s/school-a/classes/{class_id}/outside-grades")
    assert page.status_code == 200 and "Vaikų ligoninės mokykla" in html.unescape(
        page.get_data(as_text=True)
    )
    form = {"student": student_id, "group": maths_id, "on_day": "2026-09-07", "value": "9"}
    bad = post_form(client, f"/s/school-a/classes/{class_id}/outside-grades", form | {"origin": ""})
    assert bad.status_code == 400
    assert "Enter the school where the grade was given" in bad.get_data(as_text=True)
    good = post_form(
        client, f"/s/school-a/classes/{class_id}/outside-grades", form | {"origin": "Sanatorija"}
    )
    assert good.status_code == 302 and f"student={student_id}" in good.headers["Location"]


def test_a_grade_from_another_school_needs_a_student_of_the_class_and_a_subject(classroom):
    c = classroom
    common = {"on_day": MONDAY, "value": "8", "origin": "Sanatorinė mokykla", "today": SOON_AFTER}
    for ids, field in (
        ({"student_id": None, "group_id": c.maths.id}, "student"),
        ({"student_id": c.outsider.id, "group_id": c.maths.id}, "student"),  # 6b's, not 5a's
        ({"student_id": c.students[0].id, "group_id": None}, "group"),
    ):
        with pytest.raises(ServiceError) as excinfo:
            services.add_outside_grade(
                c.session, c.account("head"), c.school, class_id=c.c5a.id, **ids, **common
            )
        assert excinfo.value.field == field
    nothing_saved(c.session)


def test_a_grade_from_another_school_is_found_only_through_its_class(classroom):
    c = classroom
    theirs, ours = outside(c, "9"), give(c, "7")
    assert services.outside_grade(c.session, c.c5a, theirs.id).label == "9"
    with pytest.raises(NotFound):  # a grade of the journal
        services.outside_grade(c.session, c.c5a, ours.id)
    with pytest.raises(NotFound):  # asked for through another class
        services.outside_grade(c.session, c.c6b, theirs.id)


def test_the_class_head_corrects_a_grade_from_another_school(classroom, client, school_day):
    c = classroom
    school_day(SOON_AFTER)
    grade = outside(c, "9")
    class_id, grade_id, journal_grade_id = c.c5a.id, grade.id, give(c, "7").id
    c.session.commit()
    page = f"/s/school-a/classes/{class_id}/outside-grades/{grade_id}"
    login(client, "teacher.a")  # teaches the group, is not the class head
    assert client.get(page).status_code == 403
    assert post_form(client, page, {"value": "5"}, form_page=HOME).status_code == 403
    post_form(client, "/logout", {}, form_page=HOME)

    login(client, "head.a")
    listing = client.get(f"/s/school-a/classes/{class_id}/outside-grades").get_data(as_text=True)
    assert f'href="{page}"' in listing
    form = client.get(page)
    assert form.status_code == 200 and "Vaikų ligoninės mokykla" in html.unescape(
        form.get_data(as_text=True)
    )
    bad = post_form(client, page, {"value": "11", "comment": "Trupmenos"})
    assert bad.status_code == 400
    assert "whole number from 1 to 10" in bad.get_data(as_text=True)
    journal = f"/s/school-a/classes/{class_id}/outside-grades/{journal_grade_id}"
    assert post_form(client, journal, {"value": "2"}, form_page=page).status_code == 404
    good = post_form(client, page, {"value": "6", "comment": "Trupmenos"})
    assert good.status_code == 302 and good.headers["Location"].endswith("/outside-grades")

    c.session.expire_all()
    bind_to_school(c.session, c.school)
    assert (c.session.get(Grade, grade_id).value, c.session.get(Grade, grade_id).comment) == (
        "6",
        "Trupmenos",
    )
    assert c.session.get(Grade, journal_grade_id).value == "7"
    [change] = c.session.scalars(
        select(GradeChange).where(GradeChange.grade_id == grade_id, GradeChange.action == "update")
    ).all()
    assert (change.old_value, change.new_value, change.new_comment) == ("9", "6", "Trupmenos")


def test_correcting_keeps_a_kind_no_longer_offered(classroom, client, school_day):
    c = classroom
    school_day(SOON_AFTER)
    oral = c.session.scalar(select(AssessmentKind).where(AssessmentKind.code == "oral"))
    grade = outside(c, "9", kind_id=oral.id)
    oral.is_active = False
    class_id, grade_id, oral_id = c.c5a.id, grade.id, oral.id
    c.session.commit()
    login(client, "head.a")
    page = f"/s/school-a/classes/{class_id}/outside-grades/{grade_id}"
    assert f'<option value="{oral_id}" selected>' in client.get(page).get_data(as_text=True)
    response = post_form(client, page, {"value": "8", "kind": str(oral_id), "comment": ""})
    assert response.status_code == 302
    c.session.expire_all()
    bind_to_school(c.session, c.school)
    assert (c.session.get(Grade, grade_id).value, c.session.get(Grade, grade_id).kind_id) == (
        "8",
        oral_id,
    )
