"""The administrator's page for term locks and the automatic unlock window."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.models import Role
from dienynas import clock
from dienynas.errors import ServiceError
from dienynas.extensions import db
from school.calendar.models import Term
from school.calendar.services import list_years, pick_year
from school.locks import services
from school.menu import menu_item
from school.permissions import require_reader
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("locks", __name__)
menu_item("locks.index", _l("Term locks"), {Role.ADMIN, Role.DIRECTOR}, order=80, section="setup")


def _page(asked: str | None = None, error: ServiceError | None = None, status: int = 200):
    today = clock.today()
    years = list_years(db.session)
    year = pick_year(years, asked, today)
    window = services.lock_window(db.session)
    return render_template(
        "locks/index.html",
        year=year,
        years=years,
        states=services.states_for_year(db.session, year, today, window) if year else [],
        window=window,
        functions=services.FUNCTION_LABELS,
        modes=services.mode_labels(),
        can_edit=Role.ADMIN in g.school_roles,
        error=error,
        today=today,
    ), status


@bp.get("/locks")
def index():
    require_reader(current_user, g.school)
    return _page(request.args.get("year"))


@bp.post("/locks/<int:term_id>/<function>")
def set_mode(term_id: int, function: str):
    try:
        lock = services.set_mode(
            db.session, current_user, g.school,
            term_id=term_id, function=function, mode=request.form.get("mode", ""),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("locks.index"))
    year_id = db.session.get(Term, lock.term_id).year_id
    db.session.commit()
    flash(_("The lock is saved."), "success")
    return redirect(url_for("locks.index", year=year_id))


@bp.post("/locks/window")
def set_window():
    try:
        services.set_lock_window(
            db.session, current_user, g.school,
            days_before_end=request.form.get("days_before_end", ""),
            working_days_after_end=request.form.get("working_days_after_end", ""),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _page(None, exc, 400)
    db.session.commit()
    flash(_("The unlock window is saved."), "success")
    return redirect(url_for("locks.index"))
