"""Leaving, the unassigned-students pool, claiming and returning a mistaken claim.

Every function runs in the caller's transaction and only flushes; the request or command
commits once. ``leave_student`` runs bound to the leaving school, ``claim_student`` and
``return_to_pool`` bound to the receiving school, ``search_pool`` / ``pool_overview`` /
``transfer_log_rows`` in any transaction (they read only ``public``). The pool row's
``record`` is the only thing a claim reads about the student's past: the receiving school's
role cannot read the leaving school's schema. See docs/transfers.md for the choices.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, NoReturn

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import (
    BigInteger,
    Integer,
    Table,
    and_,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    join,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.selectable import TableValuedAlias

from accounts.identity import Principal
from accounts.models import STAFF_ROLES, Account, Role, SchoolGrant
from accounts.services import revoke_role, roles_in_school
from dienynas import clock
from dienynas.database import prefix_pattern
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from gradebook.access import diary_student_ids, own_person_id
from gradebook.attendance.models import Attendance, Excuse
from gradebook.grades.models import Grade, GradeChange, TermGrade
from gradebook.lessons.models import Lesson
from gradebook.remarks.models import Remark
from notifications.transfers import notify_claimed, notify_incoming
from school.calendar.models import SchoolYear, Term
from school.calendar.services import list_years, year_before
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.curriculum.models import AssessmentKind, GradeScale, Subject
from school.curriculum.services import grade_label
from school.people.models import Guardianship, Person, StaffRight, Student
from school.people.names import person_order
from school.people.services import get_student, headed_class_ids, open_classes, remove_student
from tenants.models import School, SchoolStatus
from transfers.models import DESTINATION_KINDS, CarriedRecord, PoolEntry, TransferLog

#: A claim may be returned to the pool within this many days.
DESTINATION_LABELS = {
    "municipality": _l("A school of this municipality"),
    "elsewhere": _l("A school elsewhere"),
    "abroad": _l("Abroad"),
}
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


def may_see_pool(account: Principal, school: School) -> bool:
    """The administrator and the director (heads) of any school see and search the pool."""
    return bool(roles_in_school(account, school) & {Role.ADMIN, Role.DIRECTOR})


def may_claim(account: Principal, school: School) -> bool:
    """The administrator and the director (or deputy) of the receiving school claim students."""
    return may_see_pool(account, school)


def _require_claimer(account: Principal, school: School) -> None:
    if not may_claim(account, school):
        raise PermissionDenied(
            _("Only the school's director and e-diary administrator may claim students.")
        )


def may_read_record(account: Principal, school: School, entry: PoolEntry) -> bool:
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


def history_year(
    session: Session, school_class: SchoolClass | None, left_on: date | None
) -> SchoolYear | None:
    """The school year whose history a leaving student takes along: their class's year, or,
    when that year had not started on the leaving day (the classes were moved up in the
    summer), the finished year before it, whose grades and year grades the next school needs.
    """
    if school_class is None:
        return None
    year = session.get(SchoolYear, school_class.year_id)
    if year is not None and left_on is not None and left_on < year.starts_on:
        return year_before(list_years(session), year) or year
    return year


def build_record(session: Session, school: School, student: Student) -> dict[str, Any]:
    """The student's portable record (see ``transfers.models``) read from ``school``'s tables
    (the session is bound to it): the history of the school year the student studied in
    (:func:`history_year`). Seven queries, eight when the student leaves in the summer."""
    person = student.person
    school_class = session.get(SchoolClass, student.class_id) if student.class_id else None
    year = history_year(session, school_class, student.left_on)
    guardians = session.execute(
        select(Guardianship.relation, Person)
        .join(Person, Person.id == Guardianship.guardian_id)
        .where(Guardianship.student_id == student.person_id)
        .order_by(*person_order())
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
            "term_number": term_number, "origin": grade.origin,
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


#: (table, "count:md5 of its rows") for each of the student's watched tables.
_FINGERPRINT_ROWS = " UNION ALL ".join(
    f"SELECT '{table}' AS t, count(*) || ':' || "
    f"coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') AS digest "
    f"FROM {table} r WHERE r.student_id = :sid"
    for table in _WATCHED_TABLES
)
_FINGERPRINT = text(_FINGERPRINT_ROWS)
_LOG = insert(TransferLog.__table__)
#: The log row with ``details.fingerprint`` computed in the same statement.
_LOG_WITH_FINGERPRINT = text(
    "INSERT INTO public.transfer_log (pool_id, action, actor_id, from_school_id, to_school_id, "
    "details) SELECT CAST(:pool_id AS bigint), CAST(:action AS varchar), "
    "CAST(:actor_id AS bigint), CAST(:from_school_id AS bigint), CAST(:to_school_id AS bigint), "
    "CAST(:details AS jsonb) || jsonb_build_object('fingerprint', jsonb_object_agg(f.t, f.digest)) "
    f"FROM ({_FINGERPRINT_ROWS}) f"
).bindparams(bindparam("details", type_=JSONB))


def _log(
    session: Session,
    entry: PoolEntry,
    action: str,
    actor: Account | None,
    to_school_id: int | None,
    *,
    fingerprint_of: int | None = None,
    **details: Any,
) -> None:
    """A ``transfer_log`` row (one INSERT, after flushing what the step wrote);
    ``fingerprint_of``: with ``details["fingerprint"]``, that student's ``_fingerprint``
    taken by the same statement."""
    session.flush()
    values = {
        "pool_id": entry.id,
        "action": action,
        "actor_id": actor.id if actor is not None else None,
        "from_school_id": entry.from_school_id,
        "to_school_id": to_school_id,
        "details": details,
    }
    if fingerprint_of is None:
        session.execute(_LOG, values)
    else:
        session.execute(_LOG_WITH_FINGERPRINT, {**values, "sid": fingerprint_of})


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
    account: Principal,
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
    if waiting_in_pool(session, school.id, [student.person_id]):
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


def waiting_in_pool(session: Session, school_id: int, person_ids: Iterable[int]) -> set[int]:
    """Which of the persons (ids in the school ``school_id``) left it and wait in the pool,
    not claimed yet."""
    return set(
        session.scalars(
            select(PoolEntry.student_person_id).where(
                PoolEntry.from_school_id == school_id,
                PoolEntry.student_person_id.in_(list(person_ids)),
                PoolEntry.status == "in_pool",
            )
        )
    )


def _days_in_pool(entered_at: datetime, today: date) -> int:
    return max((today - clock.local_date(entered_at)).days, 0)


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
        pattern = prefix_pattern(word)
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
        # entered before the municipality's midnight that starts the (min_days - 1)th day back
        since = datetime.combine(today - timedelta(days=min_days - 1), time(), clock.zone())
        query = query.where(PoolEntry.entered_at < since)
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

#: A claim holds a transaction-level advisory lock on (this key, the entry's id) until it
#: commits or rolls back: a second claim of the same entry does not get it and is refused at
#: once instead of queueing behind the first on the row's lock.
_CLAIM_LOCK_KEY = "transfers.claim"


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


@dataclass(eq=False)
class _Someone:
    """A person of the receiving school the claim needs: one found here (``found``: their
    row, with their student row's columns when they have one), or one the claim makes
    (``row``: the ``people`` row to insert; ``id`` once inserted)."""

    id: int | None
    account_id: int | None
    found: Row | None = None
    row: dict[str, Any] | None = None


@dataclass
class _People:
    """The claimed student (enrolled) and their guardians here, with the relation to link."""

    student: _Someone
    guardians: list[tuple[_Someone, str]]


# The claim's statements are built once: a claim then pays neither their construction nor
# their cache key, only their execution (a claim is timed by bench/transfers.py).

_pool = PoolEntry.__table__
_people = Person.__table__
_students = Student.__table__
_memberships = GroupStudent.__table__

#: The entry, the result of trying the claim's advisory lock on it, and the class asked for
#: with its school year if that year has not ended (this school year, or the next one for a
#: claim in the summer), else None twice: one statement.
_TAKE = (
    select(
        PoolEntry,
        func.pg_try_advisory_xact_lock(
            func.hashtext(_CLAIM_LOCK_KEY), cast(PoolEntry.id % 2**31, Integer)
        ),
        SchoolClass,
        SchoolYear,
    )
    .select_from(PoolEntry)
    .outerjoin(
        join(SchoolClass, SchoolYear, SchoolYear.id == SchoolClass.year_id),
        and_(SchoolClass.id == bindparam("class_id"), SchoolYear.ends_on >= bindparam("today")),
    )
    .where(PoolEntry.id == bindparam("pool_id"))
    .execution_options(populate_existing=True)
)
_MARK_CLAIMED = (
    update(_pool)
    .where(_pool.c.id == bindparam("entry"), _pool.c.status == "in_pool")
    .values(status="claimed", claimed_school_id=bindparam("school"), claimed_at=func.now(),
            claimed_by=bindparam("actor"), claimed_person_id=bindparam("person"))
    .returning(_pool.c.claimed_at)
)  # fmt: skip
_CLAIMED_BY = select(_pool.c.claimed_school_id).where(_pool.c.id == bindparam("entry"))
_ACCOUNTS = select(Account.id).where(Account.id.in_(bindparam("ids", expanding=True)))
_PEOPLE_HERE = (
    select(
        _people.c.id, _people.c.account_id, _people.c.personal_code, _people.c.first_name,
        _people.c.last_name, _students.c.person_id.label("student_id"), _students.c.status,
        _students.c.class_id, _students.c.enrolled_on, _students.c.left_on,
    )
    .outerjoin(_students, _students.c.person_id == _people.c.id)
    .where(or_(_people.c.account_id.in_(bindparam("accounts", expanding=True)),
               _people.c.personal_code.in_(bindparam("codes", expanding=True))))
)  # fmt: skip
_LINK_ACCOUNT = (
    update(_people).where(_people.c.id == bindparam("person")).values(account_id=bindparam("to"))
)
_RETURN_STUDENT = (
    update(_students)
    .where(_students.c.person_id == bindparam("person"))
    .values(status="active", class_id=bindparam("class"), enrolled_on=bindparam("day"),
            left_on=None)
)  # fmt: skip
_ENROL = insert(_students)
_JOIN_CLASS_GROUPS = (
    insert(_memberships)
    .from_select(
        ["group_id", "student_id"],
        select(Group.id, bindparam("student", type_=BigInteger)).where(
            Group.class_id == bindparam("class_id"),
            Group.kind == "class",
            Group.id.not_in(
                select(_memberships.c.group_id).where(
                    _memberships.c.student_id == bindparam("student")
                )
            ),
        ),
    )
    .returning(_memberships.c.group_id)
)
_GROUPS_OF_STUDENT = (
    select(Group.id, Subject.code, Subject.name, GradeScale.code)
    .join(Subject, Subject.id == Group.subject_id)
    .join(GradeScale, GradeScale.id == Subject.scale_id)
    .join(_memberships, _memberships.c.group_id == Group.id)
    .where(_memberships.c.student_id == bindparam("student"), Group.year_id == bindparam("year"))
    .order_by(Group.kind != "class", Group.id)
)
_TERMS = (
    select(Term.id, Term.number, Term.kind, Term.starts_on, Term.ends_on)
    .where(Term.year_id == bindparam("year"))
    .order_by(Term.number)
)
_KINDS = select(AssessmentKind.code, AssessmentKind.id)
_TAKEN_TERMS = select(TermGrade.group_id, TermGrade.term_id).where(
    TermGrade.student_id == bindparam("student")
)


def _expire_cached(session: Session, model: type, ident: int, *attributes: str) -> None:
    """Objects loaded earlier in the transaction reload what a Core UPDATE changed."""
    held = session.identity_map.get(identity_key(model, ident))
    if held is not None:
        session.expire(held, list(attributes) or None)


@cache
def _recordset(table: Table, names: tuple[str, ...]) -> TableValuedAlias:
    """``jsonb_to_recordset(:rows)`` typed like ``table``'s columns ``names`` (plus ``n``,
    the row's place): many rows as one bound JSON value."""
    return (
        func.jsonb_to_recordset(bindparam("rows", type_=JSONB))
        .table_valued(*(column(name, table.c[name].type) for name in names), column("n", Integer))
        .render_derived(name="r", with_types=True)
    )


def _rows_param(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``rows`` parameter of a ``_recordset`` (``n``: their order). The rows hold JSON
    values: dates as ISO text."""
    return {"rows": [{**row, "n": n} for n, row in enumerate(rows)]}


@cache
def _insert_statement(table: Table, names: tuple[str, ...], on_conflict: bool = False) -> Any:
    """INSERT … SELECT … FROM ``_recordset`` ORDER BY n RETURNING id: one statement however
    many rows (an executemany would send one INSERT a row); ``on_conflict``: rows that
    would break a unique constraint are skipped (DO NOTHING)."""
    source = _recordset(table, names)
    rows = select(*(source.c[name] for name in names)).order_by(source.c.n)
    statement = (pg_insert if on_conflict else insert)(table).from_select(list(names), rows)
    if on_conflict:
        statement = statement.on_conflict_do_nothing()
    return statement.returning(table.c.id)


def _insert_rows(
    session: Session, table: Table, rows: list[dict[str, Any]], *, on_conflict: bool = False
) -> list[int]:
    """INSERT ``rows`` (dicts with the same keys) into ``table`` in one statement; the new ids
    in the order of ``rows`` (they come from the table's sequence as the rows are inserted in
    that order, so sorting them restores it; with ``on_conflict``, of those inserted)."""
    statement = _insert_statement(table, tuple(rows[0]), on_conflict)
    return sorted(session.scalars(statement, _rows_param(rows)))


@cache
def _grant_statement() -> Any:
    """INSERT the asked (account, role) grants in the school, for accounts that exist, except
    those held already; RETURNING those granted."""
    grants = SchoolGrant.__table__
    asked = _recordset(grants, ("account_id", "role"))
    return (
        pg_insert(grants)
        .from_select(
            ["account_id", "school_id", "role"],
            select(Account.id, bindparam("school", type_=BigInteger), asked.c.role).join(
                asked, asked.c.account_id == Account.id
            ),
        )
        .on_conflict_do_nothing()
        .returning(grants.c.account_id, grants.c.role)
    )


@cache
def _grades_statement(names: tuple[str, ...]) -> Any:
    """The mapped grades and their history's "create" rows in one statement: the grades'
    INSERT in a WITH, the history's INSERT … SELECT from what it returned; RETURNING the
    grades' ids."""
    grades, changes = Grade.__table__, GradeChange.__table__
    source = _recordset(grades, names)
    made = (
        insert(grades)
        .from_select(list(names), select(*(source.c[n] for n in names)).order_by(source.c.n))
        .returning(grades.c.id, grades.c.student_id, grades.c.group_id, grades.c.on_day,
                   grades.c.value, grades.c.kind_id, grades.c.comment, grades.c.created_by)
        .cte("made")
    )  # fmt: skip
    return (
        insert(changes)
        .from_select(
            ["grade_id", "student_id", "group_id", "on_day", "action", "new_value",
             "new_kind_id", "new_comment", "changed_by", "after_lock"],
            select(made.c.id, made.c.student_id, made.c.group_id, made.c.on_day,
                   literal("create"), made.c.value, made.c.kind_id, made.c.comment,
                   made.c.created_by, literal(False)),
        )
        .add_cte(made)
        .returning(changes.c.grade_id)
    )  # fmt: skip


def _refuse_claimed(claimed_school_id: int | None, school: School) -> NoReturn:
    if claimed_school_id == school.id:
        raise ServiceError(_("Your school has already claimed this student."))
    raise ServiceError(_("This student has already been claimed by another school."))


def _take(
    session: Session, school: School, pool_id: int, class_id: int | None, today: date
) -> tuple[PoolEntry, SchoolClass, SchoolYear]:
    """The entry, the class it goes into and the class's school year, while the entry waits
    in the pool and no other claim of it is under way. One query reads them and tries the
    claim's advisory lock on the entry; it never waits for another transaction. A class of a
    year that has ended is refused; a claimed entry as claimed; a locked one (another school,
    or another user of this school, is claiming it in a transaction not committed yet) as
    being claimed right now. The race itself is decided later by ``_mark_claimed``."""
    found = session.execute(
        _TAKE, {"pool_id": pool_id, "class_id": class_id or 0, "today": today}
    ).one_or_none()
    if found is None:
        raise NotFound(_("There is no such student in the pool."))
    entry, locked, school_class, year = found
    if school_class is None:
        raise ServiceError(
            _("Choose a class of this school year or of the next one."), field="class_id"
        )
    if entry.status != "in_pool":
        _refuse_claimed(entry.claimed_school_id, school)
    if not locked:
        raise ServiceError(
            _("Another school or user is claiming this student right now. If that claim does "
              "not go through, the student stays in the pool.")
        )  # fmt: skip
    return entry, school_class, year


def _mark_claimed(
    session: Session, account: Principal, school: School, entry: PoolEntry, person_id: int
) -> None:
    """The one conditional UPDATE that decides a race: the entry becomes claimed by ``school``
    only if it still waits. A claim that got the advisory lock just after another one
    committed matches no row here and is refused (the caller rolls back what it wrote)."""
    claimed_at = session.execute(
        _MARK_CLAIMED,
        {"entry": entry.id, "school": school.id, "actor": account.id, "person": person_id},
    ).scalar()
    if claimed_at is None:
        _refuse_claimed(session.scalar(_CLAIMED_BY, {"entry": entry.id}), school)
    for key, value in (("status", "claimed"), ("claimed_school_id", school.id),
                       ("claimed_at", claimed_at), ("claimed_by", account.id),
                       ("claimed_person_id", person_id)):  # fmt: skip
        set_committed_value(entry, key, value)


def _account_or_none(session: Session, account_id: int | None) -> Account | None:
    return session.get(Account, account_id) if account_id else None


def _person_row(data: dict[str, Any], account_id: int | None) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "first_name": data["first_name"],
        "last_name": data["last_name"],
        "birth_date": data.get("birth_date") or None,
        "document_kind": data.get("document_kind") or "other",
        "personal_code": data.get("personal_code"),
        "document_number": data.get("document_number"),
        "email": data.get("email"),
        "phone": data.get("phone"),
        "locale": data.get("locale"),
    }


def _find_people(session: Session, record: dict[str, Any]) -> _People:
    """The student and the guardians of ``record`` among this school's people (two queries):
    a person with the same account (one that exists), else with the same personal code; else
    a new person, linked to the same account. A person found by code keeps their own account
    link (or gets this one when they had none). A guardian who turns out to be the student
    is left out; two guardians who are one person are linked once."""
    data, guardians = record["student"], record["guardians"]
    everyone = [data, *guardians]
    wanted = [d["account_id"] for d in everyone if d.get("account_id")]
    accounts = set(session.scalars(_ACCOUNTS, {"ids": wanted})) if wanted else set()
    codes = [d["personal_code"] for d in everyone if d.get("personal_code")]
    by_account: dict[int, _Someone] = {}
    by_code: dict[str, _Someone] = {}
    if accounts or codes:
        for row in session.execute(_PEOPLE_HERE, {"accounts": list(accounts), "codes": codes}):
            someone = _Someone(row.id, row.account_id, found=row)
            if row.account_id is not None:
                by_account[row.account_id] = someone
            if row.personal_code:
                by_code[row.personal_code] = someone

    def here(item: dict[str, Any]) -> _Someone:
        account_id = item.get("account_id") if item.get("account_id") in accounts else None
        code = item.get("personal_code")
        someone = (by_account.get(account_id) if account_id else None) or (
            by_code.get(code) if code else None
        )
        if someone is None:
            someone = _Someone(None, account_id, row=_person_row(item, account_id))
        elif someone.found is not None and someone.account_id is None and account_id:
            session.execute(_LINK_ACCOUNT, {"person": someone.id, "to": account_id})
            _expire_cached(session, Person, someone.id, "account_id")
            someone.account_id = account_id
        if someone.account_id:
            by_account.setdefault(someone.account_id, someone)
        if code:
            by_code.setdefault(code, someone)
        return someone

    student = here(data)
    people = _People(student, [])
    for item in guardians:
        guardian = here(item)
        if guardian is not student:
            people.guardians.append((guardian, item.get("relation") or "other"))
    return people


def _enrol(
    session: Session,
    school: School,
    entry: PoolEntry,
    school_class: SchoolClass,
    today: date,
    created: _Created,
) -> _People:
    """The student here, active in ``school_class`` and its whole-class groups, and their
    guardians found or made (not linked yet). An active student of this school is refused; a
    student who left this school earlier comes back on their own record (the old state is
    kept for a return); anyone else found becomes a student. New people are inserted in one
    statement, the student row in one, the group memberships in one (INSERT … SELECT)."""
    session.flush()  # the Core statements below read and write past the session
    people = _find_people(session, entry.record)
    student = people.student
    found = student.found
    if found is not None and found.student_id is not None and found.status == "active":
        raise ServiceError(
            _("%(name)s is already a student of this school.",
              name=f"{found.first_name} {found.last_name}")
        )  # fmt: skip
    new: list[_Someone] = []
    for someone in [student, *(guardian for guardian, _relation in people.guardians)]:
        if someone.row is not None and someone not in new:
            new.append(someone)
    if new:
        ids = _insert_rows(session, _people, [someone.row for someone in new])
        for someone, person_id in zip(new, ids, strict=True):
            someone.id = person_id
    created.person_created = student.row is not None
    created.guardian_people = [s.id for s in new if s is not student]
    if found is None or found.student_id is None:
        session.execute(
            _ENROL,
            {"person_id": student.id, "class_id": school_class.id, "status": "active",
             "enrolled_on": today},
        )  # fmt: skip
    else:  # a student who left this school earlier comes back
        created.previous = {
            "class_id": found.class_id, "enrolled_on": _iso(found.enrolled_on),
            "left_on": _iso(found.left_on),
        }  # fmt: skip
        session.execute(
            _RETURN_STUDENT, {"person": student.id, "class": school_class.id, "day": today}
        )
        _expire_cached(session, Student, student.id)
    created.group_ids = list(
        session.scalars(_JOIN_CLASS_GROUPS, {"student": student.id, "class_id": school_class.id})
    )
    return people


def _link_guardians(session: Session, people: _People, created: _Created) -> None:
    """A guardianship with the record's relation for each guardian not linked yet (one
    statement)."""
    links: dict[int, dict[str, Any]] = {}
    for guardian, relation in people.guardians:
        links.setdefault(
            guardian.id,
            {"guardian_id": guardian.id, "student_id": people.student.id, "relation": relation},
        )
    if links:
        created.guardianships = _insert_rows(
            session, Guardianship.__table__, list(links.values()), on_conflict=True
        )


def _grant_roles(session: Session, school: School, people: _People, created: _Created) -> None:
    """The student role to the student's account and the guardian role to the guardians'
    accounts, where not held yet (one statement; accounts that do not exist are skipped).
    Accounts already in the session have their grants reloaded on next use."""
    wanted: dict[tuple[int, str], None] = {}
    if people.student.account_id:
        wanted[(people.student.account_id, Role.STUDENT.value)] = None
    for guardian, _relation in people.guardians:
        if guardian.account_id:
            wanted[(guardian.account_id, Role.GUARDIAN.value)] = None
    if not wanted:
        return
    asked = [{"account_id": account_id, "role": role} for account_id, role in wanted]
    granted = set(
        session.execute(_grant_statement(), {"school": school.id, **_rows_param(asked)}).all()
    )
    created.student_role_granted = (people.student.account_id, Role.STUDENT.value) in granted
    created.guardian_roles = [
        account_id
        for account_id, role in wanted
        if role == Role.GUARDIAN.value and (account_id, role) in granted
    ]
    for account_id, _role in wanted:
        _expire_cached(session, Account, account_id, "grants")


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
        "on_day": day, "value": value,
        "details": details, "from_school_name": pool.record["school"]["name"],
    }  # fmt: skip


