"""The teacher's journal: the group × month grid (who reads it, what it shows, its query
budget), saving a cell through the JSON endpoint, and the list of groups."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from classroom import _student
from conftest import csrf_token, login, marked_invalid, post_form
from dienynas.errors import PermissionDenied, ServiceError
from dienynas.i18n import in_locale
from gradebook.access import (
    group_rights_columns,
    require_group_reader,
    require_group_rights,
    require_group_writer,
)
from gradebook.attendance.models import Attendance, Excuse
from gradebook.attendance.services import mark_attendance
from gradebook.grades.models import Grade, GradeChange
from gradebook.grades.services import add_grade
from gradebook.journal import services
from gradebook.lessons.models import Lesson
from gradebook.lessons.services import assign_substitute, ensure_lessons
from gradebook.planning.models import PlannedTest
from school.classes.models import Group, GroupStudent
from school.curriculum.models import AssessmentKind, GradeScale
from tenants.services import bind_to_school

MONDAY = date(2026, 9, 7)
#: "Today" for direct service calls: after the September lessons, before the term's lock.
TODAY = date(2026, 9, 30)


@pytest.fixture(autouse=True)
def pages_today(school_day):
    """The pages' today (``dienynas.clock.today``) is ``TODAY``: saving refuses future lessons
    and a locked term, so the tests must not depend on the real date."""
    school_day(TODAY)


SEPTEMBER = "2026-09"


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def maths_lessons(classroom, start=MONDAY, end=MONDAY + timedelta(days=4)) -> list[Lesson]:
    """The timetable's maths lessons from ``start`` to ``end`` (Mon 1st, Wed 2nd, Fri 3rd)."""
    ensure_lessons(classroom.session, start, end, group_ids=[classroom.maths.id])
    return list(
        classroom.session.scalars(
            select(Lesson)
            .where(Lesson.group_id == classroom.maths.id, Lesson.on_day.between(start, end))
            .order_by(Lesson.on_day, Lesson.lesson_no)
        )
    )


def grid_path(classroom, group=None, month: str | None = SEPTEMBER) -> str:
    group = group or classroom.maths
    return f"/s/school-a/journal/{group.id}" + (f"?month={month}" if month else "")


def client_of(app, classroom, who: str):
    classroom.session.commit()
    client = app.test_client()
    login(client, classroom.account(who).login)
    bind_to_school(classroom.session, classroom.school)
    return client


def post_cell(
    client, classroom, lesson: Lesson, student_id: int, value: str, group=None, typed_over=False
):
    """POST a cell like the grid's script: JSON with the page's CSRF token in X-CSRFToken
    (``typed_over``: the editor was opened by a keystroke)."""
    group = group or classroom.maths
    path = f"/s/school-a/journal/{group.id}/cells"
    body = {"lesson_id": lesson.id, "student_id": student_id, "value": value,
            "keep_mark": typed_over}  # fmt: skip
    token = csrf_token(client, grid_path(classroom))
    response = client.post(
        path,
        json=body,
        headers={"X-CSRFToken": token},
    )
    bind_to_school(classroom.session, classroom.school)
    return response


def page_text(response) -> str:
    return response.get_data(as_text=True)


def grade_spans(html: str, value: str) -> list[str]:
    """The grades ``value`` shown in ``html``."""
    return re.findall(rf'<span class="j-grade"[^>]*>{value}</span>', html)


def grade_id(classroom, student) -> int:
    return classroom.session.scalar(select(Grade.id).where(Grade.student_id == student.id))


# --- reading ----------------------------------------------------------------------------------


