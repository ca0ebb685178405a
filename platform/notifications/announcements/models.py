"""Announcements: school-wide, or for chosen classes and/or audiences, optionally scheduled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from dienynas.database import SchoolModel

#: Who an announcement may be addressed to (none chosen: everyone).
AUDIENCES = ("guardians", "students", "staff")


class Announcement(SchoolModel):
    """Addressed to ``audiences`` (empty: all) and, for guardians and students, only to those of
    ``class_ids`` when some are chosen (staff are never narrowed by class)."""

    __tablename__ = "announcements"
    __table_args__ = (
        Index(
            "ix_announcements_due", "publish_at",
            postgresql_where=text("published_at IS NULL"),
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    audiences: Mapped[list[str]] = mapped_column(ARRAY(String(10)), server_default="{}")
    class_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), server_default="{}")
    publish_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
