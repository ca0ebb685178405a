"""Lessons: generated from the timetable or added by hand, what was taught, homework and its
files, substitutes, and deleting a lesson date.

Generation (:func:`ensure_lessons`) is one ``INSERT … SELECT`` over the days of a period, so a
page may call it inside its query budget; it is idempotent (``ON CONFLICT DO NOTHING`` on the
lesson's group, day and number). The daily job also removes generated lessons the timetable no
longer has, as long as nothing was written in them (:func:`remove_stale_lessons`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import PurePath

from flask_babel import format_date, ngettext, npgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import ColumnElement, and_, delete, exists, false, func, or_, select, text
from sqlalchemy.orm import Session, joinedload, selectinload

from accounts.identity import Principal
from accounts.models import Role, SchoolGrant
from accounts.services import require_role, roles_in_school
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.files import Upload
from dienynas.forms import parse_date, parse_id, parse_int, parse_optional_date
from dienynas.i18n import joined
from gradebook.access import (
    diary_student_ids,
    require_group_reader,
    require_group_writer,
    require_lesson_writer,
)
from gradebook.attendance.models import Attendance
from gradebook.days import teaching_term
from gradebook.grades.models import Grade
from gradebook.lessons.models import DeletedLessonDate, Homework, HomeworkFile, Lesson
from notifications.outbox import record_event
from school.calendar.models import Room, Term
from school.classes.models import Group, GroupStudent, GroupTeacher
from school.locks.services import DELETE_LESSON_DATES, require_open
from school.people.models import Person
from school.people.names import person_sort_key
from school.permissions import person_of
from school.timetable.models import TimetableEntry
from tenants.models import School

#: How far ahead the daily job and the command generate lessons.
GENERATION_DAYS = 14

TOPIC_MAX = 300
TEXT_MAX = 10_000

# --- generation -------------------------------------------------------------------------------

#: One statement: every (day, timetable entry) of the period that falls on a school day of the
#: group's school year (inside a term, not a holiday, Monday–Friday, Saturday in six-day
#: weeks) and was not deleted by a teacher, with the group's first teacher (lowest id) as the
#: one who holds it.
_INSERT_FROM_TIMETABLE = text(
    """
    INSERT INTO lessons (group_id, on_day, lesson_no, term_id, room_id, teacher_id, source)
    SELECT e.group_id, d.day, e.lesson_no, t.id, e.room_id,
           (SELECT min(gt.teacher_id) FROM group_teachers gt WHERE gt.group_id = e.group_id),
           'timetable'
    FROM (
        SELECT CAST(s AS date) AS day
        FROM generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') AS s
    ) AS d
    JOIN timetable_entries e
      ON e.weekday = EXTRACT(ISODOW FROM d.day)
     AND e.valid_from <= d.day AND (e.valid_to IS NULL OR e.valid_to >= d.day)
    JOIN groups g ON g.id = e.group_id
    JOIN terms t ON t.year_id = g.year_id AND d.day BETWEEN t.starts_on AND t.ends_on
    WHERE e.group_id = ANY(:group_ids)
      AND NOT EXISTS (SELECT 1 FROM holidays h WHERE d.day BETWEEN h.starts_on AND h.ends_on)
      AND NOT EXISTS (SELECT 1 FROM deleted_lesson_dates x
                      WHERE x.group_id = e.group_id AND x.on_day = d.day
                        AND x.lesson_no = e.lesson_no)
      AND (EXTRACT(ISODOW FROM d.day) <= 5
           OR (EXTRACT(ISODOW FROM d.day) = 6
               AND COALESCE((SELECT s.saturday_lessons FROM gradebook_settings s
                             WHERE s.id = 1), false)))
    ON CONFLICT (group_id, on_day, lesson_no) DO NOTHING
    """
)

#: Generated lessons of the period that the timetable (or the calendar) no longer has and in
#: which nothing was written: no topic, objectives, classwork, notes, homework, attendance
#: (not even a roll taken with everyone present) or grades, and no substitute assigned.
_DELETE_STALE = text(
    """
    DELETE FROM lessons l
    WHERE l.source = 'timetable'
      AND l.on_day BETWEEN :start AND :end
      AND (CAST(:group_ids AS bigint[]) IS NULL OR l.group_id = ANY(:group_ids))
      AND COALESCE(l.topic, '') = '' AND COALESCE(l.classwork, '') = ''
      AND COALESCE(l.notes, '') = '' AND COALESCE(l.objectives, '') = ''
      AND l.substitute_for_id IS NULL AND l.attendance_taken_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM homework hw WHERE hw.lesson_id = l.id)
      AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.lesson_id = l.id)
      AND NOT EXISTS (SELECT 1 FROM grades gr WHERE gr.lesson_id = l.id)
      AND (
        NOT EXISTS (
          SELECT 1 FROM timetable_entries e
          WHERE e.group_id = l.group_id AND e.lesson_no = l.lesson_no
            AND e.weekday = EXTRACT(ISODOW FROM l.on_day)
            AND e.valid_from <= l.on_day AND (e.valid_to IS NULL OR e.valid_to >= l.on_day)
        )
        OR EXISTS (SELECT 1 FROM holidays h WHERE l.on_day BETWEEN h.starts_on AND h.ends_on)
        OR NOT EXISTS (SELECT 1 FROM terms t
                       WHERE t.id = l.term_id AND l.on_day BETWEEN t.starts_on AND t.ends_on)
        OR EXTRACT(ISODOW FROM l.on_day) = 7
        OR (EXTRACT(ISODOW FROM l.on_day) = 6
            AND NOT COALESCE((SELECT s.saturday_lessons FROM gradebook_settings s
                              WHERE s.id = 1), false))
      )
    """
)


def _insert_from_timetable(
    session: Session, start: date, end: date, group_ids: Sequence[int]
) -> int:
    if end < start or not group_ids:
        return 0
    result = session.execute(
        _INSERT_FROM_TIMETABLE, {"start": start, "end": end, "group_ids": list(group_ids)}
    )
    return result.rowcount


def ensure_lessons(session: Session, start: date, end: date, *, group_ids: Sequence[int]) -> None:
    """Make sure the timetable's lessons of ``group_ids`` exist for the school days from
    ``start`` to ``end`` inclusive: one SQL statement (none for no groups), idempotent."""
    _insert_from_timetable(session, start, end, group_ids)


def remove_stale_lessons(
    session: Session, start: date, end: date, *, group_ids: Sequence[int] | None = None
) -> int:
    """Delete the generated lessons from ``start`` to ``end`` that no longer match the
    timetable or the calendar and hold nothing (see ``_DELETE_STALE``); how many. One
    statement. Lessons with anything written in them stay: a teacher deletes them by hand."""
    if end < start:
        return 0
    ids = list(group_ids) if group_ids is not None else None
    result = session.execute(_DELETE_STALE, {"start": start, "end": end, "group_ids": ids})
    return result.rowcount


def follow_timetable(session: Session, group_id: int, start: date) -> None:
    """Bring the group's lessons from ``start`` on in line with its timetable, changed from
    that day in this transaction: remove the generated lessons it no longer has that hold
    nothing (:func:`remove_stale_lessons`) and generate its lessons for the days already
    generated (up to the school's last generated lesson). Without it the old slot's lessons
    stayed next to the new ones in the journal, the teacher's day, the diary and the API
    until the daily job ran. Three statements (one when nothing is generated from ``start``).
    """
    last = session.scalar(select(func.max(Lesson.on_day)).where(Lesson.source == "timetable"))
    if last is None or last < start:
        return
    remove_stale_lessons(session, start, last, group_ids=[group_id])
    _insert_from_timetable(session, start, last, [group_id])


@dataclass(frozen=True)
class GenerationReport:
    start: date
    end: date
    created: int
    removed: int

    def as_dict(self) -> dict[str, object]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "created": self.created,
            "removed": self.removed,
        }


def generate_school_lessons(session: Session, start: date, end: date) -> GenerationReport:
    """The generation pass of the daily job and the command for the school the session is
    bound to: remove stale generated lessons, then create the timetable's (every group)."""
    if end < start:
        raise ServiceError(_("The last day must not be before the first day."), field="to")
    if end - start > timedelta(days=366):
        raise ServiceError(_("Generate lessons for at most a year at a time."), field="to")
    removed = remove_stale_lessons(session, start, end)
    group_ids = session.scalars(
        select(TimetableEntry.group_id).distinct().where(TimetableEntry.valid_from <= end)
    ).all()
    created = _insert_from_timetable(session, start, end, group_ids)
    return GenerationReport(start, end, created, removed)


# --- reading ----------------------------------------------------------------------------------


def get_lesson(session: Session, lesson_id: int) -> Lesson:
    """The lesson with its group and subject; NotFound for an unknown id (also one of another
    school: the session only sees its own school's schema)."""
    lesson = session.scalar(
        select(Lesson)
        .where(Lesson.id == lesson_id)
        .options(
            joinedload(Lesson.group),
            selectinload(Lesson.homework).selectinload(Homework.files),
        )
    )
    if lesson is None:
        raise NotFound(_("There is no such lesson."))
    return lesson


@dataclass(frozen=True)
class LessonPage:
    lesson: Lesson
    term: Term
    room: Room | None
    teacher: Person | None
    substitute_for: Person | None
    can_write: bool
    can_delete: bool
    can_substitute: bool


def lesson_page(session: Session, account: Principal, school: School, lesson_id: int) -> LessonPage:
    """What the lesson page shows, for a reader of the group or the lesson's substitute."""
    lesson = get_lesson(session, lesson_id)
    can_write = _may_write(session, account, school, lesson)
    if not can_write:
        require_group_reader(session, account, school, lesson.group)
    people_ids = [pid for pid in (lesson.teacher_id, lesson.substitute_for_id) if pid]
    people = (
        {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(people_ids)))}
        if people_ids
        else {}
    )
    roles = roles_in_school(account, school)
    return LessonPage(
        lesson=lesson,
        term=session.get(Term, lesson.term_id),
        room=session.get(Room, lesson.room_id) if lesson.room_id else None,
        teacher=people.get(lesson.teacher_id),
        substitute_for=people.get(lesson.substitute_for_id),
        can_write=can_write,
        can_delete=Role.ADMIN in roles or _teaches(session, account, lesson.group_id),
        can_substitute=bool(roles & {Role.ADMIN, Role.DIRECTOR}),
    )


