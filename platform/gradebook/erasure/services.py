"""Erasing a former student's records from this school (seed 000, 5.23).

The e-diary administrator destroys a former student's records when their keeping period has
ended, on a request to be forgotten, or on another lawful basis. The keeping periods are the
school's (its documents register), so the administrator writes down the basis; the page shows
when the student left. Dienynas knows no period, only that none has begun before the student
leaves: a leaving date still ahead is refused whatever the reason. The year archives
(gradebook/archive) are the copy the law keeps and are not changed.

What goes, in one transaction: the student's grades, their history and term grades, attendance,
excuses with their certificates, remarks, records carried from another school, group places,
guardian links, the notifications about the student, and the person; and each guardian who is
then linked to nothing in this school (no other child, no staff work, no role here). What
stays: the account (the municipality's, perhaps used in another school), the transfer pool's
entries (shared with the receiving school), messages (free text) and the year archives.
An ``Erasure`` row records who, when, why and how many rows of each kind, without the name.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import Account, Role
from accounts.services import require_role
from dienynas import clock
from dienynas.errors import NotFound, ServiceError
from dienynas.i18n import format_day
from dienynas.names import name_sort_key
from gradebook.erasure.models import REASONS, Erasure
from school.people.models import Student
from tenants.models import School
from transfers.services import waiting_in_pool

REASON_LABELS = {
    "period": _l("The keeping period has ended"),
    "forgotten": _l("A request to be forgotten"),
    "other": _l("Another lawful basis"),
}

#: What an erasure removes, in the order of the page, with each kind's label.
KINDS = {
    "grades": _l("Grades"),
    "grade_changes": _l("Grade history entries"),
    "term_grades": _l("Term and year grades"),
    "attendance": _l("Attendance marks"),
    "excuses": _l("Excuses and certificates"),
    "remarks": _l("Remarks"),
    "carried_records": _l("Records carried from another school"),
    "health_recommendations": _l("Health recommendations"),
    "group_places": _l("Places in groups"),
    "guardian_links": _l("Guardian links"),
    "notifications": _l("Notifications about the student"),
    "guardians": _l("Guardians linked to nothing else here"),
}

#: The person ``p`` does staff work here or their account holds a role here.
_STAFF_OR_ROLE = """
    (EXISTS (SELECT 1 FROM teacher_subjects t WHERE t.person_id = p.id)
     OR EXISTS (SELECT 1 FROM staff_rights r WHERE r.person_id = p.id)
     OR EXISTS (SELECT 1 FROM group_teachers t WHERE t.teacher_id = p.id)
     OR EXISTS (SELECT 1 FROM classes c WHERE c.head_id = p.id)
     OR EXISTS (SELECT 1 FROM lessons l WHERE l.teacher_id = p.id OR l.substitute_for_id = p.id)
     OR EXISTS (SELECT 1 FROM public.school_grants sg
                WHERE sg.account_id = p.account_id AND sg.school_id = :school_id))
"""

#: Guardian persons of :student_id who are linked to nothing else in this school: no other
#: child, not a student, no staff work, and no role here for their account.
_LONE_GUARDIANS = f"""
    SELECT p.id FROM people p
    WHERE p.id IN (SELECT guardian_id FROM guardianships WHERE student_id = :student_id)
      AND NOT EXISTS (SELECT 1 FROM guardianships g
                      WHERE g.guardian_id = p.id AND g.student_id <> :student_id)
      AND NOT EXISTS (SELECT 1 FROM students s WHERE s.person_id = p.id)
      AND NOT {_STAFF_OR_ROLE}
