"""The record of an erasure: a former student's records destroyed in this school (seed 000,
5.23: at the end of their keeping period, on a request to be forgotten, or on another lawful
basis).

It keeps who erased, when, why and how many rows of each kind went, but not the student's name
or codes: the record of an erasure must not keep what was erased.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dienynas.database import SchoolModel

#: Why a former student's records were erased.
REASONS = ("period", "forgotten", "other")


class Erasure(SchoolModel):
    __tablename__ = "erasures"
    __table_args__ = (CheckConstraint("reason IN ('period', 'forgotten', 'other')", name="reason"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: The erased person's id in this school (no foreign key: the row is gone).
    person_id: Mapped[int] = mapped_column(BigInteger)
    left_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(10))
    #: The basis the administrator wrote down: the documents register's item, the request's
    #: number and date.
    basis: Mapped[str] = mapped_column(String(500))
    erased_by: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: Rows erased, by kind (services.KINDS).
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB)
