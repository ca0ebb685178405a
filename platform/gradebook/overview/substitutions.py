"""The month's substitutions: which lessons each substitute teacher held in place of the
group's own teacher, for the e-diary administrator's account of their extra work (pay).

A substitution is what ``lessons.services.assign_substitute`` records on the lesson:
``teacher_id`` the substitute who held it, ``substitute_for_id`` the group's teacher. Only
lessons up to today count: a substitute set for a lesson later in the month has not been held
yet, and paying for it would be wrong if the plan changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from accounts.identity import Principal
from accounts.services import roles_in_school
from dienynas.errors import PermissionDenied
from dienynas.spreadsheet import csv_bytes
from gradebook.access import SCHOOL_READERS
from gradebook.attendance.services import month_bounds
from gradebook.lessons.models import Lesson
from school.classes.models import Group
from school.people.models import Person
from school.people.names import person_order
from tenants.models import School


@dataclass
class SubstitutedLesson:
    on_day: date
    lesson_no: int
    group: Group  # its subject is loaded with it
    stood_in_for: Person  # the group's teacher


@dataclass
class SubstituteRow:
    teacher: Person
    lessons: list[SubstitutedLesson]  # by day and lesson number

    @property
    def count(self) -> int:
        return len(self.lessons)


@dataclass
class MonthSubstitutions:
    month: date  # its first day
    counted_until: date  # the month's last day, or today while the month is not over
    rows: list[SubstituteRow]  # by the substitute's surname and first name

    @property
    def count(self) -> int:
        return sum(row.count for row in self.rows)

    @property
    def month_over(self) -> bool:
        return self.counted_until == month_bounds(self.month)[1]


def require_substitutions_reader(account: Principal, school: School) -> None:
    """The director and the e-diary administrator."""
    if not roles_in_school(account, school) & SCHOOL_READERS:
        raise PermissionDenied(
            _("Only the director and the e-diary administrator may see the substitutions.")
        )


def month_substitutions(
    session: Session, account: Principal, school: School, *, month: date, today: date
) -> MonthSubstitutions:
    """Per substitute teacher, the lessons of ``month`` (up to ``today``) they held in place of
    the group's teacher. One query whatever the number of teachers and lessons."""
    require_substitutions_reader(account, school)
    first, last = month_bounds(month)
    until = min(last, today)
    substitute, regular = aliased(Person), aliased(Person)
    rows: list[SubstituteRow] = []
    for on_day, lesson_no, group, teacher, stood_in_for in session.execute(
        select(Lesson.on_day, Lesson.lesson_no, Group, substitute, regular)
        .join(Group, Group.id == Lesson.group_id)
        .join(substitute, substitute.id == Lesson.teacher_id)
        .join(regular, regular.id == Lesson.substitute_for_id)
        .where(Lesson.on_day.between(first, until), Lesson.teacher_id != Lesson.substitute_for_id)
        .order_by(*person_order(substitute), Lesson.on_day, Lesson.lesson_no, Group.name)
    ):
        if not rows or rows[-1].teacher.id != teacher.id:
            rows.append(SubstituteRow(teacher, []))
        rows[-1].lessons.append(SubstitutedLesson(on_day, lesson_no, group, stood_in_for))
    return MonthSubstitutions(first, until, rows)


def _name(person: Person) -> str:
    return f"{person.last_name} {person.first_name}"


def substitutions_csv(found: MonthSubstitutions, locale: str) -> bytes:
    """The month's substitutions as a CSV file: a line per lesson (ISO dates, which every
    spreadsheet program reads), each teacher's count on a line after their lessons, and the
    count of all last. Subjects are named in ``locale``."""
    header = [
        _("Teacher"),
        _("Date"),
        _("Lesson no."),
        _("Group"),
        _("Subject"),
        _("Teacher stood in for"),
        _("Lessons substituted"),
    ]
    lines: list[list[object]] = []
    for row in found.rows:
        teacher = _name(row.teacher)
        lines.extend(
            [
                teacher, lesson.on_day.isoformat(), lesson.lesson_no, lesson.group.name,
                lesson.group.subject.name_in(locale), _name(lesson.stood_in_for), None,
            ]
            for lesson in row.lessons
        )  # fmt: skip
        lines.append([teacher, None, None, None, None, None, row.count])
    lines.append([_("In all"), None, None, None, None, None, found.count])
    return csv_bytes(header, lines)
