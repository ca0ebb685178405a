"""The outbox (DESIGN.md 5): events written in the same transaction as the change they report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

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
