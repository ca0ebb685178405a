"""A student's grades follow them into the group where they now learn the subject
(gradebook/grades/following.py): moved to another class, or from one half of a class to the
other, the year's grades and term grades are in the new group's journal, not lost."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from gradebook.grades.models import Grade, TermGrade
from gradebook.journal.services import load_grid
from gradebook.lessons.models import Lesson
from school.classes import services as classes
from school.classes.models import Group
from school.people import services as people
from school.people.models import Student
from school.people.services import PersonDetails

TODAY = date(2026, 10, 5)


def _grades(c, student_id: int) -> list[tuple[int, int | None, str]]:
    return sorted(
        c.session.execute(
            select(Grade.group_id, Grade.lesson_id, Grade.value).where(
                Grade.student_id == student_id
            )
        ).all()
    )


def test_a_student_moved_to_another_class_takes_the_years_grades_along(classroom):
    c = classroom
    person = c.students[0]
    lesson = Lesson(group_id=c.maths.id, on_day=date(2026, 9, 7), lesson_no=1,
                    term_id=c.terms[0].id, teacher_id=c.teacher.id)  # fmt: skip
    c.session.add(lesson)
    c.session.flush()
    author = c.account("teacher").id
    c.session.add_all([
        Grade(student_id=person.id, group_id=c.maths.id, lesson_id=lesson.id, on_day=lesson.on_day,
              term_id=c.terms[0].id, value="9", created_by=author),
        Grade(student_id=person.id, group_id=c.maths.id, on_day=date(2026, 9, 14),
              term_id=c.terms[0].id, value="7", created_by=author),
        Grade(student_id=person.id, group_id=c.english.id, on_day=date(2026, 9, 15),
              term_id=c.terms[0].id, value="10", created_by=author),
        TermGrade(student_id=person.id, group_id=c.maths.id, year_id=c.year.id,
                  term_id=c.terms[0].id, suggested="8", value="8"),
    ])  # fmt: skip
    # 6b learns maths in a whole-class group, and no English yet
    maths_6b = classes.create_group(
        c.session, c.school, year=c.year, name="6b matematika",
        subject_id=c.maths.subject_id, kind="class", class_id=c.c6b.id, teacher_ids=[c.teacher.id],
    )  # fmt: skip
    student = c.session.get(Student, person.id)
    details = PersonDetails.of(person)
    details.document_kind, details.document_number = "other", "LT0000001"
    details.birth_date = date(2015, 3, 4)
    people.update_student(
        c.session, c.account("admin"), c.school, student, details, c.c6b.id, TODAY
    )
    assert _grades(c, person.id) == sorted([
        (maths_6b.id, None, "9"), (maths_6b.id, None, "7"), (c.english.id, None, "10"),
    ])  # fmt: skip
    term_grade = c.session.scalars(select(TermGrade).where(TermGrade.student_id == person.id)).one()
    assert (term_grade.group_id, term_grade.value) == (maths_6b.id, "8")
    # the new group's journal lists the student with both grades
    grid = load_grid(
        c.session, c.account("admin"), c.school, maths_6b.id, "2026-09", today=TODAY, locale="en"
    )
    (row,) = [r for r in grid.rows if r.student.id == person.id]
    assert sorted(g.label for g in row.day_grades) == ["7", "9"]


def test_a_student_moved_to_the_other_half_takes_the_grades_along(classroom):
    """English in two halves of 5a: moved from one half to the other, the grades follow;
    a term grade the new half holds already for the term is kept, the old one stays."""
    c = classroom
    person = c.students[1]
    half_b = Group(year_id=c.year.id, subject_id=c.english.subject_id, name="5a anglų 2",
                   kind="part", class_id=c.c5a.id)  # fmt: skip
    c.session.add(half_b)
    c.session.flush()
    author = c.account("other_teacher").id
    c.session.add_all([
        Grade(student_id=person.id, group_id=c.english.id, on_day=date(2026, 9, 15),
              term_id=c.terms[0].id, value="6", created_by=author),
        TermGrade(student_id=person.id, group_id=c.english.id, year_id=c.year.id,
                  term_id=c.terms[0].id, value="6"),
        TermGrade(student_id=person.id, group_id=half_b.id, year_id=c.year.id,
                  term_id=c.terms[0].id, value="7"),
    ])  # fmt: skip
    c.session.flush()
    classes.remove_student(c.session, c.english, person.id)
    assert classes.add_students(c.session, half_b, [person.id]) == 1
    assert _grades(c, person.id) == [(half_b.id, None, "6")]
    term_grades = c.session.execute(
        select(TermGrade.group_id, TermGrade.value).where(TermGrade.student_id == person.id)
    ).all()
    assert sorted(term_grades) == sorted([(c.english.id, "6"), (half_b.id, "7")])
