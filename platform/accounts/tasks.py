"""Account jobs: the password reset e-mail, the e-mail that confirms a new address; login
events kept for the activity reports, then deleted."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import redis
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete

from accounts.models import Account, LoginEvent
from accounts.services import (
    EMAIL_CONFIRM_HOURS,
    RESET_MINUTES,
    issue_email_confirmation,
    issue_password_reset,
    secret_digest,
)
from dienynas.config import DEFAULT_LOCALE
from dienynas.extensions import db
from dienynas.i18n import in_locale
from dienynas.jobs import enqueue, periodic, task
from dienynas.urls import public_url
from notifications.channels import DeliveryError, Mailer, mailer

log = logging.getLogger(__name__)

#: How long a login is remembered: a school year and a quarter, for the quarterly reports.
LOGIN_EVENT_DAYS = 460


@periodic(every_seconds=24 * 3600)
@task
def prune_login_events() -> int:
    """Delete the login events older than ``LOGIN_EVENT_DAYS``; how many. Idempotent."""
    cutoff = datetime.now(UTC) - timedelta(days=LOGIN_EVENT_DAYS)
    deleted = db.session.execute(delete(LoginEvent).where(LoginEvent.logged_in_at < cutoff))
    db.session.commit()
    return deleted.rowcount


def enqueue_password_resets(account_ids: list[int], requested_at: datetime) -> None:
    """Enqueue one reset e-mail per account after the request was committed. When Redis does
    not answer, the request is lost (logged): the person asks again after the cooldown."""
    for account_id in account_ids:
        job_id = f"password-reset-{account_id}-{int(requested_at.timestamp())}"
        try:
            enqueue(send_password_reset, account_id, requested_at.isoformat(), job_id=job_id)
        except (redis.RedisError, OSError):
            log.warning("could not enqueue the password reset of account %s", account_id)


@task
def send_password_reset(account_id: int, requested_at: str) -> bool:
    """E-mail the account a password reset link in its language (True when sent). The token is
    made here, so it never waits in the job queue. Idempotent: a link issued at or after the
    request (``requested_at``, ISO) means this request was served already."""
    account = db.session.get(Account, account_id, with_for_update=True)
    sender = mailer()
    if account is None or not account.email or not account.is_enabled or sender is None:
        return False
    asked = datetime.fromisoformat(requested_at)
    issued = account.password_reset_expires_at
    if issued is not None and issued - timedelta(minutes=RESET_MINUTES) >= asked:
        return False
    now = datetime.now(UTC)
    token = issue_password_reset(account, now)
    db.session.commit()  # the link works before the e-mail leaves
    link = public_url("accounts.reset_password", token=token)
    locale = account.locale or DEFAULT_LOCALE
    with in_locale(locale):
        asked_for = _("Someone (we hope you) asked for a new password for the login %(login)s.",
                      login=account.login)  # fmt: skip
        open_it = ngettext(
            "Open this link within %(num)d minute and choose a new password:",
            "Open this link within %(num)d minutes and choose a new password:",
            RESET_MINUTES,
        )
        ignore = _("If you did not ask, ignore this e-mail: your password stays as it is.")
        try:
            mail_link(sender, account.email, _("Dienynas: a new password"),
                      (asked_for, open_it), link, ignore, locale)  # fmt: skip
        except DeliveryError:
            # not delivered: the link goes too, so that a retry of the job mails a new one
            account.password_reset_hash = account.password_reset_expires_at = None
            db.session.commit()
            raise
    return True


def enqueue_email_confirmation(account_id: int, email: str) -> None:
    """Enqueue the e-mail that confirms a new address, after the change was committed. When
    Redis does not answer, the request is lost (logged): the holder enters the address again."""
    try:
        enqueue(send_email_confirmation, account_id, email,
                job_id=f"email-confirmation-{account_id}-{secret_digest(email)[:16]}")  # fmt: skip
    except (redis.RedisError, OSError):
        log.warning("could not enqueue the e-mail confirmation of account %s", account_id)


@task
def send_email_confirmation(account_id: int, email: str) -> bool:
    """Mail the link that confirms ``email`` as the account's new address, to that address,
    in the account's language (True when sent). The token is made here, so it never waits in
    the job queue. Idempotent: nothing is sent when the address no longer waits (confirmed,
    withdrawn or replaced) or its link went out already."""
    account = db.session.get(Account, account_id, with_for_update=True, populate_existing=True)
    sender = mailer()
    if (
        account is None
        or not account.is_enabled
        or account.pending_email != email
        or account.email_confirm_hash is not None
        or sender is None
    ):
        return False
    token = issue_email_confirmation(account, datetime.now(UTC))
    db.session.commit()  # the link works before the e-mail leaves
    link = public_url("accounts.confirm_email", token=token)
    locale = account.locale or DEFAULT_LOCALE
    with in_locale(locale):
        asked_for = _("Someone (we hope you) asked to use this e-mail address for the Dienynas "
                      "login %(login)s.", login=account.login)  # fmt: skip
        open_it = ngettext(
            "Open this link within %(num)d hour to confirm it:",
            "Open this link within %(num)d hours to confirm it:",
            EMAIL_CONFIRM_HOURS,
        )
        ignore = _("If you did not ask, ignore this e-mail: the address is not used until the "
                   "link is opened.")  # fmt: skip
        try:
            mail_link(sender, email, _("Dienynas: confirm your e-mail address"),
                      (asked_for, open_it), link, ignore, locale)  # fmt: skip
        except DeliveryError:
            # not delivered: the link goes too, so that a retry of the job mails a new one
            account.email_confirm_hash = account.email_confirm_expires_at = None
            db.session.commit()
            raise
    return True


def mail_link(
    sender: Mailer,
    to: str,
    subject: str,
    paragraphs: tuple[str, ...],
    link: str,
    last: str,
    locale: str,
) -> None:
    """Send an e-mail that carries one link (plain text and HTML), and close the mailer."""
    text = "\n\n".join((*paragraphs[:-1], f"{paragraphs[-1]}\n{link}", last)) + "\n"
    html = current_app.jinja_env.get_template("accounts/link_email.html").render(
        paragraphs=paragraphs, link=link, last=last
    )  # no request: the page layout's context is not there
    try:
        sender.send(to, subject, text, html, locale)
    finally:
        sender.close()
