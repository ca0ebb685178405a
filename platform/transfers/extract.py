"""The leaving-student extract: the pool row's portable record as a printable PDF, in the
leaving school's language (dates and numbers by Babel), made by WeasyPrint with DejaVu fonts
(Lithuanian, Polish and Cyrillic letters), as ``school/people/slips.py`` does.

Rendered by a job (``transfers.tasks.render_extract``): no request and no logged-in user, so
the template is rendered from the Jinja environment without the page layout's context.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy.orm import object_session
from weasyprint import HTML

from dienynas import clock
from dienynas.i18n import in_locale
from gradebook.attendance.services import MARK_LABELS
from gradebook.remarks.services import KINDS as REMARK_KINDS
from school.curriculum.services import pass_fail_label
from school.people.services import RELATIONS
from tenants.models import School
from transfers import services
from transfers.models import PoolEntry

_PASS_FAIL = ("passed", "failed")


def grade_text(value: str | None) -> str:
    """A grade as the extract prints it (pass/fail codes in the current language)."""
    if value in _PASS_FAIL:
        return pass_fail_label(value)
    return value or ""


def term_columns(subjects: dict[str, dict[str, Any]]) -> list[int | None]:
    """The term numbers that have term grades, then None for the year grade when there is one."""
    numbers = {t["term_number"] for s in subjects.values() for t in s["term_grades"]}
    return sorted(n for n in numbers if n is not None) + ([None] if None in numbers else [])


def attendance_totals(rows: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """(mark, lessons, of them excused) for every mark the record's attendance has."""
    lessons: Counter[str] = Counter()
    excused: Counter[str] = Counter()
    for row in rows:
        lessons[row["mark"]] += 1
        excused[row["mark"]] += bool(row.get("excused"))
    order = list(MARK_LABELS)
    marks = sorted(lessons, key=lambda m: order.index(m) if m in order else len(order))
    return [(mark, lessons[mark], excused[mark]) for mark in marks]


def extract_html(entry: PoolEntry, school: School, today: date | None = None) -> str:
    """The extract's HTML in the leaving school's language."""
    shown = services.extract_record(entry)
    remarks = sorted(shown["remarks"], key=lambda r: r["on_day"] or date.min)
    with in_locale(school.default_locale):
        return current_app.jinja_env.get_template("transfers/extract.html").render(
            entry=entry,
            school=school,
            x=shown,
            terms=term_columns(shown["subjects"]),
            attendance=attendance_totals(shown["attendance"]),
            mark_labels=MARK_LABELS,
            remarks=remarks,
            remark_kinds=REMARK_KINDS,
            relations=RELATIONS,
            grade_text=grade_text,
            locale=school.default_locale,
            issued_on=today or clock.today(),
            destination=services.destination_text(object_session(entry), entry),
        )


def extract_pdf(entry: PoolEntry, school: School, today: date | None = None) -> bytes:
    return HTML(string=extract_html(entry, school, today)).write_pdf()