def test_grid_shows_students_lessons_grades_and_attendance(classroom, app):
    session = classroom.session
    teacher = classroom.account("teacher")
    monday, wednesday, friday = maths_lessons(classroom)
    first, second = classroom.students[0], classroom.students[1]
    add_grade(
        session, teacher, classroom.school, group=classroom.maths, student_id=first.id,
        value="9", lesson=monday, today=TODAY,
    )  # fmt: skip
    add_grade(
        session, teacher, classroom.school, group=classroom.maths, student_id=first.id,
        value="6", on_day=date(2026, 9, 15), today=TODAY,
    )  # fmt: skip
    mark_attendance(session, teacher, classroom.school, wednesday, second.id, "absent", today=TODAY)
    mark_attendance(session, teacher, classroom.school, friday, second.id, "late", today=TODAY)
    excuse = Excuse(
        student_id=second.id, from_day=friday.on_day, to_day=friday.on_day, reason="illness",
        source="class_head", status="approved", school_days=1, submitted_by=teacher.id,
    )  # fmt: skip
    session.add(excuse)
    session.flush()
    session.get(Attendance, (wednesday.id, second.id)).excuse_id = excuse.id
    monday.topic = "Fractions"
    session.add(
        PlannedTest(
            group_id=classroom.maths.id, on_day=friday.on_day, topic="Fractions test",
            announced_by=teacher.id,
        )
    )  # fmt: skip

    response = client_of(app, classroom, "teacher").get(grid_path(classroom))
    assert response.status_code == 200
    page = page_text(response)
    # Students in name order, one row each.
    names = re.findall(r'<th scope="row" class="j-student">([^<]+)</th>', page)
    assert names == [f"{p.last_name} {p.first_name}" for p in classroom.students]
    # September's maths lessons (Mon, Wed, Fri; 1 September is a Tuesday), linked, topic shown.
    bind_to_school(session, classroom.school)
    september = session.scalars(
        select(Lesson.id)
        .where(Lesson.group_id == classroom.maths.id, Lesson.on_day.between(MONDAY, TODAY))
        .order_by(Lesson.on_day)
    ).all()
    assert len(september) == 11
    assert page.count('class="j-lesson') == 13  # and Wednesday 2, Friday 4 September
    assert f'href="/s/school-a/lessons/{monday.id}"' in page
    assert 'title="Fractions"' in page
    assert 'title="Fractions · Fractions test"' not in page
    assert "Fractions test" in page  # the planned test, in the header and the list above
    # The cells: a grade, an excused absence, lateness; the per-date grade; the average.
    rows = page.split('<th scope="row" class="j-student">')[1:]
    assert len(grade_spans(rows[0], "9")) == 1
    assert 'title="15 Sept 2026"' in rows[0] or 'title="Sep 15, 2026"' in rows[0]
    assert ">7.50</td>" in rows[0]
    assert 'class="jcell j-absent j-excused"' in rows[1]
    assert 'title="Absent (excused)">a</abbr>' in rows[1]
    assert 'class="jcell j-late"' in rows[1]
    assert 'title="Late">l</abbr>' in rows[1]
    # The teacher may write: cells are labelled buttons, the script is there.
    name = f"{first.last_name} {first.first_name}"
    assert f'aria-label="Student: {name}. Sep 7, 2026, lesson 1: 9"' in page
    assert "journal/static/journal.js" in page
    assert f"/groups/{classroom.maths.id}/term-grades" in page


def test_grid_month_defaults_and_is_clipped_to_the_school_year(classroom, app):
    client = client_of(app, classroom, "teacher")
    before = client.get(grid_path(classroom, month="2025-12"))
    assert before.status_code == 200
    assert "September 2026" in page_text(before)
    assert 'rel="prev"' not in page_text(before)
    after = client.get(grid_path(classroom, month="2030-01"))
    assert "August 2027" in page_text(after)
    assert 'rel="next"' not in page_text(after)
    assert client.get(grid_path(classroom, month=None)).status_code == 200

    bad = client.get(grid_path(classroom, month="september"))
    assert bad.status_code == 400
    assert "“september” is not a month; use the form YYYY-MM." in page_text(bad)


@pytest.mark.parametrize("who", ["other_teacher", "guardian", "student"])
def test_grid_is_refused_to_those_who_do_not_read_the_group(classroom, app, who):
    response = client_of(app, classroom, who).get(grid_path(classroom))
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["director", "head", "admin"])
def test_director_and_class_head_read_the_grid(classroom, app, who):
    maths_lessons(classroom)
    page = page_text(client_of(app, classroom, who).get(grid_path(classroom)))
    assert "Journal: 5a matematika" in page
    if who == "admin":
        assert "data-save-url" in page and '<button type="button" class="jcell' in page
    else:
        assert "data-save-url" not in page
        assert 'class="jcell"' in page and '<button type="button" class="jcell' not in page
        assert "journal.js" not in page


def test_unknown_group_is_not_found(classroom, app):
    client = client_of(app, classroom, "teacher")
    assert client.get("/s/school-a/journal/987654").status_code == 404


