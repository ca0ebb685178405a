"""Attendance marks per lesson, excuses, and the monthly attendance summary of a class.

Choices made here:

- A student is present unless the lesson has a mark: ``absent``, ``late`` or ``left_early``.
  Marks are written by the lesson's writer (``access.require_lesson_writer``: the group's
  teachers, the substitute holding the lesson, the administrator), only for students of the
  lesson's group, and never for a lesson still in the future (attendance is marked at the start
  of the lesson).
- An approved excuse covers every mark of its student on the school days of its span: absences,
  and also lateness and leaving early (a doctor's visit in the morning makes a student late;
  falling ill makes them leave early; Lithuanian class heads excuse those from the same
  certificate). A mark made later on a covered day is linked to the excuse at once. The summary
  counts excused and unexcused *missed lessons* (absences); lateness and leaving early are shown
  as counts of their own.
- A new or changed absence or lateness writes an ``absence`` outbox event (clearing a mark, an
  unchanged mark and leaving early do not).
- Guardians excuse today and past days of the current term, within the quota: illness up to 5
  school days a calendar month, other reasons up to 3 school days a term (the semester),
  counted per student over the guardian excuses already approved, a day counted once however
  many excuses cover it. Within the quota the excuse is approved at once; beyond it the request
  waits for the class head, and the guardian is told which limit it passes. Requests the class
  head approved beyond the quota count as used too.
- The class head (or the administrator) excuses any span with school days, future ones too (a
  planned absence, a competition); they decide pending requests.
- Both may attach a document, e.g. a doctor's certificate (PDF, JPEG or PNG up to 5 MB,
  checked as homework files are: the name's extension and the file's first bytes must agree,
  ``lessons.services.check_upload``), kept with the excuse. The head of the student's class
  and the administrator download it, and so does the guardian who sent it with the request.
- A day is excused once: a span with a school day that an approved or waiting excuse of the
  student already covers is refused, naming those days (whoever gives it; one rule a parent
  can follow). A rejected request does not count: the same days may be asked for again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import format_date, ngettext, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import Role
from accounts.services import roles_in_school
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.files import Upload
from dienynas.i18n import joined
from dienynas.spreadsheet import csv_bytes
from gradebook.access import CLASS_READERS, require_head_of_student, require_lesson_writer
from gradebook.attendance.models import Attendance, Excuse
from gradebook.days import school_days
from gradebook.lessons.models import HomeworkFile, Lesson
from gradebook.lessons.services import ALLOWED_FILES, FileRule, check_upload
from notifications.outbox import record_event
from school.calendar.models import Term
from school.classes.models import GroupStudent, SchoolClass
from school.classes.services import class_students
from school.people.models import Guardianship, Person, Student
from school.people.names import person_sort_key
from school.people.services import get_student
from school.permissions import person_of
from tenants.models import School

MARK_LABELS = {"absent": _l("Absent"), "late": _l("Late"), "left_early": _l("Left early")}
#: Marks that write an ``absence`` event for the guardians.
NOTIFIED_MARKS = frozenset({"absent", "late"})
REASON_LABELS = {"illness": _l("Illness"), "other": _l("Other reasons")}
STATUS_LABELS = {
    "approved": _l("Excused"),
    "pending": _l("Waiting for the class head"),
    "rejected": _l("Not excused"),
}
SOURCE_LABELS = {"guardian": _l("Guardian"), "class_head": _l("Class head")}

ILLNESS_DAYS_A_MONTH = 5
OTHER_DAYS_A_TERM = 3
MAX_NOTE_LENGTH = 1000
#: A certificate: a PDF or a photo, checked as the homework files are.
CERTIFICATES = FileRule(
    {ext: ALLOWED_FILES[ext] for ext in ("pdf", "jpg", "jpeg", "png")},
    "document",
    _l("Attach the document as a PDF, JPEG or PNG file."),
)


# --- marks ------------------------------------------------------------------------------------


def _check_mark(mark: str | None, field: str = "mark") -> str | None:
    if mark is None or mark == "":
        return None
    if mark not in MARK_LABELS:
        raise ServiceError(_("Choose present, absent, late or left early."), field=field)
    return mark


def _check_lesson_held(lesson: Lesson, today: date) -> None:
    if lesson.on_day > today:
        raise ServiceError(
            _(
                "The lesson of %(day)s has not taken place yet; attendance is marked at the "
                "lesson.",
                day=format_date(lesson.on_day, "medium"),
            ),
            field="mark",
        )


def _not_in_group(lesson: Lesson) -> ServiceError:
    return ServiceError(
        _("The student is not in this lesson's group (%(group)s).", group=lesson.group.name),
        field="student_id",
    )


def _left_school() -> ServiceError:
    """A student who left keeps their group memberships for the archive, read-only."""
    return ServiceError(
        _("The student has left the school: their records can no longer be changed."),
        field="student_id",
    )


def _covering_excuses(session: Session, student_ids: Iterable[int], day: date) -> dict[int, int]:
    """Student id → the id of an approved excuse covering ``day`` (one query)."""
    rows = session.execute(
        select(Excuse.student_id, func.min(Excuse.id))
        .where(
            Excuse.student_id.in_(list(student_ids)),
            Excuse.status == "approved",
            Excuse.from_day <= day,
            Excuse.to_day >= day,
        )
        .group_by(Excuse.student_id)
    )
    return {student_id: excuse_id for student_id, excuse_id in rows}


def _write_mark(
    session: Session,
    account: Principal,
    lesson: Lesson,
    student_id: int,
    mark: str | None,
    existing: Attendance | None,
    excuse_id: int | None,
) -> Attendance | None:
    if mark is None:
        if existing is not None:
            session.delete(existing)
        return None
    if existing is not None and existing.mark == mark:
        return existing
    if existing is None:
        existing = Attendance(lesson_id=lesson.id, student_id=student_id)
        session.add(existing)
    existing.mark = mark
    existing.excuse_id = excuse_id
    existing.marked_by = account.id
    existing.marked_at = datetime.now(UTC)
    if mark in NOTIFIED_MARKS:
        record_event(
            session, "absence", actor_id=account.id, lesson_id=lesson.id, student_id=student_id
        )
    return existing


def _take_roll(session: Session, account: Principal, lesson: Lesson) -> None:
    """The lesson's attendance is taken (the first time: when and by whom), and writers of one
    lesson's marks take turns on the row lock this UPDATE holds until the commit: two
    teachers saving the same student's mark at once would otherwise both insert it, and the
    second would fail on the primary key instead of changing the mark."""
    session.execute(
        update(Lesson)
        .where(Lesson.id == lesson.id)
        .values(
            attendance_taken_at=func.coalesce(Lesson.attendance_taken_at, func.now()),
            attendance_taken_by=case(
                (Lesson.attendance_taken_at.is_(None), account.id),
                else_=Lesson.attendance_taken_by,
            ),
        )
        .execution_options(synchronize_session=False)
    )


def mark_attendance(
    session: Session,
    account: Principal,
    school: School,
    lesson: Lesson,
    student_id: int,
    mark: str | None,
    *,
    today: date,
) -> Attendance | None:
    """Set one student's mark in a lesson (``None`` or ``""``: present, the mark cleared).
    Returns the attendance row, or None when the student is present."""
    require_lesson_writer(session, account, school, lesson)
    mark = _check_mark(mark)
    _check_lesson_held(lesson, today)
    _take_roll(session, account, lesson)
    status = session.scalar(
        select(Student.status)
        .join(GroupStudent, GroupStudent.student_id == Student.person_id)
        .where(GroupStudent.group_id == lesson.group_id, GroupStudent.student_id == student_id)
    )
    if status is None:
        raise _not_in_group(lesson)
    if status != "active":
        raise _left_school()
    existing = session.get(Attendance, (lesson.id, student_id))
    excuse_id = (
        _covering_excuses(session, [student_id], lesson.on_day).get(student_id) if mark else None
    )
    row = _write_mark(session, account, lesson, student_id, mark, existing, excuse_id)
    session.flush()
    return row


def mark_lesson(
    session: Session,
    account: Principal,
    school: School,
    lesson: Lesson,
    marks: Mapping[int, str | None],
    *,
    today: date,
) -> dict[int, Attendance]:
    """Set the marks of a whole lesson at once (the form filled at the start of the lesson).
    Students left out of ``marks`` keep theirs. Every mark is checked before any is written.
    Returns the lesson's marks after the change, by student id."""
    require_lesson_writer(session, account, school, lesson)
    _check_lesson_held(lesson, today)
    _take_roll(session, account, lesson)
    members = dict(
        session.execute(
            select(GroupStudent.student_id, Student.status)
            .join(Student, Student.person_id == GroupStudent.student_id)
            .where(GroupStudent.group_id == lesson.group_id)
        ).all()
    )
    existing = {
        row.student_id: row
        for row in session.scalars(select(Attendance).where(Attendance.lesson_id == lesson.id))
    }
    checked: dict[int, str | None] = {}
    for student_id, mark in marks.items():
        if student_id not in members:
            raise _not_in_group(lesson)
        value = _check_mark(mark, field=f"mark-{student_id}")
        if members[student_id] != "active":
            # the sheet still lists a student who left: their unchanged mark is not a change
            held = existing.get(student_id)
            if value == (held.mark if held is not None else None):
                continue
            raise _left_school()
        checked[student_id] = value
    marked = [student_id for student_id, mark in checked.items() if mark]
    excuses = _covering_excuses(session, marked, lesson.on_day) if marked else {}
    for student_id, mark in checked.items():
        row = _write_mark(
            session, account, lesson, student_id, mark,
            existing.get(student_id), excuses.get(student_id),
        )  # fmt: skip
        if row is None:
            existing.pop(student_id, None)
        else:
            existing[student_id] = row
    session.flush()
    return existing


