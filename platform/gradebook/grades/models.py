"""Grades, every change made to them, and term and year grades."""

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dienynas.database import SchoolModel
from gradebook.lessons.models import Lesson
from school.calendar.models import SchoolYear, Term
from school.classes.models import Group
from school.curriculum.models import AssessmentKind
from school.people.models import Student


class Grade(SchoolModel):
    """A grade on the subject's scale (``curriculum.services.validate_grade``), given in a
    lesson or on a day."""

    __tablename__ = "grades"
    __table_args__ = (
        Index("ix_grades_group_id_on_day", "group_id", "on_day"),
        Index("ix_grades_student_id_on_day", "student_id", "on_day"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey(Student.person_id, ondelete="RESTRICT"))
    group_id: Mapped[int] = mapped_column(ForeignKey(Group.id, ondelete="RESTRICT"))
    lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey(Lesson.id, ondelete="RESTRICT"), index=True
    )
    on_day: Mapped[date] = mapped_column(Date)
    term_id: Mapped[int] = mapped_column(ForeignKey(Term.id, ondelete="RESTRICT"))
    value: Mapped[str] = mapped_column(String(12))
    kind_id: Mapped[int | None] = mapped_column(ForeignKey(AssessmentKind.id))
    comment: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Where the grade was given when not in this school's lessons (a hospital school): the
    #: class head entered it from that school's certificate (grades.services.add_outside_grade).
    origin: Mapped[str | None] = mapped_column(String(200))

    kind: Mapped[AssessmentKind | None] = relationship()


class GradeChange(SchoolModel):
    """One entry of a grade's history: created, changed or deleted, by whom and when.

    No foreign key to ``grades``: the history of a deleted grade stays.
    """

    __tablename__ = "grade_changes"
    __table_args__ = (
        CheckConstraint("action IN ('create', 'update', 'delete')", name="action"),
        Index("ix_grade_changes_grade_id", "grade_id"),
        Index("ix_grade_changes_changed_at", "changed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    grade_id: Mapped[int] = mapped_column(BigInteger)
    student_id: Mapped[int] = mapped_column(BigInteger)
    group_id: Mapped[int] = mapped_column(BigInteger)
    on_day: Mapped[date] = mapped_column(Date)
    action: Mapped[str] = mapped_column(String(6))
    old_value: Mapped[str | None] = mapped_column(String(12))
    new_value: Mapped[str | None] = mapped_column(String(12))
    old_kind_id: Mapped[int | None] = mapped_column(BigInteger)
    new_kind_id: Mapped[int | None] = mapped_column(BigInteger)
    old_comment: Mapped[str | None] = mapped_column(String(500))
    new_comment: Mapped[str | None] = mapped_column(String(500))
    changed_by: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: The change was made while the term was locked (only the administrator may).
    after_lock: Mapped[bool] = mapped_column(default=False)


class TermGrade(SchoolModel):
    """A student's grade for a term (``term_id`` set) or the year (``term_id`` NULL) in a group.

    ``suggested`` is computed from the term's grades by the school's rounding rule; ``value``
    is what the teacher confirmed inside the unlock window.
    """

    __tablename__ = "term_grades"
    __table_args__ = (
        Index(
            "uq_term_grades_term", "student_id", "group_id", "term_id",
            unique=True, postgresql_where=text("term_id IS NOT NULL"),
        ),
        Index(
            "uq_term_grades_year", "student_id", "group_id", "year_id",
            unique=True, postgresql_where=text("term_id IS NULL"),
        ),
        Index("ix_term_grades_group_id", "group_id"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey(Student.person_id, ondelete="RESTRICT"))
    group_id: Mapped[int] = mapped_column(ForeignKey(Group.id, ondelete="RESTRICT"))
    year_id: Mapped[int] = mapped_column(ForeignKey(SchoolYear.id, ondelete="RESTRICT"))
    term_id: Mapped[int | None] = mapped_column(ForeignKey(Term.id, ondelete="RESTRICT"))
    suggested: Mapped[str | None] = mapped_column(String(12))
    value: Mapped[str | None] = mapped_column(String(12))
    comment: Mapped[str | None] = mapped_column(Text)
    confirmed_by: Mapped[int | None] = mapped_column(BigInteger)  # public.accounts.id
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