def test_group_rights_columns_agree_with_the_access_rules(classroom):
    """The one-query rights of the grid say what require_group_reader/writer say."""
    session = classroom.session
    for group in (classroom.maths, classroom.english):
        for key in ("teacher", "other_teacher", "head", "director", "admin", "guardian", "student"):
            account = classroom.account(key)
            row = session.execute(
                select(*group_rights_columns(account)).where(Group.id == group.id)
            ).one()
            try:
                rights = require_group_rights(
                    account, classroom.school, teaches=row[0], heads_class=row[1],
                    holds_lessons=row[2],
                )  # fmt: skip
                reads, may_write = rights.reads, rights.writes
            except PermissionDenied:
                reads, may_write = False, False
            try:
                require_group_reader(session, account, classroom.school, group)
                expected_read = True
            except PermissionDenied:
                expected_read = False
            try:
                require_group_writer(session, account, classroom.school, group)
                expected_write = True
            except PermissionDenied:
                expected_write = False
            assert (reads, may_write) == (expected_read, expected_write), (group.name, key)


# --- the query budget ---------------------------------------------------------------------------


def add_students(classroom, how_many: int) -> None:
    for index in range(how_many):
        person = _student(classroom.session, "Extra", f"Mokinys{index:02d}", classroom.c5a)
        classroom.session.add(GroupStudent(group_id=classroom.maths.id, student_id=person.id))
    classroom.session.flush()


def fill(classroom, lessons: list[Lesson]) -> None:
    """A grade and an absence in every lesson for every other student, plus day grades."""
    session = classroom.session
    students = session.scalars(
        select(GroupStudent.student_id).where(GroupStudent.group_id == classroom.maths.id)
    ).all()
    for index, lesson in enumerate(lessons):
        for position, student_id in enumerate(students):
            if (index + position) % 2:
                session.add(
                    Grade(
                        student_id=student_id, group_id=classroom.maths.id, lesson_id=lesson.id,
                        on_day=lesson.on_day, term_id=lesson.term_id, value="8", created_by=1,
                    )
                )  # fmt: skip
            else:
                session.add(
                    Attendance(
                        lesson_id=lesson.id, student_id=student_id, mark="absent", marked_by=1
                    )
                )
        session.add(
            Grade(
                student_id=students[index % len(students)], group_id=classroom.maths.id,
                on_day=lesson.on_day, term_id=lesson.term_id, value="7", created_by=1,
            )
        )  # fmt: skip
    session.flush()


def grid_queries(app, classroom, count_queries, month: str, who="teacher") -> tuple[int, str]:
    client = client_of(app, classroom, who)
    client.get(grid_path(classroom, month=month))  # warm up: lessons generated, caches filled
    with count_queries() as queries:
        response = client.get(grid_path(classroom, month=month))
    assert response.status_code == 200
    bind_to_school(classroom.session, classroom.school)
    return len(queries), page_text(response)


def test_grid_runs_a_constant_number_of_queries(classroom, app, count_queries):
    # Five students and the first week of lessons (the year starts on Tuesday 1 September).
    fill(classroom, maths_lessons(classroom, date(2026, 9, 1), date(2026, 9, 6)))
    small, page = grid_queries(app, classroom, count_queries, SEPTEMBER)
    assert page.count('class="j-lesson') == 13  # the page generates the rest of the month
    # Thirty students and a whole month of lessons, grades and attendance.
    add_students(classroom, 25)
    fill(classroom, maths_lessons(classroom, date(2026, 10, 1), date(2026, 10, 31)))
    large, page = grid_queries(app, classroom, count_queries, "2026-10")
    assert page.count('<th scope="row"') == 30
    assert page.count('class="j-lesson') == 10  # October without the autumn holidays
    assert len(grade_spans(page, "8")) > 100
    assert small == large
    # the school with its binding and the account, the group, ensure_lessons, the lessons with
    # their grades and attendance, the students, and the diary revision's check at the commit
    assert large == 6, large
    # The same for those who read without writing.
    for who in ("director", "head"):
        assert grid_queries(app, classroom, count_queries, "2026-10", who)[0] == large, who


# --- saving cells -------------------------------------------------------------------------------


def test_teacher_saves_a_grade_and_gets_the_cell(classroom, app):
    monday = maths_lessons(classroom)[0]
    student = classroom.students[0]
    client = client_of(app, classroom, "teacher")
    response = post_cell(client, classroom, monday, student.id, "9")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert len(grade_spans(body["html"], "9")) == 1
    assert f'data-url="/s/school-a/grades/{grade_id(classroom, student)}"' in body["html"]
    assert f'data-lesson="{monday.id}"' in body["html"]
    assert body["value"] == "9"
    assert body["average"] == "9.00"
    grade = classroom.session.scalar(select(Grade).where(Grade.student_id == student.id))
    assert (grade.lesson_id, grade.value, grade.on_day) == (monday.id, "9", monday.on_day)
    assert count(classroom.session, GradeChange, GradeChange.grade_id == grade.id) == 1
    # The reloaded grid shows it.
    assert len(grade_spans(page_text(client.get(grid_path(classroom))), "9")) == 1