@dataclass
class SheetRow:
    student: Person
    attendance: Attendance | None


def lesson_sheet(session: Session, lesson: Lesson) -> list[SheetRow]:
    """The lesson's group, each student with their mark (two queries)."""
    students = session.scalars(
        select(Person)
        .join(GroupStudent, GroupStudent.student_id == Person.id)
        .where(GroupStudent.group_id == lesson.group_id)
    ).all()
    marks = {
        row.student_id: row
        for row in session.scalars(select(Attendance).where(Attendance.lesson_id == lesson.id))
    }
    return [SheetRow(p, marks.get(p.id)) for p in sorted(students, key=person_sort_key)]


# --- excuses: checks shared by guardians and class heads --------------------------------------


def _check_reason(reason: str) -> str:
    if reason not in REASON_LABELS:
        raise ServiceError(_("Choose the reason: illness or other reasons."), field="reason")
    return reason


def _check_note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ServiceError(
            _("The note may be at most %(num)d characters long.", num=MAX_NOTE_LENGTH),
            field="note",
        )
    return note or None


def _check_order(from_day: date, to_day: date) -> None:
    if to_day < from_day:
        raise ServiceError(_("The last day must not be before the first day."), field="to_day")


def _span_days(session: Session, from_day: date, to_day: date) -> list[date]:
    """The school days of the span; ServiceError when it has none."""
    days = school_days(session, from_day, to_day)
    if not days:
        raise ServiceError(
            _(
                "There are no school days from %(start)s to %(end)s (the days are outside the "
                "terms, holidays or weekends).",
                start=format_date(from_day, "medium"),
                end=format_date(to_day, "medium"),
            ),
            field="from_day",
        )
    return days