def _may_write(session: Session, account: Principal, school: School, lesson: Lesson) -> bool:
    try:
        require_lesson_writer(session, account, school, lesson)
    except PermissionDenied:
        return False
    return True


def _teaches(session: Session, account: Principal, group_id: int) -> bool:
    return (
        session.scalar(
            select(GroupTeacher.teacher_id)
            .join(Person, Person.id == GroupTeacher.teacher_id)
            .where(GroupTeacher.group_id == group_id, Person.account_id == account.id)
        )
        is not None
    )


@dataclass(frozen=True)
class MyLesson:
    lesson: Lesson
    substitute_for: str | None  # I stand in for this teacher
    held_by: str | None  # someone else stands in for me


def my_lessons(session: Session, account: Principal, day: date) -> list[MyLesson]:
    """The account's lessons of ``day``: those of the groups it teaches and those it holds as
    a substitute, in lesson order (one query)."""
    person = person_of(session, account)
    if person is None:
        return []
    teacher = Person.__table__.alias("teacher")
    absent = Person.__table__.alias("absent")
    my_groups = select(GroupTeacher.group_id).where(GroupTeacher.teacher_id == person.id)
    rows = session.execute(
        select(
            Lesson,
            absent.c.first_name,
            absent.c.last_name,
            teacher.c.first_name,
            teacher.c.last_name,
        )
        .outerjoin(absent, absent.c.id == Lesson.substitute_for_id)
        .outerjoin(teacher, teacher.c.id == Lesson.teacher_id)
        .where(
            Lesson.on_day == day,
            or_(Lesson.teacher_id == person.id, Lesson.group_id.in_(my_groups)),
        )
        .options(joinedload(Lesson.group))
        .order_by(Lesson.lesson_no, Lesson.id)
    ).all()
    result = []
    for lesson, absent_first, absent_last, held_first, held_last in rows:
        stands_in = lesson.substitute_for_id is not None and lesson.teacher_id == person.id
        replaced = lesson.substitute_for_id is not None and lesson.teacher_id != person.id
        result.append(
            MyLesson(
                lesson=lesson,
                substitute_for=f"{absent_first} {absent_last}" if stands_in else None,
                held_by=(f"{held_first} {held_last}" if replaced and held_first else None),
            )
        )
    return result


