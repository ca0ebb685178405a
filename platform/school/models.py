"""Tables that live in every school's own schema (no schema is declared here)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from dienynas.database import SchoolModel


class SchoolYear(SchoolModel):
    __tablename__ = "school_years"
    __table_args__ = (CheckConstraint("ends_on > starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)  # e.g. "2026–2027"
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