def _lock_student(session: Session, student_id: int) -> None:
    """Excuses of one child are given one at a time (a row lock on the student until the
    commit): two requests at once must not both fit in the same quota, nor both pass
    :func:`_refuse_excused_days`."""
    session.execute(
        select(Student.person_id).where(Student.person_id == student_id).with_for_update()
    )


def _day_runs(days: list[date], covered: list[date]) -> str:
    """``covered`` (some of the school days ``days``) as a sentence lists them, consecutive
    school days as one span: "Sep 11, 2026 – Sep 14, 2026 and Sep 16, 2026"."""
    runs: list[list[date]] = []
    position = {day: index for index, day in enumerate(days)}
    for day in covered:
        if runs and position[runs[-1][-1]] + 1 == position[day]:
            runs[-1].append(day)
        else:
            runs.append([day])
    return joined(
        format_date(run[0], "medium")
        if len(run) == 1
        else f"{format_date(run[0], 'medium')} – {format_date(run[-1], 'medium')}"
        for run in runs
    )


def _refuse_excused_days(session: Session, student_id: int, days: list[date]) -> None:
    """Refuse a span with a school day an approved or waiting excuse of the student already
    covers (a day is excused once); a rejected request does not count."""
    spans = session.execute(
        select(Excuse.from_day, Excuse.to_day).where(
            Excuse.student_id == student_id,
            Excuse.status.in_(("approved", "pending")),
            Excuse.from_day <= days[-1],
            Excuse.to_day >= days[0],
        )
    ).all()
    covered = [day for day in days if any(first <= day <= last for first, last in spans)]
    if not covered:
        return
    named = _day_runs(days, covered)
    if len(covered) == len(days):
        message = _(
            "The absences of %(days)s are already excused or waiting for the class head's "
            "decision.",
            days=named,
        )
    else:
        message = _(
            "The absences of %(days)s are already excused or waiting for the class head's "
            "decision. Choose only the other days.",
            days=named,
        )
    raise ServiceError(message, field="from_day")


