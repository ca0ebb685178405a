"""A ready school A for gradebook tests: class 5a with students, guardians and two groups
taught by different teachers, a timetable, two semesters and the autumn holidays.

Built inside the test's rolled-back transaction by the ``classroom`` fixture (conftest.py).
The accounts get a password hash computed once per session, so they can log in with
``TEST_PASSWORD`` without paying for Argon2 in every test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account, Role
from accounts.services import create_account, grant_role, hash_password
from school.calendar.models import BellSchedule, SchoolYear, Term
from school.calendar.services import add_holiday, add_schedule, fill_periods, set_terms
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.curriculum.models import GradeScale, Subject
from school.people.models import Guardianship, Person, Student
from school.timetable.models import TimetableEntry
from tenants.models import School

#: Monday of the first full school week of school A's year (2026-09-01 is a Tuesday).
MONDAY = date(2026, 9, 7)
FIRST_TERM = (date(2026, 9, 1), date(2027, 1, 31))
SECOND_TERM = (date(2027, 2, 1), date(2027, 6, 30))
AUTUMN_HOLIDAYS = (date(2026, 10, 26), date(2026, 10, 30))


@cache
def _test_password_hash() -> str:
    from conftest import TEST_PASSWORD

    return hash_password(TEST_PASSWORD)


@dataclass
class Classroom:
    """What the fixture builds (all flushed, bound to school A)."""

    session: Session
    school: School
    year: SchoolYear
    terms: list[Term]
    bells: BellSchedule
    c5a: SchoolClass
    c6b: SchoolClass
    maths: Group  # 5a, whole class, taught by ``teacher`` (world.teacher_a), ten-point scale
    english: Group  # 5a, whole class, taught by ``other_teacher``
    teacher: Person
    other_teacher: Person
    head: Person  # class head of 5a (also teaches nothing)
    director: Person
    students: list[Person]  # of 5a, in both groups, sorted by last name
    outsider: Person  # a student of 6b, in neither group
    guardian: Person  # world.guardian_both, guardian of students[0]
    accounts: dict[str, Account] = field(default_factory=dict)

    def account(self, key: str) -> Account:
        """'teacher', 'other_teacher', 'head', 'director', 'guardian', 'student' (students[0])."""
        return self.accounts[key]


def new_account(
    session: Session, school: School, login: str, name: str, *roles: Role, locale: str | None = "en"
) -> Account:
    """An account that can log in with ``TEST_PASSWORD`` at once, holding ``roles``."""
    account, _ = create_account(
        session, login=login, name=name, locale=locale, issue_password=False
    )
    account.password_hash = _test_password_hash()
    account.must_change_password = False
    for role in roles:
        grant_role(session, account, school, role)
    session.flush()
    return account


def _person(session: Session, first: str, last: str, account: Account | None = None) -> Person:
    person = Person(
        first_name=first,
        last_name=last,
        document_kind="other",
        account_id=account.id if account else None,
    )
    session.add(person)
    session.flush()
    return person


def _student(
    session: Session,
    first: str,
    last: str,
    school_class: SchoolClass,
    account: Account | None = None,
) -> Person:
    person = _person(session, first, last, account)
    session.add(Student(person_id=person.id, class_id=school_class.id))
    session.flush()
    return person


def build_classroom(session: Session, world, students: int = 5) -> Classroom:
    """School A set up for teaching (the session must be bound to school A)."""
    school = world.school_a
    account = session.merge  # world's accounts are detached; merge them into this session
    teacher_account = account(world.teacher_a)
    guardian_account = account(world.guardian_both)
    year = session.scalar(select(SchoolYear).where(SchoolYear.name == "2026–2027 A"))
    terms = set_terms(session, year, "semester", [FIRST_TERM, SECOND_TERM])
    add_holiday(
        session,
        year,
        name="Rudens atostogos",
        starts_on=AUTUMN_HOLIDAYS[0],
        ends_on=AUTUMN_HOLIDAYS[1],
    )
    bells = add_schedule(session, name="Pagrindinis", is_default=True)
    fill_periods(
        session,
        bells,
        first_starts_at=time(8, 0),
        lessons=7,
        lesson_minutes=45,
        break_minutes=10,
    )

    other_account = new_account(session, school, "teacher2.a", "Jonas Anglas", Role.TEACHER)
    head_account = new_account(
        session, school, "head.a", "Kristina Vadovė", Role.TEACHER, Role.CLASS_HEAD
    )
    director_account = new_account(session, school, "director.a", "Dalia Direktorė", Role.DIRECTOR)
    teacher = _person(session, "Tomas", "Mokytojas", teacher_account)
    other_teacher = _person(session, "Jonas", "Anglas", other_account)
    head = _person(session, "Kristina", "Vadovė", head_account)
    director = _person(session, "Dalia", "Direktorė", director_account)

    c5a = SchoolClass(year_id=year.id, grade_level=5, letter="a", head_id=head.id)
    c6b = SchoolClass(year_id=year.id, grade_level=6, letter="b")
    session.add_all([c5a, c6b])
    session.flush()

    student_account = new_account(
        session, school, "student.a", "Agnė Ambrazaitė", Role.STUDENT, locale="lt"
    )
    names = [
        ("Agnė", "Ambrazaitė"),
        ("Benas", "Butkus"),
        ("Cezaris", "Čepas"),
        ("Dovilė", "Dambrauskaitė"),
        ("Eglė", "Eitmantė"),
        ("Fausta", "Fedaraitė"),
        ("Gytis", "Gudas"),
        ("Herkus", "Husas"),
    ]
    people = []
    for index in range(students):
        first, last = names[index % len(names)]
        if index >= len(names):
            last = f"{last}{index}"
        people.append(_student(session, first, last, c5a, student_account if index == 0 else None))
    outsider = _student(session, "Ignas", "Išorinis", c6b)
    guardian = _person(session, "Irena", "Globėja", guardian_account)
    session.add(Guardianship(guardian_id=guardian.id, student_id=people[0].id, relation="mother"))

    scale = session.scalar(select(GradeScale).where(GradeScale.code == "ten_point"))
    maths_subject = Subject(
        code="MAT",
        name="Matematika",
        scale_id=scale.id,
        name_translations={"en": "Mathematics", "ru": "Математика"},
    )
    english_subject = Subject(
        code="ANG", name="Anglų kalba", scale_id=scale.id, name_translations={"en": "English"}
    )
    session.add_all([maths_subject, english_subject])
    session.flush()
    maths = Group(
        year_id=year.id,
        subject_id=maths_subject.id,
        name="5a matematika",
        kind="class",
        class_id=c5a.id,
    )
    english = Group(
        year_id=year.id,
        subject_id=english_subject.id,
        name="5a anglų",
        kind="class",
        class_id=c5a.id,
    )
    session.add_all([maths, english])
    session.flush()
    session.add_all(
        [
            GroupTeacher(group_id=maths.id, teacher_id=teacher.id),
            GroupTeacher(group_id=english.id, teacher_id=other_teacher.id),
        ]
    )
    for group in (maths, english):
        session.add_all(GroupStudent(group_id=group.id, student_id=p.id) for p in people)
    # Maths: Monday 1st, Wednesday 2nd, Friday 3rd lesson; English: Tuesday 1st, Thursday 2nd.
    for group, weekday, lesson_no in (
        (maths, 1, 1),
        (maths, 3, 2),
        (maths, 5, 3),
        (english, 2, 1),
        (english, 4, 2),
    ):
        session.add(
            TimetableEntry(
                group_id=group.id, weekday=weekday, lesson_no=lesson_no, valid_from=year.starts_on
            )
        )
    session.flush()
    return Classroom(
        session=session,
        school=school,
        year=year,
        terms=terms,
        bells=bells,
        c5a=c5a,
        c6b=c6b,
        maths=maths,
        english=english,
        teacher=teacher,
        other_teacher=other_teacher,
        head=head,
        director=director,
        students=people,
        outsider=outsider,
        guardian=guardian,
        accounts={
            "teacher": teacher_account,
            "other_teacher": other_account,
            "head": head_account,
            "director": director_account,
            "guardian": guardian_account,
            "student": student_account,
            "admin": account(world.admin_a),
        },
    )
