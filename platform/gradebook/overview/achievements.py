"""The year's achievement summary of a class as a printable PDF (landscape A4), in the school's
language: the document the class head prints at the year's end for signing. WeasyPrint with
DejaVu fonts, as the login slips (school/people/slips.py) and the leaving-student extract."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy.orm import Session
from weasyprint import HTML

from accounts.identity import Principal
from dienynas.i18n import in_locale
from gradebook.overview.services import achievement_summary
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