def _checked_document(document: Upload | None) -> HomeworkFile | None:
    return None if document is None else check_upload(document, CERTIFICATES)


def _keep_document(excuse: Excuse, document: HomeworkFile | None) -> None:
    if document is not None:
        excuse.document_type = document.content_type
        excuse.document_name = document.file_name
        excuse.document_size = document.size
        excuse.document = document.content


def get_excuse(session: Session, excuse_id: int) -> Excuse:
    excuse = session.get(Excuse, excuse_id)
    if excuse is None:
        raise NotFound(_("There is no such excuse."))
    return excuse


def _is_guardian(session: Session, account: Principal, student_id: int) -> bool:
    person = person_of(session, account)
    return person is not None and bool(
        session.scalar(
            select(Guardianship.id).where(
                Guardianship.guardian_id == person.id, Guardianship.student_id == student_id
            )
        )
    )


def _require_guardian(session: Session, account: Principal, student_id: int) -> None:
    if not _is_guardian(session, account, student_id):
        raise PermissionDenied(_("You may excuse the absences of your own children only."))


def sent_by(account: Principal, excuse: Excuse) -> bool:
    """Whether ``excuse`` is a request the account sent as a guardian."""
    return excuse.source == "guardian" and excuse.submitted_by == account.id


@dataclass(frozen=True)
class ExcuseDocument:
    """An excuse's document as ``dienynas.files.attachment_response`` sends it."""

    file_name: str
    content_type: str
    content: bytes


def excuse_document(
    session: Session, account: Principal, school: School, excuse: Excuse
) -> ExcuseDocument:
    """The document kept with ``excuse``, for the head of the student's class and the
    administrator, and for the guardian who sent it with their request (while still the
    child's guardian); no one else."""
    if not (sent_by(account, excuse) and _is_guardian(session, account, excuse.student_id)):
        require_head_of_student(session, account, school, get_student(session, excuse.student_id))
    if excuse.document_name is None:
        raise NotFound(_("This excuse has no document."))
    return ExcuseDocument(excuse.document_name, excuse.document_type, excuse.document)


