"""Leaving, the unassigned-students pool, claiming and returning a mistaken claim.

Every function runs in the caller's transaction and only flushes; the request or command
commits once. ``leave_student`` runs bound to the leaving school, ``claim_student`` and
``return_to_pool`` bound to the receiving school, ``search_pool`` / ``pool_overview`` /
``transfer_log_rows`` in any transaction (they read only ``public``). The pool row's
``record`` is the only thing a claim reads about the student's past: the receiving school's
role cannot read the leaving school's schema. See docs/transfers.md for the choices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from accounts.models import STAFF_ROLES, Account, Role
from accounts.services import grant_role, revoke_role, roles_in_school
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from gradebook.attendance.models import Attendance, Excuse
from gradebook.grades.models import Grade, GradeChange, TermGrade
from gradebook.lessons.models import Lesson
from gradebook.remarks.models import Remark
from notifications.transfers import notify_claimed, notify_incoming
from school.calendar.models import SchoolYear, Term
from school.calendar.services import current_year
from school.classes.models import Group, GroupStudent, SchoolClass
from school.curriculum.models import AssessmentKind, Subject
from school.curriculum.services import grade_label
from school.people.models import Guardianship, Person, StaffRight, Student
from school.people.services import get_student, remove_student
from tenants.models import School, SchoolStatus
from transfers.models import DESTINATION_KINDS, CarriedRecord, PoolEntry, TransferLog

#: A claim may be returned to the pool within this many days.
RETURN_DAYS = 14
#: The municipality's overview flags entries waiting longer than this.
STALE_DAYS = 14
REASON_MAX = 500
#: Tables whose rows of the claimed student are fingerprinted at the claim: any change since
#: (a grade added, changed or deleted, a mark, a remark, an excuse) refuses a return. Grade
#: history needs no digest of its own: every change of it changes a grade row too.
_WATCHED_TABLES = ("grades", "term_grades", "attendance", "remarks", "excuses")


@dataclass(frozen=True)
class PoolRow:
    """What anyone allowed to see the pool sees of an entry before a claim."""

    id: int
    first_name: str
    last_name: str
    birth_year: int | None
    from_school_id: int
    from_school_name: str
    grade_level: int | None
    days_in_pool: int
    #: The leaving school named the searching school as the destination.
    heading_here: bool


@dataclass
class ClaimSummary:
    """What a claim carried: ``grades``/``term_grades``/``attendance``/``remarks`` as many as
    left (each either mapped into this school's tables or kept as a carried record),
    ``*_mapped`` those mapped, ``carried`` the carried records made."""

    pool_id: int
    school: str
    student_id: int
    class_name: str
    grades: int = 0
    term_grades: int = 0
    attendance: int = 0
    remarks: int = 0
    grades_mapped: int = 0
    term_grades_mapped: int = 0
    carried: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LogRow:
    log: TransferLog
    student_name: str
    actor_name: str | None
    from_school_name: str | None
    to_school_name: str | None


@dataclass
class PoolOverview:
    counts: dict[str, int] = field(default_factory=dict)
    #: in the pool for more than STALE_DAYS days, the longest waiting first
    stale: list[PoolRow] = field(default_factory=list)


# --- who may do what ----------------------------------------------------------------------------


def may_see_pool(account: Account, school: School) -> bool:
    """The administrator and the director (heads) of any school see and search the pool."""
    return bool(roles_in_school(account, school) & {Role.ADMIN, Role.DIRECTOR})


def may_claim(account: Account, school: School) -> bool:
    """The administrator and the director (or deputy) of the receiving school claim students."""
    return may_see_pool(account, school)


def _require_claimer(account: Account, school: School) -> None:
    if not may_claim(account, school):
        raise PermissionDenied(
            _("Only the school's director and e-diary administrator may claim students.")
        )


def may_read_record(account: Account, school: School, entry: PoolEntry) -> bool:
    """The full record (and the extract PDF) are for the leaving school's administration and
    class heads, and after the claim for the claiming school's administrator and director;
    never before a claim for anyone else."""
    roles = roles_in_school(account, school)
    if school.id == entry.from_school_id:
        return bool(roles & {Role.ADMIN, Role.DIRECTOR, Role.CLASS_HEAD})
    return (
        entry.status == "claimed"
        and entry.claimed_school_id == school.id
        and bool(roles & {Role.ADMIN, Role.DIRECTOR})
    )


# --- the portable record ------------------------------------------------------------------------


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def build_record(session: Session, school: School, student: Student) -> dict[str, Any]:
    """The student's portable record (see ``transfers.models``) read from ``school``'s tables
    (the session is bound to it): the year of the student's class. Seven queries."""
    person = student.person
    school_class = session.get(SchoolClass, student.class_id) if student.class_id else None
    year = session.get(SchoolYear, school_class.year_id) if school_class is not None else None
    guardians = session.execute(
        select(Guardianship.relation, Person)
        .join(Person, Person.id == Guardianship.guardian_id)
        .where(Guardianship.student_id == student.person_id)
        .order_by(Person.last_name, Person.first_name, Person.id)
    ).all()
    record: dict[str, Any] = {
        "version": 1,
        "school": {
            "id": school.id, "name": school.name, "slug": school.slug,
            "locale": school.default_locale,
        },
        "student": {
            "person_id": person.id,
            "account_id": person.account_id,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "birth_date": _iso(person.birth_date),
            "document_kind": person.document_kind,
            "personal_code": person.personal_code,
            "document_number": person.document_number,
            "email": person.email,
            "phone": person.phone,
            "locale": person.locale,
            "enrolled_on": _iso(student.enrolled_on),
            "left_on": _iso(student.left_on),
            "class_name": school_class.name if school_class else None,
            "grade_level": school_class.grade_level if school_class else None,
        },
        "guardians": [
            {
                "account_id": guardian.account_id,
                "first_name": guardian.first_name,
                "last_name": guardian.last_name,
                "relation": relation,
                "email": guardian.email,
                "phone": guardian.phone,
                "locale": guardian.locale,
                "document_kind": guardian.document_kind,
                "personal_code": guardian.personal_code,
                "document_number": guardian.document_number,
            }
            for relation, guardian in guardians
        ],
        "year": None,
        "subjects": [],
        "grades": [],
        "term_grades": [],
        "attendance": [],
        "remarks": [],
        "excuses": [],
    }  # fmt: skip
    if year is None:
        return record
    record["year"] = {
        "name": year.name,
        "starts_on": _iso(year.starts_on),
        "ends_on": _iso(year.ends_on),
    }
    sid = student.person_id
    subjects: dict[str, Subject] = {}
    grades = session.execute(
        select(Grade, Group.name, Subject, Term.number, AssessmentKind.code, AssessmentKind.name)
        .join(Group, Group.id == Grade.group_id)
        .join(Subject, Subject.id == Group.subject_id)
        .join(Term, Term.id == Grade.term_id)
        .outerjoin(AssessmentKind, AssessmentKind.id == Grade.kind_id)
        .where(Grade.student_id == sid, Term.year_id == year.id)
        .order_by(Grade.on_day, Grade.id)
    ).all()
    for grade, group_name, subject, term_number, kind_code, kind_name in grades:
        subjects[subject.code] = subject
        record["grades"].append({
            "id": grade.id, "subject_code": subject.code, "subject_name": subject.name,
            "group_name": group_name, "on_day": _iso(grade.on_day), "value": grade.value,
            "label": grade_label(subject.scale, grade.value), "kind_code": kind_code,
            "kind_name": kind_name, "comment": grade.comment, "created_by": grade.created_by,
            "term_number": term_number,
        })  # fmt: skip
    term_grades = session.execute(
        select(TermGrade, Group.name, Subject, Term.number, Term.kind)
        .join(Group, Group.id == TermGrade.group_id)
        .join(Subject, Subject.id == Group.subject_id)
        .outerjoin(Term, Term.id == TermGrade.term_id)
        .where(TermGrade.student_id == sid, TermGrade.year_id == year.id)
        .order_by(Subject.code, Term.number.nulls_last())
    ).all()
    for term_grade, group_name, subject, term_number, term_kind in term_grades:
        subjects[subject.code] = subject
        record["term_grades"].append({
            "subject_code": subject.code, "subject_name": subject.name,
            "group_name": group_name, "term_number": term_number, "term_kind": term_kind,
            "value": term_grade.value, "suggested": term_grade.suggested,
            "comment": term_grade.comment,
        })  # fmt: skip
    marks = session.execute(
        select(Attendance, Lesson.on_day, Lesson.lesson_no, Subject.code, Subject.name)
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .join(Group, Group.id == Lesson.group_id)
        .join(Subject, Subject.id == Group.subject_id)
        .where(Attendance.student_id == sid, Group.year_id == year.id)
        .order_by(Lesson.on_day, Lesson.lesson_no)
    ).all()
    record["attendance"] = [
        {
            "on_day": _iso(on_day), "lesson_no": lesson_no, "subject_code": code,
            "subject_name": name, "mark": mark.mark, "excused": mark.excuse_id is not None,
        }
        for mark, on_day, lesson_no, code, name in marks
    ]  # fmt: skip
    remarks = session.execute(
        select(Remark, Subject.code, Subject.name)
        .outerjoin(Group, Group.id == Remark.group_id)
        .outerjoin(Subject, Subject.id == Group.subject_id)
        .where(
            Remark.student_id == sid,
            Remark.on_day >= year.starts_on,
            Remark.on_day <= year.ends_on,
        )
        .order_by(Remark.on_day, Remark.id)
    ).all()
    record["remarks"] = [
        {
            "on_day": _iso(remark.on_day), "kind": remark.kind, "text": remark.text,
            "subject_code": code, "subject_name": name,
        }
        for remark, code, name in remarks
    ]  # fmt: skip
    excuses = session.scalars(
        select(Excuse)
        .where(
            Excuse.student_id == sid,
            Excuse.to_day >= year.starts_on,
            Excuse.from_day <= year.ends_on,
        )
        .order_by(Excuse.from_day, Excuse.id)
    ).all()
    record["excuses"] = [
        {
            "from_day": _iso(excuse.from_day), "to_day": _iso(excuse.to_day),
            "reason": excuse.reason, "status": excuse.status, "school_days": excuse.school_days,
        }
        for excuse in excuses
    ]  # fmt: skip
    record["subjects"] = [
        {
            "code": subject.code, "name": subject.name,
            "scale": {
                "code": subject.scale.code, "kind": subject.scale.kind,
                "min": subject.scale.min_value, "max": subject.scale.max_value,
            },
        }
        for subject in sorted(subjects.values(), key=lambda s: s.code)
    ]  # fmt: skip
    return record


# --- leaving ------------------------------------------------------------------------------------


def _log(
    session: Session,
    entry: PoolEntry,
    action: str,
    actor: Account | None,
    to_school_id: int | None,
    **details: Any,
) -> TransferLog:
    row = TransferLog(
        pool_id=entry.id,
        action=action,
        actor_id=actor.id if actor is not None else None,
        from_school_id=entry.from_school_id,
        to_school_id=to_school_id,
        details=details,
    )
    session.add(row)
    session.flush()
    return row


def _destination(
    session: Session, school: School, destination_kind: str, to_school_id: int | None
) -> tuple[str, int | None]:
    if to_school_id is not None:
        if to_school_id == school.id:
            raise ServiceError(
                _("The student cannot move to the school they are leaving."), field="to_school"
            )
        target = session.get(School, to_school_id)
        if target is None or target.status not in (SchoolStatus.ACTIVE, SchoolStatus.SUSPENDED):
            raise ServiceError(_("There is no such school in the municipality."), field="to_school")
        return "municipality", target.id
    if destination_kind not in DESTINATION_KINDS:
        raise ServiceError(_("Choose where the student is going."), field="destination_kind")
    return destination_kind, None


def leave_student(
    session: Session,
    account: Account,
    school: School,
    *,
    student_id: int,
    left_on: date,
    reason: str | None,
    destination_kind: str,
    to_school_id: int | None,
    today: date,
) -> PoolEntry:
    """The student leaves ``school`` (the session is bound to it) and enters the pool.

    The administrator or the student's class head. In the caller's one transaction: the
    student is marked left by ``school.people.services.remove_student`` (status, date, roles;
    the records stay, read-only), the portable record is built from this school's tables and
    the pool row and a ``left`` log row are written. A named destination school makes the
    destination ``municipality``.
    """
    student = get_student(session, student_id)
    kind, target_id = _destination(session, school, destination_kind, to_school_id)
    text_reason = " ".join((reason or "").split()) or None
    if text_reason is not None and len(text_reason) > REASON_MAX:
        raise ServiceError(
            _("The reason may be at most %(num)d characters long.", num=REASON_MAX),
            field="reason",
        )
    if left_on is not None and left_on > today:
        raise ServiceError(
            _("The leaving date cannot be in the future: mark the student on the day they leave."),
            field="left_on",
        )
    waiting = session.scalar(
        select(PoolEntry.id).where(
            PoolEntry.from_school_id == school.id,
            PoolEntry.student_person_id == student.person_id,
            PoolEntry.status == "in_pool",
        )
    )
    if waiting is not None:
        raise ServiceError(_("This student is already in the pool of unassigned students."))
    remove_student(session, account, school, student, left_on, today=today)
    record = build_record(session, school, student)
    person = student.person
    entry = PoolEntry(
        status="in_pool",
        first_name=person.first_name,
        last_name=person.last_name,
        birth_date=person.birth_date,
        personal_code=person.personal_code,
        grade_level=record["student"]["grade_level"],
        from_school_id=school.id,
        student_person_id=person.id,
        destination_kind=kind,
        to_school_id=target_id,
        reason=text_reason,
        left_on=left_on,
        record=record,
    )
    session.add(entry)
    session.flush()
    _log(
        session, entry, "left", account, target_id,
        destination_kind=kind, reason=text_reason, left_on=left_on.isoformat(),
        grades=len(record["grades"]), term_grades=len(record["term_grades"]),
        attendance=len(record["attendance"]), remarks=len(record["remarks"]),
    )  # fmt: skip
    notify_incoming(session, entry, actor_id=account.id)
    return entry


# --- the pool -----------------------------------------------------------------------------------


def _days_in_pool(entered_at: datetime, today: date) -> int:
    return max((today - entered_at.astimezone(UTC).date()).days, 0)


def search_pool(
    session: Session,
    *,
    school: School | None = None,
    text: str | None = None,
    birth_date: date | None = None,
    personal_code: str | None = None,
    grade_level: int | None = None,
    from_school_id: int | None = None,
    min_days: int | None = None,
    today: date,
    limit: int = 200,
) -> list[PoolRow]:
    """Entries in the pool, minimal fields only, the longest waiting first (``school``: the
    searcher's, for the heading-here flag). Every word of ``text`` must start a first or
    last name (case-insensitive); ``personal_code`` matches only exactly and is never
    returned. One query."""
    query = (
        select(
            PoolEntry.id, PoolEntry.first_name, PoolEntry.last_name, PoolEntry.birth_date,
            PoolEntry.from_school_id, School.name, PoolEntry.grade_level, PoolEntry.entered_at,
            PoolEntry.to_school_id,
        )
        .join(School, School.id == PoolEntry.from_school_id)
        .where(PoolEntry.status == "in_pool")
        .order_by(PoolEntry.entered_at, PoolEntry.id)
        .limit(limit)
    )  # fmt: skip
    for word in (text or "").split():
        pattern = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(PoolEntry.first_name.ilike(pattern), PoolEntry.last_name.ilike(pattern))
        )
    if birth_date is not None:
        query = query.where(PoolEntry.birth_date == birth_date)
    if personal_code:
        query = query.where(PoolEntry.personal_code == personal_code.strip())
    if grade_level is not None:
        query = query.where(PoolEntry.grade_level == grade_level)
    if from_school_id is not None:
        query = query.where(PoolEntry.from_school_id == from_school_id)
    if min_days:
        query = query.where(PoolEntry.entered_at < today - timedelta(days=min_days - 1))
    return [
        PoolRow(
            id=row.id,
            first_name=row.first_name,
            last_name=row.last_name,
            birth_year=row.birth_date.year if row.birth_date else None,
            from_school_id=row.from_school_id,
            from_school_name=row.name,
            grade_level=row.grade_level,
            days_in_pool=_days_in_pool(row.entered_at, today),
            heading_here=school is not None and row.to_school_id == school.id,
        )
        for row in session.execute(query)
    ]


