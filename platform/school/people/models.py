"""People of the school: staff, students, guardians, and the links between them.

An account (``public.accounts``) is the person's login across the municipality; a ``Person``
row is what this school knows about them (personal data stays in the school's schema).
"""

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
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dienynas.database import SchoolModel


class Person(SchoolModel):
    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint("document_kind IN ('personal_code', 'other')", name="document_kind"),
        CheckConstraint(
            "(document_kind = 'personal_code' AND personal_code IS NOT NULL) OR "
            "document_kind = 'other'",
            name="personal_code_given",
        ),
        CheckConstraint("locale IS NULL OR locale IN ('lt', 'ru', 'pl', 'en')", name="locale"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: public.accounts.id; no foreign key across schemas (a school role cannot reference it).
    account_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    document_kind: Mapped[str] = mapped_column(String(16), default="personal_code")
    #: Lithuanian personal code (11 digits, checksum-validated); unique in the school.
    personal_code: Mapped[str | None] = mapped_column(String(11), unique=True)
    #: Foreign passport or other document, when there is no Lithuanian personal code.
    document_number: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Student(SchoolModel):
    """A person enrolled in the school, in a class. Leaving keeps the row (archive duty)."""

    __tablename__ = "students"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'left')", name="status"),
        Index("ix_students_class_id", "class_id"),
    )

    person_id: Mapped[int] = mapped_column(
        ForeignKey(Person.id, ondelete="CASCADE"), primary_key=True
    )
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="active")
    enrolled_on: Mapped[date] = mapped_column(Date, server_default=func.current_date())
    left_on: Mapped[date | None] = mapped_column(Date)

    person: Mapped[Person] = relationship(lazy="joined")


class Guardianship(SchoolModel):
    """A guardian of a student (many-to-many: two parents, siblings)."""

    __tablename__ = "guardianships"
    __table_args__ = (
        UniqueConstraint("guardian_id", "student_id"),
        CheckConstraint("relation IN ('mother', 'father', 'guardian', 'other')", name="relation"),
        Index("ix_guardianships_student_id", "student_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey(Person.id, ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey(Student.person_id, ondelete="CASCADE"))
    relation: Mapped[str | None] = mapped_column(String(40))  # mother, father, guardian, …


class StaffRight(SchoolModel):
    """Extra rights the administrator grants to chosen staff (administrator rights themselves
    are the ``admin`` role in ``public.school_grants``)."""

    __tablename__ = "staff_rights"
    __table_args__ = (
        CheckConstraint("right_code IN ('form_groups', 'edit_timetable')", name="right"),
        UniqueConstraint("person_id", "right_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey(Person.id, ondelete="CASCADE"))
    right_code: Mapped[str] = mapped_column(String(20))


class TeacherSubject(SchoolModel):
    """A subject a member of staff teaches (the staff list shows it; group forms offer it)."""

    __tablename__ = "teacher_subjects"

    person_id: Mapped[int] = mapped_column(
        ForeignKey(Person.id, ondelete="CASCADE"), primary_key=True
    )
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
