"""Lessons (generated from the timetable or added by hand), their homework and its files."""

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
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dienynas.database import SchoolModel
from school.calendar.models import Room, Term
from school.classes.models import Group
from school.people.models import Person


class Lesson(SchoolModel):
    __tablename__ = "lessons"
    __table_args__ = (
        CheckConstraint("source IN ('timetable', 'ad_hoc')", name="source"),
        CheckConstraint("lesson_no BETWEEN 0 AND 15", name="lesson_no"),
        UniqueConstraint("group_id", "on_day", "lesson_no"),
        Index("ix_lessons_on_day", "on_day"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey(Group.id, ondelete="RESTRICT"))
    on_day: Mapped[date] = mapped_column(Date)
    lesson_no: Mapped[int] = mapped_column(SmallInteger)
    term_id: Mapped[int] = mapped_column(ForeignKey(Term.id, ondelete="RESTRICT"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey(Room.id, ondelete="SET NULL"))
    #: Who held the lesson (the group's teacher, or a substitute).
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey(Person.id, ondelete="SET NULL"))
    #: When a substitute held it: the group's teacher they stood in for.
    substitute_for_id: Mapped[int | None] = mapped_column(
        ForeignKey(Person.id, ondelete="SET NULL")
    )
    topic: Mapped[str | None] = mapped_column(String(300))
    classwork: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10), default="timetable")
    #: public.accounts.id of whoever added or last edited the lesson.
    changed_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: When the attendance was first taken (a mark saved from the lesson's sheet or the
    #: journal grid; a lesson where nobody is absent is taken too) and by whom
    #: (public.accounts.id): seed 002, 4.1.3, attendance at the start of the lesson. NULL: not
    #: taken yet (lessons held before s0018 count as taken, by nobody known).
    attendance_taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attendance_taken_by: Mapped[int | None] = mapped_column(BigInteger)
    #: What the lesson sets out to achieve (seed 001, 16.1: the topic and the objectives).
    objectives: Mapped[str | None] = mapped_column(Text)

    group: Mapped[Group] = relationship()
    homework: Mapped[Homework | None] = relationship(back_populates="lesson", uselist=False)


class Homework(SchoolModel):
    __tablename__ = "homework"
    __table_args__ = (Index("ix_homework_due_on", "due_on"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey(Lesson.id, ondelete="CASCADE"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    lesson: Mapped[Lesson] = relationship(back_populates="homework")
    files: Mapped[list[HomeworkFile]] = relationship(
        back_populates="homework", order_by="HomeworkFile.id", passive_deletes=True
    )


class HomeworkFile(SchoolModel):
    """A file attached to homework (kept in the school's schema, like every record of it)."""

    __tablename__ = "homework_files"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    homework_id: Mapped[int] = mapped_column(
        ForeignKey(Homework.id, ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    homework: Mapped[Homework] = relationship(back_populates="files")


class DeletedLessonDate(SchoolModel):
    """A timetable lesson a teacher deleted (e.g. the class was on an excursion): generation
    from the timetable does not bring it back."""

    __tablename__ = "deleted_lesson_dates"

    group_id: Mapped[int] = mapped_column(
        ForeignKey(Group.id, ondelete="CASCADE"), primary_key=True
    )
    on_day: Mapped[date] = mapped_column(Date, primary_key=True)
    lesson_no: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    #: public.accounts.id of whoever deleted it.
    deleted_by: Mapped[int] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
