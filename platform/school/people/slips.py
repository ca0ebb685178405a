"""Printable credential slips: each slip rendered in its person's language, the whole sheet
made into a PDF by WeasyPrint (print CSS, DejaVu fonts for Lithuanian, Polish and Cyrillic).

The PDF is built in the request that made the one-time passwords, so they exist only in this
process's memory and in the response: never in the database, Redis, a file or a log.
"""

from __future__ import annotations

from datetime import date

from flask import render_template, url_for
from markupsafe import Markup
from weasyprint import HTML

from dienynas import clock
from dienynas.i18n import in_locale
from school.people.services import Slip
from tenants.models import School


def slips_pdf(slips: list[Slip], school: School, today: date | None = None) -> bytes:
    address = url_for("accounts.login", _external=True)
    parts = []
    for slip in slips:
        with in_locale(slip.locale):
            parts.append(
                Markup(
                    render_template(
                        "people/_slip.html",
                        slip=slip,
                        school=school,
                        address=address,
                        issued_on=today or clock.today(),
                    )
                )
            )
    html = render_template("people/slips.html", slips=parts, school=school)
    return HTML(string=html).write_pdf()
