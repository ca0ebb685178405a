"""The teacher's journal: a group × month grid of grades and attendance, and keyboard entry.

Reading (:func:`load_grid`) costs a constant number of queries whatever the number of
students and lessons: the group with its subject, scale, school year, the account's rights and
the assessment kinds (one query), the timetable's lessons of the month made sure of
(``ensure_lessons``, one statement), the lessons with the month's planned tests (one), and the
students with their grades and attendance of the month aggregated as JSON (one).

A cell is one student in one lesson. What the teacher types into it is the whole cell, read
by :func:`parse_cell`: at most one attendance code (the current language's short codes of
:func:`attendance_codes`, e.g. "n" absent, "p" late, "i" left early in Lithuanian; Latin and
Cyrillic letters that look alike are the same code, whatever the keyboard layout) and the
lesson's grades, separated by spaces (on the pass/fail scale the words, or their start:
``curriculum.services.validate_grade``). Saving (:func:`save_cell`) makes the cell what was typed:
the existing grades of the lesson are changed in order (keeping their kind and comment),
extra values are added, missing ones deleted; the attendance mark is set or cleared. An
excused absence stays excused while the absence is typed again. An empty cell clears both.
Typing over a cell (the editor opened by a keystroke, not by Enter, F2 or a click) replaces
its grades but keeps its attendance mark unless another code is typed (``keep_mark``).
Grades and attendance are saved by their own services (``gradebook.grades.services``,
``gradebook.attendance.services``), which hold every rule; a refusal leaves nothing saved
(the request rolls back). A grade's kind and comment are set in the grid's grade dialog
(``grades.change_grade``); grades on a date, not in a lesson, are added with the form under the
grid (:func:`add_day_grade`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import false, func, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Row as ResultRow
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import Role
from accounts.services import roles_in_school
from dienynas.errors import NotFound, ServiceError
from dienynas.forms import parse_date, parse_id, parse_month
from dienynas.i18n import joined
from gradebook.access import (
    group_rights_columns,
    own_person_id,
    require_group_rights,
    require_group_writer,
    require_lesson_writer,
)
from gradebook.attendance.models import Attendance
from gradebook.attendance.services import MARK_LABELS, mark_attendance
from gradebook.grades.models import Grade
from gradebook.grades.services import add_grade, change_grade, delete_grade
from gradebook.lessons.models import Lesson
from gradebook.lessons.services import ensure_lessons
from gradebook.planning.models import PlannedTest
from school.calendar.models import SchoolYear
from school.calendar.services import current_year
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.curriculum.models import AssessmentKind, GradeScale
from school.curriculum.services import grade_label
from school.health.models import HealthRecommendation
from school.health.services import in_force
from school.people.models import Person, Student
from school.people.names import person_sort_key
from tenants.models import School


def attendance_codes() -> dict[str, str]:
    """The short code teachers type and see for each mark, in the current language
    (Lithuanian: n, p, i)."""
    return {
        "absent": pgettext("attendance code", "a"),
        "late": pgettext("attendance code", "l"),
        "left_early": pgettext("attendance code", "e"),
    }


# --- the grid ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeItem:
    id: int
    value: str
    label: str
    on_day: date
    kind: str | None
    comment: str | None
    kind_id: int | None
    origin: str | None = None  # given in another school (a hospital school)


@dataclass(frozen=True)
class Column:
    """A lesson of the month."""

    lesson_id: int
    on_day: date
    lesson_no: int
    topic: str | None
    planned_test: str | None
    #: the reader holds this lesson (a substitute): its cells are theirs to write
    held: bool = False


@dataclass
class Cell:
    student: Person
    column: Column
    mark: str | None = None
    excused: bool = False
    grades: list[GradeItem] = field(default_factory=list)
    scale: GradeScale | None = None
    #: the mark's code in the reader's language (``attendance_codes``, looked up once a grid)
    code: str = ""

    @property
    def text(self) -> str:
        """What the cell holds, as the teacher would type it."""
        separator = ", " if self.scale is not None and self.scale.kind == "pass_fail" else " "
        values = separator.join(g.label for g in self.grades)
        return " ".join(part for part in (self.code, values) if part)


@dataclass
class StudentRow:
    student: Person
    cells: list[Cell]
    day_grades: list[GradeItem]
    average: Decimal | None
    #: the health specialist's recommendations in force (school/health), for the teacher
    health: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Grid:
    group: Group
    scale: GradeScale
    year: SchoolYear
    month: date  # the first of the month shown
    start: date
    end: date
    columns: list[Column]
    rows: list[StudentRow]
    can_write: bool  # every lesson of the group, and grades on dates
    reads_group: bool  # False for a substitute, who sees the grid for the lessons they hold
    kinds: list[tuple[int, str]]  # the active assessment kinds (id, name), for the entry form
    previous_month: date | None
    next_month: date | None

    @property
    def writes_cells(self) -> bool:
        """Some cell is the reader's to write (the keyboard entry is on)."""
        return self.can_write or any(column.held for column in self.columns)