#: How far back the teacher's list of lessons to complete looks.
UNFINISHED_DAYS = 30


def without_topic() -> ColumnElement[bool]:
    """SQL: the lesson has no topic written (none, or only spaces)."""
    return or_(Lesson.topic.is_(None), func.btrim(Lesson.topic) == "")


def without_roll() -> ColumnElement[bool]:
    """SQL: the lesson's attendance was not taken (no mark saved for it)."""
    return Lesson.attendance_taken_at.is_(None)


@dataclass(frozen=True)
class Unfinished:
    lesson: Lesson
    no_topic: bool
    no_roll: bool


def unfinished_lessons(session: Session, account: Principal, today: date) -> list[Unfinished]:
    """The lessons of the last ``UNFINISHED_DAYS`` days before ``today`` that the account held
    and left unfinished: no topic written (seed 002: the topic is written every lesson) or no
    attendance taken (seed 002, 4.1.3); those of the groups it teaches that no substitute
    held, and those it held as a substitute; newest first (one query)."""
    person = person_of(session, account)
    if person is None:
        return []
    my_groups = select(GroupTeacher.group_id).where(GroupTeacher.teacher_id == person.id)
    rows = session.execute(
        select(Lesson, without_topic(), without_roll())
        .where(
            Lesson.on_day < today,
            Lesson.on_day >= today - timedelta(days=UNFINISHED_DAYS),
            or_(without_topic(), without_roll()),
            or_(
                Lesson.teacher_id == person.id,
                and_(Lesson.group_id.in_(my_groups), Lesson.substitute_for_id.is_(None)),
            ),
        )
        .options(joinedload(Lesson.group))
        .order_by(Lesson.on_day.desc(), Lesson.lesson_no)
    )
    return [Unfinished(*row) for row in rows]


