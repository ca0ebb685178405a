"""Pages of subjects, grade scales and assessment kinds: the administrator edits, staff read."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.models import Role
from dienynas.config import SUPPORTED_LOCALES
from dienynas.errors import ServiceError
from dienynas.extensions import db
from school import permissions
from school.curriculum import services
from school.menu import menu_item
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("curriculum", __name__)

menu_item("curriculum.subjects", _l("Subjects"), permissions.READERS, 30, section="setup")
menu_item("curriculum.scales", _l("Grade scales"), permissions.READERS, 31, section="setup")
menu_item("curriculum.kinds", _l("Assessment kinds"), permissions.READERS, 32, section="setup")


def _names_from_form() -> dict[str, str]:
    return {loc: request.form.get(f"name_{loc}", "") for loc in SUPPORTED_LOCALES}


def _is_admin() -> bool:
    return Role.ADMIN in g.school_roles


def _flag(name: str) -> bool:
    value = request.form.get(name)
    if value not in ("0", "1"):
        abort(400)
    return value == "1"


# --- subjects ---------------------------------------------------------------------------------


@bp.get("/subjects")
def subjects():
    permissions.require_reader(current_user, g.school)
    return render_template(
        "curriculum/subjects.html",
        subjects=services.list_subjects(db.session),
        can_edit=_is_admin(),
        scale_label=services.scale_label,
    )


def _subject_form(subject, form: dict, error: ServiceError | None = None, status: int = 200):
    return render_template(
        "curriculum/subject_form.html",
        subject=subject,
        form=form,
        error=error,
        scales=services.active_scales(db.session),
        scale_label=services.scale_label,
        school_locale=g.school.default_locale,
        locales=SUPPORTED_LOCALES,
    ), status


@bp.get("/subjects/new")
def new_subject():
    permissions.require_admin(current_user, g.school)
    scales = services.active_scales(db.session)
    return _subject_form(None, {"scale": str(scales[0].id) if scales else ""})


@bp.post("/subjects/new")
def create_subject():
    permissions.require_admin(current_user, g.school)
    form = {"code": request.form.get("code", ""), "scale": request.form.get("scale", "")}
    names = _names_from_form()
    try:
        subject = services.create_subject(
            db.session,
            school_locale=g.school.default_locale,
            code=form["code"],
            names=names,
            scale_id=form["scale"],
        )
    except ServiceError as exc:
        db.session.rollback()
        return _subject_form(None, form | {f"name_{k}": v for k, v in names.items()}, exc, 400)
    db.session.commit()
    flash(_("The subject “%(name)s” is added.", name=subject.name), "success")
    return redirect(url_for("curriculum.subjects"))


@bp.get("/subjects/<int:subject_id>/edit")
def edit_subject(subject_id: int):
    permissions.require_admin(current_user, g.school)
    subject = services.get_subject(db.session, subject_id)
    names = services.names_of(subject, g.school.default_locale)
    form = {"code": subject.code, "scale": str(subject.scale_id)}
    return _subject_form(subject, form | {f"name_{k}": v for k, v in names.items()})


@bp.post("/subjects/<int:subject_id>/edit")
def update_subject(subject_id: int):
    permissions.require_admin(current_user, g.school)
    subject = services.get_subject(db.session, subject_id)
    form = {"code": request.form.get("code", ""), "scale": request.form.get("scale", "")}
    names = _names_from_form()
    try:
        services.update_subject(
            db.session,
            subject,
            school_locale=g.school.default_locale,
            code=form["code"],
            names=names,
            scale_id=form["scale"],
        )
    except ServiceError as exc:
        db.session.rollback()
        return _subject_form(subject, form | {f"name_{k}": v for k, v in names.items()}, exc, 400)
    db.session.commit()
    flash(_("The subject “%(name)s” is saved.", name=subject.name), "success")
    return redirect(url_for("curriculum.subjects"))


@bp.post("/subjects/<int:subject_id>/active")
def subject_active(subject_id: int):
    permissions.require_admin(current_user, g.school)
    subject = services.get_subject(db.session, subject_id)
    active = _flag("active")
    services.set_subject_active(db.session, subject, active)
    db.session.commit()
    if active:
        flash(_("The subject “%(name)s” is active again.", name=subject.name), "success")
    else:
        flash(_("The subject “%(name)s” is deactivated.", name=subject.name), "success")
    return redirect(url_for("curriculum.subjects"))


@bp.get("/subjects/<int:subject_id>/delete")
def confirm_delete_subject(subject_id: int):
    permissions.require_admin(current_user, g.school)
    subject = services.get_subject(db.session, subject_id)
    return render_template("curriculum/subject_delete.html", subject=subject, error=None)


@bp.post("/subjects/<int:subject_id>/delete")
def delete_subject(subject_id: int):
    permissions.require_admin(current_user, g.school)
    subject = services.get_subject(db.session, subject_id)
    name = subject.name
    try:
        services.delete_subject(db.session, subject)
    except ServiceError as exc:
        db.session.rollback()
        return render_template("curriculum/subject_delete.html", subject=subject, error=exc), 400
    db.session.commit()
    flash(_("The subject “%(name)s” is deleted.", name=name), "success")
    return redirect(url_for("curriculum.subjects"))


# --- grade scales -----------------------------------------------------------------------------


def _scales_page(error: ServiceError | None = None, status: int = 200):
    return render_template(
        "curriculum/scales.html",
        scales=services.list_scales(db.session),
        scale_label=services.scale_label,
        pass_fail_label=services.pass_fail_label,
        can_edit=_is_admin(),
        error=error,
    ), status


@bp.get("/grade-scales")
def scales():
    permissions.require_reader(current_user, g.school)
    return _scales_page()


@bp.post("/grade-scales/<int:scale_id>/active")
def scale_active(scale_id: int):
    permissions.require_admin(current_user, g.school)
    scale = services.get_scale(db.session, scale_id)
    active = _flag("active")
    try:
        services.set_scale_active(db.session, scale, active)
    except ServiceError as exc:
        db.session.rollback()
        return _scales_page(exc, 400)
    db.session.commit()
    label = services.scale_label(scale)
    if active:
        flash(_("The scale “%(scale)s” is enabled.", scale=label), "success")
    else:
        flash(_("The scale “%(scale)s” is disabled.", scale=label), "success")
    return redirect(url_for("curriculum.scales"))


# --- assessment kinds ---------------------------------------------------------------------------


def _kinds_page(form: dict, error: ServiceError | None = None, status: int = 200):
    return render_template(
        "curriculum/kinds.html",
        kinds=services.list_kinds(db.session),
        can_edit=_is_admin(),
        form=form,
        error=error,
        school_locale=g.school.default_locale,
        locales=SUPPORTED_LOCALES,
    ), status


@bp.get("/assessment-kinds")
def kinds():
    permissions.require_reader(current_user, g.school)
    return _kinds_page({})


@bp.post("/assessment-kinds")
def create_kind():
    permissions.require_admin(current_user, g.school)
    names = _names_from_form()
    form = {"code": request.form.get("code", "")} | {f"name_{k}": v for k, v in names.items()}
    try:
        kind = services.create_kind(
            db.session, school_locale=g.school.default_locale, code=form["code"], names=names
        )
    except ServiceError as exc:
        db.session.rollback()
        return _kinds_page(form, exc, 400)
    db.session.commit()
    flash(_("The assessment kind “%(name)s” is added.", name=kind.name), "success")
    return redirect(url_for("curriculum.kinds"))


def _kind_form(kind, form: dict, error: ServiceError | None = None, status: int = 200):
    return render_template(
        "curriculum/kind_form.html",
        kind=kind,
        form=form,
        error=error,
        school_locale=g.school.default_locale,
        locales=SUPPORTED_LOCALES,
    ), status


@bp.get("/assessment-kinds/<int:kind_id>/edit")
def edit_kind(kind_id: int):
    permissions.require_admin(current_user, g.school)
    kind = services.get_kind(db.session, kind_id)
    names = services.names_of(kind, g.school.default_locale)
    return _kind_form(kind, {f"name_{k}": v for k, v in names.items()})


@bp.post("/assessment-kinds/<int:kind_id>/edit")
def rename_kind(kind_id: int):
    permissions.require_admin(current_user, g.school)
    kind = services.get_kind(db.session, kind_id)
    names = _names_from_form()
    try:
        services.rename_kind(db.session, kind, school_locale=g.school.default_locale, names=names)
    except ServiceError as exc:
        db.session.rollback()
        return _kind_form(kind, {f"name_{k}": v for k, v in names.items()}, exc, 400)
    db.session.commit()
    flash(_("The assessment kind “%(name)s” is saved.", name=kind.name), "success")
    return redirect(url_for("curriculum.kinds"))


@bp.post("/assessment-kinds/<int:kind_id>/active")
def kind_active(kind_id: int):
    permissions.require_admin(current_user, g.school)
    kind = services.get_kind(db.session, kind_id)
    active = _flag("active")
    services.set_kind_active(db.session, kind, active)
    db.session.commit()
    if active:
        flash(_("The assessment kind “%(name)s” is active again.", name=kind.name), "success")
    else:
        flash(_("The assessment kind “%(name)s” is deactivated.", name=kind.name), "success")
    return redirect(url_for("curriculum.kinds"))