def test_cell_holds_attendance_and_several_grades(classroom, app):
    monday = maths_lessons(classroom)[0]
    student = classroom.students[1]
    session = classroom.session
    client = client_of(app, classroom, "teacher")

    assert post_cell(client, classroom, monday, student.id, "l 9 10").status_code == 200
    assert session.get(Attendance, (monday.id, student.id)).mark == "late"
    grades = session.scalars(
        select(Grade).where(Grade.student_id == student.id).order_by(Grade.id)
    ).all()
    assert [g.value for g in grades] == ["9", "10"]
    first_id = grades[0].id

    response = post_cell(client, classroom, monday, student.id, "A 8")
    assert response.get_json()["value"] == "a 8"
    session.expire_all()
    assert session.get(Attendance, (monday.id, student.id)).mark == "absent"
    grades = session.scalars(select(Grade).where(Grade.student_id == student.id)).all()
    assert [(g.id, g.value) for g in grades] == [(first_id, "8")]  # changed, the second deleted
    actions = session.scalars(
        select(GradeChange.action).where(GradeChange.student_id == student.id)
        .order_by(GradeChange.id)
    ).all()  # fmt: skip
    assert actions == ["create", "create", "update", "delete"]

    response = post_cell(client, classroom, monday, student.id, "")
    assert response.status_code == 200
    assert response.get_json()["value"] == ""
    session.expire_all()
    assert session.get(Attendance, (monday.id, student.id)) is None
    assert count(session, Grade, Grade.student_id == student.id) == 0


def test_a_grade_typed_over_a_marked_cell_keeps_the_mark(classroom, app):
    """Typing a grade over an absent or late student's cell (the editor opened by a
    keystroke) adds the grade and keeps the mark, an excused absence stays excused; editing
    the whole cell (Enter, F2, a click) still clears the mark when it is left out."""
    monday = maths_lessons(classroom)[0]
    student = classroom.students[1]
    session = classroom.session
    client = client_of(app, classroom, "teacher")
    assert post_cell(client, classroom, monday, student.id, "a").status_code == 200
    excuse = Excuse(
        student_id=student.id, from_day=monday.on_day, to_day=monday.on_day, reason="illness",
        source="class_head", status="approved", school_days=1,
        submitted_by=classroom.account("head").id,
    )  # fmt: skip
    session.add(excuse)
    session.flush()
    session.get(Attendance, (monday.id, student.id)).excuse_id = excuse.id
    session.commit()

    response = post_cell(client, classroom, monday, student.id, "8", typed_over=True)
    assert response.get_json()["value"] == "a 8"
    session.expire_all()
    mark = session.get(Attendance, (monday.id, student.id))
    assert (mark.mark, mark.excuse_id) == ("absent", excuse.id)
    # another code typed over the cell replaces the mark
    assert (
        post_cell(client, classroom, monday, student.id, "l 8", typed_over=True).get_json()["value"]
        == "l 8"
    )
    # the whole cell edited: what is typed is the cell
    assert post_cell(client, classroom, monday, student.id, "8").get_json()["value"] == "8"
    session.expire_all()
    assert session.get(Attendance, (monday.id, student.id)) is None


def test_bad_grade_is_refused_with_a_message_and_nothing_saved(classroom, app):
    monday = maths_lessons(classroom)[0]
    student = classroom.students[0]
    client = client_of(app, classroom, "teacher")
    for value in ("11", "9 11", "l 0", "a l"):
        response = post_cell(client, classroom, monday, student.id, value)
        assert response.status_code == 400, value
        assert response.get_json()["error"] in (
            "The grade must be a whole number from 1 to 10.",
            "A lesson has at most one attendance mark.",
        )
        assert count(classroom.session, Grade) == 0
        assert count(classroom.session, GradeChange) == 0
        assert count(classroom.session, Attendance) == 0


def test_cell_error_is_in_the_teachers_language(classroom, app):
    monday = maths_lessons(classroom)[0]
    classroom.account("teacher").locale = "lt"
    client = client_of(app, classroom, "teacher")
    response = post_cell(client, classroom, monday, classroom.students[0].id, "11")
    assert response.status_code == 400
    assert response.get_json()["error"] == ("Pažymys turi būti sveikasis skaičius nuo 1 iki 10.")
    assert count(classroom.session, Grade) == 0


