"""Safety instructions ("saugaus elgesio instruktažai", seed 001 points 15.9 and 16.6, seed 002
point 6): a class head or a teacher instructs the class, or their group, in safe behaviour (at
the start of the year, before a trip, in the laboratory, in PE …), records it here and prints
a sheet the students sign; the signed sheets are kept on paper.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from dienynas.database import SchoolModel
from school.classes.models import Group, SchoolClass
from school.people.models import Person

#: The longest topic (a line on the sheet; the details are in the school's own instruction).
TOPIC_MAX = 200


class Briefing(SchoolModel):
    __tablename__ = "briefings"
    __table_args__ = (Index("ix_briefings_class_id_on_day", "class_id", "on_day"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey(SchoolClass.id, ondelete="CASCADE"))
    #: The group instructed (a teacher instructs their group); None: the whole class. A group
    #: deleted later (only one made by mistake can be) leaves the record to the class.
    group_id: Mapped[int | None] = mapped_column(ForeignKey(Group.id, ondelete="SET NULL"))
    on_day: Mapped[date] = mapped_column(Date)
    topic: Mapped[str] = mapped_column(String(TOPIC_MAX))
    #: The member of staff who gave the instruction (None only if their record was erased).
    given_by: Mapped[int | None] = mapped_column(ForeignKey(Person.id, ondelete="SET NULL"))
    recorded_by: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