def _month_of(value: str | None, year: SchoolYear, today: date) -> date:
    """The first day of the month asked for (``YYYY-MM``), else of ``today``'s, clipped to the
    school year."""
    month = parse_month(value, today)
    return min(max(month, year.starts_on.replace(day=1)), year.ends_on.replace(day=1))


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def _previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def month_param(month: date) -> str:
    return month.strftime("%Y-%m")


def _group_with_rights(session: Session, account: Principal, group_id: int) -> ResultRow[Any]:
    """The group (subject and scale joined), its school year, the account's rights to it
    (``group_rights_columns``), its person's id and the school's active assessment kinds as
    JSON: one query."""
    rights = group_rights_columns(account)
    kinds = (
        select(
            func.coalesce(
                func.json_agg(
                    aggregate_order_by(
                        func.json_build_array(
                            AssessmentKind.id, AssessmentKind.name, AssessmentKind.name_translations
                        ),
                        AssessmentKind.id,
                    )
                ),
                func.json_build_array(),
            )
        )
        .where(AssessmentKind.is_active)
        .scalar_subquery()
    )
    row = session.execute(
        select(Group, SchoolYear, *rights, own_person_id(account).label("me"), kinds.label("kinds"))
        .join(SchoolYear, SchoolYear.id == Group.year_id)
        .where(Group.id == group_id)
    ).first()
    if row is None:
        raise NotFound(_("There is no such group."))
    return row


def _grade_items(rows: list[list], scale: GradeScale, locale: str) -> list[GradeItem]:
    items = []
    for (
        grade_id,
        _lesson_id,
        on_day,
        value,
        kind_name,
        kind_names,
        comment,
        kind_id,
        origin,
    ) in rows:
        kind = (kind_names or {}).get(locale) or kind_name
        items.append(
            GradeItem(
                id=grade_id,
                value=value,
                label=grade_label(scale, value),
                on_day=date.fromisoformat(on_day),
                kind=kind,
                comment=comment,
                kind_id=kind_id,
                origin=origin,
            )
        )
    return items


def _mean(items: list[GradeItem]) -> Decimal | None:
    numbers = [int(item.value) for item in items if item.value.isdigit()]
    if not numbers:
        return None
    return (Decimal(sum(numbers)) / Decimal(len(numbers))).quantize(Decimal("0.01"))


