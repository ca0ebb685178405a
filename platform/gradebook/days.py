"""Which days have lessons, by the school's gradebook settings (six-day weeks), and the term a
day belongs to. Lessons, grades, attendance and tests all ask here before saving."""

from __future__ import annotations

from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from dienynas.errors import ServiceError
from gradebook.settings.models import GradebookSettings
from school.calendar.models import Holiday, Term
from school.calendar.services import school_days_between


def get_settings(session: Session) -> GradebookSettings:
    """The school's gradebook settings (the defaults until the administrator changes them)."""
    return session.get(GradebookSettings, 1) or GradebookSettings(
        id=1,
        test_notice_days=7,
        tests_per_day=1,
        test_rule="refuse",
        rounding="half_up",
        saturday_lessons=False,
    )


def school_days(session: Session, start: date, end: date) -> list[date]:
    """The days with lessons from ``start`` to ``end`` inclusive (Saturdays when the school
    has six-day weeks)."""
    return school_days_between(
        session, start, end, saturdays=get_settings(session).saturday_lessons
    )


def teaching_term(session: Session, day: date, field: str = "on_day") -> Term:
    """The term of ``day`` when it is a school day; a localised ``ServiceError`` otherwise
    (outside every term, a holiday, a weekend)."""
    term = session.scalar(select(Term).where(Term.starts_on <= day, Term.ends_on >= day))
    shown = format_date(day, "medium")
    if term is None:
        raise ServiceError(_("%(day)s is outside the school's terms.", day=shown), field=field)
    holiday = session.scalar(
        select(Holiday.name).where(Holiday.starts_on <= day, Holiday.ends_on >= day).limit(1)
    )
    if holiday is not None:
        raise ServiceError(
            _("%(day)s is a holiday: %(holiday)s.", day=shown, holiday=holiday), field=field
        )
    if day.weekday() == 6 or (day.weekday() == 5 and not get_settings(session).saturday_lessons):
        raise ServiceError(_("%(day)s is not a school day.", day=shown), field=field)
    return term
