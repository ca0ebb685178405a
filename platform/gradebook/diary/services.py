"""The student's and guardian's diary: a week of lessons, homework, grades and absences, the
latest grades and the term summary, read straight from the gradebook tables.

The diary is the page parents open every evening, so it is read in a constant number of
queries whatever the number of children, classmates, days and lessons: one for who may read
whom (:func:`diary_students`) and one for the whole week (:func:`diary_week`, a single
statement that returns every part as JSON built by PostgreSQL).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from babel.numbers import format_decimal
from flask_babel import gettext as _
from sqlalchemy import text
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import FAMILY_ROLES
from accounts.services import roles_in_school
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.forms import parse_date
from dienynas.i18n import in_locale
from dienynas.names import name_sort_key
from gradebook.access import SCHOOL_READERS
from gradebook.diary.models import REVISION_SQL
from school.calendar.models import term_label
from school.curriculum.models import translated_name
from school.curriculum.services import FAILED, PASSED, pass_fail_label
from tenants.models import School, SchoolRef, SchoolStatus

#: How many of a student's most recent grades the diary shows.
LATEST_GRADES = 10


# --- who reads whom ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DiaryStudent:
    id: int
    first_name: str
    last_name: str
    class_name: str | None
    #: The account's own record or its child: offered in the diary's switcher.
    own: bool
    #: Records came with the student from another school that have no place in the diary
    #: (transfers: the page of the records carried over).
    carried: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


_STUDENTS_SQL = text(
    f"""
    WITH me AS (SELECT id FROM people WHERE account_id = :account_id),
    own AS (
        SELECT s.person_id FROM students s JOIN me ON s.person_id = me.id
        WHERE s.status = 'active'
        UNION
        SELECT s.person_id FROM students s
        JOIN guardianships g ON g.student_id = s.person_id
        JOIN me ON g.guardian_id = me.id
        WHERE s.status = 'active'
    ),
    wanted AS (
        SELECT person_id FROM own
        UNION
        SELECT person_id FROM students WHERE person_id = :student_id
    )
    SELECT p.id, p.first_name, p.last_name, c.grade_level, c.letter,
           p.id IN (SELECT person_id FROM own) AS own,
           coalesce(c.head_id = (SELECT id FROM me), false) AS headed,
           EXISTS (SELECT 1 FROM carried_records r WHERE r.student_id = p.id) AS carried,
           {REVISION_SQL} AS revision
    FROM wanted w
    JOIN people p ON p.id = w.person_id
    JOIN students s ON s.person_id = p.id
    LEFT JOIN classes c ON c.id = s.class_id
    """
)


class DiaryReaders(NamedTuple):
    #: The account's own students (or children), sorted by name.
    own: list[DiaryStudent]
    #: The student asked for (or the first of ``own``; None when there is none).
    chosen: DiaryStudent | None
    #: The school's diary revision when it was read (gradebook/diary/cache.py).
    revision: str | None


def diary_students(
    session: Session, account: Principal, school: School, student_id: int | None = None
) -> DiaryReaders:
    """The students whose diary the account reads as a student or guardian (the rule of
    ``gradebook.access.diary_student_ids``, sorted by name), and the student asked for.

    ``student_id`` is checked by the rule of ``gradebook.access.require_diary_reader`` (the
    student, a guardian, the class head, the administrator, the director): ``NotFound`` when
    the school has no such student, ``PermissionDenied`` when the account may not read them.
    Without ``student_id`` the first of the account's own students is chosen (None if it has
    none). The school's diary revision is read in the same query.
    """
    rows = session.execute(_STUDENTS_SQL, {"account_id": account.id, "student_id": student_id})
    everyone: dict[int, DiaryStudent] = {}
    headed: set[int] = set()
    revision = None
    for row in rows:
        revision = row.revision
        class_name = f"{row.grade_level}{row.letter}" if row.grade_level is not None else None
        everyone[row.id] = DiaryStudent(
            row.id, row.first_name, row.last_name, class_name, row.own, row.carried
        )
        if row.headed:
            headed.add(row.id)
    own = sorted(
        (s for s in everyone.values() if s.own),
        key=lambda s: (name_sort_key(s.last_name), name_sort_key(s.first_name), s.id),
    )
    if student_id is None:
        return DiaryReaders(own, own[0] if own else None, revision)
    chosen = everyone.get(student_id)
    if chosen is None:
        raise NotFound(_("This school has no such student."))
    staff = roles_in_school(account, school) & SCHOOL_READERS
    if not (chosen.own or student_id in headed or staff):
        raise PermissionDenied(_("You do not have access to this student's diary."))
    return DiaryReaders(own, chosen, revision)


def diary_schools(account: Principal) -> list[School | SchoolRef]:
    """The schools (open ones, by name) where the account is a student or a guardian."""
    schools = {
        grant.school_id: grant.school
        for grant in account.grants
        if grant.role in FAMILY_ROLES and grant.school.status == SchoolStatus.ACTIVE
    }
    return sorted(schools.values(), key=lambda s: s.name)


# --- the week ---------------------------------------------------------------------------------


@dataclass
class HomeworkFileLink:
    id: int
    file_name: str
    size: int


@dataclass
class HomeworkItem:
    text: str
    due_on: date | None
    files: list[HomeworkFileLink]


@dataclass
class GradeItem:
    id: int
    on_day: date
    subject: str
    value: str
    #: The grade as shown (pass/fail in the reader's language).
    label: str
    kind: str | None
    comment: str | None
    lesson_id: int | None
    #: the school where it was given, when not this one (a hospital school)
    origin: str | None = None


@dataclass
class AttendanceItem:
    #: absent, late or left_early
    mark: str
    excused: bool


@dataclass
class LessonItem:
    id: int
    lesson_no: int
    starts_at: time | None
    ends_at: time | None
    subject: str
    topic: str | None
    homework: HomeworkItem | None
    grades: list[GradeItem]
    attendance: AttendanceItem | None
    planned = False


@dataclass
class SlotItem:
    """A lesson of the timetable whose group has no lesson in the journal that day yet (the
    daily job makes lessons a few days ahead; a teacher who opens a month's grid makes their
    group's for the month), and that a teacher did not delete."""

    lesson_no: int
    starts_at: time | None
    ends_at: time | None
    subject: str
    #: Not in the journal yet (a lesson is: ``LessonItem.planned``).
    planned = True


@dataclass
class DiaryDay:
    day: date
    #: The holiday's name when the day is a holiday.
    holiday: str | None
    #: False on days outside every term (and on holidays): no lessons, no timetable.
    school_day: bool
    lessons: list[LessonItem]
    slots: list[SlotItem]
    #: Grades given on the day outside a lesson of the diary.
    other_grades: list[GradeItem]

    @property
    def periods(self) -> list[LessonItem | SlotItem]:
        """The day's lessons and the slots beside them, by lesson number."""
        return sorted([*self.lessons, *self.slots], key=lambda item: item.lesson_no)


@dataclass
class PlannedTestItem:
    on_day: date
    lesson_no: int | None
    subject: str
    topic: str
    kind: str | None


@dataclass
class RemarkItem:
    on_day: date
    kind: str
    subject: str | None
    text: str


@dataclass
class TermSubject:
    subject: str
    grades_count: int
    mean: Decimal | None
    #: The mean in the reader's locale (decimal comma in lt, ru, pl), "" without a mean.
    mean_text: str
    term_grade: str | None


@dataclass
class StudentWeek:
    student_id: int
    first_name: str
    last_name: str
    class_name: str | None
    days: list[DiaryDay]
    tests: list[PlannedTestItem]
    remarks: list[RemarkItem]
    latest_grades: list[GradeItem]
    term: str | None
    term_summary: list[TermSubject]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def absences(self) -> list[tuple[date, LessonItem]]:
        """The week's attendance marks, by day and lesson."""
        return [
            (day.day, lesson)
            for day in self.days
            for lesson in day.lessons
            if lesson.attendance is not None
        ]


@dataclass
class DiaryWeek:
    monday: date
    days: list[date]
    students: list[StudentWeek] = field(default_factory=list)


_WEEK_SQL = text(
    """
    WITH st AS (
        SELECT s.person_id AS student_id, p.first_name, p.last_name, c.grade_level, c.letter
        FROM students s JOIN people p ON p.id = s.person_id
        LEFT JOIN classes c ON c.id = s.class_id
        WHERE s.person_id = ANY(CAST(:students AS bigint[]))
    ),
    member AS (
        SELECT student_id, group_id FROM group_students
        WHERE student_id = ANY(CAST(:students AS bigint[]))
    ),
    subj AS (
        SELECT g.id AS group_id, s.name, s.name_translations AS names, sc.kind AS scale
        FROM groups g JOIN subjects s ON s.id = g.subject_id
        JOIN grade_scales sc ON sc.id = s.scale_id
    ),
    term AS (
        SELECT id, kind, number FROM terms WHERE starts_on <= :last
        ORDER BY starts_on DESC LIMIT 1
    ),
    gr AS (
        SELECT g.*, row_number() OVER (
            PARTITION BY g.student_id ORDER BY g.on_day DESC, g.id DESC) AS rn
        FROM grades g WHERE g.student_id = ANY(CAST(:students AS bigint[]))
    )
    SELECT json_build_object(
      'saturdays', (SELECT saturday_lessons FROM gradebook_settings WHERE id = 1),
      'students', (SELECT coalesce(json_agg(st), '[]') FROM st),
      'members', (SELECT coalesce(json_agg(json_build_array(student_id, group_id)), '[]')
                  FROM member),
      'holidays', (SELECT coalesce(json_agg(json_build_object(
                      'name', name, 'from', starts_on, 'to', ends_on)), '[]')
                   FROM holidays WHERE starts_on <= :last AND ends_on >= :first),
      'terms', (SELECT coalesce(json_agg(json_build_array(starts_on, ends_on)), '[]')
                FROM terms WHERE starts_on <= :last AND ends_on >= :first),
      'term', (SELECT row_to_json(term) FROM term),
      'bells', (SELECT coalesce(json_agg(json_build_array(
                    st.student_id, p.lesson_no, p.starts_at, p.ends_at)), '[]')
                FROM st CROSS JOIN LATERAL (
                    SELECT b.id FROM bell_schedules b
                    WHERE b.is_default OR st.grade_level BETWEEN b.min_grade AND b.max_grade
                    ORDER BY b.is_default LIMIT 1) b
                JOIN bell_periods p ON p.schedule_id = b.id),
      'lessons', (SELECT coalesce(json_agg(json_build_object(
                      'id', l.id, 'group_id', l.group_id, 'day', l.on_day, 'no', l.lesson_no,
                      'topic', l.topic, 'subject', subj.name, 'names', subj.names,
                      'homework', CASE WHEN h.id IS NOT NULL THEN json_build_object(
                          'text', h.text, 'due_on', h.due_on,
                          'files', (SELECT coalesce(json_agg(json_build_array(
                                        f.id, f.file_name, f.size) ORDER BY f.id), '[]')
                                    FROM homework_files f WHERE f.homework_id = h.id))
                      END) ORDER BY l.on_day, l.lesson_no), '[]')
                  FROM lessons l JOIN subj ON subj.group_id = l.group_id
                  LEFT JOIN homework h ON h.lesson_id = l.id
                  WHERE l.on_day BETWEEN :first AND :last
                    AND l.group_id IN (SELECT group_id FROM member)),
      'attendance', (SELECT coalesce(json_agg(json_build_array(
                         a.lesson_id, a.student_id, a.mark, a.excuse_id IS NOT NULL)), '[]')
                     FROM attendance a JOIN lessons l ON l.id = a.lesson_id
                     WHERE a.student_id = ANY(CAST(:students AS bigint[]))
                       AND l.on_day BETWEEN :first AND :last),
      'grades', (SELECT coalesce(json_agg(json_build_object(
                     'id', gr.id, 'student_id', gr.student_id, 'lesson_id', gr.lesson_id,
                     'day', gr.on_day, 'value', gr.value, 'comment', gr.comment,
                     'origin', gr.origin,
                     'kind', k.name, 'kind_names', k.name_translations,
                     'subject', subj.name, 'names', subj.names, 'scale', subj.scale,
                     'latest', gr.rn <= :latest) ORDER BY gr.on_day DESC, gr.id DESC), '[]')
                 FROM gr JOIN subj ON subj.group_id = gr.group_id
                 LEFT JOIN assessment_kinds k ON k.id = gr.kind_id
                 WHERE gr.rn <= :latest OR gr.on_day BETWEEN :first AND :last),
      'summary', (SELECT coalesce(json_agg(json_build_object(
                      'student_id', m.student_id, 'subject', subj.name, 'names', subj.names,
                      'count', coalesce(agg.n, 0), 'mean', agg.mean, 'term_grade', tg.value)
                      ORDER BY subj.name), '[]')
                  FROM (SELECT student_id, group_id FROM member
                        UNION
                        SELECT student_id, group_id FROM gr WHERE term_id = (SELECT id FROM term)
                  ) m
                  JOIN subj ON subj.group_id = m.group_id
                  LEFT JOIN (
                      SELECT student_id, group_id, count(*) AS n,
                             round(avg(CASE WHEN value ~ '^[0-9]+$' THEN value::numeric END), 2)
                                 AS mean
                      FROM gr WHERE term_id = (SELECT id FROM term)
                      GROUP BY student_id, group_id
                  ) agg ON agg.student_id = m.student_id AND agg.group_id = m.group_id
                  LEFT JOIN term_grades tg ON tg.student_id = m.student_id
                       AND tg.group_id = m.group_id AND tg.term_id = (SELECT id FROM term)
                       AND tg.confirmed_at IS NOT NULL),
      'tests', (SELECT coalesce(json_agg(json_build_object(
                    'group_id', t.group_id, 'day', t.on_day, 'no', t.lesson_no,
                    'topic', t.topic, 'kind', k.name, 'kind_names', k.name_translations,
                    'subject', subj.name, 'names', subj.names)
                    ORDER BY t.on_day, t.lesson_no NULLS LAST, t.id), '[]')
                FROM planned_tests t JOIN subj ON subj.group_id = t.group_id
                LEFT JOIN assessment_kinds k ON k.id = t.kind_id
                WHERE t.on_day BETWEEN :first AND :last
                  AND t.group_id IN (SELECT group_id FROM member)),
      'remarks', (SELECT coalesce(json_agg(json_build_object(
                      'student_id', r.student_id, 'day', r.on_day, 'kind', r.kind,
                      'text', r.text, 'subject', subj.name, 'names', subj.names)
                      ORDER BY r.on_day, r.id), '[]')
                  FROM remarks r LEFT JOIN subj ON subj.group_id = r.group_id
                  WHERE r.student_id = ANY(CAST(:students AS bigint[]))
                    AND r.on_day BETWEEN :first AND :last),
      'deleted', (SELECT coalesce(json_agg(json_build_array(d.group_id, d.on_day, d.lesson_no)),
                          '[]')
                  FROM deleted_lesson_dates d
                  WHERE d.on_day BETWEEN :first AND :last
                    AND d.group_id IN (SELECT group_id FROM member)),
      'slots', (SELECT coalesce(json_agg(json_build_object(
                    'group_id', e.group_id, 'weekday', e.weekday, 'no', e.lesson_no,
                    'from', e.valid_from, 'to', e.valid_to,
                    'subject', subj.name, 'names', subj.names)), '[]')
                FROM timetable_entries e JOIN subj ON subj.group_id = e.group_id
                WHERE e.group_id IN (SELECT group_id FROM member)
                  AND e.valid_from <= :last
                  AND (e.valid_to IS NULL OR e.valid_to >= :first))
    ), set_config('plan_cache_mode', 'auto', true)
    """
)

#: Run before :data:`_WEEK_SQL`, which sets it back: plan the week statement once per
#: connection. For each new student and week PostgreSQL would plan it anew (2 ms of the 3.7 of
#: CPU the statement costs it), because a plan made without the values looks dearer to it than
#: one made with them, though the values barely change the plan.
_PLAN_ONCE = text("SELECT set_config('plan_cache_mode', 'force_generic_plan', true)")


def week_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


#: Weeks the diary can show (a wider range only overflows dates on the way).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def parse_week(value: str | None, today: date) -> date:
    """The Monday of the week asked for (``YYYY-MM-DD``, any day of it; empty: this week);
    a ``ServiceError`` naming the value otherwise."""
    if not (value or "").strip():
        return week_of(today)
    day = parse_date(value, "week")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ServiceError(
            _(
                "Choose a week between the years %(first)d and %(last)d.",
                first=FIRST_YEAR,
                last=LAST_YEAR,
            ),
            field="week",
        )
    return week_of(day)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _time(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


def _subject(row: dict[str, Any], locale: str) -> str:
    """The subject's name in the reader's language."""
    return translated_name(row["subject"], row["names"], locale)


def _kind(row: dict[str, Any], locale: str) -> str | None:
    if row["kind"] is None:
        return None
    return translated_name(row["kind"], row["kind_names"], locale)


def grade_text(value: str) -> str:
    """A stored grade as the reader sees it (pass/fail in their language)."""
    return pass_fail_label(value) if value in (PASSED, FAILED) else value


def grade_item(row: dict[str, Any], locale: str) -> GradeItem:
    """A grade from a row with the keys the queries here give (``day`` an ISO date; subject
    and assessment kind names with their translations); names in ``locale``."""
    value = row["value"]
    label = grade_text(value)
    return GradeItem(
        id=row["id"],
        on_day=date.fromisoformat(row["day"]),
        subject=_subject(row, locale),
        value=value,
        label=label,
        kind=_kind(row, locale),
        comment=row["comment"],
        lesson_id=row["lesson_id"],
        origin=row.get("origin"),
    )


def format_mean(mean: Decimal | None, locale: str) -> str:
    """A mean with two decimals in the reader's locale (7,50 in Lithuanian, 7.50 in English)."""
    if mean is None:
        return ""
    return format_decimal(
        mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), format="0.00", locale=locale
    )


def diary_week(
    session: Session, student_ids: Sequence[int], monday: date, locale: str
) -> DiaryWeek:
    """The week starting on ``monday`` (any day is taken to its Monday) for each student, in
    the order given; names of subjects and assessment kinds in ``locale``. One query (and one
    that sets how PostgreSQL plans it, :data:`_PLAN_ONCE`).

    The caller has checked that the reader may see these students (:func:`diary_students`).
    """
    monday = week_of(monday)
    session.execute(_PLAN_ONCE)
    data = session.execute(
        _WEEK_SQL,
        {
            "students": list(student_ids),
            "first": monday,
            "last": monday + timedelta(days=6),
            "latest": LATEST_GRADES,
        },
    ).first()[0]
    days = [monday + timedelta(days=n) for n in range(6 if data["saturdays"] else 5)]
    week = DiaryWeek(monday=monday, days=days)

    holidays: dict[date, str] = {}
    for holiday in data["holidays"]:
        day, last = date.fromisoformat(holiday["from"]), date.fromisoformat(holiday["to"])
        while day <= last:
            holidays.setdefault(day, holiday["name"])
            day += timedelta(days=1)
    terms = [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in data["terms"]]
    teaching = {d for d in days if d not in holidays and any(a <= d <= b for a, b in terms)}
    term = data["term"]

    groups_of: dict[int, set[int]] = defaultdict(set)
    for student_id, group_id in data["members"]:
        groups_of[student_id].add(group_id)
    bells: dict[tuple[int, int], tuple[time | None, time | None]] = {
        (student_id, no): (_time(start), _time(end)) for student_id, no, start, end in data["bells"]
    }
    attendance = {
        (lesson_id, student_id): AttendanceItem(mark, excused)
        for lesson_id, student_id, mark, excused in data["attendance"]
    }
    grades_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in data["grades"]:
        grades_of[row["student_id"]].append(row)
    by_student = {row["student_id"]: row for row in data["students"]}

    context = _Context(data, locale, days, holidays, teaching, term, bells, attendance)
    with in_locale(locale):  # term names and pass/fail labels in the reader's language
        for student_id in student_ids:
            student = by_student.get(student_id)
            if student is None:
                continue
            week.students.append(
                _student_week(context, student, groups_of[student_id], grades_of[student_id])
            )
    return week


@dataclass
class _Context:
    """What :func:`diary_week` read, shared by every student of the week."""

    data: dict[str, Any]
    locale: str
    days: list[date]
    holidays: dict[date, str]
    teaching: set[date]
    term: dict[str, Any] | None
    bells: dict[tuple[int, int], tuple[time | None, time | None]]
    attendance: dict[tuple[int, int], AttendanceItem]


def _student_week(
    context: _Context, student: dict[str, Any], groups: set[int], grade_rows: list[dict[str, Any]]
) -> StudentWeek:
    data, locale, days, bells = context.data, context.locale, context.days, context.bells
    student_id = student["student_id"]
    first, last = days[0], days[-1]
    week_grades = [
        grade_item(row, locale)
        for row in reversed(grade_rows)  # oldest first within the week
        if first <= date.fromisoformat(row["day"]) <= last
    ]
    grades_by_lesson: dict[int, list[GradeItem]] = defaultdict(list)
    for grade in week_grades:
        if grade.lesson_id is not None:
            grades_by_lesson[grade.lesson_id].append(grade)

    lessons_by_day: dict[date, list[LessonItem]] = defaultdict(list)
    # (day, group) with a lesson, and (day, group, lesson no.) deleted: not a slot any more
    held: set[tuple[str, int]] = set()
    deleted = {(day, group_id, no) for group_id, day, no in data["deleted"]}
    for row in data["lessons"]:
        if row["group_id"] not in groups:
            continue
        held.add((row["day"], row["group_id"]))
        homework = row["homework"]
        starts_at, ends_at = bells.get((student_id, row["no"]), (None, None))
        lessons_by_day[date.fromisoformat(row["day"])].append(
            LessonItem(
                id=row["id"],
                lesson_no=row["no"],
                starts_at=starts_at,
                ends_at=ends_at,
                subject=_subject(row, locale),
                topic=row["topic"],
                homework=HomeworkItem(
                    text=homework["text"],
                    due_on=_day(homework["due_on"]),
                    files=[HomeworkFileLink(*f) for f in homework["files"]],
                )
                if homework
                else None,
                grades=grades_by_lesson.pop(row["id"], []),
                attendance=context.attendance.get((row["id"], student_id)),
            )
        )
    # grades of lessons not in this diary (a group the student has left) are shown by day
    unplaced = {g.id for grades in grades_by_lesson.values() for g in grades}
    other_by_day: dict[date, list[GradeItem]] = defaultdict(list)
    for grade in week_grades:
        if grade.lesson_id is None or grade.id in unplaced:
            other_by_day[grade.on_day].append(grade)

    diary_days = []
    for day in days:
        lessons = lessons_by_day.get(day, [])
        school_day = day in context.teaching
        slots = (
            _slots(data, groups, day, student_id, bells, locale, held, deleted)
            if school_day
            else []
        )
        diary_days.append(
            DiaryDay(
                day=day,
                holiday=context.holidays.get(day),
                school_day=school_day,
                lessons=lessons,
                slots=slots,
                other_grades=other_by_day.get(day, []),
            )
        )
    return StudentWeek(
        student_id=student_id,
        first_name=student["first_name"],
        last_name=student["last_name"],
        class_name=f"{student['grade_level']}{student['letter']}"
        if student["grade_level"] is not None
        else None,
        days=diary_days,
        tests=[
            PlannedTestItem(
                on_day=date.fromisoformat(row["day"]),
                lesson_no=row["no"],
                subject=_subject(row, locale),
                topic=row["topic"],
                kind=_kind(row, locale),
            )
            for row in data["tests"]
            if row["group_id"] in groups
        ],
        remarks=[
            RemarkItem(
                on_day=date.fromisoformat(row["day"]),
                kind=row["kind"],
                subject=_subject(row, locale) if row["subject"] is not None else None,
                text=row["text"],
            )
            for row in data["remarks"]
            if row["student_id"] == student_id
        ],
        latest_grades=[grade_item(row, locale) for row in grade_rows if row["latest"]],
        term=term_label(context.term["kind"], context.term["number"]) if context.term else None,
        term_summary=_summary(
            (row for row in data["summary"] if row["student_id"] == student_id), locale
        ),
    )


def _slots(
    data: dict[str, Any],
    groups: set[int],
    day: date,
    student_id: int,
    bells: dict[tuple[int, int], tuple[time | None, time | None]],
    locale: str,
    held: set[tuple[str, int]],
    deleted: set[tuple[str, int, int]],
) -> list[SlotItem]:
    """The day's timetable entries of ``groups`` whose group has no lesson that day
    (``held``: (ISO day, group)) and that were not deleted (``deleted``: (ISO day, group,
    lesson no.))."""
    slots = []
    iso = day.isoformat()
    for row in data["slots"]:
        if (
            row["group_id"] in groups
            and (iso, row["group_id"]) not in held
            and (iso, row["group_id"], row["no"]) not in deleted
            and row["weekday"] == day.isoweekday()
            and date.fromisoformat(row["from"]) <= day
            and (row["to"] is None or day <= date.fromisoformat(row["to"]))
        ):
            starts_at, ends_at = bells.get((student_id, row["no"]), (None, None))
            slots.append(SlotItem(row["no"], starts_at, ends_at, _subject(row, locale)))
    return sorted(slots, key=lambda s: (s.lesson_no, s.subject))


def _summary(rows: Iterable[dict[str, Any]], locale: str) -> list[TermSubject]:
    result = []
    for row in rows:
        mean = Decimal(str(row["mean"])) if row["mean"] is not None else None
        result.append(
            TermSubject(
                subject=_subject(row, locale),
                grades_count=row["count"],
                mean=mean,
                mean_text=format_mean(mean, locale),
                term_grade=grade_text(row["term_grade"]) if row["term_grade"] else None,
            )
        )
    return sorted(result, key=lambda s: s.subject.lower())


# --- homework files ---------------------------------------------------------------------------
