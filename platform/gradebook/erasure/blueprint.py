"""Erasing a former student's records (the administrator) and the list of erasures (the
administrator and the director)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from accounts.models import Role
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_date, parse_id
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


def _former_page(form: dict, error: ServiceError | None = None, status: int = 200):
    left_before, students = None, None
    if form.get("left_before"):
        try:
            left_before = parse_date(form["left_before"], "left_before")
        except ServiceError as exc:
            error, status = exc, 400
        else:
            students = services.former_students(db.session, current_user, g.school, left_before)
    return render_template(
        "erasure/former.html",
        students=students,
        reasons=services.REASON_LABELS,
        form=form,
        error=error,
    ), status


@bp.get("/people/erasures/former")
def former():
    services.require_eraser(current_user, g.school)
    return _former_page({"left_before": request.args.get("left_before", "").strip()})


@bp.post("/people/erasures/former")
def erase_former():
    form = {name: request.form.get(name, "").strip()
            for name in ("left_before", "reason", "basis", "confirm")}  # fmt: skip
    chosen = [parse_id(value) for value in request.form.getlist("students")]
    form["students"] = {student_id for student_id in chosen if student_id is not None}
    try:
        erased = services.erase_students(
            db.session, current_user, g.school, sorted(form["students"]),
            reason=form["reason"], basis=form["basis"], typed_count=form["confirm"],
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _former_page(form, exc, 400)
    db.session.commit()
    flash(
        ngettext("The records of %(num)d former student are erased.",
                 "The records of %(num)d former students are erased.", len(erased)),
        "success",
    )  # fmt: skip
    return redirect(url_for("erasure.log"))


@bp.get("/people/erasures")
def log():
    return render_template(
        "erasure/log.html",
        erasures=services.list_erasures(db.session, current_user, g.school),
        can_erase=Role.ADMIN in g.school_roles,
        kinds=services.KINDS,
        reasons=services.REASON_LABELS,
    )