def my_group_ids(session: Session, account: Principal) -> list[int]:
    """The groups the account teaches (to generate their lessons before listing a day)."""
    return list(
        session.scalars(
            select(GroupTeacher.group_id)
            .join(Person, Person.id == GroupTeacher.teacher_id)
            .where(Person.account_id == account.id)
        )
    )


# --- writing a lesson -------------------------------------------------------------------------


def _clean_text(value: str | None, field: str, limit: int) -> str | None:
    value = (value or "").strip()
    if len(value) > limit:
        raise ServiceError(
            ngettext(
                "At most %(num)d character, please.",
                "At most %(num)d characters, please.",
                limit,
            ),
            field=field,
        )
    return value or None


def update_lesson(
    session: Session,
    account: Principal,
    school: School,
    lesson: Lesson,
    *,
    topic: str | None,
    classwork: str | None,
    notes: str | None,
    objectives: str | None = None,
) -> Lesson:
    """Write what was taught (the group's teachers, the lesson's substitute, the admin)."""
    require_lesson_writer(session, account, school, lesson)
    values = (
        _clean_text(topic, "topic", TOPIC_MAX),
        _clean_text(objectives, "objectives", TEXT_MAX),
        _clean_text(classwork, "classwork", TEXT_MAX),
        _clean_text(notes, "notes", TEXT_MAX),
    )
    lesson.topic, lesson.objectives, lesson.classwork, lesson.notes = values
    lesson.changed_by = account.id
    session.flush()
    return lesson


# --- homework ---------------------------------------------------------------------------------

#: Largest homework file, and how many files one homework may have.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 10
FILE_NAME_MAX = 200

_ZIP = (b"PK\x03\x04",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
#: Allowed extensions: (content type, the file's first bytes, or None for plain text).
ALLOWED_FILES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
    "doc": ("application/msword", _OLE),
    "xls": ("application/vnd.ms-excel", _OLE),
    "ppt": ("application/vnd.ms-powerpoint", _OLE),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP),
    "odt": ("application/vnd.oasis.opendocument.text", _ZIP),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", _ZIP),
    "odp": ("application/vnd.oasis.opendocument.presentation", _ZIP),
    "txt": ("text/plain", None),
    "rtf": ("application/rtf", (b"{\\rtf",)),
}


