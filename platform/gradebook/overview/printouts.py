"""Printed documents of a class, made by WeasyPrint with DejaVu fonts (as the login slips,
school/people/slips.py, and the leaving-student extract):

- the year's achievement summary (landscape A4), in the school's language: the class head
  prints it at the year's end for signing;
- the monthly reports, one page per student in their family's language, for guardians who do
  not use the diary (the class head prints them every month);
- the term and year reports, the same for a term or the school year, with each subject's
  mean and confirmed term (or year) grade.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from weasyprint import HTML

from accounts.identity import Principal
from dienynas.errors import ServiceError
from dienynas.i18n import in_locale
from dienynas.names import namesake_marks
from gradebook.overview.services import (
    FamilyReport,
    achievement_summary,
    monthly_reports,
    term_reports,
)
from gradebook.remarks.services import KINDS as REMARK_KINDS
from school.curriculum.services import grade_label
from tenants.models import School


def achievements_html(
    session: Session, account: Principal, school: School, class_id: int, today: date
) -> str:
    """The summary's HTML (namesakes told apart by their birth date); PermissionDenied or
    NotFound as ``achievement_summary``."""
    locale = school.default_locale
    with in_locale(locale):
        summary = achievement_summary(session, account, school, class_id, locale=locale)
        namesakes = namesake_marks(row.student for row in summary.rows)
        return current_app.jinja_env.get_template("overview/achievements.html").render(
            summary=summary, school=school, locale=locale, issued_on=today, namesakes=namesakes
        )


def achievements_pdf(
    session: Session, account: Principal, school: School, class_id: int, today: date
) -> bytes:
    return HTML(string=achievements_html(session, account, school, class_id, today)).write_pdf()


def monthly_reports_pdf(
    session: Session,
    account: Principal,
    school: School,
    class_id: int,
    *,
    month: date,
    only_offline: bool,
    today: date,
) -> bytes:
    """The month's reports of the class's students (``monthly_reports``), each page in its
    family's language; ServiceError saying why when no student is chosen."""
    found = monthly_reports(
        session, account, school, class_id, month=month, only_offline=only_offline
    )
    if not found.reports:
        raise _nothing_to_print(found.students)
    pages = []
    for report in found.reports:
        by_subject = sorted(
            report.grades.items(),
            key=lambda item: found.subjects[item[0]].name_in(report.locale).casefold(),
        )
        pages.append(_page("overview/monthly_report.html", report, found=found, school=school,
                           by_subject=by_subject, issued_on=today))  # fmt: skip
    return _document(pages, school)


def term_reports_pdf(
    session: Session,
    account: Principal,
    school: School,
    class_id: int,
    *,
    term_id: int | None,
    only_offline: bool,
    today: date,
) -> bytes:
    """The term's (``term_id`` None: the year's) reports of the class's students
    (``term_reports``), each page in its family's language; ServiceError saying why when no
    student is chosen."""
    found = term_reports(
        session, account, school, class_id, term_id=term_id, only_offline=only_offline
    )
    if not found.reports:
        raise _nothing_to_print(found.students)
    pages = [
        _page("overview/term_report.html", report, found=found, school=school, issued_on=today)
        for report in found.reports
    ]
    return _document(pages, school)


def _nothing_to_print(students: int) -> ServiceError:
    """Why a family report has no page: the class had no students in the period, or each of
    its students has a guardian who logs in to the diary (the only students chosen by default
    are those none of whose guardians does)."""
    if not students:
        return ServiceError(
            _("The class had no students in this period: there is no report to print.")
        )
    return ServiceError(_("Every family of the class uses the diary: there is no report to print."))


def _page(template: str, report: FamilyReport, **context: object) -> str:
    """One student's page of a family report, rendered in the family's language."""
    with in_locale(report.locale):
        return current_app.jinja_env.get_template(template).render(
            report=report, grade_label=grade_label, remark_kinds=REMARK_KINDS, **context
        )


def _document(pages: list[str], school: School) -> bytes:
    document = current_app.jinja_env.get_template("overview/family_reports.html").render(
        pages=pages, locale=school.default_locale
    )
    return HTML(string=document).write_pdf()
