"""The class head's class overview and the director's school overview.

Both pages are built from a handful of aggregate queries (``GROUP BY`` student and subject, or
class), never a query per student or per class, so their cost does not grow with the school.

Means are of numeric grades only (pass/fail grades are counted, not averaged). A student's
overall mean is the mean of their subject means, each subject weighing the same, as on a
report card; a class's mean in a subject is the mean of all the class's grades in it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import format_decimal, pgettext
from flask_babel import gettext as _
from sqlalchemy import Numeric, Select, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.services import roles_in_school
from dienynas.errors import NotFound, PermissionDenied
from dienynas.spreadsheet import csv_bytes
from gradebook.access import CLASS_READERS, SCHOOL_READERS
from gradebook.attendance.models import Attendance
from gradebook.attendance.services import month_bounds
from gradebook.grades.models import Grade, TermGrade
from gradebook.lessons.models import Lesson
from gradebook.lessons.services import without_roll, without_topic
from gradebook.remarks.models import Remark
from gradebook.remarks.services import KINDS as REMARK_KINDS
from school.calendar.models import SchoolYear, Term
from school.calendar.services import current_year
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.curriculum.models import AssessmentKind, GradeScale, Subject
from school.curriculum.services import grade_label, unsatisfactory
from school.people.models import Person, Student
from school.people.names import person_sort_key
from school.people.services import student_roster
from school.permissions import person_of
from tenants.models import School

#: How far back "grades entered recently" looks on the school overview.
RECENT_DAYS = 7

_TWO_PLACES = Decimal("0.01")


def _numeric_value():
    """A grade's value as a number, NULL for pass/fail grades."""
    return case((Grade.value.regexp_match("^[0-9]+$"), cast(Grade.value, Numeric)))


def mean(total: Decimal | int | None, count: int) -> Decimal | None:
    """``total / count`` rounded half up to two places; None when nothing was counted."""
    if not count or total is None:
        return None
    return (Decimal(total) / count).quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)


def term_of_day(terms: list[Term], day: date) -> Term | None:
    """Of ``terms`` (sorted), the one containing ``day``, else the last one begun before it,
    else the first one (a year not started yet)."""
    begun = [t for t in terms if t.starts_on <= day]
    for term in begun:
        if term.ends_on >= day:
            return term
    return begun[-1] if begun else (terms[0] if terms else None)


# --- the students of a class in its school year ------------------------------------------


def class_members(school_class: SchoolClass, *, since: date | None = None) -> Select:
    """The ids (a subquery) of the students who belonged to the class in its school year: its
    own active students and those its groups of that year had. A class whose students moved
    up into the next year's class, or left the school, keeps them: every report of the class
    (its overview, the month's statistics, the achievement summary, the family reports) lists
    these, so a finished year's class is not empty. ``since``: without those who left the
    school before that day."""
    class_groups = select(Group.id).where(
        Group.class_id == school_class.id, Group.year_id == school_class.year_id
    )
    members = select(Student.person_id).where(
        or_(
            and_(Student.class_id == school_class.id, Student.status == "active"),
            Student.person_id.in_(
                select(GroupStudent.student_id).where(GroupStudent.group_id.in_(class_groups))
            ),
        )
    )
    if since is not None:
        members = members.where(or_(Student.left_on.is_(None), Student.left_on >= since))
    return members


def _members(
    session: Session, school_class: SchoolClass, *, since: date | None = None
) -> list[Student]:
    """The students of :func:`class_members` (their persons joined) by name; one query."""
    students = session.scalars(
        select(Student).where(Student.person_id.in_(class_members(school_class, since=since)))
    )
    return sorted(students, key=lambda student: person_sort_key(student.person))


def _left_on(student: Student) -> date | None:
    """When the student left the school; None while they are in it."""
    return student.left_on if student.status == "left" else None


def _within_year(
    session: Session, school_class: SchoolClass, first: date, last: date
) -> tuple[date, date]:
    """``first``–``last`` cut to the class's school year (first after last when outside it): a
    month after the year does not count what its students did in their next year's class."""
    year = session.get(SchoolYear, school_class.year_id)
    return max(first, year.starts_on), min(last, year.ends_on)


# --- the class overview --------------------------------------------------------------------


@dataclass
class SubjectCell:
    """One student's figures in one subject for the term."""

    count: int = 0
    numeric_count: int = 0
    total: Decimal = Decimal(0)
    term_grade: str | None = None  # the confirmed term grade, as shown

    @property
    def mean(self) -> Decimal | None:
        return mean(self.total, self.numeric_count)