def _link_marks(session: Session, excuse: Excuse) -> None:
    """Mark the student's unexcused marks of the span excused by ``excuse`` (one statement)."""
    lessons_of_span = select(Lesson.id).where(
        Lesson.on_day >= excuse.from_day, Lesson.on_day <= excuse.to_day
    )
    session.execute(
        update(Attendance)
        .where(
            Attendance.student_id == excuse.student_id,
            Attendance.excuse_id.is_(None),
            Attendance.lesson_id.in_(lessons_of_span),
        )
        .values(excuse_id=excuse.id)
        .execution_options(synchronize_session="fetch")
    )


def marks_excused(session: Session, excuse: Excuse) -> int:
    """How many of the student's marks ``excuse`` excuses (one query). None yet is normal
    for an excuse given ahead (a known absence): marks written later find it."""
    return session.scalar(
        select(func.count()).select_from(Attendance).where(Attendance.excuse_id == excuse.id)
    )


def _approve(session: Session, account: Principal, excuse: Excuse) -> None:
    excuse.status = "approved"
    session.flush()
    _link_marks(session, excuse)
    record_event(
        session, "excuse_decision", actor_id=account.id,
        excuse_id=excuse.id, student_id=excuse.student_id,
    )  # fmt: skip


# --- the class head ---------------------------------------------------------------------------


def excuse_by_class_head(
    session: Session,
    account: Principal,
    school: School,
    *,
    student_id: int | None,
    from_day: date,
    to_day: date,
    reason: str,
    note: str | None,
    document: Upload | None = None,
) -> Excuse:
    """An excuse the class head (or the administrator) gives, approved at once."""
    student = get_student(session, student_id)
    require_head_of_student(session, account, school, student)
    reason = _check_reason(reason)
    note = _check_note(note)
    _check_order(from_day, to_day)
    checked = _checked_document(document)
    days = _span_days(session, from_day, to_day)
    _lock_student(session, student.person_id)
    _refuse_excused_days(session, student.person_id, days)
    excuse = Excuse(
        student_id=student.person_id, from_day=from_day, to_day=to_day, reason=reason,
        note=note, source="class_head", school_days=len(days), submitted_by=account.id,
        decided_by=account.id, decided_at=datetime.now(UTC),
    )  # fmt: skip
    _keep_document(excuse, checked)
    session.add(excuse)
    _approve(session, account, excuse)
    session.flush()
    return excuse


def decide_excuse(
    session: Session,
    account: Principal,
    school: School,
    excuse: Excuse,
    *,
    approve: bool,
    note: str | None,
) -> Excuse:
    """The class head's (or the administrator's) decision on a guardian's pending request."""
    require_head_of_student(session, account, school, get_student(session, excuse.student_id))
    note = _check_note(note)
    if excuse.status != "pending":
        raise ServiceError(_("This request has already been decided."))
    excuse.decided_by = account.id
    excuse.decided_at = datetime.now(UTC)
    excuse.decision_note = note
    if approve:
        _approve(session, account, excuse)
    else:
        excuse.status = "rejected"
        record_event(
            session, "excuse_decision", actor_id=account.id,
            excuse_id=excuse.id, student_id=excuse.student_id,
        )  # fmt: skip
    session.flush()
    return excuse


# --- guardians --------------------------------------------------------------------------------


@dataclass
class GuardianRequest:
    """What a guardian's request became; ``over_quota`` says why it waits for the class head."""

    excuse: Excuse
    over_quota: list[str]


