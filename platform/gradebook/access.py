"""Who may read and write which part of the gradebook.

- A group's teachers (``group_teachers``) write its lessons, attendance, grades, tests and
  remarks; a substitute writes only the lessons they hold (``lessons.teacher_id``).
- The administrator may write everywhere (and alone may change grades of a locked term).
- The director, the administrator and the class heads read; the class head of a class reads
  every group its students are in and excuses their absences. The social pedagogue reads every
  class's overview, statistics and attendance (``CLASS_READERS``).
- A student reads their own diary; a guardian the diaries of their children in this school.

Every check raises ``PermissionDenied`` with a localised message; views turn it into a 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, ScalarSelect, select
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import Role
from accounts.services import roles_in_school
from dienynas.errors import PermissionDenied
from gradebook.lessons.models import Lesson
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.people.models import Guardianship, Person, Student
from school.permissions import person_of
from tenants.models import School

#: Roles that read every group of the school.
SCHOOL_READERS = frozenset({Role.ADMIN, Role.DIRECTOR})
#: Roles that read every class's overview, month's statistics and attendance: the school
#: readers and the social pedagogue, who follows the students' attendance and behaviour
#: (seed 001, 19.1). Writing stays with the class head and the administrator.
CLASS_READERS = SCHOOL_READERS | {Role.SOCIAL_PEDAGOGUE}


def teaches_group(session: Session, person: Person | None, group: Group) -> bool:
    if person is None:
        return False
    return (
        session.scalar(
            select(GroupTeacher.teacher_id).where(
                GroupTeacher.group_id == group.id, GroupTeacher.teacher_id == person.id
            )
        )
        is not None
    )


def require_group_writer(
    session: Session, account: Principal, school: School, group: Group
) -> None:
    """A teacher of the group, or the administrator."""
    if Role.ADMIN in roles_in_school(account, school):
        return
    if not teaches_group(session, person_of(session, account), group):
        raise PermissionDenied(_("Only the group's teachers may write in this group's journal."))


def heads_class_of_group(session: Session, person: Person | None, group: Group) -> bool:
    """The person heads a class with students in the group."""
    if person is None:
        return False
    return (
        session.scalar(
            select(SchoolClass.id)
            .join(Student, Student.class_id == SchoolClass.id)
            .join(GroupStudent, GroupStudent.student_id == Student.person_id)
            .where(GroupStudent.group_id == group.id, SchoolClass.head_id == person.id)
            .limit(1)
        )
        is not None
    )


def require_group_reader(
    session: Session, account: Principal, school: School, group: Group
) -> None:
    """The group's teachers, the class heads of its students, the administrator, the director."""
    if roles_in_school(account, school) & SCHOOL_READERS:
        return
    person = person_of(session, account)
    if teaches_group(session, person, group) or heads_class_of_group(session, person, group):
        return
    raise PermissionDenied(_("You do not have access to this group's journal."))


def require_class_head(
    session: Session, account: Principal, school: School, school_class: SchoolClass
) -> None:
    """The class's head, or the administrator."""
    if Role.ADMIN in roles_in_school(account, school):
        return
    person = person_of(session, account)
    if person is None or school_class.head_id != person.id:
        raise PermissionDenied(_("Only the class head and the e-diary administrator may do this."))


def require_head_of_student(
    session: Session, account: Principal, school: School, student: Student
) -> None:
    """The head of the student's class, or the administrator."""
    school_class = session.get(SchoolClass, student.class_id) if student.class_id else None
    if school_class is None:
        if Role.ADMIN not in roles_in_school(account, school):
            raise PermissionDenied(_("Only the e-diary administrator may do this."))
        return
    require_class_head(session, account, school, school_class)


