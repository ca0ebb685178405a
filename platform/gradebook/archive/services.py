"""The school year's archive: every record of the year's gradebook as CSV files (UTF-8 with a
BOM, read by spreadsheet programs), each class's achievement summary as a PDF, a README and a
manifest with each file's SHA-256, in one ZIP file, in the school's language.

Every file that names a student gives their ID (the person's number in the school's diary)
too: students.csv lists each with their birth date and class, so two students of one name
stay apart.

Made by a job (``tasks.build_year_archive``); the ZIP and its SHA-256 are kept in
``year_archives`` for the administrator to download and copy to other media.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, date, datetime

from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from accounts.identity import Principal
from accounts.models import Account, Role
from accounts.services import require_role
from dienynas import clock
from dienynas.errors import NotFound, ServiceError
from dienynas.spreadsheet import csv_bytes
from gradebook.archive.models import YearArchive
from gradebook.attendance.models import Attendance
from gradebook.attendance.services import MARK_LABELS
from gradebook.grades.models import Grade, GradeChange, TermGrade
from gradebook.lessons.models import Homework, Lesson
from gradebook.overview.printouts import achievements_pdf
from gradebook.overview.services import class_members
from gradebook.remarks.models import Remark
from gradebook.remarks.services import KINDS as REMARK_KINDS
from school.calendar.models import SchoolYear, Term
from school.classes.models import Group, SchoolClass
from school.curriculum.models import AssessmentKind, Subject
from school.curriculum.services import grade_label
from school.people.models import Person, Student
from school.people.names import person_order, person_sort_key
from tenants.models import School

#: The archive's ZIP file name ends with this.
SUFFIX = ".zip"


def require_archivist(account: Principal, school: School) -> None:
    """The e-diary administrator makes and downloads the archives."""
    require_role(account, school, Role.ADMIN)


def list_archives(
    session: Session, school: School, account: Principal
) -> list[tuple[YearArchive, str | None]]:
    """The archives made, newest first (without their content), each with the name of who
    deleted it (None while it is kept)."""
    require_archivist(account, school)
    rows = session.execute(
        select(YearArchive, Account.name)
        .outerjoin(Account, Account.id == YearArchive.deleted_by)
        .order_by(YearArchive.requested_at.desc(), YearArchive.id.desc())
    )
    return [(archive, deleted_by) for archive, deleted_by in rows]


def request_archive(
    session: Session, account: Principal, school: School, year_id: int | None
) -> tuple[YearArchive, bool]:
    """A new archive of the year, waiting for its job; or the one still waiting (False: no
    second job for the same year)."""
    require_archivist(account, school)
    year = session.get(SchoolYear, year_id) if year_id else None
    if year is None:
        raise ServiceError(_("Choose a school year."), field="year")
    waiting = session.scalar(
        select(YearArchive).where(YearArchive.year_id == year.id, YearArchive.status == "pending")
    )
    if waiting is not None:
        return waiting, False
    archive = YearArchive(year_id=year.id, status="pending", requested_by=account.id)
    session.add(archive)
    session.flush()
    return archive, True


def get_archive(
    session: Session, account: Principal, school: School, archive_id: int
) -> YearArchive:
    require_archivist(account, school)
    archive = session.get(YearArchive, archive_id)
    if archive is None:
        raise NotFound(_("There is no such archive."))
    return archive


def delete_archive(
    session: Session, account: Principal, school: School, archive_id: int, *, confirmed: bool
) -> YearArchive:
    """Destroy an archive's content (a copy kept on other media, or its keeping period has
    ended), keeping its row as the trace: year, checksum, who deleted it and when. An archive
    still being made cannot be deleted."""
    require_archivist(account, school)
    archive = session.get(YearArchive, archive_id, with_for_update=True)
    if archive is None or archive.status == "deleted":
        raise NotFound(_("There is no such archive."))
    if archive.status == "pending":
        raise ServiceError(_("This archive is still being made; delete it when it is ready."))
    if not confirmed:
        raise ServiceError(
            _("Tick the box to confirm that this archive's copy may be destroyed."),
            field="confirm",
        )
    archive.content = None
    archive.status = "deleted"
    archive.deleted_by = account.id
    archive.deleted_at = datetime.now(UTC)
    session.flush()
    return archive


def archive_filename(school: School, year: SchoolYear) -> str:
    return f"dienynas-{school.slug}-{year.starts_on.year}-{year.ends_on.year}{SUFFIX}"


# --- the files ------------------------------------------------------------------------------


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _moment(moment: datetime | None) -> str:
    """A stored moment in the school's time zone to the second, as spreadsheets read it
    (``2026-12-08 02:03:35``)."""
    return moment.astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


class _Year:
    """What the files share: the year's groups, classes, subjects, kinds and terms, loaded once
    (five queries), and each class's students that year (``class_members``, a query a class);
    the students the files name are gathered for students.csv."""

    def __init__(self, session: Session, year: SchoolYear, locale: str) -> None:
        self.year, self.locale = year, locale
        groups = session.scalars(select(Group).where(Group.year_id == year.id))
        self.groups = {g.id: g for g in groups}
        classes = session.scalars(select(SchoolClass).where(SchoolClass.year_id == year.id))
        self.classes = {c.id: c for c in classes}
        self.subjects = {s.id: s for s in session.scalars(select(Subject))}
        self.kinds = {k.id: k for k in session.scalars(select(AssessmentKind))}
        self.terms = {t.id: t for t in session.scalars(select(Term).where(Term.year_id == year.id))}
        #: student id → their class that year (the one they moved up from, not today's)
        self.class_of: dict[int, SchoolClass] = {}
        for school_class in self.classes.values():
            for student_id in session.scalars(class_members(school_class)):
                self.class_of[student_id] = school_class
        self.named: set[int] = set()

    def student_columns(
        self, student_id: int | None, last: str | None, first: str | None
    ) -> list[int | str]:
        """A row's student: their ID (students.csv lists it), then their name."""
        if student_id is not None:
            self.named.add(student_id)
        return [student_id or "", f"{last or ''} {first or ''}".strip()]

    def class_name(self, student_id: int) -> str:
        """The student's class that year."""
        return self.class_of[student_id].name if student_id in self.class_of else ""

    def group_columns(self, group_id: int) -> list[str]:
        """Class, subject and group of a row."""
        group = self.groups[group_id]
        school_class = self.classes.get(group.class_id) if group.class_id else None
        subject = self.subjects[group.subject_id]
        return [school_class.name if school_class else "", subject.name_in(self.locale), group.name]

    def grade(self, group_id: int, value: str | None) -> str:
        if value is None:
            return ""
        return grade_label(self.subjects[self.groups[group_id].subject_id].scale, value)

    def kind(self, kind_id: int | None) -> str:
        return self.kinds[kind_id].name_in(self.locale) if kind_id in self.kinds else ""