def _students_query(
    group_id: int,
    start: date,
    end: date,
    student_id: int | None = None,
    *,
    health_on: date | None = None,
):
    """The group's students (active, or gone after ``start``) with their grades and
    attendance from ``start`` to ``end`` as JSON arrays: one row per student; with
    ``health_on``, also their health recommendations in force that day."""
    grades = (
        select(
            func.coalesce(
                func.json_agg(
                    aggregate_order_by(
                        func.json_build_array(
                            Grade.id,
                            Grade.lesson_id,
                            Grade.on_day,
                            Grade.value,
                            AssessmentKind.name,
                            AssessmentKind.name_translations,
                            Grade.comment,
                            Grade.kind_id,
                            Grade.origin,
                        ),
                        Grade.on_day,
                        Grade.id,
                    )
                ),
                func.json_build_array(),
            )
        )
        .select_from(Grade)
        .outerjoin(AssessmentKind, AssessmentKind.id == Grade.kind_id)
        .where(
            Grade.student_id == Person.id,
            Grade.group_id == group_id,
            Grade.on_day.between(start, end),
        )
        .scalar_subquery()
    )
    marks = (
        select(
            func.coalesce(
                func.json_agg(
                    func.json_build_array(
                        Attendance.lesson_id, Attendance.mark, Attendance.excuse_id.is_not(None)
                    )
                ),
                func.json_build_array(),
            )
        )
        .select_from(Attendance)
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .where(
            Attendance.student_id == Person.id,
            Lesson.group_id == group_id,
            Lesson.on_day.between(start, end),
        )
        .scalar_subquery()
    )
    columns = [Person, grades.label("grades"), marks.label("marks")]
    if health_on is not None:
        columns.append(
            select(
                func.coalesce(
                    func.json_agg(
                        aggregate_order_by(HealthRecommendation.text, HealthRecommendation.id)
                    ),
                    func.json_build_array(),
                )
            )
            .where(HealthRecommendation.student_id == Person.id, in_force(health_on))
            .scalar_subquery()
            .label("health")
        )
    query = (
        select(*columns)
        .join(GroupStudent, GroupStudent.student_id == Person.id)
        .join(Student, Student.person_id == Person.id)
        .where(
            GroupStudent.group_id == group_id,
            or_(Student.status == "active", Student.left_on >= start),
        )
    )
    if student_id is not None:
        query = query.where(Person.id == student_id)
    return query


def _lessons_query(group_id: int, start: date, end: date, holder_id: int | None):
    planned = (
        select(PlannedTest.topic)
        .where(
            PlannedTest.group_id == Lesson.group_id,
            PlannedTest.on_day == Lesson.on_day,
            or_(PlannedTest.lesson_no.is_(None), PlannedTest.lesson_no == Lesson.lesson_no),
        )
        .order_by(PlannedTest.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            Lesson.id,
            Lesson.on_day,
            Lesson.lesson_no,
            Lesson.topic,
            planned.label("planned"),
            (
                false()
                if holder_id is None
                else func.coalesce(Lesson.teacher_id == holder_id, false())
            ).label("held"),
        )
        .where(Lesson.group_id == group_id, Lesson.on_day.between(start, end))
        .order_by(Lesson.on_day, Lesson.lesson_no, Lesson.id)
    )


def _build_row(
    student: Person,
    grade_rows: list[list],
    mark_rows: list[list],
    columns: list[Column],
    scale: GradeScale,
    locale: str,
    codes: dict[str, str],
) -> StudentRow:
    items = _grade_items(grade_rows, scale, locale)
    by_lesson: dict[int, list[GradeItem]] = {}
    day_grades = []
    for item, raw in zip(items, grade_rows, strict=True):
        if raw[1] is None:
            day_grades.append(item)
        else:
            by_lesson.setdefault(raw[1], []).append(item)
    marks = {lesson_id: (mark, excused) for lesson_id, mark, excused in mark_rows}
    cells = []
    for column in columns:
        mark, excused = marks.get(column.lesson_id, (None, False))
        cells.append(
            Cell(
                student=student,
                column=column,
                mark=mark,
                excused=bool(excused),
                grades=by_lesson.get(column.lesson_id, []),
                scale=scale,
                code=codes[mark] if mark else "",
            )
        )
    return StudentRow(student=student, cells=cells, day_grades=day_grades, average=_mean(items))


def load_grid(
    session: Session,
    account: Principal,
    school: School,
    group_id: int,
    month: str | None,
    *,
    today: date,
    locale: str,
) -> Grid:
    """The journal of ``group_id`` for ``month`` (``YYYY-MM``; default ``today``'s, clipped
    to the group's school year), for a reader of the group or a substitute who holds one of
    its lessons; four queries."""
    group, year, teaches, heads_class, holds_lessons, me, kinds = _group_with_rights(
        session, account, group_id
    )
    rights = require_group_rights(
        account, school, teaches=teaches, heads_class=heads_class, holds_lessons=holds_lessons
    )
    first = _month_of(month, year, today)
    start = max(first, year.starts_on)
    end = min(_next_month(first) - timedelta(days=1), year.ends_on)
    ensure_lessons(session, start, end, group_ids=[group.id])
    columns = [
        Column(*lesson) for lesson in session.execute(_lessons_query(group.id, start, end, me))
    ]
    scale, codes = group.subject.scale, attendance_codes()
    rows = []
    for student, grade_rows, mark_rows, health in session.execute(
        _students_query(group.id, start, end, health_on=today)
    ):
        row = _build_row(student, grade_rows, mark_rows, columns, scale, locale, codes)
        row.health = health
        rows.append(row)
    rows.sort(key=lambda row: person_sort_key(row.student))
    return Grid(
        group=group,
        scale=scale,
        year=year,
        month=first,
        start=start,
        end=end,
        columns=columns,
        rows=rows,
        can_write=rights.writes,
        reads_group=rights.reads,
        kinds=sorted(
            ((kind_id, (names or {}).get(locale) or name) for kind_id, name, names in kinds),
            key=lambda kind: kind[1].casefold(),
        ),
        previous_month=_previous_month(first) if first > year.starts_on else None,
        next_month=_next_month(first) if _next_month(first) <= year.ends_on else None,
    )


