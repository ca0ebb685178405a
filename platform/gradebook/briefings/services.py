"""Safety instructions: recording them, the class's list, deleting, the sign-off sheet's data.

Who records: the e-diary administrator and the class's head, for the whole class or any group
of the class; a teacher, for a group of the class they teach (naming the group). Who reads the
class's list and prints its sheets: those, and the director. Who deletes: the account that
recorded the instruction, and the administrator.

A group "of the class" is one of the class's school year that is the class's (whole or part)
or a mixed group with a student of the class: a teacher of a group of several classes records
the instruction in each class, and each class's sheet lists its own students of the group.

The day lies in the current school year and is not in the future; the topic is one line (the
instruction itself is the school's document); the one who gave it is a member of staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import Account, Role
from accounts.services import roles_in_school, staff_accounts
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.i18n import format_day
from gradebook.access import own_person_id
from gradebook.briefings.models import TOPIC_MAX, Briefing
from school.calendar.services import current_year
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.classes.services import get_class
from school.people.models import Person, Student
from school.people.names import person_order
from school.people.services import managed_class_ids
from tenants.models import School


def get_briefing(session: Session, school_class: SchoolClass, briefing_id: int | None) -> Briefing:
    """The class's briefing (NotFound also for another class's: the address names both)."""
    briefing = session.get(Briefing, briefing_id) if briefing_id else None
    if briefing is None or briefing.class_id != school_class.id:
        raise NotFound(_("There is no such safety instruction."))
    return briefing


# --- who may do what --------------------------------------------------------------------------


def _group_of_class(class_id: ColumnElement[int] | int) -> ColumnElement[bool]:
    """SQL: ``Group`` is a group of the class (see the module docstring), correlated to
    ``Group.id`` (the year is the caller's condition)."""
    with_student = (
        select(GroupStudent.group_id)
        .join(Student, Student.person_id == GroupStudent.student_id)
        .where(GroupStudent.group_id == Group.id, Student.class_id == class_id)
        .correlate_except(GroupStudent, Student)  # ``Group`` and a class two levels up
        .exists()
    )
    return or_(Group.class_id == class_id, with_student)


@dataclass(frozen=True)
class ClassGroup:
    group: Group
    #: the account's person teaches the group
    teaches: bool


def class_groups(
    session: Session, account: Principal, school_class: SchoolClass
) -> list[ClassGroup]:
    """The groups of the class, by name, each with whether the account teaches it (one
    query)."""
    teaches = (
        select(GroupTeacher.teacher_id)
        .where(GroupTeacher.group_id == Group.id, GroupTeacher.teacher_id == own_person_id(account))
        .exists()
    )
    rows = session.execute(
        select(Group, teaches)
        .where(Group.year_id == school_class.year_id, _group_of_class(school_class.id))
        .order_by(func.lower(Group.name), Group.id)
    )
    return [ClassGroup(group, bool(teaching)) for group, teaching in rows]


@dataclass(frozen=True)
class BriefingRights:
    """What the account may do with a class's safety instructions."""

    #: the administrator or the class's head: records for the class or any of its groups
    manages: bool
    #: the groups of the class the account teaches (records for those)
    teaches: frozenset[int]
    #: reads the list and prints the sheets
    reads: bool

    @property
    def records(self) -> bool:
        return self.manages or bool(self.teaches)


def rights(
    session: Session,
    account: Principal,
    school: School,
    school_class: SchoolClass,
    groups: list[ClassGroup],
) -> BriefingRights:
    """The account's rights for the class; ``groups`` are :func:`class_groups`' answer."""
    managed = managed_class_ids(session, account, school)
    manages = managed is None or school_class.id in managed
    teaches = frozenset(row.group.id for row in groups if row.teaches)
    reads = manages or bool(teaches) or Role.DIRECTOR in roles_in_school(account, school)
    return BriefingRights(manages=manages, teaches=teaches, reads=reads)


def _refuse_reader() -> PermissionDenied:
    return PermissionDenied(
        _("Only the class head, the teachers of the class's groups, the director and the "
          "e-diary administrator see the class's safety instructions.")
    )  # fmt: skip


def may_delete(account: Principal, school: School, briefing: Briefing) -> bool:
    return briefing.recorded_by == account.id or Role.ADMIN in roles_in_school(account, school)


# --- recording --------------------------------------------------------------------------------


def _clean_topic(topic: str | None) -> str:
    topic = " ".join((topic or "").split())  # one line on the sheet
    if not topic:
        raise ServiceError(_("Write the instruction's topic."), field="topic")
    if len(topic) > TOPIC_MAX:
        raise ServiceError(
            ngettext(
                "The topic may be at most %(num)d character long.",
                "The topic may be at most %(num)d characters long.",
                TOPIC_MAX,
            ),
            field="topic",
        )
    return topic


def _check_day(session: Session, school_class: SchoolClass, on_day: date, today: date) -> None:
    shown = format_day(on_day)
    if on_day > today:
        raise ServiceError(_("%(day)s is in the future.", day=shown), field="on_day")
    year = current_year(session, today)
    if year is None:
        raise ServiceError(_("The school year has not been set up yet."), field="on_day")
    if not year.starts_on <= on_day <= year.ends_on:
        raise ServiceError(
            _("%(day)s is outside the current school year (%(start)s – %(end)s).", day=shown,
              start=format_day(year.starts_on), end=format_day(year.ends_on)),
            field="on_day",
        )  # fmt: skip
    if school_class.year_id != year.id:
        raise ServiceError(_("Choose a class of this school year."), field="class_id")


def staff_people(session: Session, school: School) -> list[Person]:
    """The people of the school whose account holds a staff role here, by name (who may have
    given an instruction)."""
    return list(
        session.scalars(
            select(Person)
            .where(Person.account_id.in_(staff_accounts(school.id)))
            .order_by(*person_order())
        )
    )


def _staff_person(session: Session, school: School, person_id: int | None) -> Person:
    person = (
        session.scalar(
            select(Person).where(
                Person.id == person_id, Person.account_id.in_(staff_accounts(school.id))
            )
        )
        if person_id
        else None
    )
    if person is None:
        raise ServiceError(
            _("Choose who gave the instruction: a member of the school's staff."),
            field="given_by",
        )
    return person


def record_briefing(
    session: Session,
    account: Principal,
    school: School,
    *,
    class_id: int,
    group_id: int | None,
    on_day: date,
    topic: str,
    given_by: int | None,
    today: date,
) -> Briefing:
    """Record a safety instruction given to the class or (``group_id``) to a group of it.
    PermissionDenied for one who may not (module docstring); ServiceError naming the field
    for bad input; nothing is saved then."""
    school_class = get_class(session, class_id)
    groups = class_groups(session, account, school_class)
    access = rights(session, account, school, school_class, groups)
    if not access.records:
        raise PermissionDenied(
            _("Only the class head, the e-diary administrator and the teachers of the class's "
              "groups record the class's safety instructions.")
        )  # fmt: skip
    group = None
    if group_id is not None:
        group = next((row.group for row in groups if row.group.id == group_id), None)
        if group is None:
            raise ServiceError(
                _("Choose a group of class %(name)s.", name=school_class.name), field="group_id"
            )
        if not access.manages and group.id not in access.teaches:
            raise PermissionDenied(
                _("Only the group's teachers, the class head and the e-diary administrator "
                  "record safety instructions for the group.")
            )  # fmt: skip
    elif not access.manages:
        raise ServiceError(_("Choose the group you instructed."), field="group_id")
    clean_topic = _clean_topic(topic)
    _check_day(session, school_class, on_day, today)
    giver = _staff_person(session, school, given_by)
    briefing = Briefing(
        class_id=school_class.id,
        group_id=group.id if group else None,
        on_day=on_day,
        topic=clean_topic,
        given_by=giver.id,
        recorded_by=account.id,
    )
    session.add(briefing)
    session.flush()
    return briefing


def delete_briefing(
    session: Session, account: Principal, school: School, briefing: Briefing
) -> None:
    """The account that recorded it or the administrator (a signed sheet may exist: the
    paper is the school's to keep or destroy)."""
    if not may_delete(account, school, briefing):
        raise PermissionDenied(
            _("Only the one who recorded the safety instruction and the e-diary administrator "
              "may delete it.")
        )  # fmt: skip
    session.delete(briefing)
    session.flush()


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BriefingRow:
    briefing: Briefing
    given_by: Person | None
    group_name: str | None
    #: the name of the account that recorded it
    recorded_by: str | None


@dataclass(frozen=True)
class ClassBriefings:
    school_class: SchoolClass
    access: BriefingRights
    #: the groups the account may record an instruction for
    groups: list[Group]
    #: newest first
    rows: list[BriefingRow]
    #: the ids of the rows the account may delete
    deletable: frozenset[int]


def class_briefings(
    session: Session, account: Principal, school: School, class_id: int
) -> ClassBriefings:
    """The class's safety instructions, newest first, for the class head, the teachers of the
    class's groups, the director and the administrator (PermissionDenied for others), with
    what the account may record: the same few queries whatever the number of instructions."""
    school_class = get_class(session, class_id)
    groups = class_groups(session, account, school_class)
    access = rights(session, account, school, school_class, groups)
    if not access.reads:
        raise _refuse_reader()
    rows = session.execute(
        select(Briefing, Person, Group.name, Account.name)
        .outerjoin(Person, Person.id == Briefing.given_by)
        .outerjoin(Group, Group.id == Briefing.group_id)
        .outerjoin(Account, Account.id == Briefing.recorded_by)
        .where(Briefing.class_id == school_class.id)
        .order_by(Briefing.on_day.desc(), Briefing.created_at.desc(), Briefing.id.desc())
    )
    found = [BriefingRow(*row) for row in rows]
    return ClassBriefings(
        school_class=school_class,
        access=access,
        groups=[row.group for row in groups if access.manages or row.group.id in access.teaches],
        rows=found,
        deletable=frozenset(
            row.briefing.id for row in found if may_delete(account, school, row.briefing)
        ),
    )


def classes_for(
    session: Session, account: Principal, school: School, today: date
) -> list[SchoolClass]:
    """The current year's classes whose instructions the account reads: every class for the
    administrator and the director, else the classes it heads or teaches a group of (one
    query)."""
    year = current_year(session, today)
    if year is None:
        return []
    query = (
        select(SchoolClass)
        .where(SchoolClass.year_id == year.id)
        .order_by(SchoolClass.grade_level, SchoolClass.letter)
    )
    if not roles_in_school(account, school) & {Role.ADMIN, Role.DIRECTOR}:
        person = own_person_id(account)
        teaches = exists(
            select(Group.id)
            .join(GroupTeacher, GroupTeacher.group_id == Group.id)
            .where(
                GroupTeacher.teacher_id == person,
                Group.year_id == SchoolClass.year_id,
                _group_of_class(SchoolClass.id),
            )
        )
        query = query.where(or_(SchoolClass.head_id == person, teaches))
    return list(session.scalars(query))


@dataclass(frozen=True)
class SignOffSheet:
    school_class: SchoolClass
    briefing: Briefing
    group: Group | None
    given_by: Person | None
    #: the class's active students (of the group, when one was instructed), by name
    students: list[Person]


def sign_off_sheet(
    session: Session, account: Principal, school: School, class_id: int, briefing_id: int
) -> SignOffSheet:
    """What the sheet the students sign shows; for those who read the class's list."""
    school_class = get_class(session, class_id)
    briefing = get_briefing(session, school_class, briefing_id)
    groups = class_groups(session, account, school_class)
    if not rights(session, account, school, school_class, groups).reads:
        raise _refuse_reader()
    condition = and_(Student.class_id == school_class.id, Student.status == "active")
    if briefing.group_id is not None:
        condition = and_(
            condition,
            exists().where(
                GroupStudent.group_id == briefing.group_id,
                GroupStudent.student_id == Student.person_id,
            ),
        )
    students = list(
        session.scalars(
            select(Person)
            .join(Student, Student.person_id == Person.id)
            .where(condition)
            .order_by(*person_order())
        )
    )
    group = session.get(Group, briefing.group_id) if briefing.group_id else None
    given_by = session.get(Person, briefing.given_by) if briefing.given_by else None
    return SignOffSheet(school_class, briefing, group, given_by, students)
