"""The school's gradebook rules (one row; the defaults until the administrator changes them)."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from dienynas.database import SchoolModel


class GradebookSettings(SchoolModel):
    __tablename__ = "gradebook_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("test_notice_days BETWEEN 0 AND 30", name="test_notice_days"),
        CheckConstraint("tests_per_day BETWEEN 1 AND 5", name="tests_per_day"),
        CheckConstraint("test_rule IN ('refuse', 'warn')", name="test_rule"),
        CheckConstraint("rounding IN ('half_up', 'half_down')", name="rounding"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    #: A planned test is announced at least this many days ahead (Lithuanian rule: 7).
    test_notice_days: Mapped[int] = mapped_column(SmallInteger, default=7)
    #: A class has at most this many planned tests a day.
    tests_per_day: Mapped[int] = mapped_column(SmallInteger, default=1)
    #: What breaking the two rules above does: refuse the test, or warn and save it.
    test_rule: Mapped[str] = mapped_column(String(6), default="refuse")
    #: How a term grade is suggested from the mean: 7.5 → 8 (half_up) or 7 (half_down).
    rounding: Mapped[str] = mapped_column(String(9), default="half_up")
    #: Saturdays are school days (six-day weeks): lessons are generated for them.
    saturday_lessons: Mapped[bool] = mapped_column(Boolean, default=False)
