"""Printed documents of a class, made by WeasyPrint with DejaVu fonts (as the login slips,
school/people/slips.py, and the leaving-student extract):

- the year's achievement summary (landscape A4), in the school's language: the class head
  prints it at the year's end for signing;
- the monthly reports, one page per student in their family's language, for guardians who do
  not use the diary (the class head prints them every month).
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy.orm import Session
from weasyprint import HTML

from accounts.identity import Principal
from dienynas.i18n import in_locale
from gradebook.overview.services import achievement_summary, monthly_reports
from gradebook.remarks.services import KINDS as REMARK_KINDS
from school.curriculum.services import grade_label
from tenants.models import School


def achievements_html(
    session: Session, account: Principal, school: School, class_id: int, today: date
) -> str:
    """The summary's HTML; PermissionDenied or NotFound as ``achievement_summary``."""
    locale = school.default_locale
    with in_locale(locale):
        summary = achievement_summary(session, account, school, class_id, locale=locale)
        return current_app.jinja_env.get_template("overview/achievements.html").render(
            summary=summary, school=school, locale=locale, issued_on=today
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
) -> bytes | None:
    """The month's reports of the class's students (``monthly_reports``), each page in its
    family's language; None when no student is chosen."""
    found = monthly_reports(
        session, account, school, class_id, month=month, only_offline=only_offline
    )
    if not found.reports:
        return None
    environment = current_app.jinja_env
    page = environment.get_template("overview/monthly_report.html")
    pages = []
    for report in found.reports:
        by_subject = sorted(
            report.grades.items(),
            key=lambda item: found.subjects[item[0]].name_in(report.locale).casefold(),
        )
        with in_locale(report.locale):
            html = page.render(
                report=report, by_subject=by_subject, found=found, school=school,
                grade_label=grade_label, remark_kinds=REMARK_KINDS, issued_on=today,
            )  # fmt: skip
        pages.append(html)
    document = environment.get_template("overview/monthly_reports.html").render(
        pages=pages, locale=school.default_locale
    )
    return HTML(string=document).write_pdf()
