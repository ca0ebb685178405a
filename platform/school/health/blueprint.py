"""The school's health recommendations: the list, the health specialist's form, removing."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from dienynas import clock
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_id, parse_optional_date
from school.health import services
from school.menu import menu_item
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("health", __name__)
menu_item("health.index", _l("Health recommendations"), services.READERS, order=62,
          section="daily")  # fmt: skip


def _page(error: ServiceError | None = None, status: int = 200):
    today = clock.today()
    listed = services.school_list(db.session, current_user, g.school, today)
    may_write = bool(g.school_roles & services.WRITERS)
    return render_template(
        "health/index.html",
        listed=listed,
        may_write=may_write,
        classes=services.students_to_choose(db.session, today) if may_write else [],
        form=request.form if error else {},
        error=error,
    ), status


@bp.get("/health")
def index():
    return _page()


@bp.post("/health/new")
def create():
    try:
        services.write(
            db.session, current_user, g.school,
            student_id=parse_id(request.form.get("student_id")),
            text=request.form.get("text"),
            valid_until=parse_optional_date(request.form.get("valid_until"), "valid_until"),
            today=clock.today(),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _page(exc, 400)
    db.session.commit()
    flash(_("The recommendation is saved: the student's teachers see it in their journals."),
          "success")  # fmt: skip
    return redirect(url_for("health.index"))


@bp.post("/health/<int:recommendation_id>/remove")
def remove(recommendation_id: int):
    services.remove(db.session, current_user, g.school, recommendation_id)
    db.session.commit()
    flash(_("The recommendation is removed."), "success")
    return redirect(url_for("health.index"))