"""

#: The person ``p`` (a former student) is also someone's guardian here, or staff, or holds a
#: role here: erasing the person would take that away too.
_OTHER_ROLE_OF_P = (
    f"(EXISTS (SELECT 1 FROM guardianships g WHERE g.guardian_id = p.id) OR {_STAFF_OR_ROLE})"
)
_OTHER_ROLE = text(f"SELECT {_OTHER_ROLE_OF_P} FROM people p WHERE p.id = :student_id")

_COUNTS = text(
    f"""
    SELECT
      (SELECT count(*) FROM grades WHERE student_id = :student_id) AS grades,
      (SELECT count(*) FROM grade_changes WHERE student_id = :student_id) AS grade_changes,
      (SELECT count(*) FROM term_grades WHERE student_id = :student_id) AS term_grades,
      (SELECT count(*) FROM attendance WHERE student_id = :student_id) AS attendance,
      (SELECT count(*) FROM excuses WHERE student_id = :student_id) AS excuses,
      (SELECT count(*) FROM remarks WHERE student_id = :student_id) AS remarks,
      (SELECT count(*) FROM carried_records WHERE student_id = :student_id) AS carried_records,
      (SELECT count(*) FROM health_recommendations
       WHERE student_id = :student_id) AS health_recommendations,
      (SELECT count(*) FROM group_students WHERE student_id = :student_id) AS group_places,
      (SELECT count(*) FROM guardianships WHERE student_id = :student_id) AS guardian_links,
      (SELECT count(*) FROM notification_events
       WHERE payload->>'student_id' = CAST(:student_id AS text)) AS notifications,
      (SELECT count(*) FROM ({_LONE_GUARDIANS}) lone) AS guardians
    """
)

#: Rows with no foreign key to the student, or one that refuses a cascade (a lost grade is a
#: harm, so grades only go by an explicit erasure); then the guardians linked to nothing else;
#: then the person, from whose ``students`` row the rest cascades.
_ERASE = [
    text("DELETE FROM grade_changes WHERE student_id = :student_id"),
    text("DELETE FROM grades WHERE student_id = :student_id"),
    text("DELETE FROM term_grades WHERE student_id = :student_id"),
    text(
        "DELETE FROM notification_events WHERE payload->>'student_id' = CAST(:student_id AS text)"
    ),
    text(
        f"""
        WITH lone AS ({_LONE_GUARDIANS}),
        links AS (DELETE FROM guardianships WHERE student_id = :student_id)
        DELETE FROM people WHERE id IN (SELECT id FROM lone)
        """
    ),
    text("DELETE FROM people WHERE id = :student_id"),
]


@dataclass(frozen=True)
class FormerStudent:
    student_id: int
    full_name: str
    left_on: date | None
    #: Why the student may not be erased now (None: they may).
    blocked: str | None


@dataclass(frozen=True)
class ErasurePreview:
    student: Student
    #: Rows of each kind of :data:`KINDS` that the erasure removes.
    counts: dict[str, int]
    #: The student's entry is still waiting in the transfer pool (erasing is refused).
    in_pool: bool


def require_eraser(actor: Principal, school: School) -> None:
    """Erasing is the e-diary administrator's duty (seed 000, 5.23)."""
    require_role(actor, school, Role.ADMIN)


def former_student(session: Session, actor: Principal, school: School, person_id: int) -> Student:
    """A student of this school for the erasure pages: the administrator only."""
    require_eraser(actor, school)
    student = session.get(Student, person_id)
    if student is None:
        raise NotFound(_("There is no such student in this school."))
    return student


def preview(session: Session, school: School, student: Student) -> ErasurePreview:
    """What erasing ``student`` would remove."""
    row = session.execute(_COUNTS, _params(school, student)).one()
    in_pool = bool(waiting_in_pool(session, school.id, [student.person_id]))
    return ErasurePreview(student, dict(row._mapping), in_pool)


def erase_student(
    session: Session,
    actor: Principal,
    school: School,
    student: Student,
    *,
    reason: str,
    basis: str,
    typed_name: str,
    today: date | None = None,
) -> Erasure:
    """Erase a student who has left, with everything listed in this module's docstring, and
    record the erasure. Refused (nothing changed) for a student who has not left or whose
    leaving date is after ``today``, one still waiting in the transfer pool, a person who is
    also a guardian or staff here, without a reason or a basis, or when ``typed_name`` is not
    the student's full name (the confirmation)."""
    require_eraser(actor, school)
    basis = _checked_basis(reason, basis)
    if _folded(typed_name) != _folded(student.person.full_name):
        raise ServiceError(
            _("Type the student's full name exactly as it is shown, to confirm."), field="confirm"
        )
    return _erase(session, actor, school, student.person_id, reason, basis, today or clock.today())


def former_students(
    session: Session, actor: Principal, school: School, left_before: date, today: date | None = None
) -> list[FormerStudent]:
    """The students who left before ``left_before``, by the date they left and name, each
    with what stops erasing them (None when nothing does): the administrator only."""
    require_eraser(actor, school)
    today = today or clock.today()
    rows = session.execute(
        text(
            f"""
            SELECT s.person_id, p.first_name, p.last_name, s.left_on,
                   {_OTHER_ROLE_OF_P} AS other_role
            FROM students s JOIN people p ON p.id = s.person_id
            WHERE s.status = 'left' AND s.left_on < :left_before
            """
        ),
        {"school_id": school.id, "left_before": left_before},
    ).all()
    waiting = waiting_in_pool(session, school.id, [row.person_id for row in rows])
    ordered = sorted(
        rows,
        key=lambda row: (row.left_on, name_sort_key(row.last_name),
                         name_sort_key(row.first_name), row.person_id),
    )  # fmt: skip
    return [
        FormerStudent(
            row.person_id,
            f"{row.first_name} {row.last_name}",
            row.left_on,
            _("in the transfer pool")
            if row.person_id in waiting
            else _("also a guardian or staff here")
            if row.other_role
            else _("leaves only on %(date)s", date=format_day(row.left_on))
            if row.left_on > today
            else None,
        )
        for row in ordered
    ]