def _lessons(session: Session, y: _Year) -> bytes:
    teacher = aliased(Person)
    rows = session.execute(
        select(Lesson, Homework.text, Homework.due_on, teacher.first_name, teacher.last_name)
        .outerjoin(Homework, Homework.lesson_id == Lesson.id)
        .outerjoin(teacher, teacher.id == Lesson.teacher_id)
        .where(Lesson.group_id.in_(y.groups))
        .order_by(Lesson.group_id, Lesson.on_day, Lesson.lesson_no)
    )
    return csv_bytes(
        [_("Class"), _("Subject"), _("Group"), _("Date"), _("Lesson no."), _("Teacher"),
         _("Topic"), _("Objectives"), _("Classwork"), _("Homework"), _("Due on")],
        (
            [*y.group_columns(lesson.group_id), _iso(lesson.on_day), lesson.lesson_no,
             f"{first} {last}" if last else "", lesson.topic, lesson.objectives,
             lesson.classwork, homework,
             _iso(due_on)]
            for lesson, homework, due_on, first, last in rows
        ),
    )  # fmt: skip


def _grades(session: Session, y: _Year) -> bytes:
    rows = session.execute(
        select(Grade, Person.last_name, Person.first_name, Account.name)
        .join(Person, Person.id == Grade.student_id)
        .outerjoin(Account, Account.id == Grade.created_by)
        .where(Grade.group_id.in_(y.groups))
        .order_by(Grade.group_id, *person_order(), Grade.on_day, Grade.id)
    )
    return csv_bytes(
        [_("Class"), _("Subject"), _("Group"), _("Student ID"), _("Student"), _("Date"),
         _("Term"), pgettext("mark", "Grade"), _("Kind"), _("Comment"), _("Entered by")],
        (
            [*y.group_columns(grade.group_id), *y.student_columns(grade.student_id, last, first),
             _iso(grade.on_day),
             y.terms[grade.term_id].number if grade.term_id in y.terms else "",
             y.grade(grade.group_id, grade.value), y.kind(grade.kind_id), grade.comment, author]
            for grade, last, first, author in rows
        ),
    )  # fmt: skip


