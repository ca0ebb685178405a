"""The outbox (DESIGN.md 5): events written in the same transaction as the change they report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
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
#: skipped (nothing to send: no address, the record is gone, no SMTP server in development).
STATES = ("pending", "sent", "failed", "skipped")


class NotificationDelivery(SchoolModel):
    """One event for one recipient on one channel: unique, so a job that runs twice delivers
    once. The texts are rendered in the recipient's language when the send job runs."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "account_id", "channel"),
        CheckConstraint("channel IN ('in_app', 'email', 'sms')", name="channel"),
        CheckConstraint("state IN ('pending', 'sent', 'failed', 'skipped')", name="state"),
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