@dataclass(frozen=True)
class FileRule:
    """What one kind of upload accepts: the extensions (a subset of ``ALLOWED_FILES``), the
    form field its errors belong to, and the message for a file of another kind."""

    allowed: Mapping[str, tuple[str, tuple[bytes, ...] | None]]
    field: str
    wrong_kind: LazyString  # may name the file: %(name)s


#: Homework files and message attachments.
ATTACHMENTS = FileRule(
    ALLOWED_FILES,
    "files",
    _l("“%(name)s” cannot be attached: only PDF, pictures, office documents and text files can."),
)


def check_upload(upload: Upload, rule: FileRule = ATTACHMENTS) -> HomeworkFile:
    """A file checked by name, size and first bytes against ``rule`` (the content decides,
    not the browser's claim); a localised ``ServiceError`` naming the file otherwise."""
    field = rule.field
    name = PurePath(upload.file_name.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if not name:
        raise ServiceError(_("The file has no name."), field=field)
    shown = name if len(name) <= 60 else name[:57] + "…"
    if len(name) > FILE_NAME_MAX:
        raise ServiceError(_("The file name “%(name)s” is too long.", name=shown), field=field)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = rule.allowed.get(extension)
    if allowed is None:
        raise ServiceError(str(rule.wrong_kind) % {"name": shown}, field=field)
    if not upload.content:
        raise ServiceError(_("The file “%(name)s” is empty.", name=shown), field=field)
    if len(upload.content) > MAX_FILE_BYTES:
        raise ServiceError(
            _(
                "The file “%(name)s” is larger than %(size)s MB.",
                name=shown,
                size=MAX_FILE_BYTES // (1024 * 1024),
            ),
            field=field,
        )
    content_type, signatures = allowed
    if signatures is None:
        try:
            upload.content.decode("utf-8")
        except UnicodeDecodeError:
            raise ServiceError(
                _("“%(name)s” is not a text file in UTF-8.", name=shown), field=field
            ) from None
    elif not upload.content.startswith(signatures):
        raise ServiceError(
            _("“%(name)s” is not the kind of file its name says.", name=shown), field=field
        )
    return HomeworkFile(
        file_name=name, content_type=content_type, size=len(upload.content), content=upload.content
    )


def save_homework(
    session: Session,
    account: Principal,
    school: School,
    lesson: Lesson,
    *,
    text: str | None,
    due_on: str | None,
    uploads: Sequence[Upload] = (),
) -> Homework:
    """Set the lesson's homework and attach files.

    The due date is optional; when given it is not before the lesson. Notification: one
    ``homework`` event when the homework is created and another only when its text or due
    date changes; attaching a file or saving the same text again does not notify again
    (guardians would get the same homework twice)."""
    require_lesson_writer(session, account, school, lesson)
    body = _clean_text(text, "homework_text", TEXT_MAX)
    if body is None:
        raise ServiceError(_("Write the homework."), field="homework_text")
    due = parse_optional_date(due_on, "due_on")
    if due is not None and due < lesson.on_day:
        raise ServiceError(
            _(
                "The homework cannot be due before the lesson (%(day)s).",
                day=format_date(lesson.on_day, "medium"),
            ),
            field="due_on",
        )
    homework = lesson.homework
    existing = len(homework.files) if homework is not None else 0
    if existing + len(uploads) > MAX_FILES:
        raise ServiceError(
            ngettext(
                "Homework may have at most %(num)d file.",
                "Homework may have at most %(num)d files.",
                MAX_FILES,
            ),
            field="files",
        )
    files = [check_upload(upload) for upload in uploads]
    changed = homework is None or homework.text != body or homework.due_on != due
    if homework is None:
        homework = Homework(lesson_id=lesson.id, text=body, due_on=due)
        session.add(homework)
        lesson.homework = homework
    else:
        homework.text, homework.due_on = body, due
    session.flush()
    for file in files:
        file.homework_id = homework.id
        session.add(file)
    lesson.changed_by = account.id
    if changed:
        record_event(
            session,
            "homework",
            actor_id=account.id,
            homework_id=homework.id,
            lesson_id=lesson.id,
            group_id=lesson.group_id,
        )
    session.flush()
    return homework


def delete_homework(session: Session, account: Principal, school: School, lesson: Lesson) -> None:
    """Remove the lesson's homework with its files."""
    require_lesson_writer(session, account, school, lesson)
    if lesson.homework is None:
        raise ServiceError(_("The lesson has no homework."))
    session.execute(delete(Homework).where(Homework.id == lesson.homework.id))
    session.expire(lesson, ["homework"])
    session.flush()


def _homework_file(session: Session, file_id: int) -> tuple[HomeworkFile, Lesson]:
    row = session.execute(
        select(HomeworkFile, Lesson)
        .join(Homework, Homework.id == HomeworkFile.homework_id)
        .join(Lesson, Lesson.id == Homework.lesson_id)
        .where(HomeworkFile.id == file_id)
        .options(joinedload(Lesson.group))
    ).first()
    if row is None:
        raise NotFound(_("There is no such file."))
    return row[0], row[1]


def delete_homework_file(
    session: Session, account: Principal, school: School, lesson: Lesson, file_id: int
) -> None:
    require_lesson_writer(session, account, school, lesson)
    file, owner = _homework_file(session, file_id)
    if owner.id != lesson.id:
        raise NotFound(_("There is no such file."))
    session.delete(file)
    session.flush()


def homework_file(
    session: Session, account: Principal, school: School, file_id: int
) -> HomeworkFile:
    """A homework file for download: readers of the group, and the students of the group and
    their guardians (the diary links here)."""
    file, lesson = _homework_file(session, file_id)
    try:
        require_group_reader(session, account, school, lesson.group)
    except PermissionDenied:
        if not _may_write(session, account, school, lesson) and not _diary_of_group(
            session, account, lesson.group_id
        ):
            raise
    return file


def _diary_of_group(session: Session, account: Principal, group_id: int) -> bool:
    students = diary_student_ids(session, account)
    if not students:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    GroupStudent.group_id == group_id, GroupStudent.student_id.in_(students)
                )
            )
        )
    )