def _carry_history(
    session: Session,
    account: Principal,
    entry: PoolEntry,
    people: _People,
    year: SchoolYear,
    summary: ClaimSummary,
    created: _Created,
) -> None:
    """Grades and term grades into this school's groups of the class (of ``year``) where the
    subject matches (by code, then by name, with the same scale) and a term holds the day
    (a grade) or the record's school year is ``year`` (a term or year grade: last year's
    results are never this year's); the rest, attendance and remarks as carried records.
    Reads the student's groups (none to read for a new student in a class without groups),
    then the terms and assessment kinds only when something maps; each kind of row is one
    INSERT."""
    record, sid = entry.record, people.student.id
    from_school = record["school"]["name"]
    found = people.student.found
    new_student = found is None or found.student_id is None
    scales = {s["code"]: s["scale"]["code"] for s in record["subjects"]}
    by_code: dict[str, int] = {}
    by_name: dict[str, int] = {}
    scale_of: dict[int, str] = {}
    if created.group_ids or not new_student:
        for group_id, code, name, scale in session.execute(
            _GROUPS_OF_STUDENT, {"student": sid, "year": year.id}
        ):
            by_code.setdefault(code, group_id)
            by_name.setdefault(name.casefold(), group_id)
            scale_of[group_id] = scale

    def group_for(item: dict[str, Any]) -> int | None:
        group_id = by_code.get(item["subject_code"]) or by_name.get(
            (item.get("subject_name") or "").casefold()
        )
        if group_id is None or scale_of[group_id] != scales.get(item["subject_code"]):
            return None
        return group_id

    grade_groups = [group_for(item) for item in record["grades"]]
    term_groups = (
        [group_for(item) for item in record["term_grades"]]
        if _same_year(record["year"], year)
        else [None] * len(record["term_grades"])
    )
    terms: list[Any] = []
    kinds: dict[str, int] = {}
    if any(grade_groups) or any(term_groups):
        terms = session.execute(_TERMS, {"year": year.id}).all()
    if any(grade_groups):
        kinds = dict(session.execute(_KINDS).all())

    def term_of(day: date) -> Any:
        return next((t for t in terms if t.starts_on <= day <= t.ends_on), None)

    carried: list[dict[str, Any]] = []
    grade_rows: list[dict[str, Any]] = []
    for item, group_id in zip(record["grades"], grade_groups, strict=True):
        day = date.fromisoformat(item["on_day"])
        term = term_of(day) if group_id is not None else None
        if term is None:
            carried.append(_carry(
                entry, sid, "grade", item, item["on_day"], item["value"],
                label=item.get("label"), kind_code=item.get("kind_code"),
                kind_name=item.get("kind_name"), comment=item.get("comment"),
                group_name=item.get("group_name"), term_number=item.get("term_number"),
                origin=item.get("origin"),
            ))  # fmt: skip
            continue
        grade_rows.append({
            "student_id": sid, "group_id": group_id, "lesson_id": None, "on_day": item["on_day"],
            "term_id": term.id, "value": item["value"], "kind_id": kinds.get(item["kind_code"]),
            # given in the leaving school (or where that school's own record says): shown as
            # such in the journal and the diary, kept out of this school's teachers' figures
            "comment": item.get("comment"), "origin": item.get("origin") or from_school,
            # the command line has no account: the grade keeps its original author's
            "created_by": account.id if account.id is not None else item["created_by"],
        })  # fmt: skip
    if grade_rows:
        created.grade_ids = sorted(
            session.scalars(_grades_statement(tuple(grade_rows[0])), _rows_param(grade_rows))
        )
    # a new student has no term grades here yet
    taken_terms = (
        set()
        if new_student or not any(term_groups)
        else set(session.execute(_TAKEN_TERMS, {"student": sid}).all())
    )
    term_rows: list[dict[str, Any]] = []
    by_number = {t.number: t for t in terms}
    for item, group_id in zip(record["term_grades"], term_groups, strict=True):
        number = item.get("term_number")
        term = by_number.get(number) if number is not None else None
        fits = group_id is not None and (
            number is None or (term is not None and term.kind == item.get("term_kind"))
        )
        key = (group_id, term.id if term else None)
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
            "student_id": sid, "group_id": group_id, "year_id": year.id,
            "term_id": term.id if term else None, "suggested": item.get("suggested"),
            "value": item.get("value"), "comment": item.get("comment"),
            "confirmed_by": None, "confirmed_at": None,
        })  # fmt: skip
    if term_rows:
        created.term_grade_ids = _insert_rows(session, TermGrade.__table__, term_rows)
    for item in record["attendance"]:
        carried.append(_carry(
            entry, sid, "attendance", item, item["on_day"], item["mark"],
            lesson_no=item.get("lesson_no"), excused=item.get("excused", False),
        ))  # fmt: skip
    for item in record["remarks"]:
        carried.append(_carry(entry, sid, "remark", item, item["on_day"], item["kind"],
                              text=item.get("text")))  # fmt: skip
    if carried:
        _insert_rows(session, CarriedRecord.__table__, carried)
    summary.grades_mapped = len(grade_rows)
    summary.term_grades_mapped = len(term_rows)
    summary.carried = len(carried)