def erase_students(
    session: Session,
    actor: Principal,
    school: School,
    student_ids: list[int],
    *,
    reason: str,
    basis: str,
    typed_count: str,
    today: date | None = None,
) -> list[Erasure]:
    """Erase several former students at once (:func:`erase_student` for each, one record of
    the erasure each). All or nothing: when one of them may not be erased, the message names
    them and nothing is erased. ``typed_count`` confirms: the number of students chosen."""
    require_eraser(actor, school)
    chosen = sorted(set(student_ids))
    if not chosen:
        raise ServiceError(_("Choose the students whose records are erased."), field="students")
    basis = _checked_basis(reason, basis)
    if typed_count.strip() != str(len(chosen)):
        raise ServiceError(
            _("Type the number of students chosen (%(num)d) to confirm.", num=len(chosen)),
            field="confirm",
        )  # fmt: skip
    today = today or clock.today()
    return [_erase(session, actor, school, person_id, reason, basis, today) for person_id in chosen]


def _checked_basis(reason: str, basis: str) -> str:
    """The basis as kept, or ServiceError for an unknown reason or a missing or long basis."""
    if reason not in REASONS:
        raise ServiceError(_("Choose why the records are erased."), field="reason")
    basis = basis.strip()
    if not basis:
        raise ServiceError(
            _("Write down the basis: the documents register's item, or the request's number "
              "and date."),
            field="basis",
        )  # fmt: skip
    if len(basis) > 500:
        raise ServiceError(_("The basis may be at most 500 characters long."), field="basis")
    return basis


def _erase(
    session: Session,
    actor: Principal,
    school: School,
    person_id: int,
    reason: str,
    basis: str,
    today: date,
) -> Erasure:
    """Erase one former student (checked and recorded); the caller checked the role and the
    form."""
    # the student's row locked: a second administrator erasing at the same moment waits, then
    # finds no student
    locked = session.scalar(
        select(Student)
        .where(Student.person_id == person_id)
        .with_for_update(of=Student)
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFound(_("There is no such student in this school."))
    name = locked.person.full_name
    if locked.status != "left":
        raise ServiceError(
            _("%(name)s: only a student who has left the school can be erased. Mark the leaving "
              "first.", name=name)
        )  # fmt: skip
    if locked.left_on is not None and locked.left_on > today:
        # a leaving marked ahead (before that was refused): the records are still in use
        raise ServiceError(
            _("%(name)s leaves the school only on %(date)s: their records can be erased once "
              "they have left.", name=name, date=format_day(locked.left_on))
        )  # fmt: skip
    if waiting_in_pool(session, school.id, [person_id]):
        raise ServiceError(
            _("%(name)s is still waiting in the transfer pool. Their records can be erased once "
              "a school has claimed them.", name=name)
        )  # fmt: skip
    params = _params(school, locked)
    if session.scalar(_OTHER_ROLE, params):
        raise ServiceError(
            _("%(name)s is also a guardian or a member of staff here, so they cannot be erased "
              "as a former student.", name=name)
        )  # fmt: skip
    counts = dict(session.execute(_COUNTS, params).one()._mapping)
    left_on = locked.left_on
    # the rows go by SQL (the locked student cannot go missing meanwhile): the session forgets
    # their objects
    session.expunge(locked.person)
    session.expunge(locked)
    for statement in _ERASE:
        session.execute(statement, params)
    erasure = Erasure(
        person_id=person_id,
        left_on=left_on,
        reason=reason,
        basis=basis,
        erased_by=actor.id,
        counts=counts,
    )
    session.add(erasure)
    session.flush()
    return erasure


def list_erasures(
    session: Session, actor: Principal, school: School
) -> list[tuple[Erasure, str | None]]:
    """The school's erasures, newest first, each with the name of the account that erased:
    for the administrator and the director."""
    require_role(actor, school, Role.ADMIN, Role.DIRECTOR)
    rows = session.execute(
        select(Erasure, Account.name)
        .outerjoin(Account, Account.id == Erasure.erased_by)
        .order_by(Erasure.erased_at.desc(), Erasure.id.desc())
    )
    return [(erasure, name) for erasure, name in rows]


def _params(school: School, student: Student) -> dict[str, int]:
    return {"student_id": student.person_id, "school_id": school.id}


def _folded(name: str) -> str:
    """A name as the confirmation compares it: spaces and letter case do not count."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())
