"""Praise, remarks and reprimands about a student; guardians and the student read them in the
diary (``remarks_for_students``).

Who writes: a teacher of a group the student is in (naming the group), the class head of the
student's class, or the administrator. The day is not in the future and lies inside a term
(any day of it: a remark may be about a Saturday excursion, so holidays and weekends count).

Who deletes: the author until the end of the term the remark's day belongs to (a mistake such
as the wrong student is often noticed later, but a term's record is settled when it ends), the
administrator at any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from accounts.identity import Principal
from accounts.models import Role
from accounts.services import roles_in_school
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from gradebook.access import require_group_writer
from gradebook.remarks.models import Remark
from notifications.outbox import record_event
from school.calendar.models import SchoolYear, Term
from school.calendar.services import term_for
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.curriculum.models import Subject
from school.people.models import Person, Student
from school.people.names import person_sort_key
from school.people.services import get_student
from school.permissions import person_of
from tenants.models import School

KINDS = {"praise": _l("Praise"), "remark": _l("Remark"), "reprimand": _l("Reprimand")}
TEXT_MAX = 2000


def get_remark(session: Session, remark_id: int | None) -> Remark:
    remark = session.get(Remark, remark_id) if remark_id else None
    if remark is None:
        raise NotFound(_("There is no such remark."))
    return remark


def get_group(session: Session, group_id: int | None) -> Group:
    group = session.get(Group, group_id) if group_id else None
    if group is None:
        raise NotFound(_("There is no such group."))
    return group


def heads_class_of(session: Session, account: Principal, student: Student) -> bool:
    person = person_of(session, account)
    if person is None or student.class_id is None:
        return False
    school_class = session.get(SchoolClass, student.class_id)
    return school_class is not None and school_class.head_id == person.id


def _clean_text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise ServiceError(_("Write the text of the remark."), field="text")
    if len(text) > TEXT_MAX:
        raise ServiceError(
            ngettext(
                "The text may be at most %(num)d character long.",
                "The text may be at most %(num)d characters long.",
                TEXT_MAX,
            ),
            field="text",
        )
    return text


@dataclass(frozen=True)
class TaughtGroup:
    group: Group
    students: list[Person]


def taught_groups(session: Session, teacher: Person, year: SchoolYear) -> list[TaughtGroup]:
    """The groups ``teacher`` teaches in ``year``, by name, each with its active students in
    name order (one query): where a subject teacher writes a remark from."""
    rows = session.execute(
        select(Group, Person)
        .join(GroupTeacher, GroupTeacher.group_id == Group.id)
        .outerjoin(GroupStudent, GroupStudent.group_id == Group.id)
        .outerjoin(
            Student,
            and_(Student.person_id == GroupStudent.student_id, Student.status == "active"),
        )
        .outerjoin(Person, Person.id == Student.person_id)
        .where(GroupTeacher.teacher_id == teacher.id, Group.year_id == year.id)
    ).all()
    members: dict[Group, list[Person]] = {}
    for group, person in rows:
        members.setdefault(group, [])
        if person is not None:
            members[group].append(person)
    return [
        TaughtGroup(group, sorted(people, key=person_sort_key))
        for group, people in sorted(members.items(), key=lambda item: item[0].name.casefold())
    ]


def require_writer(
    session: Session, account: Principal, school: School, student: Student, group: Group | None
) -> None:
    """The class head of the student's class, the administrator, or (``group`` named) a teacher
    of the group; the student must be in ``group``."""
    is_head = heads_class_of(session, account, student)
    if group is not None:
        if not is_head:
            require_group_writer(session, account, school, group)
        in_group = session.scalar(
            select(GroupStudent.student_id).where(
                GroupStudent.group_id == group.id, GroupStudent.student_id == student.person_id
            )
        )
        if in_group is None:
            raise ServiceError(
                _("The student is not in the group %(group)s.", group=group.name),
                field="student",
            )
    elif not is_head and Role.ADMIN not in roles_in_school(account, school):
        raise PermissionDenied(
            _("Only the student's class head, the teachers of the student's groups and the "
              "e-diary administrator may write remarks.")
        )  # fmt: skip


def write_remark(
    session: Session,
    account: Principal,
    school: School,
    *,
    student_id: int,
    kind: str,
    text: str,
    on_day: date,
    group_id: int | None,
    today: date,
) -> Remark:
    """Write a praise, remark or reprimand; writes a ``remark`` event."""
    student = get_student(session, student_id)
    group = get_group(session, group_id) if group_id is not None else None
    require_writer(session, account, school, student, group)
    if student.status != "active":
        raise ServiceError(_("The student has left the school."), field="student")
    if kind not in KINDS:
        raise ServiceError(_("Choose praise, remark or reprimand."), field="kind")
    text = _clean_text(text)
    shown = format_date(on_day, "medium")
    if on_day > today:
        raise ServiceError(_("%(day)s is in the future.", day=shown), field="on_day")
    if term_for(session, on_day) is None:
        raise ServiceError(_("%(day)s is outside the school's terms.", day=shown), field="on_day")
    remark = Remark(
        student_id=student.person_id,
        group_id=group.id if group else None,
        kind=kind,
        text=text,
        on_day=on_day,
        written_by=account.id,
    )
    session.add(remark)
    session.flush()
    record_event(
        session, "remark", actor_id=account.id, remark_id=remark.id, student_id=student.person_id
    )
    return remark


def deletable(
    session: Session,
    account: Principal,
    school: School,
    remarks: list[Remark],
    today: date,
    terms: list[Term] | None = None,
) -> set[int]:
    """The ids of ``remarks`` the account may delete now (see the module docstring). ``terms``
    (the terms of the remarks' days) spare the one query otherwise run for them."""
    if Role.ADMIN in roles_in_school(account, school):
        return {r.id for r in remarks}
    own = [r for r in remarks if r.written_by == account.id]
    if not own:
        return set()
    if terms is None:
        terms = list(session.scalars(select(Term)))
    return {
        r.id
        for r in own
        if any(t.starts_on <= r.on_day <= t.ends_on and today <= t.ends_on for t in terms)
    }


def delete_remark(
    session: Session, account: Principal, school: School, remark: Remark, *, today: date
) -> None:
    if Role.ADMIN not in roles_in_school(account, school) and remark.written_by != account.id:
        raise PermissionDenied(
            _("Only the remark's author and the e-diary administrator may delete it.")
        )
    if remark.id not in deletable(session, account, school, [remark], today):
        raise ServiceError(
            _("The remark's term has ended; only the e-diary administrator may delete it now.")
        )
    session.delete(remark)
    session.flush()


@dataclass(frozen=True)
class RemarkRow:
    remark: Remark
    student: Person
    author: Person | None  # the author's person in this school (None: an account without one)
    group_name: str | None
    subject: Subject | None


def remarks_for_students(
    session: Session, student_ids: list[int], since: date, until: date
) -> list[RemarkRow]:
    """The remarks about ``student_ids`` from ``since`` to ``until`` inclusive, the latest first,
    with the student, the author, the group and its subject: one query."""
    if not student_ids:
        return []
    author = aliased(Person)
    rows = session.execute(
        select(Remark, Person, author, Group.name, Subject)
        .join(Person, Person.id == Remark.student_id)
        .outerjoin(author, author.account_id == Remark.written_by)
        .outerjoin(Group, Group.id == Remark.group_id)
        .outerjoin(Subject, Subject.id == Group.subject_id)
        .where(Remark.student_id.in_(student_ids), Remark.on_day >= since, Remark.on_day <= until)
        .order_by(Remark.on_day.desc(), Remark.created_at.desc(), Remark.id.desc())
    )
    return [RemarkRow(*row) for row in rows]