def _same_year(recorded: dict[str, str] | None, year: SchoolYear) -> bool:
    """Whether the record's school year (as the leaving school had it) is ``year``: their
    dates overlap (each school sets its own, but two years never overlap)."""
    return (
        recorded is not None
        and date.fromisoformat(recorded["starts_on"]) <= year.ends_on
        and year.starts_on <= date.fromisoformat(recorded["ends_on"])
    )


def _fingerprint(session: Session, student_id: int) -> dict[str, str]:
    """A digest of every row of the student's records (one query)."""
    return dict(session.execute(_FINGERPRINT, {"sid": student_id}).all())


def claim_student(
    session: Session,
    account: Principal,
    school: School,
    *,
    pool_id: int,
    class_id: int,
    today: date,
) -> ClaimSummary:
    """The receiving school (the session is bound to it) takes the student into ``class_id``.

    The director or the administrator. In the caller's one transaction: the entry is read
    under the claim's advisory lock (a claim of an entry already claimed, or being claimed by
    another transaction, is refused at once with a ServiceError), the student is enrolled (an
    earlier student of this school with the same account or personal code comes back on their
    own record), guardians are linked with their accounts and roles, the history is carried
    over (``_carry_history``), the entry is marked claimed by a conditional update (exactly
    one school wins a race) and a ``claimed`` log row keeps what was made, for a return. Only
    the pool's record is read, never the leaving school's schema. A won claim runs at most 20
    statements however long the history (tests/test_transfers.py counts them), a refused one
    1 (after the claimer's own roles are loaded).
    """
    _require_claimer(account, school)
    entry, school_class, year = _take(session, school, pool_id, class_id, today)
    created = _Created()
    people = _enrol(session, school, entry, school_class, today, created)
    _link_guardians(session, people, created)
    _grant_roles(session, school, people, created)
    record = entry.record
    summary = ClaimSummary(
        pool_id=entry.id, school=school.slug, student_id=people.student.id,
        class_name=school_class.name, grades=len(record["grades"]),
        term_grades=len(record["term_grades"]), attendance=len(record["attendance"]),
        remarks=len(record["remarks"]),
    )  # fmt: skip
    _carry_history(session, account, entry, people, year, summary, created)
    _mark_claimed(session, account, school, entry, people.student.id)
    _log(
        session, entry, "claimed", account, school.id, fingerprint_of=people.student.id,
        claimed_on=today.isoformat(), class_id=school_class.id, class_name=school_class.name,
        counts=summary.as_dict(), created=created.__dict__,
    )  # fmt: skip
    notify_claimed(session, entry, school_class.id, actor_id=account.id)
    return summary


