"""Health recommendations (seed 001, 17–18): the health specialist tells the teachers about a
student's needs in the diary ("sits in the front row", "no running until March"), and every
teacher follows them. The teachers of the student's groups see them in the journal."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from dienynas.database import SchoolModel
from school.people.models import Person

TEXT_MAX = 1000


class HealthRecommendation(SchoolModel):
    __tablename__ = "health_recommendations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: The student's records go with them (an erasure deletes the person).
    student_id: Mapped[int] = mapped_column(ForeignKey(Person.id, ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(TEXT_MAX))
    #: The last day it applies; None: until it is removed.
    valid_until: Mapped[date | None] = mapped_column(Date)
    written_by: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