def _term_grades(session: Session, y: _Year) -> bytes:
    rows = session.execute(
        select(TermGrade, Person.last_name, Person.first_name, Account.name)
        .join(Person, Person.id == TermGrade.student_id)
        .outerjoin(Account, Account.id == TermGrade.confirmed_by)
        .where(TermGrade.year_id == y.year.id)
        .order_by(TermGrade.group_id, *person_order(), TermGrade.term_id)
    )
    return csv_bytes(
        [_("Class"), _("Subject"), _("Group"), _("Student ID"), _("Student"), _("Term"),
         _("Suggested"), pgettext("mark", "Grade"), _("Confirmed by"), _("Confirmed at")],
        (
            [*y.group_columns(t.group_id), *y.student_columns(t.student_id, last, first),
             y.terms[t.term_id].number if t.term_id in y.terms else _("Year"),
             y.grade(t.group_id, t.suggested), y.grade(t.group_id, t.value), confirmer,
             _moment(t.confirmed_at)]
            for t, last, first, confirmer in rows
        ),
    )  # fmt: skip


def _attendance(session: Session, y: _Year) -> bytes:
    rows = session.execute(
        select(Attendance, Lesson.group_id, Lesson.on_day, Lesson.lesson_no, Person.last_name,
               Person.first_name)
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .join(Person, Person.id == Attendance.student_id)
        .where(Lesson.group_id.in_(y.groups))
        .order_by(Lesson.on_day, Lesson.lesson_no, Lesson.group_id, *person_order())
    )  # fmt: skip
    return csv_bytes(
        [_("Class"), _("Subject"), _("Group"), _("Student ID"), _("Student"), _("Date"),
         _("Lesson no."), _("Mark"), _("Excused")],
        (
            [*y.group_columns(group_id), *y.student_columns(mark.student_id, last, first),
             _iso(on_day), lesson_no,
             MARK_LABELS[mark.mark], _("yes") if mark.excuse_id else ""]
            for mark, group_id, on_day, lesson_no, last, first in rows
        ),
    )  # fmt: skip


def _remarks(session: Session, y: _Year) -> bytes:
    rows = session.execute(
        select(Remark, Person.last_name, Person.first_name, Account.name)
        .join(Person, Person.id == Remark.student_id)
        .outerjoin(Account, Account.id == Remark.written_by)
        .where(Remark.on_day.between(y.year.starts_on, y.year.ends_on))
        .order_by(Remark.on_day, Remark.id)
    )
    return csv_bytes(
        [_("Class"), _("Student ID"), _("Student"), _("Date"), _("Kind"), _("Subject"),
         _("Text"), _("Written by")],
        (
            [y.class_name(r.student_id), *y.student_columns(r.student_id, last, first),
             _iso(r.on_day), REMARK_KINDS[r.kind],
             y.group_columns(r.group_id)[1] if r.group_id in y.groups else "", r.text, author]
            for r, last, first, author in rows
        ),
    )  # fmt: skip


def _change_label(action: str) -> str:
    """How grade_changes.csv names a change."""
    labels = {
        "create": pgettext("grade change", "given"),
        "update": pgettext("grade change", "changed"),
        "delete": pgettext("grade change", "deleted"),
    }
    return labels[action]


