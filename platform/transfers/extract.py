"""The leaving-student extract: the pool row's portable record as a printable PDF, in the
leaving school's language (dates and numbers by Babel), made by WeasyPrint with DejaVu fonts
(Lithuanian, Polish and Cyrillic letters), as ``school/people/slips.py`` does.

Rendered by a job (``transfers.tasks.render_extract``): no request and no logged-in user, so
the template is rendered from the Jinja environment without the page layout's context.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from weasyprint import HTML

from dienynas import clock
from dienynas.i18n import in_locale
from gradebook.attendance.services import MARK_LABELS
from gradebook.remarks.services import KINDS as REMARK_KINDS
from school.curriculum.services import pass_fail_label
from school.people.services import RELATIONS
from tenants.models import School
from transfers.models import PoolEntry

_PASS_FAIL = ("passed", "failed")


@dataclass
class SubjectLine:
    """One subject of the extract: its grades in date order and its term grades."""

    name: str
    code: str | None
    grades: list[dict[str, Any]] = field(default_factory=list)
    #: term number (None: the year grade) → value
    term_grades: dict[int | None, str] = field(default_factory=dict)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def grade_text(value: str | None) -> str:
    """A grade as the extract prints it (pass/fail codes in the current language)."""
    if value in _PASS_FAIL:
        return pass_fail_label(value)
    return value or ""


def subjects_of(record: dict[str, Any]) -> list[SubjectLine]:
    """Grades and term grades grouped by subject, in the order of the record's subjects."""
    lines: dict[str, SubjectLine] = {}
    for subject in record.get("subjects") or []:
        key = subject.get("code") or subject.get("name")
        lines[key] = SubjectLine(subject.get("name") or key, subject.get("code"))

    def line(row: dict[str, Any]) -> SubjectLine:
        key = row.get("subject_code") or row.get("subject_name") or "?"
        if key not in lines:
            lines[key] = SubjectLine(row.get("subject_name") or key, row.get("subject_code"))
        return lines[key]

    for grade in sorted(record.get("grades") or [], key=lambda g: g.get("on_day") or ""):
        line(grade).grades.append(grade | {"day": _day(grade.get("on_day"))})
    for term_grade in record.get("term_grades") or []:
        if term_grade.get("value") is not None:
            line(term_grade).term_grades[term_grade.get("term_number")] = term_grade["value"]
    return [s for s in lines.values() if s.grades or s.term_grades]


def attendance_totals(record: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(mark, lessons, of them excused) for every mark the record has."""
    lessons: Counter[str] = Counter()
    excused: Counter[str] = Counter()
    for row in record.get("attendance") or []:
        lessons[row["mark"]] += 1
        excused[row["mark"]] += bool(row.get("excused"))
    order = list(MARK_LABELS)
    marks = sorted(lessons, key=lambda m: order.index(m) if m in order else len(order))
    return [(mark, lessons[mark], excused[mark]) for mark in marks]


def term_numbers(subjects: list[SubjectLine]) -> list[int | None]:
    numbers = {n for s in subjects for n in s.term_grades}
    return sorted(n for n in numbers if n is not None) + ([None] if None in numbers else [])


def extract_html(entry: PoolEntry, school: School, today: date | None = None) -> str:
    """The extract's HTML in the leaving school's language."""
    record = entry.record or {}
    subjects = subjects_of(record)
    remarks = defaultdict(list)
    for remark in sorted(record.get("remarks") or [], key=lambda r: r.get("on_day") or ""):
        remarks[remark.get("kind")].append(remark | {"day": _day(remark.get("on_day"))})
    student = record.get("student") or {}
    student = student | {
        "birth": _day(student.get("birth_date")),
        "enrolled": _day(student.get("enrolled_on")),
    }
    with in_locale(school.default_locale):
        return current_app.jinja_env.get_template("transfers/extract.html").render(
            entry=entry,
            school=school,
            student=student
            | {
                "birth": _day(student.get("birth_date")),
                "enrolled": _day(student.get("enrolled_on")),
            },
            guardians=record.get("guardians") or [],
            year=record.get("year"),
            subjects=subjects,
            terms=term_numbers(subjects),
            attendance=attendance_totals(record),
            mark_labels=MARK_LABELS,
            remarks=[r for kind in REMARK_KINDS for r in remarks.get(kind, [])],
            remark_kinds=REMARK_KINDS,
            relations=RELATIONS,
            grade_text=grade_text,
            locale=school.default_locale,
            issued_on=today or clock.today(),
        )


def extract_pdf(entry: PoolEntry, school: School, today: date | None = None) -> bytes:
    return HTML(string=extract_html(entry, school, today)).write_pdf()