# --- ad-hoc lessons, substitutes, deleting ----------------------------------------------------


def _first_teacher_id(session: Session, group_id: int) -> int | None:
    return session.scalar(
        select(func.min(GroupTeacher.teacher_id)).where(GroupTeacher.group_id == group_id)
    )


def _refuse_clashes(
    session: Session,
    group: Group,
    day: date,
    number: int,
    teacher_id: int | None,
    *,
    students: bool = True,
    field: str = "lesson_no",
) -> None:
    """Refuse a lesson of ``group`` held by ``teacher_id`` when, at that lesson number of that
    day, the teacher already holds another group's lesson or (``students``) some of the
    group's students have one (one query; the lessons in the journal, as the timetable's own
    clashes are refused when it is made)."""
    shares_students = (
        exists().where(
            GroupStudent.group_id == Lesson.group_id,
            GroupStudent.student_id.in_(
                select(GroupStudent.student_id).where(GroupStudent.group_id == group.id)
            ),
        )
        if students
        else false()
    )
    teacher_busy = Lesson.teacher_id == teacher_id if teacher_id is not None else false()
    clashes = session.execute(
        select(Group.name, teacher_busy, shares_students)
        .join(Lesson, Lesson.group_id == Group.id)
        .where(
            Lesson.on_day == day,
            Lesson.lesson_no == number,
            Lesson.group_id != group.id,
            or_(teacher_busy, shares_students),
        )
        .order_by(Group.name)
    ).all()
    messages = [
        _(
            "The teacher already holds lesson %(number)d of %(group)s on %(day)s.",
            number=number, group=name, day=format_date(day, "medium"),
        )
        if busy
        else _(
            "Students of this group have lesson %(number)d of %(group)s on %(day)s.",
            number=number, group=name, day=format_date(day, "medium"),
        )
        for name, busy, _shared in clashes
    ]  # fmt: skip
    if messages:
        raise ServiceError(" ".join(messages), field=field)


