"""Classes (5a, 10b) and subject groups (a whole class, part of one, or students of several)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dienynas.database import SchoolModel
from school.calendar.models import SchoolYear
from school.curriculum.models import Subject
from school.people.models import Person, Student


class SchoolClass(SchoolModel):
    __tablename__ = "classes"
    __table_args__ = (
        CheckConstraint("grade_level BETWEEN 1 AND 12", name="grade_level"),
        UniqueConstraint("year_id", "grade_level", "letter"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey(SchoolYear.id, ondelete="CASCADE"))
    grade_level: Mapped[int] = mapped_column(SmallInteger)
    letter: Mapped[str] = mapped_column(String(4))  # "a", "b", "" for a single class
    head_id: Mapped[int | None] = mapped_column(ForeignKey(Person.id, ondelete="SET NULL"))

    head: Mapped[Person | None] = relationship()

    @property
    def name(self) -> str:
        return f"{self.grade_level}{self.letter}"


class Group(SchoolModel):
    """Students taught a subject together, by one or more teachers."""

    __tablename__ = "groups"
    __table_args__ = (
        CheckConstraint("kind IN ('class', 'part', 'mixed')", name="kind"),
        UniqueConstraint("year_id", "name"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey(SchoolYear.id, ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey(Subject.id))
    name: Mapped[str] = mapped_column(String(60))  # "5a matematika", "Anglų k. 7 (1 gr.)"
    #: class: the whole class; part: part of one class; mixed: students of several classes
    kind: Mapped[str] = mapped_column(String(6))
    class_id: Mapped[int | None] = mapped_column(ForeignKey(SchoolClass.id, ondelete="CASCADE"))

    subject: Mapped[Subject] = relationship(lazy="joined")
    school_class: Mapped[SchoolClass | None] = relationship()


class GroupStudent(SchoolModel):
    __tablename__ = "group_students"

    group_id: Mapped[int] = mapped_column(
        ForeignKey(Group.id, ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[int] = mapped_column(
        ForeignKey(Student.person_id, ondelete="CASCADE"), primary_key=True
    )


class GroupTeacher(SchoolModel):
    __tablename__ = "group_teachers"

    group_id: Mapped[int] = mapped_column(
        ForeignKey(Group.id, ondelete="CASCADE"), primary_key=True
    )
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey(Person.id, ondelete="CASCADE"), primary_key=True
    )