def test_refusals_of_the_cell_endpoint(classroom, app):
    session = classroom.session
    monday = maths_lessons(classroom)[0]
    ensure_lessons(session, MONDAY, MONDAY + timedelta(days=4), group_ids=[classroom.english.id])
    english_lesson = session.scalar(select(Lesson).where(Lesson.group_id == classroom.english.id))
    student = classroom.students[0]

    teacher = client_of(app, classroom, "teacher")
    # Another teacher's group.
    response = post_cell(teacher, classroom, english_lesson, student.id, "9", classroom.english)
    assert response.status_code == 403
    assert response.get_json()["error"] == (
        "Only the group's teachers may write in this group's journal."
    )
    # A student outside the group.
    response = post_cell(teacher, classroom, monday, classroom.outsider.id, "9")
    assert response.status_code == 400
    assert response.get_json()["error"] == "The student is not in this group."
    # A lesson of another group posted to this group's journal.
    assert post_cell(teacher, classroom, english_lesson, student.id, "9").status_code == 404
    # No JSON body.
    token = csrf_token(teacher, grid_path(classroom))
    response = teacher.post(
        f"/s/school-a/journal/{classroom.maths.id}/cells",
        data="9", headers={"X-CSRFToken": token, "Content-Type": "text/plain"},
    )  # fmt: skip
    assert response.status_code == 400
    # Without the CSRF header.
    response = teacher.post(
        f"/s/school-a/journal/{classroom.maths.id}/cells",
        json={"lesson_id": monday.id, "student_id": student.id, "value": "9"},
    )
    assert response.status_code == 400
    # The director reads but does not write.
    director = client_of(app, classroom, "director")
    response = post_cell(director, classroom, monday, student.id, "9")
    assert response.status_code == 403
    bind_to_school(session, classroom.school)
    assert count(session, Grade) == 0
    assert count(session, Attendance) == 0


def test_parse_cell(classroom):
    scale = classroom.maths.subject.scale
    assert services.parse_cell(" 9  10 ", scale) == (None, ["9", "10"])
    assert services.parse_cell("l 9,10", scale) == ("late", ["9", "10"])
    assert services.parse_cell("E", scale) == ("left_early", [])
    assert services.parse_cell("", scale) == (None, [])
    with pytest.raises(ServiceError, match="at most one attendance mark"):
        services.parse_cell("a e", scale)
    with pytest.raises(ServiceError) as refused:
        services.parse_cell("n 9", scale)
    assert refused.value.message == (
        "“n” is neither a grade nor an attendance code: a (Absent), l (Late), and e (Left early)."
    )
    with in_locale("lt"):
        codes = services.attendance_codes()
        assert services.parse_cell(f"{codes['absent']} 7", scale) == ("absent", ["7"])
    # pass/fail grades are separated by spaces too, as the grid's hint says
    pass_fail = GradeScale(code="pass_fail", kind="pass_fail")
    assert services.parse_cell("l įsk neįsk", pass_fail) == ("late", ["įsk", "neįsk"])
    # Russian codes (н, о, у) typed on a Latin keyboard layout: the letters that look alike
    with in_locale("ru"):
        assert services.attendance_codes()["late"] == "о"
        assert services.parse_cell("o 7", scale) == ("late", ["7"])  # a Latin o
        assert services.parse_cell("Y", scale) == ("left_early", [])  # a Latin Y
        assert services.parse_cell("H", scale) == ("absent", [])  # a Latin H


# --- substitutes -------------------------------------------------------------------------------


def substitute_on_monday(classroom) -> tuple[Lesson, Lesson]:
    """The admin gives Monday's maths lesson to other_teacher (who teaches English, not maths);
    returns (Monday's lesson, Wednesday's, still the maths teacher's)."""
    monday, wednesday = maths_lessons(classroom)[:2]
    assign_substitute(
        classroom.session, classroom.account("admin"), classroom.school, monday,
        teacher_id=str(classroom.other_teacher.id),
    )  # fmt: skip
    return monday, wednesday


