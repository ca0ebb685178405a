"""Announcements: school-wide, or for chosen classes and/or audiences, optionally scheduled,
with attached files."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
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
    #: The last correction of the title or the text (None: as written).
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    edited_by: Mapped[int | None] = mapped_column(BigInteger)  # public.accounts.id


class AnnouncementFile(SchoolModel):
    """A document published with an announcement (checked like message attachments:
    ``gradebook.lessons.services.check_upload``); read by whoever may read the announcement."""

    __tablename__ = "announcement_files"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey(Announcement.id, ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
