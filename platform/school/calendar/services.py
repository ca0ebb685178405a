"""Rules of the school calendar. Run inside a transaction bound to the school."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from dienynas.errors import ServiceError
from school.calendar.models import SchoolYear


def current_year(session: Session, today: date) -> SchoolYear | None:
    """The school year that contains ``today``, else the next one to start."""
    return session.scalar(
        select(SchoolYear)
        .where(SchoolYear.ends_on >= today)
        .order_by(SchoolYear.starts_on)
        .limit(1)
    )


def create_year(session: Session, *, name: str, starts_on: date, ends_on: date) -> SchoolYear:
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("Enter the school year's name, e.g. 2026–2027."), field="name")
    if ends_on <= starts_on:
        raise ServiceError(_("The school year must end after it starts."), field="ends_on")
    if session.scalar(select(SchoolYear.id).where(SchoolYear.name == name)) is not None:
        raise ServiceError(_("The school year “%(name)s” already exists.", name=name), field="name")
    overlapping = session.scalar(
        select(SchoolYear.name).where(
            SchoolYear.starts_on <= ends_on, SchoolYear.ends_on >= starts_on
        )
    )
    if overlapping:
        raise ServiceError(
            _("The dates overlap the school year “%(name)s”.", name=overlapping), field="starts_on"
        )
    year = SchoolYear(name=name, starts_on=starts_on, ends_on=ends_on)
    session.add(year)
    session.flush()
    return year