def claim_by_class_name(
    session: Session,
    account: Principal,
    school: School,
    *,
    pool_id: int,
    class_name: str,
    today: date,
    year_name: str | None = None,
) -> ClaimSummary:
    """``claim_student`` with the class named as people write it ("5a"): of the school year
    named (a hyphen typed for the dash: "2027-2028"), else of this school year, else of the
    next one that has it."""
    wanted = (class_name or "").strip().lower()
    year_wanted = (year_name or "").strip().replace("-", "–")
    found = next(
        (
            school_class
            for year, classes in open_classes(session, today)
            if year_name is None or year.name.replace("-", "–") == year_wanted
            for school_class in classes
            if school_class.name.lower() == wanted
        ),
        None,
    )
    if found is None:
        if year_name is not None:
            message = _("There is no class “%(name)s” in the school year %(year)s.",
                        name=class_name, year=year_name)  # fmt: skip
        else:
            message = _("There is no class “%(name)s” this school year or the next.",
                        name=class_name)  # fmt: skip
        raise ServiceError(message, field="class_id")
    return claim_student(session, account, school, pool_id=pool_id, class_id=found.id, today=today)


# --- returning a mistaken claim -----------------------------------------------------------------


def _release_role(session: Session, school: School, account_id: int, role: Role) -> None:
    holder = session.get(Account, account_id)
    if holder is not None:
        revoke_role(session, holder, school, role)