# --- entry ------------------------------------------------------------------------------------


#: Latin letters that look like Cyrillic ones: a Russian teacher's "о" (late) typed on a
#: Latin keyboard layout, or a Lithuanian's "p" on a Cyrillic one, is the same code.
_LOOKALIKES = str.maketrans("aceopxyhkmtb", "асеорхункмтв")


def _code_key(word: str) -> str:
    return word.casefold().translate(_LOOKALIKES)


def parse_cell(text: str, scale: GradeScale) -> tuple[str | None, list[str]]:
    """What was typed into a cell: the attendance mark (or None) and the grade values as typed
    (the grade service validates them)."""
    codes = {_code_key(code): mark for mark, code in attendance_codes().items()}
    words = text.split()
    marks = [codes[_code_key(w)] for w in words if _code_key(w) in codes]
    if len(marks) > 1:
        raise ServiceError(_("A lesson has at most one attendance mark."), field="value")
    rest = [w for w in words if _code_key(w) not in codes]
    values = [v for v in re.split(r"[\s,;]+", " ".join(rest)) if v]
    if scale.kind != "pass_fail":
        word = next((v for v in values if not any(c.isdigit() for c in v)), None)
        if word is not None:  # a mistyped code rather than a grade
            codes = attendance_codes()
            listed = [f"{code} ({MARK_LABELS[mark]})" for mark, code in codes.items()]
            raise ServiceError(
                _(
                    "“%(value)s” is neither a grade nor an attendance code: %(codes)s.",
                    value=word,
                    codes=joined(listed),
                ),
                field="value",
            )
    return (marks[0] if marks else None), values


def cell_row(
    session: Session, group: Group, lesson: Lesson, student_id: int, locale: str
) -> StudentRow:
    """The student's row with only the lesson's cell, and the average of the lesson's month
    (what the grid shows after a save); the student must be in the group."""
    month = lesson.on_day.replace(day=1)
    row = session.execute(
        _students_query(group.id, month, _next_month(month) - timedelta(days=1), student_id)
    ).first()
    if row is None:
        raise ServiceError(_("The student is not in this group."), field="student")
    student, grade_rows, mark_rows = row
    column = Column(lesson.id, lesson.on_day, lesson.lesson_no, lesson.topic, None)
    return _build_row(
        student, grade_rows, mark_rows, [column], group.subject.scale, locale, attendance_codes()
    )


