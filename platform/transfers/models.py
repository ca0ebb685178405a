"""The unassigned-students pool and the transfer log (``public``), and the history a student
brought from another school that could not be mapped here (per school).

The pool row holds the *portable record* (``PoolEntry.record``, JSON): everything the receiving
school needs, so that a claim never reads the leaving school's schema (its role cannot).
Its shape (``transfers.services.build_record`` writes it)::

    {"version": 1,
     "school": {"id", "name", "slug", "locale"},
     "student": {"person_id", "account_id", "first_name", "last_name", "birth_date",
                 "document_kind", "personal_code", "document_number", "email", "phone",
                 "locale", "enrolled_on", "left_on", "class_name", "grade_level"},
     "guardians": [{"account_id", "first_name", "last_name", "relation", "email", "phone",
                    "locale", "personal_code", "document_kind", "document_number"}],
     "year": {"name", "starts_on", "ends_on"} | null,
     "subjects": [{"code", "name", "scale": {"code", "kind", "min", "max"}}],
     "grades": [{"id", "subject_code", "subject_name", "group_name", "on_day", "value", "label",
                 "kind_code", "kind_name", "comment", "created_by", "term_number",
                 "origin"}],    # origin: the school that gave it, when not the leaving one
     "term_grades": [{"subject_code", "subject_name", "group_name", "term_number",
                      "term_kind", "value", "suggested", "comment"}],   # term_number null: year
     "attendance": [{"on_day", "lesson_no", "subject_code", "subject_name", "mark",
                     "excused"}],
     "remarks": [{"on_day", "kind", "text", "subject_code", "subject_name"}],
     "excuses": [{"from_day", "to_day", "reason", "status", "school_days"}]}
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dienynas.database import PublicModel, SchoolModel
from tenants.models import School

#: Where a leaving student is heading.
DESTINATION_KINDS = ("municipality", "elsewhere", "abroad")
#: Actions of the transfer log.
LOG_ACTIONS = ("left", "claimed", "returned", "extract_ready")
#: What a carried record holds.
CARRIED_KINDS = ("grade", "term_grade", "attendance", "remark")


class PoolEntry(PublicModel):
    """A student who left a school and is not (yet) assigned to another.

    ``status`` ``in_pool`` until a school claims them (``claimed``); a claim returned within
    the grace period sets it back to ``in_pool``. The row stays after the claim: it is the
    transfer's record (the receiving school downloads the extract from it).
    """

    __tablename__ = "transfer_pool"
    __table_args__ = (
        CheckConstraint("status IN ('in_pool', 'claimed')", name="status"),
        CheckConstraint(
            "destination_kind IN ('municipality', 'elsewhere', 'abroad')", name="destination_kind"
        ),
        CheckConstraint(
            "(status = 'claimed') = (claimed_school_id IS NOT NULL)", name="claimed_school"
        ),
        Index("ix_transfer_pool_status_entered_at", "status", "entered_at"),
        Index("ix_transfer_pool_personal_code", "personal_code"),
        Index("ix_transfer_pool_from_school_id", "from_school_id"),
        # one open pool entry per student of a school (leaving twice is refused)
        Index(
            "uq_transfer_pool_in_pool_student",
            "from_school_id",
            "student_person_id",
            unique=True,
            postgresql_where=text("status = 'in_pool'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="in_pool")
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    #: Searchable (exact match only), never shown in a list before a claim.
    personal_code: Mapped[str | None] = mapped_column(String(11))
    grade_level: Mapped[int | None] = mapped_column(SmallInteger)
    from_school_id: Mapped[int] = mapped_column(ForeignKey(School.id, ondelete="RESTRICT"))
    #: The student's ``people.id`` in the leaving school.
    student_person_id: Mapped[int] = mapped_column(BigInteger)
    destination_kind: Mapped[str] = mapped_column(String(12))
    to_school_id: Mapped[int | None] = mapped_column(ForeignKey(School.id, ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(500))
    left_on: Mapped[date] = mapped_column(Date)
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    record: Mapped[dict[str, Any]] = mapped_column(JSONB)
    claimed_school_id: Mapped[int | None] = mapped_column(
        ForeignKey(School.id, ondelete="RESTRICT")
    )
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: public.accounts.id of the claimer (None: the command line).
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)
    #: The student's ``people.id`` in the claiming school.
    claimed_person_id: Mapped[int | None] = mapped_column(BigInteger)
    #: The leaving-student extract (PDF), rendered by a job in the leaving school's language.
    extract_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    extract_locale: Mapped[str | None] = mapped_column(String(5))
    extract_ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class TransferLog(PublicModel):
    """Every step of a transfer: who (account; None for the command line), when, from, to."""

    __tablename__ = "transfer_log"
    __table_args__ = (
        CheckConstraint(
            "action IN ('left', 'claimed', 'returned', 'extract_ready')", name="action"
        ),
        Index("ix_transfer_log_pool_id", "pool_id"),
        Index("ix_transfer_log_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey(PoolEntry.id, ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    from_school_id: Mapped[int | None] = mapped_column(BigInteger)
    to_school_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class CarriedRecord(SchoolModel):
    """History that came with a transferred student and has no place in this school's own
    tables: attendance (always: the other school's lessons do not exist here), remarks, and
    grades or term grades whose subject or term has no match here. Read-only."""

    __tablename__ = "carried_records"
    __table_args__ = (
        CheckConstraint("kind IN ('grade', 'term_grade', 'attendance', 'remark')", name="kind"),
        Index("ix_carried_records_student_id_on_day", "student_id", "on_day"),
        Index("ix_carried_records_pool_id", "pool_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.person_id", ondelete="CASCADE"))
    #: public.transfer_pool.id (no foreign key across schemas).
    pool_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(12))
    subject_code: Mapped[str | None] = mapped_column(String(20))
    subject_name: Mapped[str | None] = mapped_column(String(120))
    on_day: Mapped[date | None] = mapped_column(Date)
    #: grade / term grade value, attendance mark, remark kind
    value: Mapped[str | None] = mapped_column(String(20))
    #: Everything else the record had (kind of assessment, comment, lesson no, excused, text…).
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    from_school_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