def test_a_substitute_writes_the_lessons_they_hold_from_the_grid(classroom, app):
    monday, wednesday = substitute_on_monday(classroom)
    student = classroom.students[0]
    client = client_of(app, classroom, "other_teacher")
    page = page_text(client.get(grid_path(classroom)))
    assert "You are substituting in this group" in page
    assert re.search(rf'<button type="button" class="jcell"[^>]*data-lesson="{monday.id}"', page)
    assert f'data-lesson="{wednesday.id}"' not in page  # Wednesday's cells are not buttons
    assert page.count('<button type="button" class="jcell') == len(classroom.students)
    assert "data-save-url" in page and "journal.js" in page
    assert "A grade on a date" not in page and "Term grades" not in page
    # The lesson held: a grade and an absence are saved from the grid.
    response = post_cell(client, classroom, monday, student.id, "a 9")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["value"] == "a 9"
    grade = classroom.session.scalar(select(Grade).where(Grade.student_id == student.id))
    assert (grade.lesson_id, grade.value) == (monday.id, "9")
    assert grade.created_by == classroom.account("other_teacher").id
    # Another lesson of the group, and a grade on a date: refused, nothing saved.
    response = post_cell(client, classroom, wednesday, student.id, "8")
    assert response.status_code == 403
    assert response.get_json()["error"] == (
        "Only the group's teachers may write in this group's journal."
    )
    fields = {"student": str(student.id), "on_day": "2026-09-15", "value": "7"}
    assert post_day_grade(client, classroom, **fields).status_code == 403
    assert count(classroom.session, Grade) == 1
    # The group is in the substitute's list of journals.
    listed = page_text(client.get("/s/school-a/journal"))
    assert f'href="/s/school-a/journal/{classroom.maths.id}"' in listed


def test_a_substitutes_grid_runs_the_same_queries_and_the_teachers_is_unchanged(
    classroom, app, count_queries
):
    substitute_on_monday(classroom)
    teacher, teacher_page = grid_queries(app, classroom, count_queries, SEPTEMBER)
    substitute, _page = grid_queries(app, classroom, count_queries, SEPTEMBER, "other_teacher")
    assert substitute == teacher == 6
    # the group's own teacher still writes every lesson, the substituted one included
    assert "You are substituting" not in teacher_page
    assert teacher_page.count('<button type="button" class="jcell') == 13 * len(classroom.students)


def test_a_teacher_who_gave_the_lesson_back_no_longer_opens_the_grid(classroom, app):
    monday, _wednesday = substitute_on_monday(classroom)
    assign_substitute(
        classroom.session, classroom.account("admin"), classroom.school, monday, teacher_id=""
    )
    client = client_of(app, classroom, "other_teacher")
    assert client.get(grid_path(classroom)).status_code == 403
    assert post_cell(client, classroom, monday, classroom.students[0].id, "9").status_code == 403


# --- the list of groups -------------------------------------------------------------------------


def test_journal_lists_the_groups_of_the_account(classroom, app):
    teacher = page_text(client_of(app, classroom, "teacher").get("/s/school-a/journal"))
    assert f'href="/s/school-a/journal/{classroom.maths.id}"' in teacher
    assert f'href="/s/school-a/journal/{classroom.english.id}"' not in teacher
    head = page_text(client_of(app, classroom, "head").get("/s/school-a/journal"))
    director = page_text(client_of(app, classroom, "director").get("/s/school-a/journal"))
    for page in (head, director):
        assert "Class 5a" in page
        assert f'href="/s/school-a/journal/{classroom.maths.id}"' in page
        assert f'href="/s/school-a/journal/{classroom.english.id}"' in page
    assert client_of(app, classroom, "guardian").get("/s/school-a/journal").status_code == 403
    home = page_text(client_of(app, classroom, "teacher").get("/s/school-a/"))
    assert 'href="/s/school-a/journal"' in home


# --- grades on a date ---------------------------------------------------------------------------


def post_day_grade(client, classroom, **fields):
    path = grid_path(classroom)
    response = post_form(
        client,
        f"/s/school-a/journal/{classroom.maths.id}/day-grades?month={SEPTEMBER}",
        fields,
        form_page=path,
    )
    bind_to_school(classroom.session, classroom.school)
    return response