def get_entry(session: Session, pool_id: int | None) -> PoolEntry:
    """NotFound for an unknown id."""
    entry = session.get(PoolEntry, pool_id) if pool_id else None
    if entry is None:
        raise NotFound(_("There is no such student in the pool."))
    return entry


def entries_of_school(session: Session, school: School) -> list[PoolEntry]:
    """The entries that left ``school`` or that it claimed, newest first."""
    return list(
        session.scalars(
            select(PoolEntry)
            .where(
                or_(PoolEntry.from_school_id == school.id, PoolEntry.claimed_school_id == school.id)
            )
            .order_by(PoolEntry.entered_at.desc(), PoolEntry.id.desc())
        )
    )


# --- claiming -----------------------------------------------------------------------------------


@dataclass
class _Created:
    """What a claim made in the receiving school (kept in the log for a return)."""

    person_created: bool = False
    previous: dict[str, Any] | None = None
    student_role_granted: bool = False
    group_ids: list[int] = field(default_factory=list)
    guardian_people: list[int] = field(default_factory=list)
    guardianships: list[int] = field(default_factory=list)
    guardian_roles: list[int] = field(default_factory=list)
    grade_ids: list[int] = field(default_factory=list)
    term_grade_ids: list[int] = field(default_factory=list)


def _class_of_this_year(session: Session, class_id: int | None, today: date) -> SchoolClass:
    school_class = session.get(SchoolClass, class_id) if class_id else None
    year = current_year(session, today)
    if school_class is None or year is None or school_class.year_id != year.id:
        raise ServiceError(_("Choose a class of this school year."), field="class_id")
    return school_class


