"""The outbox (DESIGN.md 5): events written in the same transaction as the change they report."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dienynas.database import SchoolModel


class NotificationEvent(SchoolModel):
    __tablename__ = "notification_events"
    __table_args__ = (
        Index(
            "ix_notification_events_undispatched", "id",
            postgresql_where=text("dispatched_at IS NULL"),
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: grade, absence, remark, homework, test, term_grade, excuse_decision, …
    kind: Mapped[str] = mapped_column(String(30))
    #: Ids only (student_id, grade_id, …): the delivery job reads the current rows.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    #: public.accounts.id of whoever caused it (never notified of their own change).
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


#: Where a notification goes. The in-app channel is the delivery row itself.
CHANNELS = ("in_app", "email", "sms")
#: What a recipient chose for an event kind on a channel ('digest' is kept for the daily digest).
MODES = ("instant", "digest", "off")
#: Without a saved choice: in the app and by e-mail at once, no SMS.
DEFAULT_MODES = {"in_app": "instant", "email": "instant", "sms": "off"}
#: pending (waiting for a send job), sent, failed (after the last retry; ``error`` says why),
#: skipped (nothing to send: no address, the record is gone, no SMTP server in development),
#: digest (an e-mail waiting for the recipient's daily digest; sent with it).
STATES = ("pending", "sent", "failed", "skipped", "digest")


class NotificationDigest(SchoolModel):
    """One recipient's daily digest e-mail: unique per (account, day, channel), so the job
    that builds and sends it may run any number of times."""

    __tablename__ = "notification_digests"
    __table_args__ = (
        UniqueConstraint("account_id", "day", "channel"),
        CheckConstraint("channel IN ('email')", name="channel"),
        CheckConstraint("state IN ('pending', 'sent', 'failed', 'skipped')", name="state"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    #: the school's local day the digest is for
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(8), default="email")
    state: Mapped[str] = mapped_column(String(8), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(String(500))
    locale: Mapped[str | None] = mapped_column(String(5))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationSettings(SchoolModel):
    """The school's notification settings (one row; the defaults until the administrator
    changes them): when the daily digest goes out and the SMS quiet hours, in local time."""

    __tablename__ = "notification_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    digest_at: Mapped[time] = mapped_column(Time, default=time(18, 0))
    #: No SMS from ``quiet_from`` until ``quiet_until`` (across midnight when from > until;
    #: equal times: no quiet hours).
    quiet_from: Mapped[time] = mapped_column(Time, default=time(21, 0))
    quiet_until: Mapped[time] = mapped_column(Time, default=time(7, 0))


class NotificationDelivery(SchoolModel):
    """One event for one recipient on one channel: unique, so a job that runs twice delivers
    once. The texts are rendered in the recipient's language when the send job runs."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "account_id", "channel"),
        CheckConstraint("channel IN ('in_app', 'email', 'sms')", name="channel"),
        CheckConstraint(
            "state IN ('pending', 'sent', 'failed', 'skipped', 'digest')", name="state"
        ),
        Index(
            "ix_notification_deliveries_digest", "account_id",
            postgresql_where=text("state = 'digest' AND digest_id IS NULL"),
        ),
        Index(
            "ix_notification_deliveries_unread", "account_id",
            postgresql_where=text("channel = 'in_app' AND state = 'sent' AND read_at IS NULL"),
        ),
        Index(
            "ix_notification_deliveries_pending", "id",
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_notification_deliveries_account_id_id", "account_id", "id"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey(NotificationEvent.id, ondelete="CASCADE"), index=True
    )
    #: public.accounts.id of the recipient (no foreign key across schemas).
    account_id: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    #: Why the last attempt failed or why nothing was sent.
    error: Mapped[str | None] = mapped_column(String(500))
    locale: Mapped[str | None] = mapped_column(String(5))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: An SMS held during the school's quiet hours: sent when they end.
    hold_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The daily digest that carried (or will carry) this e-mail.
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_digests.id", ondelete="SET NULL"), index=True
    )

    event: Mapped[NotificationEvent] = relationship()


class NotificationPreference(SchoolModel):
    """A recipient's choice for one event kind on one channel (no row: ``DEFAULT_MODES``)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint("account_id", "kind", "channel"),
        CheckConstraint("channel IN ('in_app', 'email', 'sms')", name="channel"),
        CheckConstraint("mode IN ('instant', 'digest', 'off')", name="mode"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    kind: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(7))