def return_to_pool(
    session: Session, account: Principal, school: School, *, pool_id: int, today: date
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


def destination_text(session: Session, entry: PoolEntry) -> str:
    """Where the student went, as the transfer's page and the extract say it: the kind, and
    the school of this municipality when the leaving school named one."""
    label = str(DESTINATION_LABELS.get(entry.destination_kind, ""))
    school = session.get(School, entry.to_school_id) if entry.to_school_id else None
    return f"{label}: {school.name}" if school is not None else label


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


def claim_summary(session: Session, entry: PoolEntry) -> ClaimSummary | None:
    """What the entry's latest claim carried (its log row's counts); None if never claimed."""
    details = session.scalar(
        select(TransferLog.details)
        .where(TransferLog.pool_id == entry.id, TransferLog.action == "claimed")
        .order_by(TransferLog.at.desc(), TransferLog.id.desc())
        .limit(1)
    )
    return ClaimSummary(**details["counts"]) if details else None


@dataclass
class CarriedHistory:
    """A student's carried records (``CarriedRecord``), by kind, as the receiving school
    shows them: grades and remarks by subject and day, term grades by subject and term."""

    schools: list[str]
    grades: list[CarriedRecord]
    term_grades: list[CarriedRecord]
    attendance: list[CarriedRecord]
    remarks: list[CarriedRecord]


def may_read_carried(
    session: Session, account: Principal, school: School, student: Student
) -> bool:
    """Who reads a student's carried history: the administrator and the director, the head of
    the student's class, the teachers of the student's groups (their previous grades matter
    for the term grade), the student and their guardians."""
    if roles_in_school(account, school) & {Role.ADMIN, Role.DIRECTOR}:
        return True
    if student.class_id is not None and student.class_id in headed_class_ids(session, account):
        return True
    if student.person_id in diary_student_ids(session, account):
        return True
    teaches = (
        select(GroupStudent.group_id)
        .join(GroupTeacher, GroupTeacher.group_id == GroupStudent.group_id)
        .where(
            GroupStudent.student_id == student.person_id,
            GroupTeacher.teacher_id == own_person_id(account),
        )
        .exists()
    )
    return bool(session.scalar(select(teaches)))


def carried_history(
    session: Session, account: Principal, school: School, student_id: int
) -> tuple[Student, CarriedHistory]:
    """The student and what came with them from other schools and has no place in this
    school's tables (``_carry_history``); NotFound for no such student, PermissionDenied for
    a reader :func:`may_read_carried` refuses."""
    student = get_student(session, student_id)
    if not may_read_carried(session, account, school, student):
        raise PermissionDenied(_("You do not have access to this student's records."))
    rows = session.scalars(
        select(CarriedRecord)
        .where(CarriedRecord.student_id == student.person_id)
        .order_by(CarriedRecord.subject_name, CarriedRecord.on_day.nulls_last(), CarriedRecord.id)
    ).all()
    by_kind: dict[str, list[CarriedRecord]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)
    history = CarriedHistory(
        schools=sorted({row.from_school_name for row in rows}),
        grades=by_kind.get("grade", []),
        term_grades=by_kind.get("term_grade", []),
        attendance=sorted(by_kind.get("attendance", []), key=lambda r: (r.on_day, r.id)),
        remarks=sorted(by_kind.get("remark", []), key=lambda r: (r.on_day, r.id)),
    )
    return student, history


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
