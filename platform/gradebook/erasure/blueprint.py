"""Erasing a former student's records (the administrator) and the list of erasures (the
administrator and the director)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.models import Role
from dienynas.errors import ServiceError
from dienynas.extensions import db
from gradebook.erasure import services
from school.menu import menu_item
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("erasure", __name__)
menu_item("erasure.log", _l("Erased records"), {Role.ADMIN, Role.DIRECTOR}, 91, section="admin")


def _confirm_page(
    student, form: dict[str, str], error: ServiceError | None = None, status: int = 200
):
    return render_template(
        "erasure/confirm.html",
        preview=services.preview(db.session, g.school, student),
        kinds=services.KINDS,
        reasons=services.REASON_LABELS,
        form=form,
        error=error,
    ), status


@bp.get("/people/students/<int:person_id>/erase")
def confirm(person_id: int):
    student = services.former_student(db.session, current_user, g.school, person_id)
    return _confirm_page(student, {})


@bp.post("/people/students/<int:person_id>/erase")
def erase(person_id: int):
    student = services.former_student(db.session, current_user, g.school, person_id)
    form = {name: request.form.get(name, "") for name in ("reason", "basis", "confirm")}
    try:
        services.erase_student(
            db.session,
            current_user,
            g.school,
            student,
            reason=form["reason"],
            basis=form["basis"],
            typed_name=form["confirm"],
        )
    except ServiceError as exc:
        db.session.rollback()
        student = services.former_student(db.session, current_user, g.school, person_id)
        return _confirm_page(student, form, exc, 400)
    db.session.commit()
    flash(_("The student's records are erased from this school."), "success")
    return redirect(url_for("erasure.log"))


@bp.get("/people/erasures")
def log():
    return render_template(
        "erasure/log.html",
        erasures=services.list_erasures(db.session, current_user, g.school),
        kinds=services.KINDS,
        reasons=services.REASON_LABELS,
    )