def month_bounds(day: date) -> tuple[date, date]:
    """The first and the last day of ``day``'s month."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def quota_overruns(session: Session, student_id: int, reason: str, days: list[date]) -> list[str]:
    """Why excusing ``days`` (school days) for ``reason`` is beyond a guardian's quota, one
    localised sentence per month (illness) or term (other reasons) it passes; empty when
    within it."""
    if reason == "illness":
        windows = [
            (first, last, format_date(first, "LLLL yyyy"))
            for first, last in sorted({month_bounds(day) for day in days})
        ]
        limit = ILLNESS_DAYS_A_MONTH
    else:
        terms = session.scalars(
            select(Term)
            .where(Term.starts_on <= max(days), Term.ends_on >= min(days))
            .order_by(Term.starts_on)
        ).all()
        windows = [(term.starts_on, term.ends_on, term.label) for term in terms]
        limit = OTHER_DAYS_A_TERM
    start, end = windows[0][0], windows[-1][1]
    used_spans = session.execute(
        select(Excuse.from_day, Excuse.to_day).where(
            Excuse.student_id == student_id,
            Excuse.source == "guardian",
            Excuse.status == "approved",
            Excuse.reason == reason,
            Excuse.from_day <= end,
            Excuse.to_day >= start,
        )
    ).all()
    used = set(days)
    if used_spans:
        used.update(
            day
            for day in school_days(session, start, end)
            if any(first <= day <= last for first, last in used_spans)
        )
    messages = []
    for first, last, label in windows:
        total = sum(1 for day in used if first <= day <= last)
        if total <= limit:
            continue
        if reason == "illness":
            message = ngettext(
                "%(month)s: with this request %(num)d school day would be excused for "
                "illness, and a guardian may excuse at most %(limit)d a month.",
                "%(month)s: with this request %(num)d school days would be excused for "
                "illness, and a guardian may excuse at most %(limit)d a month.",
                total,
                month=label,
                limit=limit,
            )
        else:
            message = ngettext(
                "%(term)s: with this request %(num)d school day would be excused for "
                "other reasons, and a guardian may excuse at most %(limit)d in a term.",
                "%(term)s: with this request %(num)d school days would be excused for "
                "other reasons, and a guardian may excuse at most %(limit)d in a term.",
                total,
                term=label,
                limit=limit,
            )
        messages.append(message)
    return messages


def request_excuse_by_guardian(
    session: Session,
    account: Principal,
    school: School,
    *,
    student_id: int | None,
    from_day: date,
    to_day: date,
    reason: str,
    note: str | None,
    today: date,
    document: Upload | None = None,
) -> GuardianRequest:
    """A guardian excuses their child's absences of today or past days of the current term,
    optionally with a document (a doctor's certificate, as the class head's): approved at once
    within the quota, otherwise waiting for the class head."""
    student = get_student(session, student_id)
    _require_guardian(session, account, student.person_id)
    reason = _check_reason(reason)
    note = _check_note(note)
    _check_order(from_day, to_day)
    checked = _checked_document(document)
    if to_day > today:
        raise ServiceError(
            _(
                "Guardians excuse days that have passed, and today. Tell the class head about "
                "a planned absence."
            ),
            field="to_day",
        )
    term = session.scalar(
        select(Term).where(Term.starts_on <= today).order_by(Term.starts_on.desc()).limit(1)
    )
    if term is not None and from_day < term.starts_on:
        raise ServiceError(
            _(
                "Guardians excuse days of the current term only (from %(start)s); ask the class "
                "head about earlier days.",
                start=format_date(term.starts_on, "medium"),
            ),
            field="from_day",
        )
    days = _span_days(session, from_day, to_day)
    _lock_student(session, student.person_id)
    _refuse_excused_days(session, student.person_id, days)
    over_quota = quota_overruns(session, student.person_id, reason, days)
    excuse = Excuse(
        student_id=student.person_id, from_day=from_day, to_day=to_day, reason=reason,
        note=note, source="guardian", status="pending", school_days=len(days),
        submitted_by=account.id,
    )  # fmt: skip
    _keep_document(excuse, checked)
    session.add(excuse)
    if not over_quota:
        excuse.decided_at = datetime.now(UTC)
        _approve(session, account, excuse)
    session.flush()
    return GuardianRequest(excuse, over_quota)


@dataclass
class ExcuseRow:
    excuse: Excuse
    student: Person


def guardian_children(session: Session, account: Principal) -> list[Person]:
    """The account's children in this school (active students)."""
    person = person_of(session, account)
    if person is None:
        return []
    children = session.scalars(
        select(Person)
        .join(Student, Student.person_id == Person.id)
        .join(Guardianship, Guardianship.student_id == Student.person_id)
        .where(Guardianship.guardian_id == person.id, Student.status == "active")
    ).all()
    return sorted(children, key=person_sort_key)


