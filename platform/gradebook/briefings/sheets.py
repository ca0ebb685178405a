"""The sign-off sheet of a safety instruction: the students sign it and the school keeps the
signed paper (seed 001, 16.6). Made by WeasyPrint with DejaVu fonts in the school's language,
as the class's other printouts (gradebook/overview/printouts.py).
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy.orm import Session
from weasyprint import HTML

from accounts.identity import Principal
from dienynas.i18n import in_locale
from gradebook.briefings.services import sign_off_sheet
from tenants.models import School


def sheet_html(
    session: Session, account: Principal, school: School, class_id: int, briefing_id: int,
    today: date,
) -> str:  # fmt: skip
    """The sheet's HTML; PermissionDenied or NotFound as ``sign_off_sheet``."""
    locale = school.default_locale
    with in_locale(locale):
        sheet = sign_off_sheet(session, account, school, class_id, briefing_id)
        return current_app.jinja_env.get_template("briefings/sheet.html").render(
            sheet=sheet, school=school, locale=locale, issued_on=today
        )


def sheet_pdf(
    session: Session, account: Principal, school: School, class_id: int, briefing_id: int,
    today: date,
) -> bytes:  # fmt: skip
    return HTML(
        string=sheet_html(session, account, school, class_id, briefing_id, today)
    ).write_pdf()
