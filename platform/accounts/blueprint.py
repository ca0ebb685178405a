"""Login, logout, password change, the holder's contacts, link codes and the school switcher."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from accounts import identity, services
from accounts.identity import SignedInAccount
from accounts.models import FAMILY_ROLES
from accounts.tasks import enqueue_email_confirmation, enqueue_password_resets
from dienynas.errors import ServiceError
from dienynas.extensions import db, login_manager
from dienynas.i18n import SESSION_KEY
from dienynas.jobs import redis_connection
from dienynas.urls import safe_next
from notifications.channels import mailer
from tenants.models import SchoolStatus

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
    chosen_locale = session.get(SESSION_KEY)
    session.clear()
    if chosen_locale:  # the language chosen on this browser stays, as it does at login
        session[SESSION_KEY] = chosen_locale
    return redirect(url_for("accounts.login"))


@bp.get("/")
@login_required
def home():
    """Where signing in leads. A parent or a student goes straight to the diary (their
    children's in every school when there are several), what they come for every evening;
    staff go to their school's home, or choose a school when they work in several."""
    schools = services.schools_of(current_user)
    suspended = sorted(
        {g.school.name for g in current_user.grants if g.school.status == SchoolStatus.SUSPENDED}
    )
    for name in suspended:  # shown on whatever page the account lands on
        flash(
            _("The diary of %(school)s is suspended by the municipality for now: its pages are "
              "closed, its data is kept safe.", school=name),
            "warning",
        )  # fmt: skip
    if schools and not current_user.is_operator:
        family = all(services.roles_in_school(current_user, s) <= FAMILY_ROLES for s in schools)
        if family and len(schools) > 1:
            return redirect(url_for("diaries.index"))
        if family:
            return redirect(url_for("diary.week", slug=schools[0].slug))
        if len(schools) == 1:
            return redirect(url_for("school.home", slug=schools[0].slug))
    return render_template("accounts/home.html", schools=schools, suspended=suspended)


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
    expires_at = account.link_code_expires_at
    return render_template(
        "accounts/link_code.html",
        code=code,
        login=account.login,
        expires_at=expires_at,
        # an earlier code still working (its text is not kept, only that it exists)
        active_until=expires_at if code is None and expires_at and expires_at > now else None,
        days=services.LINK_CODE_DAYS,
    )


@bp.route("/account/contacts", methods=["GET", "POST"])
@login_required
def contacts():
    """The holder's own e-mail address and phone number (``services.change_contacts``)."""
    account = services.account_by_id(db.session, current_user.id)
    can_mail = mailer() is not None
    error = None
    if request.method == "POST":
        try:
            change = services.change_contacts(
                db.session, account, request.form.get("current", ""),
                request.form.get("email", "") if can_mail else None,
                request.form.get("phone", ""),
            )  # fmt: skip
        except ServiceError as exc:
            db.session.rollback()
            error = exc
        else:
            db.session.commit()
            if change.email_pending:
                enqueue_email_confirmation(account.id, change.email_pending)
                sent = _("We sent a link to %(email)s: your e-mail address changes when you "
                         "open it.", email=change.email_pending)  # fmt: skip
                flash(sent, "success")
            else:
                flash(_("Your contacts have been saved."), "success")
            return redirect(url_for("accounts.contacts"))
    return render_template(
        "accounts/contacts.html", account=account, can_mail=can_mail, error=error,
        form=request.form if error else {}, hours=services.EMAIL_CONFIRM_HOURS,
    ), (400 if error else 200)  # fmt: skip


@bp.route("/account/email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """Confirm a new e-mail address through the link mailed to it. Signing in is not needed:
    the link proves the mailbox, the change itself was asked for with the password."""
    now = datetime.now(UTC)
    try:
        account = services.account_for_email_confirmation(db.session, token, now)
    except ServiceError as exc:
        return render_template("accounts/confirm_email.html", expired=exc), 410
    if request.method == "POST":
        services.confirm_email(db.session, token, now)
        db.session.commit()
        flash(_("Your e-mail address is now %(email)s.", email=account.email), "success")
        return redirect(url_for("accounts.contacts" if current_user.is_authenticated
                                else "accounts.login"))  # fmt: skip
    return render_template(
        "accounts/confirm_email.html", expired=None, login=account.login,
        email=account.pending_email,
    )  # fmt: skip


# --- a forgotten password ----------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link by e-mail. The answer is the same whether or not the login or
    address exists (and has an e-mail): nothing here tells who has an account."""
    can_mail = mailer() is not None
    if request.method == "POST" and can_mail:
        who, address = request.form.get("who", ""), request.remote_addr or "-"
        redis_client = redis_connection()
        if services.login_throttled(redis_client, who, address):
            error = _("Too many failed attempts. Wait 15 minutes and try again.")
            return render_template("accounts/forgot.html", error=error, can_mail=can_mail), 429
        services.record_login_failure(redis_client, who, address)  # counts against bulk asking
        now = datetime.now(UTC)
        account_ids = services.request_password_reset(db.session, who, now)
        db.session.commit()
        enqueue_password_resets(account_ids, now)
        flash(
            ngettext(
                "If that login or e-mail address belongs to an account with an e-mail address, "
                "a link to choose a new password is on its way. It works for %(num)d minute.",
                "If that login or e-mail address belongs to an account with an e-mail address, "
                "a link to choose a new password is on its way. It works for %(num)d minutes.",
                services.RESET_MINUTES,
            ),
            "success",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", error=None, can_mail=can_mail)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password through an e-mailed link (it works once)."""
    now = datetime.now(UTC)
    try:
        account = services.account_for_reset(db.session, token, now)
    except ServiceError as exc:
        return render_template("accounts/reset.html", expired=exc, error=None), 410
    error = None
    if request.method == "POST":
        try:
            services.reset_password(
                db.session, token, request.form.get("password", ""),
                request.form.get("repeat", ""), now,
            )  # fmt: skip
        except ServiceError as exc:
            db.session.rollback()
            error = exc
        else:
            db.session.commit()
            flash(_("Your password has been changed. Log in with it."), "success")
            return redirect(url_for("accounts.login"))
    return render_template(
        "accounts/reset.html", expired=None, error=error, login=account.login,
        min_length=services.MIN_PASSWORD_LENGTH,
    ), (400 if error else 200)  # fmt: skip
