"""The gradebook settings page: the administrator edits, the director reads."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.models import Role
from accounts.services import require_role
from dienynas.errors import ServiceError
from dienynas.extensions import db
from gradebook.days import get_settings
from gradebook.settings import services
from school.menu import menu_item
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("gradebook_settings", __name__)
menu_item(
    "gradebook_settings.index",
    _l("Gradebook settings"),
    {Role.ADMIN, Role.DIRECTOR},
    85,
    section="setup",
)


def _page(form: dict[str, str] | None = None, error: ServiceError | None = None, status=200):
    settings = get_settings(db.session)
    values = form or {
        "test_notice_days": str(settings.test_notice_days),
        "tests_per_day": str(settings.tests_per_day),
        "test_rule": settings.test_rule,
        "rounding": settings.rounding,
        "saturday_lessons": "1" if settings.saturday_lessons else "",
    }
    return render_template(
        "gradebook_settings/index.html",
        form=values,
        test_rules=services.TEST_RULES,
        roundings=services.ROUNDINGS,
        can_edit=Role.ADMIN in g.school_roles,
        error=error,
    ), status


@bp.get("/gradebook/settings")
def index():
    require_role(current_user, g.school, Role.ADMIN, Role.DIRECTOR)
    return _page()


@bp.post("/gradebook/settings")
def save():
    form = {
        name: request.form.get(name, "")
        for name in ("test_notice_days", "tests_per_day", "test_rule", "rounding")
    }
    form["saturday_lessons"] = request.form.get("saturday_lessons", "")
    try:
        services.update_settings(db.session, current_user, g.school, **form)
    except ServiceError as exc:
        db.session.rollback()
        return _page(form, exc, 400)
    db.session.commit()
    flash(_("The gradebook settings are saved."), "success")
    return redirect(url_for("gradebook_settings.index"))
