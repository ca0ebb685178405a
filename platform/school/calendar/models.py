"""The school's calendar: school years, terms, holidays, bell schedules, rooms."""

from __future__ import annotations

from datetime import date, time

from flask_babel import gettext as _
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dienynas.database import SchoolModel


class SchoolYear(SchoolModel):
    __tablename__ = "school_years"
    __table_args__ = (CheckConstraint("ends_on > starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)  # e.g. "2026–2027"
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    terms: Mapped[list[Term]] = relationship(
        back_populates="year", order_by="Term.starts_on", cascade="all, delete-orphan"
    )
    holidays: Mapped[list[Holiday]] = relationship(
        back_populates="year", order_by="Holiday.starts_on", cascade="all, delete-orphan"
    )


class Term(SchoolModel):
    """A semester, trimester or quarter. All terms of a year are of one kind."""

    __tablename__ = "terms"
    __table_args__ = (
        CheckConstraint("ends_on > starts_on", name="ends_after_start"),
        CheckConstraint("kind IN ('semester', 'trimester', 'quarter')", name="kind"),
        CheckConstraint("number BETWEEN 1 AND 4", name="number"),
        UniqueConstraint("year_id", "number"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey(SchoolYear.id, ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    number: Mapped[int] = mapped_column(SmallInteger)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    year: Mapped[SchoolYear] = relationship(back_populates="terms")

    @property
    def label(self) -> str:
        """The term's name in the current language, e.g. "Semester 2"."""
        return term_label(self.kind, self.number)


def term_label(kind: str, number: int) -> str:
    if kind == "semester":
        return _("Semester %(number)s", number=number)
    if kind == "trimester":
        return _("Trimester %(number)s", number=number)
    return _("Quarter %(number)s", number=number)


class Holiday(SchoolModel):
    """Days without lessons for students (e.g. autumn break), inclusive dates."""

    __tablename__ = "holidays"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey(SchoolYear.id, ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    year: Mapped[SchoolYear] = relationship(back_populates="holidays")


class BellSchedule(SchoolModel):
    """Lesson times. The default schedule applies to every grade level not covered by another
    one (e.g. a separate schedule for grade 1)."""

    __tablename__ = "bell_schedules"
    __table_args__ = (
        CheckConstraint(
            "min_grade BETWEEN 1 AND 12 AND max_grade BETWEEN min_grade AND 12", name="grades"
        ),
        # At most one default schedule.
        Index(
            "uq_bell_schedules_default",
            "is_default",
            unique=True,
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    min_grade: Mapped[int] = mapped_column(SmallInteger, default=1)
    max_grade: Mapped[int] = mapped_column(SmallInteger, default=12)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    periods: Mapped[list[BellPeriod]] = relationship(
        back_populates="schedule", order_by="BellPeriod.lesson_no", cascade="all, delete-orphan"
    )


class BellPeriod(SchoolModel):
    __tablename__ = "bell_periods"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("lesson_no BETWEEN 0 AND 15", name="lesson_no"),
        UniqueConstraint("schedule_id", "lesson_no"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey(BellSchedule.id, ondelete="CASCADE"))
    lesson_no: Mapped[int] = mapped_column(SmallInteger)
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)

    schedule: Mapped[BellSchedule] = relationship(back_populates="periods")


class Room(SchoolModel):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # "101", "Sporto salė"
    name: Mapped[str | None] = mapped_column(String(100))
    capacity: Mapped[int | None] = mapped_column(SmallInteger)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