@dataclass
class AttendanceTotals:
    absent: int = 0
    excused: int = 0
    unexcused: int = 0
    late: int = 0
    left_early: int = 0

    def add(self, other: AttendanceTotals) -> None:
        self.absent += other.absent
        self.excused += other.excused
        self.unexcused += other.unexcused
        self.late += other.late
        self.left_early += other.left_early


def _count_attendance(
    session: Session, students: Any, *lessons: Any
) -> dict[int, AttendanceTotals]:
    """Each of ``students``' (ids or a subquery) attendance marks counted over the lessons
    the ``lessons`` conditions choose (one query); a student without marks is not a key."""
    absent = Attendance.mark == "absent"
    totals: dict[int, AttendanceTotals] = {}
    for student_id, missed, excused, late, left_early in session.execute(
        select(
            Attendance.student_id,
            func.count().filter(absent),
            func.count().filter(absent, Attendance.excuse_id.is_not(None)),
            func.count().filter(Attendance.mark == "late"),
            func.count().filter(Attendance.mark == "left_early"),
        )
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .where(Attendance.student_id.in_(students), *lessons)
        .group_by(Attendance.student_id)
    ):
        totals[student_id] = AttendanceTotals(missed, excused, missed - excused, late, left_early)
    return totals


@dataclass
class StudentRow:
    student: Person
    #: subject id → figures; a subject missing here is one the student does not take.
    cells: dict[int, SubjectCell]
    attendance: AttendanceTotals
    left_on: date | None = None  # left the school (they were in the class that term)

    @property
    def mean(self) -> Decimal | None:
        """The mean of the student's subject means."""
        means = [cell.mean for cell in self.cells.values() if cell.mean is not None]
        return mean(sum(means, Decimal(0)), len(means))

    @property
    def grade_count(self) -> int:
        return sum(cell.count for cell in self.cells.values())


@dataclass
class ClassOverview:
    school_class: SchoolClass
    terms: list[Term]
    term: Term | None
    subjects: list[Subject]
    rows: list[StudentRow]
    #: subject id → the class's mean in it (all its grades in the term)
    subject_means: dict[int, Decimal | None] = field(default_factory=dict)
    subject_counts: dict[int, int] = field(default_factory=dict)
    attendance: AttendanceTotals = field(default_factory=AttendanceTotals)

    @property
    def mean(self) -> Decimal | None:
        """The mean of the students' overall means."""
        means = [row.mean for row in self.rows if row.mean is not None]
        return mean(sum(means, Decimal(0)), len(means))


def require_class_reader(
    session: Session, account: Principal, school: School, school_class: SchoolClass
) -> None:
    """The class's head, the director, the administrator or the social pedagogue."""
    if roles_in_school(account, school) & CLASS_READERS:
        return
    person = person_of(session, account)
    if person is None or school_class.head_id != person.id:
        raise PermissionDenied(
            _("Only the class head, the director, the e-diary administrator and the social "
              "pedagogue may see this.")
        )  # fmt: skip


def _readable_class(
    session: Session, account: Principal, school: School, class_id: int
) -> SchoolClass:
    """The class, when the account may read its overview and printouts."""
    school_class = session.get(SchoolClass, class_id)
    if school_class is None:
        raise NotFound(_("There is no such class."))
    require_class_reader(session, account, school, school_class)
    return school_class


