"""The weekly timetable: which group has a lesson when and where."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dienynas.database import SchoolModel
from school.calendar.models import Room
from school.classes.models import Group


class TimetableEntry(SchoolModel):
    __tablename__ = "timetable_entries"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 1 AND 6", name="weekday"),  # Monday–Saturday
        CheckConstraint("lesson_no BETWEEN 0 AND 15", name="lesson_no"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
        Index("ix_timetable_entries_slot", "weekday", "lesson_no"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey(Group.id, ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)  # ISO: 1 = Monday
    lesson_no: Mapped[int] = mapped_column(SmallInteger)
    room_id: Mapped[int | None] = mapped_column(ForeignKey(Room.id, ondelete="SET NULL"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    group: Mapped[Group] = relationship(lazy="joined")
    room: Mapped[Room | None] = relationship(lazy="joined")
