"""Attendance marks per student per lesson, and the excuses that cover them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dienynas.database import SchoolModel
from gradebook.lessons.models import Lesson
from school.people.models import Student


class Excuse(SchoolModel):
    """A reason for absences over a span of days, given by a guardian or the class head.

    Approved excuses mark the student's absences of those days excused. A guardian's excuse
    within the quota (5 school days a month for illness, 3 school days a semester for other
    reasons) is approved at once; beyond it the request waits for the class head.
    """

    __tablename__ = "excuses"
    __table_args__ = (
        CheckConstraint("reason IN ('illness', 'other')", name="reason"),
        CheckConstraint("source IN ('guardian', 'class_head')", name="source"),
        CheckConstraint("status IN ('approved', 'pending', 'rejected')", name="status"),
        CheckConstraint("to_day >= from_day", name="span"),
        Index("ix_excuses_student_id_from_day", "student_id", "from_day"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey(Student.person_id, ondelete="CASCADE"))
    from_day: Mapped[date] = mapped_column(Date)
    to_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(8))
    #: School days the span covers (what counts against a guardian's quota).
    school_days: Mapped[int] = mapped_column(SmallInteger)
    document_name: Mapped[str | None] = mapped_column(String(200))
    document_type: Mapped[str | None] = mapped_column(String(100))
    document_size: Mapped[int | None] = mapped_column(Integer)
    document: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    #: public.accounts.id of who submitted it and who decided it.
    submitted_by: Mapped[int] = mapped_column(BigInteger)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Attendance(SchoolModel):
    __tablename__ = "attendance"
    __table_args__ = (
        CheckConstraint("mark IN ('absent', 'late', 'left_early')", name="mark"),
        Index("ix_attendance_student_id", "student_id"),
    )

    lesson_id: Mapped[int] = mapped_column(
        ForeignKey(Lesson.id, ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[int] = mapped_column(
        ForeignKey(Student.person_id, ondelete="CASCADE"), primary_key=True
    )
    mark: Mapped[str] = mapped_column(String(10))
    #: The approved excuse covering this mark; NULL means unexcused.
    excuse_id: Mapped[int | None] = mapped_column(
        ForeignKey(Excuse.id, ondelete="SET NULL"), index=True
    )
    marked_by: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    lesson: Mapped[Lesson] = relationship()

    @property
    def excused(self) -> bool:
        return self.excuse_id is not None
