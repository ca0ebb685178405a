"""Per-term locks on the functions that close a term: deleting lesson dates, entering term
grades. Each is automatic (open inside the school's unlock window), or set open or locked by the
administrator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from dienynas.database import SchoolModel
from school.calendar.models import Term


class TermLock(SchoolModel):
    __tablename__ = "term_locks"
    __table_args__ = (
        CheckConstraint("function IN ('delete_lesson_dates', 'term_grades')", name="function"),
        CheckConstraint("mode IN ('auto', 'open', 'locked')", name="mode"),
        UniqueConstraint("term_id", "function"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey(Term.id, ondelete="CASCADE"))
    function: Mapped[str] = mapped_column(String(24))
    mode: Mapped[str] = mapped_column(String(8), default="auto")
    #: public.accounts.id of the administrator who set the mode.
    changed_by: Mapped[int | None] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LockWindow(SchoolModel):
    """The school's automatic unlock window (one row): from N calendar days before a term ends
    until M working days after it (defaults: 14 and 5, from the usage rules of Lithuanian
    schools)."""

    __tablename__ = "lock_window"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("days_before_end BETWEEN 0 AND 60", name="days_before_end"),
        CheckConstraint("working_days_after_end BETWEEN 0 AND 30", name="working_days_after_end"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    days_before_end: Mapped[int] = mapped_column(SmallInteger, default=14)
    working_days_after_end: Mapped[int] = mapped_column(SmallInteger, default=5)