def _take(session: Session, account: Account, school: School, pool_id: int) -> PoolEntry:
    """Mark the entry claimed by ``school`` if it still waits: the one conditional UPDATE that
    decides a race (a second claimer waits on the row lock, then finds it claimed)."""
    taken = session.execute(
        update(PoolEntry)
        .where(PoolEntry.id == pool_id, PoolEntry.status == "in_pool")
        .values(
            status="claimed",
            claimed_school_id=school.id,
            claimed_at=func.now(),
            claimed_by=account.id,
        )
        .returning(PoolEntry.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if taken is None:
        entry = get_entry(session, pool_id)
        session.refresh(entry)
        if entry.claimed_school_id == school.id:
            raise ServiceError(_("Your school has already claimed this student."))
        raise ServiceError(_("This student has already been claimed by another school."))
    return session.scalars(
        select(PoolEntry).where(PoolEntry.id == pool_id).execution_options(populate_existing=True)
    ).one()


def _account_or_none(session: Session, account_id: int | None) -> Account | None:
    return session.get(Account, account_id) if account_id else None


def _person_for(
    session: Session, data: dict[str, Any], account: Account | None
) -> tuple[Person, bool]:
    """The person here with the same account, else the same personal code; else a new one
    (True). A person found by code keeps their own account link."""
    person = None
    if account is not None:
        person = session.scalar(select(Person).where(Person.account_id == account.id))
    if person is None and data.get("personal_code"):
        person = session.scalar(select(Person).where(Person.personal_code == data["personal_code"]))
    if person is not None:
        if person.account_id is None and account is not None:
            person.account_id = account.id
        return person, False
    birth = data.get("birth_date")
    person = Person(
        account_id=account.id if account is not None else None,
        first_name=data["first_name"],
        last_name=data["last_name"],
        birth_date=date.fromisoformat(birth) if birth else None,
        document_kind=data.get("document_kind") or "other",
        personal_code=data.get("personal_code"),
        document_number=data.get("document_number"),
        email=data.get("email"),
        phone=data.get("phone"),
        locale=data.get("locale"),
    )
    session.add(person)
    session.flush()
    return person, True


def _enrol(
    session: Session,
    school: School,
    entry: PoolEntry,
    school_class: SchoolClass,
    today: date,
    created: _Created,
) -> Student:
    data = entry.record["student"]
    account = _account_or_none(session, data.get("account_id"))
    person, created.person_created = _person_for(session, data, account)
    student = session.get(Student, person.id)
    if student is not None and student.status == "active":
        raise ServiceError(
            _("%(name)s is already a student of this school.", name=person.full_name)
        )
    if student is None:
        student = Student(person_id=person.id, class_id=school_class.id, status="active",
                          enrolled_on=today)  # fmt: skip
        session.add(student)
    else:  # a student who left this school earlier comes back
        created.previous = {
            "class_id": student.class_id, "enrolled_on": _iso(student.enrolled_on),
            "left_on": _iso(student.left_on),
        }  # fmt: skip
        student.status, student.class_id = "active", school_class.id
        student.enrolled_on, student.left_on = today, None
    session.flush()
    groups = session.scalars(
        select(Group.id).where(
            Group.class_id == school_class.id,
            Group.kind == "class",
            Group.id.not_in(
                select(GroupStudent.group_id).where(GroupStudent.student_id == person.id)
            ),
        )
    ).all()
    session.add_all(GroupStudent(group_id=g, student_id=person.id) for g in groups)
    created.group_ids = list(groups)
    holder = _account_or_none(session, person.account_id)
    if holder is not None and Role.STUDENT not in roles_in_school(holder, school):
        grant_role(session, holder, school, Role.STUDENT)
        created.student_role_granted = True
    session.flush()
    return student


def _link_guardians(
    session: Session, school: School, entry: PoolEntry, student: Student, created: _Created
) -> None:
    for data in entry.record["guardians"]:
        account = _account_or_none(session, data.get("account_id"))
        person, new = _person_for(session, data, account)
        if person.id == student.person_id:
            continue
        if new:
            created.guardian_people.append(person.id)
        link = session.scalar(
            select(Guardianship).where(
                Guardianship.guardian_id == person.id,
                Guardianship.student_id == student.person_id,
            )
        )
        if link is None:
            link = Guardianship(guardian_id=person.id, student_id=student.person_id,
                                relation=data.get("relation") or "other")  # fmt: skip
            session.add(link)
            session.flush()
            created.guardianships.append(link.id)
        holder = _account_or_none(session, person.account_id)
        if holder is not None and Role.GUARDIAN not in roles_in_school(holder, school):
            grant_role(session, holder, school, Role.GUARDIAN)
            created.guardian_roles.append(holder.id)
    session.flush()


def _carry(
    pool: PoolEntry,
    student_id: int,
    kind: str,
    item: dict[str, Any],
    day: str | None,
    value: str | None,
    **details: Any,
) -> dict[str, Any]:
    return {
        "student_id": student_id, "pool_id": pool.id, "kind": kind,
        "subject_code": item.get("subject_code"), "subject_name": item.get("subject_name"),
        "on_day": date.fromisoformat(day) if day else None, "value": value,
        "details": details, "from_school_name": pool.record["school"]["name"],
    }  # fmt: skip


def _carry_history(
    session: Session,
    account: Account,
    entry: PoolEntry,
    student: Student,
    school_class: SchoolClass,
    summary: ClaimSummary,
    created: _Created,
) -> None:
    """Grades and term grades into this school's groups of the class where the subject
    matches (by code, then by name, with the same scale) and a term holds the day; the rest,
    attendance and remarks as carried records."""
    record, sid = entry.record, student.person_id
    scales = {s["code"]: s["scale"]["code"] for s in record["subjects"]}
    groups = session.execute(
        select(Group, Subject)
        .join(Subject, Subject.id == Group.subject_id)
        .join(GroupStudent, GroupStudent.group_id == Group.id)
        .where(GroupStudent.student_id == sid, Group.year_id == school_class.year_id)
        .order_by(Group.kind != "class", Group.id)
    ).all()
    by_code: dict[str, Group] = {}
    by_name: dict[str, Group] = {}
    for group, subject in groups:
        by_code.setdefault(subject.code, group)
        by_name.setdefault(subject.name.casefold(), group)

    def group_for(item: dict[str, Any]) -> Group | None:
        group = by_code.get(item["subject_code"]) or by_name.get(
            (item.get("subject_name") or "").casefold()
        )
        if group is None or group.subject.scale.code != scales.get(item["subject_code"]):
            return None
        return group

    terms = session.scalars(
        select(Term).where(Term.year_id == school_class.year_id).order_by(Term.number)
    ).all()

    def term_of(day: date) -> Term | None:
        return next((t for t in terms if t.starts_on <= day <= t.ends_on), None)

    kinds = dict(session.execute(select(AssessmentKind.code, AssessmentKind.id)).all())
    taken_terms = set(
        session.execute(
            select(TermGrade.group_id, TermGrade.term_id).where(TermGrade.student_id == sid)
        ).all()
    )
    carried: list[dict[str, Any]] = []
    grade_rows: list[dict[str, Any]] = []
    for item in record["grades"]:
        day = date.fromisoformat(item["on_day"])
        group, term = group_for(item), term_of(day)
        if group is None or term is None:
            carried.append(_carry(
                entry, sid, "grade", item, item["on_day"], item["value"],
                label=item.get("label"), kind_code=item.get("kind_code"),
                kind_name=item.get("kind_name"), comment=item.get("comment"),
                group_name=item.get("group_name"), term_number=item.get("term_number"),
            ))  # fmt: skip
            continue
        grade_rows.append({
            "student_id": sid, "group_id": group.id, "lesson_id": None, "on_day": day,
            "term_id": term.id, "value": item["value"], "kind_id": kinds.get(item["kind_code"]),
            "comment": item.get("comment"),
            # the command line has no account: the grade keeps its original author's
            "created_by": account.id if account.id is not None else item["created_by"],
        })  # fmt: skip
    if grade_rows:
        created.grade_ids = list(
            session.scalars(
                insert(Grade).returning(Grade.id, sort_by_parameter_order=True), grade_rows
            )
        )
        session.execute(
            insert(GradeChange),
            [
                {
                    "grade_id": grade_id, "student_id": sid, "group_id": row["group_id"],
                    "on_day": row["on_day"], "action": "create", "new_value": row["value"],
                    "new_kind_id": row["kind_id"], "new_comment": row["comment"],
                    "changed_by": row["created_by"], "after_lock": False,
                }
                for grade_id, row in zip(created.grade_ids, grade_rows, strict=True)
            ],
        )  # fmt: skip
    term_rows: list[dict[str, Any]] = []
    by_number = {t.number: t for t in terms}
    for item in record["term_grades"]:
        group = group_for(item)
        number = item.get("term_number")
        term = by_number.get(number) if number is not None else None
        fits = group is not None and (
            number is None or (term is not None and term.kind == item.get("term_kind"))
        )
        key = (group.id, term.id if term else None) if group is not None else None
        if not fits or key in taken_terms:
            carried.append(_carry(
                entry, sid, "term_grade", item, None, item.get("value"),
                term_number=number, term_kind=item.get("term_kind"),
                suggested=item.get("suggested"), comment=item.get("comment"),
                group_name=item.get("group_name"),
            ))  # fmt: skip
            continue
        taken_terms.add(key)
        term_rows.append({
            "student_id": sid, "group_id": group.id, "year_id": school_class.year_id,
            "term_id": term.id if term else None, "suggested": item.get("suggested"),
            "value": item.get("value"), "comment": item.get("comment"),
            "confirmed_by": None, "confirmed_at": None,
        })  # fmt: skip
    if term_rows:
        created.term_grade_ids = list(
            session.scalars(
                insert(TermGrade).returning(TermGrade.id, sort_by_parameter_order=True), term_rows
            )
        )
    for item in record["attendance"]:
        carried.append(_carry(
            entry, sid, "attendance", item, item["on_day"], item["mark"],
            lesson_no=item.get("lesson_no"), excused=item.get("excused", False),
        ))  # fmt: skip
    for item in record["remarks"]:
        carried.append(_carry(entry, sid, "remark", item, item["on_day"], item["kind"],
                              text=item.get("text")))  # fmt: skip
    if carried:
        session.execute(insert(CarriedRecord), carried)
    summary.grades_mapped = len(grade_rows)
    summary.term_grades_mapped = len(term_rows)
    summary.carried = len(carried)
    session.flush()


def _fingerprint(session: Session, student_id: int) -> dict[str, str]:
    """A digest of every row of the student's records (one query)."""
    parts = [
        f"SELECT '{table}', count(*) || ':' || "
        f"coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
        f"FROM {table} t WHERE t.student_id = :sid"
        for table in _WATCHED_TABLES
    ]
    return dict(session.execute(text(" UNION ALL ".join(parts)), {"sid": student_id}).all())


def claim_student(
    session: Session,
    account: Account,
    school: School,
    *,
    pool_id: int,
    class_id: int,
    today: date,
) -> ClaimSummary:
    """The receiving school (the session is bound to it) takes the student into ``class_id``.

    The director or the administrator. In the caller's one transaction: the pool row is taken
    by a conditional update (exactly one school wins a race; the loser gets a ServiceError),
    the student is enrolled (an earlier student of this school with the same account or
    personal code comes back on their own record), guardians are linked with their accounts
    and roles, the history is carried over (``_carry_history``) and a ``claimed`` log row
    keeps what was made, for a return. Only the pool's record is read, never the leaving
    school's schema.
    """
    _require_claimer(account, school)
    school_class = _class_of_this_year(session, class_id, today)
    entry = _take(session, account, school, pool_id)
    created = _Created()
    student = _enrol(session, school, entry, school_class, today, created)
    _link_guardians(session, school, entry, student, created)
    record = entry.record
    summary = ClaimSummary(
        pool_id=entry.id, school=school.slug, student_id=student.person_id,
        class_name=school_class.name, grades=len(record["grades"]),
        term_grades=len(record["term_grades"]), attendance=len(record["attendance"]),
        remarks=len(record["remarks"]),
    )  # fmt: skip
    _carry_history(session, account, entry, student, school_class, summary, created)
    entry.claimed_person_id = student.person_id
    session.flush()
    _log(
        session, entry, "claimed", account, school.id,
        claimed_on=today.isoformat(), class_id=school_class.id, class_name=school_class.name,
        counts=summary.as_dict(),
        created=created.__dict__, fingerprint=_fingerprint(session, student.person_id),
    )  # fmt: skip
    notify_claimed(session, entry, actor_id=account.id)
    return summary


def claim_by_class_name(
    session: Session,
    account: Account,
    school: School,
    *,
    pool_id: int,
    class_name: str,
    today: date,
) -> ClaimSummary:
    """``claim_student`` with the class named as people write it ("5a")."""
    year = current_year(session, today)
    wanted = (class_name or "").strip().lower()
    found = None
    if year is not None:
        found = next(
            (
                c
                for c in session.scalars(select(SchoolClass).where(SchoolClass.year_id == year.id))
                if c.name.lower() == wanted
            ),
            None,
        )
    if found is None:
        raise ServiceError(
            _("There is no class “%(name)s” this school year.", name=class_name), field="class_id"
        )
    return claim_student(session, account, school, pool_id=pool_id, class_id=found.id, today=today)


# --- returning a mistaken claim -----------------------------------------------------------------


def _release_role(session: Session, school: School, account_id: int, role: Role) -> None:
    holder = session.get(Account, account_id)
    if holder is not None:
        revoke_role(session, holder, school, role)


def return_to_pool(
    session: Session, account: Account, school: School, *, pool_id: int, today: date
) -> PoolEntry:
    """Undo a mistaken claim (the director or the administrator of the claiming school).

    Within RETURN_DAYS days of the claim, and only while nothing was written about the
    student here since (their grades, term grades, attendance, remarks and
    excuses are exactly as the claim left them): what the claim made is removed (mapped
    grades and their history, term grades, carried records, guardian links and the people
    and roles it added; the student, or, for a returning former student, their old leaving
    state is restored) and the entry waits in the pool again.
    """
    _require_claimer(account, school)
    entry = session.scalars(
        select(PoolEntry)
        .where(PoolEntry.id == pool_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if entry is None:
        raise NotFound(_("There is no such student in the pool."))
    if entry.status != "claimed" or entry.claimed_school_id != school.id:
        raise ServiceError(_("Only a student your school claimed can be returned to the pool."))
    claim = session.scalars(
        select(TransferLog)
        .where(TransferLog.pool_id == entry.id, TransferLog.action == "claimed",
               TransferLog.to_school_id == school.id)
        .order_by(TransferLog.id.desc())
        .limit(1)
    ).one()  # fmt: skip
    if (today - date.fromisoformat(claim.details["claimed_on"])).days > RETURN_DAYS:
        raise ServiceError(
            ngettext(
                "A claim can be returned to the pool only within %(num)d day.",
                "A claim can be returned to the pool only within %(num)d days.",
                RETURN_DAYS,
            )
        )
    sid = entry.claimed_person_id
    if _fingerprint(session, sid) != claim.details["fingerprint"]:
        raise ServiceError(
            _("The student already has records written in this school: the claim cannot be "
              "returned. Ask the leaving school or the municipality to arrange the transfer.")
        )  # fmt: skip
    made = claim.details["created"]
    if made["grade_ids"]:
        session.execute(delete(GradeChange).where(GradeChange.grade_id.in_(made["grade_ids"])))
        session.execute(delete(Grade).where(Grade.id.in_(made["grade_ids"])))
    if made["term_grade_ids"]:
        session.execute(delete(TermGrade).where(TermGrade.id.in_(made["term_grade_ids"])))
    session.execute(
        delete(CarriedRecord).where(
            CarriedRecord.pool_id == entry.id, CarriedRecord.student_id == sid
        )
    )
    if made["guardianships"]:
        session.execute(delete(Guardianship).where(Guardianship.id.in_(made["guardianships"])))
    for account_id in made["guardian_roles"]:
        _release_role(session, school, account_id, Role.GUARDIAN)
    student = session.get(Student, sid)
    person_account = student.person.account_id
    if made["student_role_granted"] and person_account is not None:
        _release_role(session, school, person_account, Role.STUDENT)
    if made["person_created"]:
        session.delete(student)
        session.flush()
        session.delete(session.get(Person, sid))
    elif made["previous"] is not None:
        previous = made["previous"]
        if made["group_ids"]:
            session.execute(
                delete(GroupStudent).where(
                    GroupStudent.student_id == sid, GroupStudent.group_id.in_(made["group_ids"])
                )
            )
        student.status, student.class_id = "left", previous["class_id"]
        student.enrolled_on = date.fromisoformat(previous["enrolled_on"])
        student.left_on = date.fromisoformat(previous["left_on"]) if previous["left_on"] else None
    else:  # a person of this school (staff, guardian) who had been made a student
        session.delete(student)
    session.flush()
    for person_id in made["guardian_people"]:
        links = select(func.count()).select_from(Guardianship)
        rights = select(func.count()).select_from(StaffRight)
        unused = (
            not session.scalar(links.where(Guardianship.guardian_id == person_id))
            and not session.scalar(rights.where(StaffRight.person_id == person_id))
            and session.get(Student, person_id) is None
        )
        guardian = session.get(Person, person_id)
        holder = _account_or_none(session, guardian.account_id) if guardian else None
        staff = holder is not None and roles_in_school(holder, school) & STAFF_ROLES
        if guardian is not None and unused and not staff:
            session.delete(guardian)
    entry.status = "in_pool"
    entry.claimed_school_id = entry.claimed_at = entry.claimed_by = None
    entry.claimed_person_id = None
    session.flush()
    _log(session, entry, "returned", account, school.id, returned_from=school.id)
    return entry


# --- the extract --------------------------------------------------------------------------------


def record_extract(session: Session, entry: PoolEntry, *, pdf: bytes, locale: str) -> None:
    """Store the rendered extract on the entry and log ``extract_ready`` (idempotent: a job
    that runs twice logs once)."""
    first = entry.extract_ready_at is None
    entry.extract_pdf, entry.extract_locale = pdf, locale
    entry.extract_ready_at = datetime.now(UTC)
    session.flush()
    if first:
        _log(session, entry, "extract_ready", None, entry.to_school_id, locale=locale)


def _dates(items: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    return [
        {k: (date.fromisoformat(v) if k in keys and v else v) for k, v in item.items()}
        for item in items
    ]


def extract_record(entry: PoolEntry) -> dict[str, Any]:
    """What the extract PDF shows: the record (dates as ``date``) with the leaving facts,
    grades grouped by subject (code → {"name", "grades": [...]}, in code order)."""
    record = entry.record
    grades = _dates(record["grades"], "on_day")
    by_subject: dict[str, dict[str, Any]] = {}
    for item in grades:
        subject = by_subject.setdefault(
            item["subject_code"], {"name": item["subject_name"], "grades": [], "term_grades": []}
        )
        subject["grades"].append(item)
    for item in record["term_grades"]:
        by_subject.setdefault(
            item["subject_code"], {"name": item["subject_name"], "grades": [], "term_grades": []}
        )["term_grades"].append(item)
    student = dict(record["student"])
    for key in ("birth_date", "enrolled_on", "left_on"):
        student[key] = date.fromisoformat(student[key]) if student.get(key) else None
    return {
        "pool_id": entry.id,
        "school": record["school"],
        "student": student,
        "guardians": record["guardians"],
        "year": record["year"],
        "left_on": entry.left_on,
        "reason": entry.reason,
        "destination_kind": entry.destination_kind,
        "to_school_id": entry.to_school_id,
        "subjects": dict(sorted(by_subject.items())),
        "grades": grades,
        "term_grades": record["term_grades"],
        "attendance": _dates(record["attendance"], "on_day"),
        "remarks": _dates(record["remarks"], "on_day"),
        "excuses": _dates(record["excuses"], "from_day", "to_day"),
    }


# --- oversight ----------------------------------------------------------------------------------


def pool_overview(session: Session, today: date) -> PoolOverview:
    """For the municipality: counts by status and entries unclaimed for > STALE_DAYS. Two
    queries."""
    counts = {"in_pool": 0, "claimed": 0}
    counts.update(
        session.execute(select(PoolEntry.status, func.count()).group_by(PoolEntry.status)).all()
    )
    stale = search_pool(session, min_days=STALE_DAYS + 1, today=today)
    return PoolOverview(counts=counts, stale=stale)


def transfer_log_rows(
    session: Session,
    *,
    school_id: int | None = None,
    pool_id: int | None = None,
    limit: int = 200,
) -> list[LogRow]:
    """The transfer log, newest first (optionally one school's steps, from or to it, or one
    entry's). One query."""
    source, target = aliased(School), aliased(School)
    query = (
        select(TransferLog, PoolEntry.first_name, PoolEntry.last_name, Account.name,
               source.name, target.name)
        .join(PoolEntry, PoolEntry.id == TransferLog.pool_id)
        .outerjoin(Account, Account.id == TransferLog.actor_id)
        .outerjoin(source, source.id == TransferLog.from_school_id)
        .outerjoin(target, target.id == TransferLog.to_school_id)
        .order_by(TransferLog.at.desc(), TransferLog.id.desc())
        .limit(limit)
    )  # fmt: skip
    if school_id is not None:
        query = query.where(
            or_(TransferLog.from_school_id == school_id, TransferLog.to_school_id == school_id)
        )
    if pool_id is not None:
        query = query.where(TransferLog.pool_id == pool_id)
    return [
        LogRow(log, f"{first} {last}", actor, from_name, to_name)
        for log, first, last, actor, from_name, to_name in session.execute(query)
    ]