def save_cell(
    session: Session,
    account: Principal,
    school: School,
    group_id: int,
    *,
    lesson_id: int | None,
    student_id: int | None,
    value: str,
    today: date,
    locale: str,
    keep_mark: bool = False,
) -> StudentRow:
    """Make the cell of ``student_id`` in ``lesson_id`` what ``value`` says (see the module's
    docstring); the student's row as :func:`cell_row` gives it. ``keep_mark``: the teacher
    typed over the cell (the grid's editor opened by a keystroke), so a value without an
    attendance code keeps the cell's mark: a grade typed into an absent or late student's
    cell never clears the mark (an excused absence would lose its excuse)."""
    group = session.get(Group, group_id)
    if group is None:
        raise NotFound(_("There is no such group."))
    lesson = session.get(Lesson, lesson_id) if lesson_id else None
    if lesson is None or lesson.group_id != group.id:
        raise NotFound(_("There is no such lesson in this group."))
    require_lesson_writer(session, account, school, lesson)
    if not student_id:
        raise ServiceError(_("The student is not in this group."), field="student")
    current = cell_row(session, group, lesson, student_id, locale).cells[0]
    mark, values = parse_cell(value or "", group.subject.scale)
    if keep_mark and mark is None and values:
        mark = current.mark
    existing = list(
        session.scalars(
            select(Grade)
            .where(Grade.lesson_id == lesson.id, Grade.student_id == student_id)
            .order_by(Grade.on_day, Grade.id)
        )
    )
    if mark != current.mark:
        mark_attendance(session, account, school, lesson, student_id, mark, today=today)
    for grade, typed in zip(existing, values, strict=False):
        change_grade(
            session, account, school, grade,
            value=typed, kind_id=grade.kind_id, comment=grade.comment, today=today,
        )  # fmt: skip
    for typed in values[len(existing) :]:
        add_grade(
            session, account, school,
            group=group, student_id=student_id, value=typed, lesson=lesson, today=today,
        )  # fmt: skip
    for grade in existing[len(values) :]:
        delete_grade(session, account, school, grade, today=today)
    session.expire_all()
    return cell_row(session, session.get(Group, group_id), lesson, student_id, locale)


def add_day_grade(
    session: Session,
    account: Principal,
    school: School,
    group_id: int,
    *,
    student_id: str | None,
    on_day: str | None,
    value: str | None,
    kind_id: str | None,
    comment: str | None,
    today: date,
) -> Grade:
    """A grade on a date, not in a lesson (the form under the grid; raw form values)."""
    group = session.get(Group, group_id)
    if group is None:
        raise NotFound(_("There is no such group."))
    student = parse_id(student_id)
    if student is None:
        raise ServiceError(_("Choose the student."), field="student")
    return add_grade(
        session, account, school,
        group=group, student_id=student, value=value or "",
        kind_id=parse_id(kind_id), comment=comment,
        on_day=parse_date(on_day, "on_day"), today=today,
    )  # fmt: skip


# --- the list of groups -----------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSection:
    """Groups of one class (``school_class`` None: groups of several classes)."""

    school_class: SchoolClass | None
    groups: list[Group]


def journal_groups(
    session: Session, account: Principal, school: School, today: date
) -> tuple[SchoolYear | None, list[GroupSection]]:
    """The groups of the current school year whose journal the account opens: every group
    for the administrator and the director; for others the groups they teach and the groups
    with students of the classes they head, and those of the lessons they hold as a
    substitute. By class, then by group name (one query)."""
    year = current_year(session, today)
    if year is None:
        return None, []
    query = (
        select(Group, SchoolClass)
        .outerjoin(SchoolClass, SchoolClass.id == Group.class_id)
        .where(Group.year_id == year.id)
        .order_by(SchoolClass.grade_level.nulls_last(), SchoolClass.letter.nulls_last(), Group.name)
    )
    if not roles_in_school(account, school) & {Role.ADMIN, Role.DIRECTOR}:
        own = own_person_id(account)
        taught = select(GroupTeacher.group_id).where(GroupTeacher.teacher_id == own)
        headed = (
            select(GroupStudent.group_id)
            .join(Student, Student.person_id == GroupStudent.student_id)
            .join(SchoolClass, SchoolClass.id == Student.class_id)
            .where(SchoolClass.head_id == own)
        )
        held = select(Lesson.group_id).where(Lesson.teacher_id == own)
        query = query.where(or_(Group.id.in_(taught), Group.id.in_(headed), Group.id.in_(held)))
    sections: list[GroupSection] = []
    for group, school_class in session.execute(query):
        if not sections or sections[-1].school_class is not school_class:
            sections.append(GroupSection(school_class, []))
        sections[-1].groups.append(group)
    return year, sections


def get_day_grade(
    session: Session, account: Principal, school: School, group_id: int, grade_id: int
) -> tuple[Group, Grade]:
    """A grade on a date (not in a lesson) of the group, for one who may change it: NotFound
    for another group's grade or a lesson's (those are changed in the grid's cells),
    PermissionDenied for one who may not write in the group."""
    group = session.get(Group, group_id)
    grade = session.get(Grade, grade_id)
    if group is None or grade is None or grade.group_id != group.id or grade.lesson_id is not None:
        raise NotFound(_("There is no such grade."))
    require_group_writer(session, account, school, group)
    return group, grade