def diary_student_ids(session: Session, account: Principal) -> list[int]:
    """The students whose diary the account reads in this school: itself if it is a student,
    and the children it is the guardian of (active students only)."""
    person = person_of(session, account)
    if person is None:
        return []
    own = select(Student.person_id).where(
        Student.person_id == person.id, Student.status == "active"
    )
    children = (
        select(Student.person_id)
        .join(Guardianship, Guardianship.student_id == Student.person_id)
        .where(Guardianship.guardian_id == person.id, Student.status == "active")
    )
    return sorted(set(session.scalars(own.union(children))))


def require_diary_reader(
    session: Session, account: Principal, school: School, student_id: int
) -> None:
    """The student, their guardian, or staff who read the school's records of the student."""
    if roles_in_school(account, school) & SCHOOL_READERS:
        return
    if student_id in diary_student_ids(session, account):
        return
    person = person_of(session, account)
    student = session.get(Student, student_id)
    if person is not None and student is not None and student.class_id is not None:
        school_class = session.get(SchoolClass, student.class_id)
        if school_class is not None and school_class.head_id == person.id:
            return
    raise PermissionDenied(_("You do not have access to this student's diary."))


def require_lesson_writer(session: Session, account: Principal, school: School, lesson) -> None:
    """Who may write a lesson's topic, attendance and grades: the group's teachers, the
    substitute who holds this lesson (``lesson.teacher_id``), or the administrator."""
    if Role.ADMIN in roles_in_school(account, school):
        return
    person = person_of(session, account)
    if person is not None and lesson.teacher_id == person.id:
        return
    if not teaches_group(session, person, lesson.group):
        raise PermissionDenied(_("Only the group's teachers may write in this group's journal."))


def own_person_id(account: Principal) -> ScalarSelect[int]:
    """SQL: the id of the account's person in the bound school (NULL when it has none)."""
    return select(Person.id).where(Person.account_id == account.id).scalar_subquery()


def group_rights_columns(account: Principal) -> tuple[ColumnElement[bool], ...]:
    """SQL for "the account's person teaches the group", "heads a class with students in the
    group" and "holds a lesson of the group" (a substitute), correlated to ``Group.id``: a
    page loads a group and the account's rights to it in one query.
    :func:`require_group_rights` applies the rules of :func:`require_group_reader`,
    :func:`require_group_writer` and :func:`require_lesson_writer` to the answers."""
    own_person = own_person_id(account)
    teaches = (
        select(GroupTeacher.teacher_id)
        .where(GroupTeacher.group_id == Group.id, GroupTeacher.teacher_id == own_person)
        .exists()
    )
    heads = (
        select(SchoolClass.id)
        .join(Student, Student.class_id == SchoolClass.id)
        .join(GroupStudent, GroupStudent.student_id == Student.person_id)
        .where(GroupStudent.group_id == Group.id, SchoolClass.head_id == own_person)
        .exists()
    )
    holds = (
        select(Lesson.id)
        .where(Lesson.group_id == Group.id, Lesson.teacher_id == own_person)
        .exists()
    )
    return teaches.label("teaches"), heads.label("heads_class"), holds.label("holds_lessons")


@dataclass(frozen=True)
class GroupRights:
    """What the account may do in a group's journal: ``writes`` every lesson and grade of the
    group; ``reads`` the whole group (the director, a class head); neither for a substitute,
    who sees the journal to write the lessons they hold (``require_lesson_writer``)."""

    writes: bool
    reads: bool


def require_group_rights(
    account: Principal, school: School, *, teaches: bool, heads_class: bool, holds_lessons: bool
) -> GroupRights:
    """Refuse one who neither reads the group (as :func:`require_group_reader`) nor holds one
    of its lessons, from the answers of :func:`group_rights_columns`."""
    roles = roles_in_school(account, school)
    writes = Role.ADMIN in roles or teaches
    reads = writes or bool(roles & SCHOOL_READERS) or heads_class
    if not (reads or holds_lessons):
        raise PermissionDenied(_("You do not have access to this group's journal."))
    return GroupRights(writes=writes, reads=reads)
