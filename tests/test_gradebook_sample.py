"""The sample-data generator (gradebook.sample): counts, determinism and valid data."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from dienynas import clock
from gradebook.attendance.models import Attendance, Excuse
from gradebook.grades.models import Grade
from gradebook.lessons.models import Homework, Lesson
from gradebook.planning.models import PlannedTest
from gradebook.remarks.models import Remark
from gradebook.sample import fill_month
from school.classes.models import GroupStudent
from school.curriculum.models import AssessmentKind

#: Three weeks around the autumn holidays (26–30 October 2026).
START, DAYS = date(2026, 10, 19), 21
TABLES = {
    "lessons": Lesson,
    "homework": Homework,
    "grades": Grade,
    "attendance": Attendance,
    "excuses": Excuse,
    "remarks": Remark,
    "planned_tests": PlannedTest,
}


def _content(session) -> dict[str, list]:
    """The generated rows without their ids (ids differ between runs)."""
    lessons = {
        lid: (gid, day, no)
        for lid, gid, day, no in session.execute(
            select(Lesson.id, Lesson.group_id, Lesson.on_day, Lesson.lesson_no)
        )
    }
    return {
        "lessons": sorted(
            session.execute(select(Lesson.group_id, Lesson.on_day, Lesson.topic)).all()
        ),
        "grades": sorted(
            (lessons[r.lesson_id], r.student_id, r.value, r.kind_id)
            for r in session.execute(
                select(Grade.lesson_id, Grade.student_id, Grade.value, Grade.kind_id)
            )
        ),
        "attendance": sorted(
            (lessons[r.lesson_id], r.student_id, r.mark, r.excuse_id is not None)
            for r in session.execute(
                select(
                    Attendance.lesson_id,
                    Attendance.student_id,
                    Attendance.mark,
                    Attendance.excuse_id,
                )
            )
        ),
    }


def _counts(session) -> dict[str, int]:
    return {name: session.scalar(select(func.count()).select_from(m)) for name, m in TABLES.items()}


@pytest.fixture
def bigger(classroom):
    """Class 5a with more students, so every kind of row shows up."""
    from classroom import _student

    for n in range(20):
        person = _student(classroom.session, "Papildomas", f"Mokinys{n:02d}", classroom.c5a)
        for group in (classroom.maths, classroom.english):
            classroom.session.add(GroupStudent(group_id=group.id, student_id=person.id))
    classroom.session.flush()
    return classroom


def test_counts_are_returned_and_deterministic(bigger):
    session = bigger.session
    first = session.begin_nested()
    counts = fill_month(session, start=START, days=DAYS, rng=random.Random(7))
    assert counts == _counts(session)
    content = _content(session)
    first.rollback()
    assert _counts(session)["lessons"] == 0
    again = fill_month(session, start=START, days=DAYS, rng=random.Random(7))
    assert again == counts
    assert _content(session) == content
    # every kind of row is there
    assert all(counts[name] > 0 for name in TABLES), counts


def test_lessons_follow_the_timetable_on_school_days_only(bigger):
    session = bigger.session
    fill_month(session, start=START, days=DAYS, rng=random.Random(1))
    days = Counter(session.scalars(select(Lesson.on_day)))
    # maths Mon/Wed/Fri + English Tue/Thu in the weeks of 19 October and 2 November; the
    # autumn holidays (26–30 October) and the weekends have none
    assert sum(days.values()) == 10
    assert all(day.weekday() < 5 for day in days)
    assert not [d for d in days if date(2026, 10, 26) <= d <= date(2026, 10, 30)]
    assert {d.isoweekday() for d, _n in session.execute(
        select(Lesson.on_day, Lesson.group_id).where(Lesson.group_id == bigger.maths.id)
    )} == {1, 3, 5}  # fmt: skip


def test_the_data_is_valid(bigger):
    session = bigger.session
    counts = fill_month(session, start=START, days=DAYS, rng=random.Random(3))
    values = [int(v) for v in session.scalars(select(Grade.value))]
    assert values and all(1 <= v <= 10 for v in values)
    student_lessons = counts["lessons"] * 25
    # about one grade per student per three lessons
    assert 0.2 < counts["grades"] / student_lessons < 0.45, counts
    kinds = dict(session.execute(select(AssessmentKind.id, AssessmentKind.code)).all())
    assert {kinds[k] for k in session.scalars(select(Grade.kind_id))} <= {
        "classwork", "oral", "homework", "quiz", "project", "test",
    }  # fmt: skip
    members = set(session.execute(select(GroupStudent.group_id, GroupStudent.student_id)).all())
    graded = session.execute(
        select(Lesson.group_id, Grade.student_id, Grade.group_id, Lesson.on_day, Grade.on_day)
        .join(Lesson, Lesson.id == Grade.lesson_id)
    ).all()  # fmt: skip
    assert all((g, s) in members and g == gg and d == gd for g, s, gg, d, gd in graded)
    # nobody is graded in a lesson they missed
    assert not session.scalar(
        select(func.count())
        .select_from(Grade)
        .join(Attendance, (Attendance.lesson_id == Grade.lesson_id)
              & (Attendance.student_id == Grade.student_id))
        .where(Attendance.mark == "absent")
    )  # fmt: skip
    # an excused absence lies inside its excuse's days and belongs to the same student
    for day, student, excuse in session.execute(
        select(Lesson.on_day, Attendance.student_id, Excuse)
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .join(Excuse, Excuse.id == Attendance.excuse_id)
    ):  # fmt: skip
        assert excuse.student_id == student and excuse.from_day <= day <= excuse.to_day
        assert excuse.status == "approved" and excuse.source == "class_head"
    # past tests are graded for the whole group present, future ones only announced
    for test in session.scalars(select(PlannedTest)):
        assert test.on_day.weekday() < 5
        if test.on_day <= date(2026, 11, 8):
            test_grades = session.scalar(
                select(func.count()).select_from(Grade).join(Lesson, Lesson.id == Grade.lesson_id)
                .where(Lesson.group_id == test.group_id, Lesson.on_day == test.on_day,
                       Grade.kind_id == test.kind_id)
            )  # fmt: skip
            assert test_grades >= 20
    # homework is due on the group's next lesson
    for lesson, due in session.execute(
        select(Lesson, Homework.due_on).join(Homework, Homework.lesson_id == Lesson.id)
    ):
        assert due is None or due > lesson.on_day


def test_the_demo_has_a_month_of_gradebook_data_up_to_today(app, db_session):
    from dienynas.demo import GRADEBOOK_DAYS, seed_demo
    from tenants.models import School
    from tenants.services import bind_to_school

    seed_demo(school_count=1, students_per_school=6)
    school = db_session.scalar(select(School).where(School.slug == "berzu-progimnazija"))
    bind_to_school(db_session, school)
    first, last = db_session.execute(select(func.min(Lesson.on_day), func.max(Lesson.on_day))).one()
    assert last <= clock.today() and (last - first).days < GRADEBOOK_DAYS
    counts = _counts(db_session)
    assert counts["lessons"] > 20 and counts["grades"] > counts["lessons"] // 2, counts
    # the logins the demo prints see data: the first student of the first class has grades
    assert db_session.scalar(select(func.count(func.distinct(Grade.student_id)))) == 6
