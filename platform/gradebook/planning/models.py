"""The test calendar: tests a teacher announces for a group."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dienynas.database import SchoolModel
from school.classes.models import Group
from school.curriculum.models import AssessmentKind


class PlannedTest(SchoolModel):
    __tablename__ = "planned_tests"
    __table_args__ = (Index("ix_planned_tests_on_day", "on_day"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey(Group.id, ondelete="CASCADE"), index=True)
    on_day: Mapped[date] = mapped_column(Date)
    lesson_no: Mapped[int | None] = mapped_column()
    kind_id: Mapped[int | None] = mapped_column(ForeignKey(AssessmentKind.id))
    topic: Mapped[str] = mapped_column(String(300))
    announced_by: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    announced_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    #: Saved although it broke the notice or one-a-day rule (the school's rule is "warn").
    rule_warning: Mapped[bool] = mapped_column(Boolean, default=False)

    group: Mapped[Group] = relationship()
    kind: Mapped[AssessmentKind | None] = relationship()