def test_teacher_adds_a_grade_on_a_date(classroom, app):
    session = classroom.session
    student = classroom.students[2]
    kind_id = session.scalar(select(AssessmentKind.id).where(AssessmentKind.is_active).limit(1))
    client = client_of(app, classroom, "teacher")
    fields = {"student": str(student.id), "on_day": "2026-09-15", "value": "7"}
    response = post_day_grade(client, classroom, **fields, kind=str(kind_id), comment="Project")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/journal/{classroom.maths.id}?month=2026-09")
    grade = session.scalar(select(Grade).where(Grade.student_id == student.id))
    assert (grade.lesson_id, grade.on_day, grade.value) == (None, date(2026, 9, 15), "7")
    assert (grade.kind_id, grade.comment) == (kind_id, "Project")
    page = page_text(client.get(grid_path(classroom)))
    row = page.split('<th scope="row" class="j-student">')[3]
    # the teacher's grid links the grade to its page (where it is changed or deleted)
    href = f"/s/school-a/journal/{classroom.maths.id}/day-grades/{grade.id}"
    link = f'<a class="j-grade" href="{href}"'
    assert f'<td class="j-days">{link} title="Sep 15, 2026: ' in row
    assert ': Project">7</a>' in row


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"on_day": "2026-10-27", "value": "7"}, "on_day", "Oct 27, 2026 is a holiday: "),
        ({"on_day": "2026-09-15", "value": "0"}, "value", "The grade must be a whole number"),
        ({"on_day": "15.09.2026", "value": "7"}, "on_day", "“15.09.2026” is not a date"),
        ({"on_day": "", "value": "7"}, "on_day", "Enter a date."),
        ({"on_day": "2026-09-15", "value": "7", "kind": "999999"}, "kind", "Choose one of the"),
        ({"on_day": "2026-09-15", "value": "7", "comment": "x" * 501}, "comment", "The comment"),
    ],
)
def test_bad_grade_on_a_date_is_refused(classroom, app, fields, field, message):
    student = classroom.students[0]
    client = client_of(app, classroom, "teacher")
    response = post_day_grade(client, classroom, student=str(student.id), **fields)
    assert response.status_code == 400
    page = page_text(response)
    assert f'id="{field}-error" role="alert">{message}' in page
    assert marked_invalid(page, field, field)  # a screen reader tells it on the field
    assert not marked_invalid(page, "value" if field != "value" else "on_day", field)
    assert f'value="{fields["value"]}"' in page  # what was typed is kept
    assert count(classroom.session, Grade) == 0
    assert count(classroom.session, GradeChange) == 0


def test_grade_on_a_date_is_refused_to_readers_and_outsiders(classroom, app):
    fields = {"on_day": "2026-09-15", "value": "7"}
    director = client_of(app, classroom, "director")
    student = classroom.students[0]
    response = post_day_grade(director, classroom, student=str(student.id), **fields)
    assert response.status_code == 403
    teacher = client_of(app, classroom, "teacher")
    response = post_day_grade(teacher, classroom, student=str(classroom.outsider.id), **fields)
    assert response.status_code == 400
    assert "The student is not in this group." in page_text(response)
    response = post_day_grade(teacher, classroom, student="", **fields)
    assert 'id="student-error" role="alert">Choose the student.' in page_text(response)
    assert count(classroom.session, Grade) == 0


def add_day_grade(classroom, student, value: str = "7", group=None) -> Grade:
    grade = Grade(
        student_id=student.id, group_id=(group or classroom.maths).id, on_day=date(2026, 9, 15),
        term_id=classroom.terms[0].id, value=value, comment="Project",
        created_by=classroom.account("teacher").id,
    )  # fmt: skip
    classroom.session.add(grade)
    classroom.session.flush()
    return grade


def day_grade_path(classroom, grade: Grade, group=None) -> str:
    return f"/s/school-a/journal/{(group or classroom.maths).id}/day-grades/{grade.id}"


def test_teacher_changes_a_grade_on_a_date_and_it_is_in_the_history(classroom, app):
    session = classroom.session
    grade = add_day_grade(classroom, classroom.students[1])
    client = client_of(app, classroom, "teacher")
    page = page_text(client.get(day_grade_path(classroom, grade)))
    assert 'name="value" value="7"' in page and 'value="Project"' in page
    response = post_form(
        client, day_grade_path(classroom, grade), {"value": "9", "kind": "", "comment": "Redone"}
    )
    bind_to_school(session, classroom.school)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/journal/{classroom.maths.id}?month=2026-09")
    session.refresh(grade)
    assert (grade.value, grade.comment) == ("9", "Redone")
    change = session.scalar(select(GradeChange).where(GradeChange.grade_id == grade.id))
    assert (change.action, change.old_value, change.new_value) == ("update", "7", "9")
    assert "The grade is saved." in page_text(client.get(grid_path(classroom)))


def test_bad_change_of_a_grade_on_a_date_is_refused_and_nothing_saved(classroom, app):
    session = classroom.session
    grade = add_day_grade(classroom, classroom.students[1])
    client = client_of(app, classroom, "teacher")
    response = post_form(client, day_grade_path(classroom, grade), {"value": "11", "comment": ""})
    bind_to_school(session, classroom.school)
    assert response.status_code == 400
    page = page_text(response)
    assert 'id="value-error" role="alert">The grade must be a whole number' in page
    assert 'name="value" value="11"' in page  # what was typed is kept
    session.refresh(grade)
    assert (grade.value, grade.comment) == ("7", "Project")
    assert count(session, GradeChange) == 0


