"""A year's archive, made by a job and kept for download."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from dienynas.database import SchoolModel
from school.calendar.models import SchoolYear


class YearArchive(SchoolModel):
    """A year's archive. A deleted one keeps its row (year, checksum, who made and who deleted
    it, when) without its content: the trace of a destroyed copy (seed 000, 5.23)."""

    __tablename__ = "year_archives"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'done', 'failed', 'deleted')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey(SchoolYear.id, ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    requested_by: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The ZIP file (loaded only for the download).
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    size: Mapped[int | None] = mapped_column(Integer)
    #: Hex SHA-256 of the ZIP file, shown on the page: a copy on other media can be checked.
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    deleted_by: Mapped[int | None] = mapped_column(BigInteger)  # public.accounts.id
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
