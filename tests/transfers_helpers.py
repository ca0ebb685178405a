"""Shared set-up of the transfer tests (test_transfers_pages.py, test_transfers_extract.py):
school A's class with a student who leaves, school B with a director and a class."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import insert, select, update

from accounts.models import Account, Role
from classroom import new_account
from gradebook.grades.models import Grade
from school.calendar.models import SchoolYear
from school.classes.models import SchoolClass
from school.people.models import Person, Student
from tenants.services import bind_to_school
from transfers import services

TODAY = date(2026, 9, 15)
PERSONAL_CODE = "61503040123"


@dataclass
class Transfer:
    """Ids only: the test session's identity map is per class and key, and school A and B
    both have a person 1, so objects are not carried from one school's binding to the other."""

    classroom: object
    student_id: int  # students[0] of 5a: own account, guardian.both as guardian
    admin_a_id: int
    director_b_id: int
    class_b_id: int
    c5a_id: int
    world: object

    @property
    def session(self):
        return self.classroom.session


def build_transfer(classroom, world) -> Transfer:
    """School A's class 5a (tests/classroom.py) with a grade for students[0], who has a personal
    code and a birth date; school B has a director (English) and class 5b of this year."""
    session = classroom.session
    student = classroom.students[0]
    student.birth_date = date(2015, 3, 4)
    student.document_kind, student.personal_code = "personal_code", PERSONAL_CODE
    session.execute(update(Student).values(enrolled_on=date(2026, 9, 1)))
    session.add(
        Grade(
            student_id=student.id, group_id=classroom.maths.id, on_day=date(2026, 9, 9),
            term_id=classroom.terms[0].id, value="9", created_by=classroom.account("teacher").id,
        )
    )  # fmt: skip
    session.flush()
    ids = {"student_id": student.id, "c5a_id": classroom.c5a.id}
    admin_a_id = classroom.account("admin").id
    session.expunge_all()
    bind_to_school(session, world.school_b)
    director_b = new_account(session, world.school_b, "director.b", "Boris Direktor", Role.DIRECTOR)
    session.execute(
        insert(Person).values(first_name="Boris", last_name="Direktor", document_kind="other",
                              account_id=director_b.id)
    )  # fmt: skip
    year_id = session.scalar(select(SchoolYear.id))
    class_b_id = session.scalar(
        insert(SchoolClass).values(year_id=year_id, grade_level=5, letter="b")
        .returning(SchoolClass.id)
    )  # fmt: skip
    session.commit()
    return Transfer(
        classroom, admin_a_id=admin_a_id, director_b_id=director_b.id, class_b_id=class_b_id,
        world=world, **ids,
    )  # fmt: skip


def leave(t: Transfer, *, to_school: bool = True, student_id: int | None = None) -> int:
    """students[0] (or ``student_id``) leaves school A for school B (as the administrator),
    committed."""
    session = t.session
    session.expunge_all()
    bind_to_school(session, t.world.school_a)
    admin = session.get(Account, t.admin_a_id)
    entry = services.leave_student(
        session, admin, t.world.school_a,
        student_id=student_id or t.student_id, left_on=TODAY, reason="Moved house",
        destination_kind="municipality", to_school_id=t.world.school_b.id if to_school else None,
        today=TODAY,
    )  # fmt: skip
    entry.entered_at = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)  # the frozen day, not the clock's
    pool_id = entry.id
    session.commit()
    return pool_id


def claim(t: Transfer, pool_id: int) -> services.ClaimSummary:
    session = t.session
    session.expunge_all()
    bind_to_school(session, t.world.school_b)
    summary = services.claim_student(
        session, session.get(Account, t.director_b_id), t.world.school_b, pool_id=pool_id,
        class_id=t.class_b_id,
        today=TODAY,
    )  # fmt: skip
    session.commit()
    return summary