def _grade_changes(session: Session, y: _Year) -> bytes:
    rows = session.execute(
        select(GradeChange, Person.last_name, Person.first_name, Account.name)
        .outerjoin(Person, Person.id == GradeChange.student_id)
        .outerjoin(Account, Account.id == GradeChange.changed_by)
        .where(GradeChange.group_id.in_(y.groups))
        .order_by(GradeChange.changed_at, GradeChange.id)
    )
    return csv_bytes(
        [_("Changed at"), _("Changed by"), _("Class"), _("Subject"), _("Group"), _("Student ID"),
         _("Student"), _("Date"), pgettext("grade history", "Change"), _("Old value"),
         _("New value"), _("After the lock")],
        (
            [_moment(c.changed_at), author, *y.group_columns(c.group_id),
             *y.student_columns(c.student_id, last, first), _iso(c.on_day),
             _change_label(c.action),
             y.grade(c.group_id, c.old_value), y.grade(c.group_id, c.new_value),
             _("yes") if c.after_lock else ""]
            for c, last, first, author in rows
        ),
    )  # fmt: skip


def _students(session: Session, y: _Year) -> bytes:
    """The students of the year's classes and any other student the files name, by class and
    name: the ID the other files give, name, birth date (namesakes apart), their class that
    year and the day they left the school when it was in the year."""
    students = session.scalars(
        select(Student).where(Student.person_id.in_(set(y.class_of) | y.named))
    ).all()

    def order(student: Student) -> tuple:
        school_class = y.class_of.get(student.person_id)
        place = (0, school_class.grade_level, school_class.letter) if school_class else (1, 0, "")
        return place, person_sort_key(student.person)

    return csv_bytes(
        [_("Student ID"), _("Last name"), _("First name"), _("Birth date"), _("Class"),
         _("Left on")],
        (
            [s.person_id, s.person.last_name, s.person.first_name, _iso(s.person.birth_date),
             y.class_name(s.person_id),
             _iso(s.left_on) if s.left_on and s.left_on <= y.year.ends_on else ""]
            for s in sorted(students, key=order)
        ),
    )  # fmt: skip


def build_archive(
    session: Session, account: Principal, school: School, year: SchoolYear, today: date
) -> bytes:
    """The year's ZIP file in the current language (the caller chooses the school's). Its files
    sit in one folder; ``manifest.csv`` lists each with its size and SHA-256."""
    y = _Year(session, year, school.default_locale)
    records: dict[str, bytes] = {
        "lessons.csv": _lessons(session, y),
        "grades.csv": _grades(session, y),
        "term_grades.csv": _term_grades(session, y),
        "attendance.csv": _attendance(session, y),
        "remarks.csv": _remarks(session, y),
        "grade_changes.csv": _grade_changes(session, y),
    }
    files = {"students.csv": _students(session, y), **records}  # after the others named them
    for school_class in sorted(y.classes.values(), key=lambda c: (c.grade_level, c.letter)):
        files[f"classes/{school_class.name}-achievement-summary.pdf"] = achievements_pdf(
            session, account, school, school_class.id, today
        )
    readme = _(
        "The electronic diary of %(school)s for the school year %(year)s, made on %(date)s.\n"
        "students.csv: each student's ID (the other files give it too), name, birth date and "
        "class that year; "
        "lessons.csv: lessons with topics, classwork and homework; grades.csv: grades; "
        "term_grades.csv: term and year grades; attendance.csv: absences and lateness; "
        "remarks.csv: praise, remarks and reprimands; grade_changes.csv: every change of a "
        "grade; classes/: each class's achievement summary.\n"
        "manifest.csv lists every file with its SHA-256 checksum.\n",
        school=school.name, year=year.name, date=today.isoformat(),
    )  # fmt: skip
    files["README.txt"] = readme.encode("utf-8")
    manifest = csv_bytes(
        [_("File"), _("Bytes"), "SHA-256"],
        ([name, len(data), hashlib.sha256(data).hexdigest()] for name, data in files.items()),
    )
    folder = archive_filename(school, year).removesuffix(SUFFIX)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [*files.items(), ("manifest.csv", manifest)]:
            archive.writestr(f"{folder}/{name}", data)
    return buffer.getvalue()


def record_archive(archive: YearArchive, content: bytes) -> None:
    archive.content = content
    archive.size = len(content)
    archive.sha256 = hashlib.sha256(content).hexdigest()
    archive.status = "done"
    archive.finished_at = datetime.now(UTC)
    archive.error = None