def class_overview(
    session: Session,
    account: Principal,
    school: School,
    class_id: int,
    *,
    term_id: int | None,
    today: date,
    locale: str,
) -> ClassOverview:
    """Every subject of the class's students (:func:`class_members`, without those who left
    before the term) with each student's mean, grade count and confirmed term grade in
    ``term_id`` (default: the term of ``today``), and their attendance totals in the term.
    Eight queries whatever the size of the class."""
    school_class = _readable_class(session, account, school, class_id)
    terms = list(
        session.scalars(
            select(Term).where(Term.year_id == school_class.year_id).order_by(Term.starts_on)
        )
    )
    if term_id is not None:
        term = next((t for t in terms if t.id == term_id), None)
        if term is None:
            raise NotFound(_("There is no such term in this class's school year."))
    else:
        term = term_of_day(terms, today)

    since = term.starts_on if term is not None else None
    students = _members(session, school_class, since=since)
    in_class = class_members(school_class, since=since)

    memberships = session.execute(
        select(GroupStudent.student_id, Group)
        .join(Group, Group.id == GroupStudent.group_id)
        .where(GroupStudent.student_id.in_(in_class), Group.year_id == school_class.year_id)
    ).all()
    subjects = {group.subject_id: group.subject for _student, group in memberships}
    cells: dict[int, dict[int, SubjectCell]] = defaultdict(dict)
    for student_id, group in memberships:
        cells[student_id].setdefault(group.subject_id, SubjectCell())

    result = ClassOverview(
        school_class=school_class,
        terms=terms,
        term=term,
        subjects=sorted(subjects.values(), key=lambda s: s.name_in(locale).casefold()),
        rows=[],
    )
    attendance: dict[int, AttendanceTotals] = defaultdict(AttendanceTotals)
    if term is not None:
        number = _numeric_value()
        for student_id, subject_id, count, numeric_count, total in session.execute(
            select(
                Grade.student_id,
                Group.subject_id,
                func.count(),
                func.count(number),
                func.sum(number),
            )
            .join(Group, Group.id == Grade.group_id)
            .where(Grade.term_id == term.id, Grade.student_id.in_(in_class))
            .group_by(Grade.student_id, Group.subject_id)
        ):
            cell = cells[student_id].setdefault(subject_id, SubjectCell())
            cell.count, cell.numeric_count, cell.total = count, numeric_count, total or Decimal(0)

        for student_id, subject_id, value in session.execute(
            select(TermGrade.student_id, Group.subject_id, TermGrade.value)
            .join(Group, Group.id == TermGrade.group_id)
            .where(
                TermGrade.term_id == term.id,
                TermGrade.student_id.in_(in_class),
                TermGrade.value.is_not(None),
                TermGrade.confirmed_at.is_not(None),
            )
        ):
            cell = cells[student_id].setdefault(subject_id, SubjectCell())
            if subject_id in subjects:
                cell.term_grade = grade_label(subjects[subject_id].scale, value)

        attendance.update(_count_attendance(session, in_class, Lesson.term_id == term.id))

    for student in students:
        row = StudentRow(
            student.person,
            cells.get(student.person_id, {}),
            attendance[student.person_id],
            _left_on(student),
        )
        result.rows.append(row)
        result.attendance.add(row.attendance)
    for subject_id in subjects:
        taken = [row.cells[subject_id] for row in result.rows if subject_id in row.cells]
        result.subject_counts[subject_id] = sum(c.count for c in taken)
        result.subject_means[subject_id] = mean(
            sum((c.total for c in taken), Decimal(0)), sum(c.numeric_count for c in taken)
        )
    return result


# --- the year's achievement summary -------------------------------------------------------


@dataclass
class SummaryRow:
    """One student's line of the achievement summary."""

    student: Person
    left_on: date | None  # left the school (the line stays: they were in the class that year)
    #: subject id → the confirmed grades as shown: one per term (None where there is none),
    #: then the year grade
    grades: dict[int, list[str | None]]
    attendance: AttendanceTotals


@dataclass
class AchievementSummary:
    school_class: SchoolClass
    year: SchoolYear
    terms: list[Term]
    subjects: list[Subject]
    rows: list[SummaryRow]
    attendance: AttendanceTotals = field(default_factory=AttendanceTotals)


def achievement_summary(
    session: Session, account: Principal, school: School, class_id: int, *, locale: str
) -> AchievementSummary:
    """The class's confirmed term and year grades in every subject, and each student's missed
    lessons in the school year: the summary printed and signed at the year's end. Its students
    are :func:`class_members` (so the summary of a finished year still lists a class that
    moved up). Six queries whatever the size of the class."""
    school_class = _readable_class(session, account, school, class_id)
    year = session.get(SchoolYear, school_class.year_id)
    terms = list(
        session.scalars(select(Term).where(Term.year_id == year.id).order_by(Term.starts_on))
    )
    in_class = class_members(school_class)
    students = _members(session, school_class)
    memberships = session.execute(
        select(GroupStudent.student_id, Group.subject_id)
        .join(Group, Group.id == GroupStudent.group_id)
        .where(GroupStudent.student_id.in_(in_class), Group.year_id == year.id)
    ).all()
    subjects = {
        subject.id: subject
        for subject in session.scalars(
            select(Subject).where(Subject.id.in_({subject_id for _s, subject_id in memberships}))
        )
    }
    columns = {term.id: n for n, term in enumerate(terms)} | {None: len(terms)}
    grades: dict[int, dict[int, list[str | None]]] = defaultdict(dict)
    for student_id, subject_id in memberships:
        grades[student_id].setdefault(subject_id, [None] * (len(terms) + 1))
    for student_id, subject_id, term_id, value in session.execute(
        select(TermGrade.student_id, Group.subject_id, TermGrade.term_id, TermGrade.value)
        .join(Group, Group.id == TermGrade.group_id)
        .where(
            TermGrade.year_id == year.id,
            TermGrade.student_id.in_(in_class),
            TermGrade.value.is_not(None),
            TermGrade.confirmed_at.is_not(None),
        )
    ):
        subject = subjects.get(subject_id)
        if subject is None or term_id not in columns:
            continue
        row = grades[student_id].setdefault(subject_id, [None] * (len(terms) + 1))
        row[columns[term_id]] = grade_label(subject.scale, value)
    attendance = _count_attendance(session, in_class, Lesson.term_id.in_([t.id for t in terms]))
    summary = AchievementSummary(
        school_class=school_class,
        year=year,
        terms=terms,
        subjects=sorted(subjects.values(), key=lambda s: s.name_in(locale).casefold()),
        rows=[],
    )
    for student in students:
        row = SummaryRow(
            student.person,
            _left_on(student),
            grades.get(student.person_id, {}),
            attendance.get(student.person_id, AttendanceTotals()),
        )
        summary.rows.append(row)
        summary.attendance.add(row.attendance)
    return summary