def test_teacher_deletes_a_grade_on_a_date(classroom, app):
    session = classroom.session
    grade = add_day_grade(classroom, classroom.students[1])
    grade_id = grade.id
    client = client_of(app, classroom, "teacher")
    response = post_form(
        client, day_grade_path(classroom, grade) + "/delete", {},
        form_page=day_grade_path(classroom, grade),
    )  # fmt: skip
    bind_to_school(session, classroom.school)
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Grade, grade_id) is None
    change = session.scalar(select(GradeChange).where(GradeChange.grade_id == grade_id))
    assert (change.action, change.old_value) == ("delete", "7")
    page = page_text(client.get(grid_path(classroom)))
    assert "The grade is deleted." in page


def test_grade_on_a_date_page_is_only_for_its_groups_writers(classroom, app):
    session = classroom.session
    grade = add_day_grade(classroom, classroom.students[1])
    lesson = maths_lessons(classroom, date(2026, 9, 7), date(2026, 9, 7))[0]
    in_lesson = Grade(
        student_id=classroom.students[1].id, group_id=classroom.maths.id, on_day=lesson.on_day,
        term_id=classroom.terms[0].id, value="5", lesson_id=lesson.id,
        created_by=classroom.account("teacher").id,
    )  # fmt: skip
    session.add(in_lesson)
    session.flush()
    director = client_of(app, classroom, "director")
    assert director.get(day_grade_path(classroom, grade)).status_code == 403
    # the director reads the grid: the grade is shown, not linked
    row = page_text(director.get(grid_path(classroom))).split('<th scope="row" class="j-student">')
    assert any('<span class="j-grade"' in r and ': Project">7</span>' in r for r in row)
    other = client_of(app, classroom, "other_teacher")
    assert other.get(day_grade_path(classroom, grade)).status_code == 403
    teacher = client_of(app, classroom, "teacher")
    # a lesson's grade is changed in its cell; another group's address finds nothing
    assert teacher.get(day_grade_path(classroom, in_lesson)).status_code == 404
    assert teacher.get(day_grade_path(classroom, grade, classroom.english)).status_code == 404
    response = post_form(
        other, day_grade_path(classroom, grade) + "/delete", {},
        form_page=grid_path(classroom, classroom.english),
    )  # fmt: skip
    assert response.status_code == 403
    bind_to_school(session, classroom.school)
    assert session.get(Grade, grade.id) is not None


def test_a_student_who_arrives_later_is_in_the_classs_journals_at_once(app, classroom):
    """The administrator enrols a new student in 5a after its groups exist: they join the
    class's whole-class groups (maths, English), so the teachers can mark and grade them at
    once; a part group of the class (a language half) is for its teacher to choose."""
    from school.people.services import PersonDetails, add_student

    c = classroom
    half = Group(year_id=c.year.id, subject_id=c.english.subject_id, name="5a anglų 1 gr.",
                 kind="part", class_id=c.c5a.id)  # fmt: skip
    c.session.add(half)
    c.session.flush()
    details = PersonDetails(first_name="Naujokas", last_name="Atvykėlis", document_kind="other",
                            birth_date=date(2015, 2, 1), document_number="X-1")  # fmt: skip
    student = add_student(c.session, c.account("admin"), c.school, details, c.c5a.id, TODAY)
    joined = set(
        c.session.scalars(
            select(GroupStudent.group_id).where(GroupStudent.student_id == student.person_id)
        )
    )
    assert joined == {c.maths.id, c.english.id}
    client = client_of(app, classroom, "teacher")
    assert "Atvykėlis Naujokas" in client.get(grid_path(classroom)).get_data(as_text=True)


def test_two_students_of_one_name_are_told_apart(classroom, app):
    """Two Agnė Ambrazaitė in the group: the grid, the lesson's attendance sheet and the term
    grades name each with their birth date (“no.” and the id without one); the others as before."""
    first = classroom.students[0]
    first.birth_date = date(2015, 3, 4)
    twin = _student(classroom.session, first.first_name, first.last_name, classroom.c5a, None)
    classroom.session.add(GroupStudent(group_id=classroom.maths.id, student_id=twin.id))
    monday = maths_lessons(classroom)[0]
    client = client_of(app, classroom, "teacher")
    for path in (
        grid_path(classroom),
        f"/s/school-a/lessons/{monday.id}/attendance",
        f"/s/school-a/groups/{classroom.maths.id}/term-grades",
    ):
        page = page_text(client.get(path))
        assert "Ambrazaitė Agnė (4 Mar 2015)" in page, path
        assert f"Ambrazaitė Agnė (no. {twin.id})" in page, path
        assert f"{classroom.students[1].last_name} {classroom.students[1].first_name} (" not in page