def add_lesson(
    session: Session,
    account: Principal,
    school: School,
    *,
    group_id: object,
    on_day: str,
    lesson_no: str,
) -> Lesson:
    """An ad-hoc lesson of a group (its teacher or the administrator) on a school day of the
    group's year; one lesson per group, day and lesson number."""
    group_key = parse_id(group_id)
    group = session.get(Group, group_key) if group_key else None
    if group is None:
        raise NotFound(_("There is no such group."))
    require_group_writer(session, account, school, group)
    day = parse_date(on_day, "on_day")
    number = parse_int(lesson_no, "lesson_no", 0, 15)
    term = teaching_term(session, day, "on_day")
    if term.year_id != group.year_id:
        raise ServiceError(
            _("%(day)s is outside the group's school year.", day=format_date(day, "medium")),
            field="on_day",
        )
    taken = session.scalar(
        select(Lesson.id).where(
            Lesson.group_id == group.id, Lesson.on_day == day, Lesson.lesson_no == number
        )
    )
    if taken is not None:
        raise ServiceError(
            _(
                "The group already has lesson %(number)d on %(day)s.",
                number=number,
                day=format_date(day, "medium"),
            ),
            field="lesson_no",
        )
    person = person_of(session, account)
    teaches = person is not None and _teaches(session, account, group.id)
    teacher_id = person.id if teaches else _first_teacher_id(session, group.id)
    _refuse_clashes(session, group, day, number, teacher_id)
    lesson = Lesson(
        group_id=group.id,
        on_day=day,
        lesson_no=number,
        term_id=term.id,
        teacher_id=teacher_id,
        source="ad_hoc",
        changed_by=account.id,
    )
    session.add(lesson)
    session.flush()
    return lesson


def substitute_teachers(session: Session, school: School) -> list[Person]:
    """People with the teacher role in the school, by name (one query)."""
    people = session.scalars(
        select(Person)
        .join(SchoolGrant, SchoolGrant.account_id == Person.account_id)
        .where(SchoolGrant.school_id == school.id, SchoolGrant.role == Role.TEACHER.value)
        .distinct()
    ).all()
    return sorted(people, key=person_sort_key)


def assign_substitute(
    session: Session, account: Principal, school: School, lesson: Lesson, *, teacher_id: object
) -> Lesson:
    """The administrator or the director sets who holds the lesson instead of the group's
    teacher (one who holds no other lesson then); choosing the group's own teacher (or none)
    ends the substitution."""
    require_role(account, school, Role.ADMIN, Role.DIRECTOR)
    regular = (
        lesson.substitute_for_id or lesson.teacher_id or _first_teacher_id(session, lesson.group_id)
    )
    key = parse_id(teacher_id) if str(teacher_id or "").strip() else None
    if key is None and str(teacher_id or "").strip():
        raise ServiceError(_("Choose a teacher."), field="teacher")
    if key is None or key == regular:
        lesson.teacher_id, lesson.substitute_for_id = regular, None
    else:
        if key not in {p.id for p in substitute_teachers(session, school)}:
            raise ServiceError(_("Choose a teacher of this school."), field="teacher")
        _refuse_clashes(
            session, lesson.group, lesson.on_day, lesson.lesson_no, key,
            students=False, field="teacher",
        )  # fmt: skip
        lesson.teacher_id, lesson.substitute_for_id = key, regular
    lesson.changed_by = account.id
    session.flush()
    return lesson


def delete_lesson(
    session: Session, account: Principal, school: School, lesson: Lesson, today: date
) -> None:
    """Delete a lesson date (the group's teacher or the administrator) while the term's lock
    allows it, and only when no grade or attendance mark was written for it. A timetable
    lesson's date is remembered, so generation does not bring it back."""
    require_group_writer(session, account, school, lesson.group)
    require_open(session, session.get(Term, lesson.term_id), DELETE_LESSON_DATES, today)
    grades = session.scalar(select(func.count()).where(Grade.lesson_id == lesson.id))
    marks = session.scalar(select(func.count()).where(Attendance.lesson_id == lesson.id))
    if grades or marks:
        parts = []
        if grades:
            parts.append(npgettext("mark", "%(num)d grade", "%(num)d grades", grades))
        if marks:
            parts.append(ngettext("%(num)d attendance mark", "%(num)d attendance marks", marks))
        raise ServiceError(
            _(
                "The lesson cannot be deleted: it has %(records)s. Remove them first.",
                records=joined(parts),
            )
        )
    if lesson.source == "timetable":
        session.add(
            DeletedLessonDate(
                group_id=lesson.group_id,
                on_day=lesson.on_day,
                lesson_no=lesson.lesson_no,
                deleted_by=account.id,
            )
        )
    session.execute(delete(Lesson).where(Lesson.id == lesson.id))
    session.expunge(lesson)
    session.flush()