# --- the reports for families without the diary: monthly, term and year ----------------


@dataclass
class ReportGrade:
    on_day: date
    value: str  # as stored: the report shows it in its own language (grade_label)
    kind: AssessmentKind | None
    number: Decimal | None  # the value as a number; None for a pass/fail grade


@dataclass
class FamilyReport:
    """One student's page of a paper report: what the diary shows their guardians, for those
    who do not log in (the class head prints it)."""

    student: Person
    locale: str  # the first guardian's language (as notifications choose it), else the
    # student's, else the school's
    grades: dict[int, list[ReportGrade]]  # subject id → the period's grades by day
    attendance: AttendanceTotals
    remarks: list[Remark]

    def mean(self, subject_id: int) -> Decimal | None:
        """The mean of the subject's numeric grades (pass/fail grades are not averaged)."""
        numbers = [g.number for g in self.grades.get(subject_id, []) if g.number is not None]
        return mean(sum(numbers, Decimal(0)), len(numbers))


@dataclass
class MonthlyReports:
    school_class: SchoolClass
    month: date  # its first day
    subjects: dict[int, Subject]
    reports: list[FamilyReport]
    students: int  # the class's in the month, before choosing the families without the diary


@dataclass
class TermReports:
    school_class: SchoolClass
    year: SchoolYear
    term: Term | None  # None: the whole school year
    subjects: dict[int, Subject]
    reports: list[FamilyReport]
    #: (student id, subject id) → the confirmed term grade (for the year: the year grade)
    final_grades: dict[tuple[int, int], str]
    students: int  # the class's in the period, before choosing the families without the diary

    def subject_ids(self, report: FamilyReport) -> list[int]:
        """The subjects of a student's page: those with grades or a final grade, by name in the
        page's language."""
        ids = set(report.grades) | {
            subject_id for student_id, subject_id in self.final_grades
            if student_id == report.student.id
        }  # fmt: skip
        return sorted(ids, key=lambda i: self.subjects[i].name_in(report.locale).casefold())


def monthly_reports(
    session: Session,
    account: Principal,
    school: School,
    class_id: int,
    *,
    month: date,
    only_offline: bool,
) -> MonthlyReports:
    """The month's grades, missed lessons and remarks of each student of the class in the
    month (:func:`class_members`; ``only_offline``: of those none of whose guardians logs in
    to the diary, as the people reports count them). Eight queries whatever the size of the
    class."""
    school_class = _readable_class(session, account, school, class_id)
    month_start, month_end = month_bounds(month)
    first, last = _within_year(session, school_class, month_start, month_end)
    reports, students = _family_reports(
        session, school, school_class, only_offline, month_start,
        Grade.on_day.between(first, last), Lesson.on_day.between(first, last),
        Remark.on_day.between(first, last),
    )  # fmt: skip
    subjects = _subjects(session, {i for report in reports for i in report.grades})
    return MonthlyReports(school_class, month, subjects, reports, students)


