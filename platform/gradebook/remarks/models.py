"""Praise, remarks and reprimands written about a student (guardians see them)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from dienynas.database import SchoolModel
from school.classes.models import Group
from school.people.models import Student


class Remark(SchoolModel):
    __tablename__ = "remarks"
    __table_args__ = (
        CheckConstraint("kind IN ('praise', 'remark', 'reprimand')", name="kind"),
        Index("ix_remarks_student_id_on_day", "student_id", "on_day"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey(Student.person_id, ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey(Group.id, ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    on_day: Mapped[date] = mapped_column(Date)
    written_by: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
