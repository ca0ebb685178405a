"""The daily digest and the SMS quiet hours (docs/notifications.md).

E-mails of the kinds a recipient set to 'digest' are written by the dispatch as deliveries in
state ``digest``. Once a day, at the school's digest time (``NotificationSettings.digest_at``,
local time, default 18:00), :func:`collect` gathers each recipient's waiting e-mails into one
``NotificationDigest`` row for that day (UNIQUE per account, day and channel) and
:func:`send_one` sends it as one e-mail in the recipient's language, marking its deliveries
sent. A job that runs twice finds the digest sent and sends nothing.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from dienynas.i18n import in_locale
from notifications.channels import DeliveryError, Mailer
from notifications.models import NotificationDelivery, NotificationDigest, NotificationEvent
from notifications.rendering import Facts, Rendered, load_facts, render
from notifications.services import MAX_ATTEMPTS, email_template, recipients_by_id
from notifications.settings import digest_day, settings_of
from tenants.models import School


def collect(session: Session, now: datetime) -> list[int]:
    """Gather the e-mails waiting for a digest (written before today's digest time) into one
    digest per recipient for today, and return the ids of today's digests still to send.
    Running it again adds nothing new: the digest is unique per (account, day, channel)."""
    due = digest_day(settings_of(session), now)
    if due is None:
        return []
    day, cutoff = due
    waiting = (
        NotificationDelivery.state == "digest",
        NotificationDelivery.digest_id.is_(None),
        NotificationDelivery.created_at <= cutoff,
    )
    accounts = sorted(
        session.scalars(select(NotificationDelivery.account_id).where(*waiting).distinct())
    )
    if accounts:
        session.execute(
            insert(NotificationDigest)
            .values([{"account_id": a, "day": day, "channel": "email"} for a in accounts])
            .on_conflict_do_nothing(index_elements=["account_id", "day", "channel"])
        )
        todays = (
            select(NotificationDigest.id)
            .where(
                NotificationDigest.account_id == NotificationDelivery.account_id,
                NotificationDigest.day == day,
                NotificationDigest.state == "pending",
            )
            .scalar_subquery()
        )
        session.execute(
            update(NotificationDelivery)
            .where(*waiting, NotificationDelivery.account_id.in_(accounts))
            .values(digest_id=todays)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    return list(
        session.scalars(
            select(NotificationDigest.id)
            .where(NotificationDigest.day == day, NotificationDigest.state == "pending")
            .order_by(NotificationDigest.id)
        )
    )


def _render_digest(session: Session, digest: NotificationDigest, locale: str) -> Rendered | None:
    """The digest's e-mail in ``locale``: one paragraph per notification, oldest first."""
    items = session.execute(
        select(NotificationDelivery, NotificationEvent.kind, NotificationEvent.payload)
        .join(NotificationEvent, NotificationEvent.id == NotificationDelivery.event_id)
        .where(NotificationDelivery.digest_id == digest.id)
        .order_by(NotificationDelivery.id)
    ).all()
    lines: list[str] = []
    count = 0
    with in_locale(locale):
        for delivery, kind, payload in items:
            facts: Facts | None = load_facts(session, kind, payload)
            delivery.locale = locale
            if facts is None:
                delivery.state, delivery.error = "skipped", "gone"
                continue
            text = render(facts, locale)
            delivery.subject, delivery.body = text.subject[:300], text.body
            count += 1
            lines.append(f"• {text.subject}")
            lines.extend(f"  {line}" for line in text.lines)
            lines.append("")
        if not count:
            return None
        subject = _("Your notifications of %(date)s", date=format_date(digest.day, "long"))
    return Rendered(subject, lines)


def send_one(session: Session, school: School, digest_id: int, mailer: Mailer | None) -> str | None:
    """Send one pending digest (locked, so two jobs never both send it). Returns its new state
    ('pending' when the mail server refused and the job will be retried; the fourth failure
    marks it 'failed'), None when there was nothing to do."""
    digest = session.scalar(
        select(NotificationDigest)
        .where(NotificationDigest.id == digest_id, NotificationDigest.state == "pending")
        .with_for_update(skip_locked=True)
    )
    if digest is None:
        return None
    recipient = recipients_by_id(session, school, {digest.account_id}).get(digest.account_id)
    digest.locale = recipient.locale if recipient else school.default_locale
    digest.attempts += 1
    text = _render_digest(session, digest, digest.locale)
    skipped = None
    if text is None:
        skipped = "gone"
    elif recipient is None or not recipient.enabled:
        skipped = "disabled"
    elif not recipient.email:
        skipped = "no_email"
    elif mailer is None:
        skipped = "no_smtp"
    if text is not None:
        digest.subject, digest.body = text.subject[:300], text.body
    if skipped is None:
        with in_locale(digest.locale):
            html = email_template("html").render(text=text, school=school, locale=digest.locale)
            plain = email_template("txt").render(text=text, school=school)
        try:
            mailer.send(recipient.email, text.subject, plain, html, digest.locale)
        except DeliveryError as exc:
            digest.error = str(exc)[:500]
            if digest.attempts >= MAX_ATTEMPTS:
                digest.state = "failed"
                _close_items(session, digest, "failed", digest.error)
            session.flush()
            return digest.state
    digest.state = "skipped" if skipped else "sent"
    digest.error = skipped
    if not skipped:
        digest.sent_at = func.now()
    _close_items(session, digest, digest.state, skipped)
    session.flush()
    return digest.state


def _close_items(session: Session, digest: NotificationDigest, state: str, error: str | None):
    session.execute(
        update(NotificationDelivery)
        .where(NotificationDelivery.digest_id == digest.id, NotificationDelivery.state == "digest")
        .values(
            state=state,
            error=error,
            last_attempt_at=func.now(),
            sent_at=func.now() if state == "sent" else None,
        )
        .execution_options(synchronize_session=False)
    )