def term_reports(
    session: Session,
    account: Principal,
    school: School,
    class_id: int,
    *,
    term_id: int | None,
    only_offline: bool,
) -> TermReports:
    """The term's (``term_id`` None: the school year's) report of each student of the class in
    that period (:func:`class_members`), for the families who do not use the diary (seed 001,
    15.6: after each term and the year): per subject the grades, their mean and the confirmed
    term (or year) grade; missed lessons and remarks. The same ten queries (after the class
    and the reader's check) whatever the size of the class."""
    school_class = _readable_class(session, account, school, class_id)
    year = session.get(SchoolYear, school_class.year_id)
    terms = list(
        session.scalars(select(Term).where(Term.year_id == year.id).order_by(Term.starts_on))
    )
    if term_id is None:
        term, chosen = None, terms
        first, last = year.starts_on, year.ends_on
    else:
        term = next((t for t in terms if t.id == term_id), None)
        if term is None:
            raise NotFound(_("There is no such term."))
        chosen, first, last = [term], term.starts_on, term.ends_on
    term_ids = [t.id for t in chosen]
    reports, students = _family_reports(
        session, school, school_class, only_offline, first, Grade.term_id.in_(term_ids),
        Lesson.term_id.in_(term_ids), Remark.on_day.between(first, last),
    )  # fmt: skip
    final: dict[tuple[int, int], str] = {}
    ids = [report.student.id for report in reports]
    if ids:
        for student_id, subject_id, value in session.execute(
            select(TermGrade.student_id, Group.subject_id, TermGrade.value)
            .join(Group, Group.id == TermGrade.group_id)
            .where(
                TermGrade.year_id == year.id,
                TermGrade.student_id.in_(ids),
                TermGrade.term_id.is_(None) if term is None else TermGrade.term_id == term.id,
                TermGrade.value.is_not(None),
                TermGrade.confirmed_at.is_not(None),
            )
        ):
            final[(student_id, subject_id)] = value
    subjects = _subjects(
        session,
        {i for report in reports for i in report.grades} | {i for _s, i in final},
    )
    labels = {key: grade_label(subjects[key[1]].scale, value) for key, value in final.items()}
    return TermReports(school_class, year, term, subjects, reports, labels, students)


def _subjects(session: Session, ids: set[int]) -> dict[int, Subject]:
    if not ids:
        return {}
    return {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(ids)))}


def _family_reports(
    session: Session,
    school: School,
    school_class: SchoolClass,
    only_offline: bool,
    since: date,
    grades_where: Any,
    lessons_where: Any,
    remarks_where: Any,
) -> tuple[list[FamilyReport], int]:
    """The pages of a paper report for the class's students (:func:`class_members`, without
    those who left before ``since``; ``only_offline``: those none of whose guardians logs in
    to the diary, as the people reports count them), by name: their grades, attendance and
    remarks that the conditions choose; and how many students the class had before that
    choice. Five queries."""
    roster = student_roster(
        session, Student.person_id.in_(class_members(school_class, since=since))
    )
    students = len(roster)
    if only_offline:
        roster = [row for row in roster if not any(g.has_logged_in for g in row.guardians)]
    ids = [row.student.person_id for row in roster]
    grades: dict[int, dict[int, list[ReportGrade]]] = defaultdict(lambda: defaultdict(list))
    attendance: dict[int, AttendanceTotals] = {}
    remarks: dict[int, list[Remark]] = defaultdict(list)
    if ids:
        found = session.execute(
            select(Grade.student_id, Grade.on_day, Grade.value, Grade.kind_id, Group.subject_id,
                   _numeric_value())
            .join(Group, Group.id == Grade.group_id)
            .where(Grade.student_id.in_(ids), grades_where)
            .order_by(Grade.on_day, Grade.id)
        ).all()  # fmt: skip
        kinds = {k.id: k for k in session.scalars(select(AssessmentKind))} if found else {}
        for student_id, on_day, value, kind_id, subject_id, number in found:
            grades[student_id][subject_id].append(
                ReportGrade(on_day, value, kinds.get(kind_id), number)
            )
        attendance = _count_attendance(session, ids, lessons_where)
        for remark in session.scalars(
            select(Remark)
            .where(Remark.student_id.in_(ids), remarks_where)
            .order_by(Remark.on_day, Remark.id)
        ):
            remarks[remark.student_id].append(remark)
    reports = []
    for row in sorted(roster, key=lambda r: person_sort_key(r.person)):
        chosen = [g.locale for g in row.guardians if g.locale]
        reports.append(
            FamilyReport(
                student=row.person,
                locale=(chosen or [row.person.locale or school.default_locale])[0],
                grades=grades.get(row.student.person_id, {}),
                attendance=attendance.get(row.student.person_id, AttendanceTotals()),
                remarks=remarks.get(row.student.person_id, []),
            )
        )
    return reports, students


