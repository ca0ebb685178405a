"""The class head's class overview and the director's school overview (read-only pages)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from flask import Response, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.models import Role
from dienynas import clock
from dienynas.errors import NotFound, ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_id, parse_month
from gradebook.access import CLASS_READERS
from gradebook.briefings import services as briefings
from gradebook.overview import services
from gradebook.overview.printouts import achievements_pdf, monthly_reports_pdf, term_reports_pdf
from gradebook.overview.substitutions import (
    month_substitutions,
    require_substitutions_reader,
    substitutions_csv,
)
from gradebook.remarks.services import KINDS as REMARK_KINDS
from school.classes.models import SchoolClass
from school.curriculum.services import LOWEST_SATISFACTORY
from school.menu import menu_item
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("overview", __name__)
menu_item(
    "overview.my_classes", _l("Class overview"), {Role.CLASS_HEAD, Role.SOCIAL_PEDAGOGUE},
    order=30, section="daily",
)  # fmt: skip
menu_item(
    "overview.school", _l("School overview"), {Role.DIRECTOR, Role.ADMIN}, order=30, section="daily"
)
menu_item(
    "overview.substitutions",
    _l("Substitutions"),
    {Role.DIRECTOR, Role.ADMIN},
    order=83,
    section="admin",
)


@bp.get("/classes/overview")
def my_classes():
    """The class head's entry: straight to the class they head, or a list when several."""
    school_classes = services.classes_to_overview(db.session, current_user, g.school, clock.today())
    if len(school_classes) == 1 and not g.school_roles & CLASS_READERS:
        return redirect(url_for("overview.class_overview", class_id=school_classes[0].id))
    return render_template("overview/classes.html", classes=school_classes)


@bp.get("/classes/<int:class_id>/overview")
def class_overview(class_id: int):
    overview = services.class_overview(
        db.session,
        current_user,
        g.school,
        class_id,
        term_id=parse_id(request.args.get("term")),
        today=clock.today(),
        locale=str(get_locale()),
    )
    return render_template(
        "overview/class.html",
        overview=overview,
        today=clock.today(),
        is_admin=Role.ADMIN in g.school_roles,
        reads_briefings=_reads_briefings(overview.school_class),
    )


def _reads_briefings(school_class: SchoolClass) -> bool:
    """Whether the class's safety instructions page admits the reader (its own rule: the
    social pedagogue reads the overview, not the instructions), to link it only then."""
    groups = briefings.class_groups(db.session, current_user, school_class)
    return briefings.rights(db.session, current_user, g.school, school_class, groups).reads


@bp.get("/classes/<int:class_id>/achievements.pdf")
def achievements(class_id: int):
    """The year's achievement summary of the class, to print and sign."""
    pdf = achievements_pdf(db.session, current_user, g.school, class_id, clock.today())
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="achievements-{class_id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.get("/classes/<int:class_id>/monthly-reports.pdf")
def monthly_reports(class_id: int):
    """The month's reports of the class for the families who do not use the diary (or, with
    ``all``, for every student), to print and hand out."""
    try:
        month = parse_month(request.args.get("month"), clock.today())
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("overview.class_overview", class_id=class_id))
    make_pdf = partial(
        monthly_reports_pdf, db.session, current_user, g.school, class_id, month=month,
        only_offline=not request.args.get("all"), today=clock.today(),
    )  # fmt: skip
    return _family_reports_response(make_pdf, class_id, f"monthly-{class_id}-{month:%Y-%m}.pdf")


@bp.get("/classes/<int:class_id>/term-reports.pdf")
def term_reports(class_id: int):
    """The term's (``term=year``: the school year's) reports of the class for the families who
    do not use the diary (or, with ``all``, for every student), to print and hand out."""
    asked = request.args.get("term")
    term_id = None if asked == "year" else parse_id(asked)
    if asked != "year" and term_id is None:
        raise NotFound(_("There is no such term."))
    make_pdf = partial(
        term_reports_pdf, db.session, current_user, g.school, class_id, term_id=term_id,
        only_offline=not request.args.get("all"), today=clock.today(),
    )  # fmt: skip
    file_name = f"reports-{class_id}-{term_id or asked}.pdf"
    return _family_reports_response(make_pdf, class_id, file_name)


def _family_reports_response(make_pdf: Callable[[], bytes], class_id: int, file_name: str):
    """The family reports' PDF, or back to the class with a note saying why no student was
    chosen."""
    try:
        pdf = make_pdf()
    except ServiceError as exc:
        flash(exc.message, "info")
        return redirect(url_for("overview.class_overview", class_id=class_id))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{file_name}"',
            "Cache-Control": "private, no-store",
        },
    )


# The page's rule is registered first (the lower decorator), so url_for without ``as_csv``
# builds the page's address; ``as_csv=True`` builds the file's.
@bp.get("/classes/<int:class_id>/statistics.csv", defaults={"as_csv": True})
@bp.get("/classes/<int:class_id>/statistics", defaults={"as_csv": False})
def statistics(class_id: int, as_csv: bool):
    """The class's month: progress, attendance and behaviour (seed 001, 15.5), as a page or a
    CSV file."""
    try:
        month = parse_month(request.args.get("month"), clock.today())
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("overview.statistics", class_id=class_id))
    found = services.month_statistics(db.session, current_user, g.school, class_id, month=month)
    if as_csv:
        return send_file(
            io.BytesIO(services.statistics_csv(found)),
            mimetype="text/csv",
            as_attachment=True,
            download_name=f"{found.school_class.name}-statistics-{found.month:%Y-%m}.csv",
        )
    return render_template(
        "overview/statistics.html",
        statistics=found,
        remark_kinds=REMARK_KINDS,
        lowest=LOWEST_SATISFACTORY,
        previous=(month - timedelta(days=1)).strftime("%Y-%m"),
        next=(month + timedelta(days=31)).strftime("%Y-%m"),
    )


@bp.get("/overview")
def school():
    overview = services.school_overview(db.session, current_user, g.school, today=clock.today())
    return render_template(
        "overview/school.html", overview=overview, recent_days=services.RECENT_DAYS
    )


@bp.get("/substitutions.csv", defaults={"as_csv": True})
@bp.get("/substitutions", defaults={"as_csv": False})
def substitutions(as_csv: bool):
    """The month's lessons held by substitute teachers, per teacher (for their pay), as a page
    or a CSV file."""
    require_substitutions_reader(current_user, g.school)
    try:
        month = parse_month(request.args.get("month"), clock.today())
    except ServiceError as exc:
        title = _("Something went wrong")
        return render_template("error.html", code=400, title=title, message=exc.message), 400
    found = month_substitutions(
        db.session, current_user, g.school, month=month, today=clock.today()
    )
    if as_csv:
        return send_file(
            io.BytesIO(substitutions_csv(found, str(get_locale()))),
            mimetype="text/csv",
            as_attachment=True,
            download_name=f"substitutions-{found.month:%Y-%m}.csv",
        )
    return render_template(
        "overview/substitutions.html",
        found=found,
        previous=(month - timedelta(days=1)).strftime("%Y-%m"),
        next=(month + timedelta(days=31)).strftime("%Y-%m"),
    )