def excuses_of(session: Session, student_ids: Iterable[int]) -> list[ExcuseRow]:
    """The students' excuses with the student, waiting ones first, then the latest first."""
    rows = session.execute(
        select(Excuse, Person)
        .join(Person, Person.id == Excuse.student_id)
        .where(Excuse.student_id.in_(list(student_ids)))
        .order_by((Excuse.status != "pending"), Excuse.from_day.desc(), Excuse.id.desc())
    )
    return [ExcuseRow(excuse, person) for excuse, person in rows]


# --- classes ----------------------------------------------------------------------------------


def require_summary_reader(
    session: Session, account: Principal, school: School, school_class: SchoolClass
) -> bool:
    """The class head, the administrator, the director and the social pedagogue read the
    class's attendance. Returns whether the account may also excuse it (the class head, the
    administrator)."""
    roles = roles_in_school(account, school)
    if Role.ADMIN in roles:
        return True
    person = person_of(session, account)
    if person is not None and school_class.head_id == person.id:
        return True
    if roles & CLASS_READERS:
        return False
    raise PermissionDenied(
        _("Only the class head, the director, the e-diary administrator and the social "
          "pedagogue may see this.")
    )  # fmt: skip


@dataclass
class Counts:
    excused: int = 0
    unexcused: int = 0
    late: int = 0
    left_early: int = 0

    @property
    def missed(self) -> int:
        return self.excused + self.unexcused


@dataclass
class SummaryRow:
    student: Person
    counts: Counts


@dataclass
class MonthSummary:
    school_class: SchoolClass
    month: date
    rows: list[SummaryRow]
    total: Counts


def month_summary(session: Session, school_class: SchoolClass, month: date) -> MonthSummary:
    """Per student of the class: missed lessons excused and unexcused, lateness, leaving early
    in the month (two queries whatever the number of students)."""
    first, last = month_bounds(month)
    students = [student.person for student in class_students(session, school_class)]
    in_class = select(Student.person_id).where(Student.class_id == school_class.id)
    absent = Attendance.mark == "absent"
    figures = {
        student_id: Counts(*numbers)
        for student_id, *numbers in session.execute(
            select(
                Attendance.student_id,
                func.count().filter(and_(absent, Attendance.excuse_id.is_not(None))),
                func.count().filter(and_(absent, Attendance.excuse_id.is_(None))),
                func.count().filter(Attendance.mark == "late"),
                func.count().filter(Attendance.mark == "left_early"),
            )
            .join(Lesson, Lesson.id == Attendance.lesson_id)
            .where(
                Lesson.on_day >= first,
                Lesson.on_day <= last,
                Attendance.student_id.in_(in_class),
            )
            .group_by(Attendance.student_id)
        )
    }
    rows = [SummaryRow(person, figures.get(person.id, Counts())) for person in students]
    total = Counts(
        excused=sum(r.counts.excused for r in rows),
        unexcused=sum(r.counts.unexcused for r in rows),
        late=sum(r.counts.late for r in rows),
        left_early=sum(r.counts.left_early for r in rows),
    )
    return MonthSummary(school_class, first, rows, total)


def summary_csv(summary: MonthSummary) -> bytes:
    """The summary as a CSV file (for spreadsheet programs)."""
    return csv_bytes(
        [
            _("Student"),
            _("Missed lessons, excused"),
            _("Missed lessons, unexcused"),
            _("Missed lessons in all"),
            pgettext("count column", "Late"),
            pgettext("count column", "Left early"),
        ],
        (
            [
                f"{row.student.last_name} {row.student.first_name}",
                row.counts.excused, row.counts.unexcused, row.counts.missed,
                row.counts.late, row.counts.left_early,
            ]
            for row in summary.rows
        ),
    )  # fmt: skip