# --- the month's statistics of a class ----------------------------------------------------


@dataclass
class MonthFigures:
    """A student's (or the class's) month: progress, attendance and behaviour."""

    grades: int = 0
    numeric_count: int = 0
    total: Decimal = Decimal(0)
    unsatisfactory: int = 0  # below the scale's lowest satisfactory grade, or "failed"
    attendance: AttendanceTotals = field(default_factory=AttendanceTotals)
    remarks: dict[str, int] = field(default_factory=dict)  # kind → how many

    @property
    def mean(self) -> Decimal | None:
        """The mean of the month's numeric grades (pass/fail grades are counted only)."""
        return mean(self.total, self.numeric_count)

    def add(self, other: MonthFigures) -> None:
        self.grades += other.grades
        self.numeric_count += other.numeric_count
        self.total += other.total
        self.unsatisfactory += other.unsatisfactory
        self.attendance.add(other.attendance)
        for kind, count in other.remarks.items():
            self.remarks[kind] = self.remarks.get(kind, 0) + count


@dataclass
class StatisticsRow:
    student: Person
    figures: MonthFigures
    left_on: date | None = None  # left the school (they were in the class that month)


@dataclass
class MonthStatistics:
    school_class: SchoolClass
    month: date  # its first day
    rows: list[StatisticsRow]
    total: MonthFigures  # the class: sums, and the mean of all its numeric grades


def month_statistics(
    session: Session, account: Principal, school: School, class_id: int, *, month: date
) -> MonthStatistics:
    """What the class head reports after each month (seed 001, 15.5): per student of the class
    in the month (:func:`class_members`), the month's grades (how many, their mean, how many
    unsatisfactory), missed lessons, lateness and leaving early, and praise, remarks and
    reprimands. Three aggregate queries after the class, its year and its students, whatever
    the size of the class."""
    school_class = _readable_class(session, account, school, class_id)
    month_start, month_end = month_bounds(month)
    first, last = _within_year(session, school_class, month_start, month_end)
    students = _members(session, school_class, since=month_start)
    in_class = class_members(school_class, since=month_start)
    figures: dict[int, MonthFigures] = defaultdict(MonthFigures)
    if students:
        number = _numeric_value()
        for student_id, count, numeric_count, total, below in session.execute(
            select(
                Grade.student_id,
                func.count(),
                func.count(number),
                func.sum(number),
                func.count().filter(unsatisfactory(Grade.value)),
            )
            .join(Group, Group.id == Grade.group_id)
            .join(Subject, Subject.id == Group.subject_id)
            .join(GradeScale, GradeScale.id == Subject.scale_id)
            .where(Grade.student_id.in_(in_class), Grade.on_day.between(first, last))
            .group_by(Grade.student_id)
        ):
            found = figures[student_id]
            found.grades, found.numeric_count, found.unsatisfactory = count, numeric_count, below
            found.total = total or Decimal(0)
        for student_id, totals in _count_attendance(
            session, in_class, Lesson.on_day.between(first, last)
        ).items():
            figures[student_id].attendance = totals
        for student_id, kind, count in session.execute(
            select(Remark.student_id, Remark.kind, func.count())
            .where(Remark.student_id.in_(in_class), Remark.on_day.between(first, last))
            .group_by(Remark.student_id, Remark.kind)
        ):
            figures[student_id].remarks[kind] = count
    result = MonthStatistics(school_class, month_start, [], MonthFigures())
    for student in students:
        row = StatisticsRow(student.person, figures[student.person_id], _left_on(student))
        result.rows.append(row)
        result.total.add(row.figures)
    return result


def statistics_csv(statistics: MonthStatistics) -> bytes:
    """The month's statistics as a CSV file, the class's totals last (means written in the
    reader's language: a decimal comma in Lithuanian, as its spreadsheets expect)."""

    def columns(name: str, figures: MonthFigures) -> list[Any]:
        shown = None if figures.mean is None else format_decimal(figures.mean, "0.00")
        attendance = figures.attendance
        return [
            name, figures.grades, shown, figures.unsatisfactory,
            attendance.excused, attendance.unexcused, attendance.absent,
            attendance.late, attendance.left_early,
            *(figures.remarks.get(kind, 0) for kind in REMARK_KINDS),
        ]  # fmt: skip

    header = [
        _("Student"),
        pgettext("mark", "Grades"),
        _("Mean"),
        _("Unsatisfactory grades"),
        _("Missed lessons, excused"),
        _("Missed lessons, unexcused"),
        _("Missed lessons in all"),
        pgettext("count column", "Late"),
        pgettext("count column", "Left early"),
        *(str(label) for label in REMARK_KINDS.values()),
    ]
    rows = [
        columns(f"{row.student.last_name} {row.student.first_name}", row.figures)
        for row in statistics.rows
    ]
    return csv_bytes(header, [*rows, columns(_("Class in all"), statistics.total)])


