"""The municipality console: operators list, create, suspend and resume schools."""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts import services as accounts
from accounts.models import ROLE_LABELS
from accounts.services import require_operator
from dienynas.config import SUPPORTED_LOCALES
from dienynas.errors import ServiceError
from dienynas.extensions import db
from tenants import services
from tenants.models import School, SchoolStatus
from tenants.tasks import enqueue_provisioning

log = logging.getLogger(__name__)
bp = Blueprint("municipality", __name__, url_prefix="/municipality", template_folder="templates")


@bp.before_request
@login_required
def operators_only():
    require_operator(current_user)


@bp.get("/schools")
def schools():
    return render_template(
        "tenants/schools.html",
        schools=services.list_schools(db.session),
        locales=SUPPORTED_LOCALES,
        error=None,
        form={},
    )


@bp.post("/schools")
def create_school():
    form = {k: request.form.get(k, "") for k in ("slug", "name", "locale")}
    try:
        school = services.register_school(
            db.session, slug=form["slug"], name=form["name"], locale=form["locale"]
        )
    except ServiceError as exc:
        db.session.rollback()
        return render_template(
            "tenants/schools.html",
            schools=services.list_schools(db.session),
            locales=SUPPORTED_LOCALES,
            error=exc,
            form=form,
        ), 400
    db.session.commit()
    try:
        enqueue_provisioning(school.id)
    except redis.RedisError:
        # The scheduler's sweep (tenants.tasks.resume_provisioning) will pick it up.
        log.warning("could not enqueue provisioning of %s; the sweep will retry", school.slug)
    flash(
        _("The school “%(name)s” is being set up; it opens in a minute.", name=school.name),
        "success",
    )
    return redirect(url_for("municipality.schools"))


@bp.get("/schools/<slug>/suspend")
def confirm_suspend(slug: str):
    """What suspending closes, asked before it is done: one click closes a school for all."""
    school = db.session.scalar(select(School).where(School.slug == slug))
    if school is None or school.status != SchoolStatus.ACTIVE:
        return redirect(url_for("municipality.schools"))
    return render_template("tenants/suspend.html", school=school)


@bp.post("/schools/<slug>/suspend")
def suspend_school(slug: str):
    return _set_status(slug, SchoolStatus.SUSPENDED)


@bp.post("/schools/<slug>/resume")
def resume_school(slug: str):
    return _set_status(slug, SchoolStatus.ACTIVE)


def _set_status(slug: str, status: SchoolStatus):
    try:
        school = services.set_status(db.session, slug, status)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        if status == SchoolStatus.SUSPENDED:
            flash(_("The school “%(name)s” is suspended.", name=school.name), "success")
        else:
            flash(_("The school “%(name)s” is open again.", name=school.name), "success")
    return redirect(url_for("municipality.schools"))


# --- accounts -------------------------------------------------------------------------------


@bp.get("/accounts")
def accounts_page():
    """Find an account of the municipality (by login, name or e-mail) to reset its password:
    the accounts a school may not reset (used in several schools, or an operator's)."""
    query = request.args.get("q", "").strip()
    return render_template(
        "tenants/accounts.html",
        query=query,
        found=accounts.search_accounts(db.session, query) if query else [],
        limit=accounts.ACCOUNT_SEARCH_LIMIT,
        role_labels=ROLE_LABELS,
    )


@bp.post("/accounts/<int:account_id>/password")
def reset_password(account_id: int):
    """A new one-time password, shown once."""
    back = url_for("municipality.accounts_page", q=request.form.get("q", ""))
    try:
        account, password = accounts.reset_password_by_operator(
            db.session, current_user, account_id
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    return render_template(
        "one_time_password.html",
        name=account.name,
        login=account.login,
        password=password,
        back=back,
    )
