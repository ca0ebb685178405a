"""Login, logout, password change, link codes and the school switcher."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from accounts import identity, services
from accounts.identity import SignedInAccount
from dienynas.errors import ServiceError
from dienynas.extensions import db, login_manager
from dienynas.i18n import SESSION_KEY
from dienynas.jobs import redis_connection
from dienynas.urls import safe_next

bp = Blueprint("accounts", __name__, template_folder="templates")


@login_manager.user_loader
def load_account(session_id: str) -> SignedInAccount | None:
    """Sessions carry the account id and a fingerprint of its password hash, so changing the
    password logs out every other session of the account. A school page has read the account
    already, with its school (tenants.routing)."""
    account_id = identity.account_id_of(session_id)
    if account_id is None:
        return None
    account = identity.preloaded(account_id) or identity.load_signed_in(db.session, account_id)
    if account is None or account.get_id() != session_id:
        return None
    return account


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    error = None
    if request.method == "POST":
        login_name, address = request.form.get("login", ""), request.remote_addr or "-"
        redis_client = redis_connection()
        if services.login_throttled(redis_client, login_name, address):
            error = _("Too many failed attempts. Wait 15 minutes and try again.")
            return render_template("accounts/login.html", error=error, login=login_name), 429
        account = services.authenticate(db.session, login_name, request.form.get("password", ""))
        if account is None:
            services.record_login_failure(redis_client, login_name, address)
            error = _("Wrong login or password.")
        else:
            services.clear_login_failures(redis_client, login_name, address)
            db.session.commit()
            chosen_locale = session.get(SESSION_KEY)
            session.clear()  # a fresh session on login (fixation guard)
            if chosen_locale:
                session[SESSION_KEY] = chosen_locale
            login_user(account)
            return redirect(safe_next(request.args.get("next")) or url_for("accounts.home"))
    status = 400 if error else 200
    return render_template(
        "accounts/login.html", error=error, login=request.form.get("login", "")
    ), status


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("accounts.login"))


@bp.get("/")
@login_required
def home():
    """The school switcher: the schools where the account holds a role."""
    schools = services.schools_of(current_user)
    if len(schools) == 1 and not current_user.is_operator:
        return redirect(url_for("school.home", slug=schools[0].slug))
    return render_template("accounts/home.html", schools=schools)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    error = None
    if request.method == "POST":
        try:
            account = services.account_by_id(db.session, current_user.id)
            services.change_password(
                db.session,
                account,
                request.form.get("current", ""),
                request.form.get("password", ""),
                request.form.get("repeat", ""),
            )
        except ServiceError as exc:
            db.session.rollback()
            error = exc
        else:
            db.session.commit()
            login_user(account)  # the session id carries the new password's fingerprint
            flash(_("Your password has been changed."), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("accounts.home"))
    return render_template(
        "accounts/change_password.html", error=error, min_length=services.MIN_PASSWORD_LENGTH
    ), (400 if error else 200)


@bp.route("/account/link-code", methods=["GET", "POST"])
@login_required
def link_code():
    """The holder's consent to a school linking their account: a code made here and told to
    the school (school.people.services._person_for_login). Shown once, on the POST's page."""
    account = services.account_by_id(db.session, current_user.id)
    code = None
    now = datetime.now(UTC)
    if request.method == "POST":
        if request.form.get("action") == "withdraw":
            services.withdraw_link_code(account)
            db.session.commit()
            flash(_("Your link code no longer works."), "success")
            return redirect(url_for("accounts.link_code"))
        code = services.issue_link_code(account, now)
        db.session.commit()
    active = account.link_code_expires_at if code is None else None
    return render_template(
        "accounts/link_code.html",
        code=code,
        login=account.login,
        expires_at=account.link_code_expires_at,
        active_until=active if active is not None and active > now else None,
        days=services.LINK_CODE_DAYS,
    )