def classes_to_overview(
    session: Session, account: Principal, school: School, today: date
) -> list[SchoolClass]:
    """The classes of the current school year whose overview the account reads: every class
    for the director, the administrator and the social pedagogue, the classes they head for
    a class head."""
    year = current_year(session, today)
    if year is None:
        return []
    query = (
        select(SchoolClass)
        .where(SchoolClass.year_id == year.id)
        .order_by(SchoolClass.grade_level, SchoolClass.letter)
    )
    if not roles_in_school(account, school) & CLASS_READERS:
        person = person_of(session, account)
        if person is None:
            return []
        query = query.where(SchoolClass.head_id == person.id)
    return list(session.scalars(query))


# --- the school overview -------------------------------------------------------------------


@dataclass
class ClassFigures:
    school_class: SchoolClass | None  # None: the school's totals
    students: int = 0
    numeric_count: int = 0
    total: Decimal = Decimal(0)
    lessons: int = 0
    lessons_without_topic: int = 0
    lessons_without_roll: int = 0  # held, attendance not taken
    absences: int = 0
    unexcused: int = 0
    term_grades_confirmed: int = 0
    term_grades_expected: int = 0
    unsatisfactory: int = 0  # the term's grades below the scale's lowest satisfactory one

    @property
    def mean(self) -> Decimal | None:
        return mean(self.total, self.numeric_count)

    def add(self, other: ClassFigures) -> None:
        for name in (
            "students", "numeric_count", "total", "lessons", "lessons_without_topic",
            "lessons_without_roll", "absences", "unexcused", "term_grades_confirmed",
            "term_grades_expected", "unsatisfactory",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class TeacherActivity:
    name: str
    grades: int


@dataclass
class SchoolOverview:
    year: SchoolYear | None
    term: Term | None
    month_start: date
    today: date
    classes: list[ClassFigures]
    totals: ClassFigures
    teachers: list[TeacherActivity]


def require_school_reader(account: Principal, school: School) -> None:
    if not roles_in_school(account, school) & SCHOOL_READERS:
        raise PermissionDenied(
            _("Only the director and the e-diary administrator may see the school overview.")
        )


def school_overview(
    session: Session, account: Principal, school: School, *, today: date
) -> SchoolOverview:
    """Per class of the current year: students, the term's mean grade and its unsatisfactory
    grades, lessons held this month and how many lack a topic, absences this month, term grades
    confirmed of those expected; the school's totals; grades entered per teacher in the last
    :data:`RECENT_DAYS` days. Nine queries whatever the size of the school."""
    require_school_reader(account, school)
    month_start = today.replace(day=1)
    year = current_year(session, today)
    empty = SchoolOverview(year, None, month_start, today, [], ClassFigures(None), [])
    if year is None:
        return empty
    terms = list(
        session.scalars(select(Term).where(Term.year_id == year.id).order_by(Term.starts_on))
    )
    term = term_of_day(terms, today)
    school_classes = list(
        session.scalars(
            select(SchoolClass)
            .where(SchoolClass.year_id == year.id)
            .order_by(SchoolClass.grade_level, SchoolClass.letter)
        )
    )
    figures = {c.id: ClassFigures(c) for c in school_classes}
    active = Student.status == "active"
    in_year = SchoolClass.year_id == year.id

    for class_id, students in session.execute(
        select(Student.class_id, func.count())
        .join(SchoolClass, SchoolClass.id == Student.class_id)
        .where(active, in_year)
        .group_by(Student.class_id)
    ):
        figures[class_id].students = students

    # Which classes a group teaches: every class with a student in it (mixed groups count
    # for each of their classes).
    group_classes = (
        select(GroupStudent.group_id, Student.class_id)
        .join(Student, Student.person_id == GroupStudent.student_id)
        .join(SchoolClass, SchoolClass.id == Student.class_id)
        .where(active, in_year)
        .distinct()
        .subquery()
    )
    for class_id, lessons, no_topic, no_roll in session.execute(
        select(
            group_classes.c.class_id,
            func.count(),
            func.count().filter(without_topic()),
            func.count().filter(without_roll(), Lesson.on_day < today),  # today's may be ahead
        )
        .join(Lesson, Lesson.group_id == group_classes.c.group_id)
        .where(Lesson.on_day >= month_start, Lesson.on_day <= today)
        .group_by(group_classes.c.class_id)
    ):
        found = figures[class_id]
        found.lessons, found.lessons_without_topic, found.lessons_without_roll = (
            lessons, no_topic, no_roll,
        )  # fmt: skip

    absent = Attendance.mark == "absent"
    for class_id, absences, unexcused in session.execute(
        select(Student.class_id, func.count(), func.count().filter(Attendance.excuse_id.is_(None)))
        .select_from(Attendance)
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .join(Student, Student.person_id == Attendance.student_id)
        .join(SchoolClass, SchoolClass.id == Student.class_id)
        .where(absent, in_year, Lesson.on_day >= month_start, Lesson.on_day <= today)
        .group_by(Student.class_id)
    ):
        figures[class_id].absences, figures[class_id].unexcused = absences, unexcused

    if term is not None:
        number = _numeric_value()
        for class_id, count, total, below in session.execute(
            select(
                Student.class_id,
                func.count(number),
                func.sum(number),
                func.count().filter(unsatisfactory(Grade.value)),
            )
            .select_from(Grade)
            .join(Student, Student.person_id == Grade.student_id)
            .join(SchoolClass, SchoolClass.id == Student.class_id)
            .join(Group, Group.id == Grade.group_id)
            .join(Subject, Subject.id == Group.subject_id)
            .join(GradeScale, GradeScale.id == Subject.scale_id)
            .where(active, in_year, Grade.term_id == term.id)
            .group_by(Student.class_id)
        ):
            figures[class_id].numeric_count = count
            figures[class_id].total = total or Decimal(0)
            figures[class_id].unsatisfactory = below

        confirmed = and_(
            TermGrade.student_id == GroupStudent.student_id,
            TermGrade.group_id == GroupStudent.group_id,
            TermGrade.term_id == term.id,
            TermGrade.value.is_not(None),
            TermGrade.confirmed_at.is_not(None),
        )
        for class_id, expected, done in session.execute(
            select(Student.class_id, func.count(), func.count(TermGrade.id))
            .select_from(GroupStudent)
            .join(Group, Group.id == GroupStudent.group_id)
            .join(Student, Student.person_id == GroupStudent.student_id)
            .join(SchoolClass, SchoolClass.id == Student.class_id)
            .outerjoin(TermGrade, confirmed)
            .where(active, in_year, Group.year_id == year.id)
            .group_by(Student.class_id)
        ):
            figures[class_id].term_grades_expected = expected
            figures[class_id].term_grades_confirmed = done

    totals = ClassFigures(None)
    for row in figures.values():
        totals.add(row)
    return SchoolOverview(
        year=year,
        term=term,
        month_start=month_start,
        today=today,
        classes=list(figures.values()),
        totals=totals,
        teachers=recent_grades_by_teacher(session, year, today),
    )


def recent_grades_by_teacher(
    session: Session, year: SchoolYear, today: date
) -> list[TeacherActivity]:
    """Grades given in the last :data:`RECENT_DAYS` days (today included) by each teacher of
    the year's groups (those with none too), and by anyone else who gave some; the most
    active first. Grades given in another school (a hospital school's, or carried over by a
    transfer) are not anyone's here. Two queries."""
    since = datetime.combine(today - timedelta(days=RECENT_DAYS - 1), time.min).astimezone()
    counts = dict(
        session.execute(
            select(Grade.created_by, func.count())
            .where(Grade.created_at >= since, Grade.origin.is_(None))
            .group_by(Grade.created_by)
        ).all()
    )
    teacher_ids = (
        select(GroupTeacher.teacher_id)
        .join(Group, Group.id == GroupTeacher.group_id)
        .where(Group.year_id == year.id)
    )
    people = session.scalars(
        select(Person).where(
            or_(Person.id.in_(teacher_ids), Person.account_id.in_(list(counts) or [-1]))
        )
    ).all()
    named = sorted(
        ((counts.pop(p.account_id, 0), p) for p in people),
        key=lambda item: (-item[0], person_sort_key(item[1])),
    )
    rows = [TeacherActivity(p.full_name, grades) for grades, p in named]
    # Grades by accounts without a person in this school (e.g. an operator's correction).
    rows.extend(
        TeacherActivity(_("Account no. %(id)s", id=account_id), grades)
        for account_id, grades in sorted(counts.items(), key=lambda item: -item[1])
    )
    return rows
