"""Which days have lessons (gradebook.days) and the outbox events the gradebook writes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from dienynas.errors import ServiceError
from dienynas.i18n import in_locale
from gradebook.days import get_settings, school_days, teaching_term
from gradebook.settings.models import GradebookSettings
from notifications.models import NotificationEvent
from notifications.outbox import record_event


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


def test_teaching_term_is_the_term_of_a_school_day(classroom):
    assert teaching_term(classroom.session, date(2026, 9, 7)) == classroom.terms[0]
    assert teaching_term(classroom.session, date(2027, 2, 1)) == classroom.terms[1]


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (date(2026, 10, 27), "is a holiday: Rudens atostogos."),
        (date(2026, 9, 13), "is not a school day."),  # Sunday
        (date(2026, 9, 12), "is not a school day."),  # Saturday in a five-day school
        (date(2027, 7, 15), "is outside the school's terms."),
    ],
)
def test_days_without_lessons_are_refused_with_the_reason(classroom, day, message):
    with pytest.raises(ServiceError) as refused:
        teaching_term(classroom.session, day, field="day")
    assert message in refused.value.message
    assert refused.value.field == "day"


def test_six_day_weeks_make_saturdays_school_days(classroom):
    saturday = date(2026, 9, 12)
    assert saturday not in school_days(classroom.session, date(2026, 9, 7), date(2026, 9, 13))
    classroom.session.add(GradebookSettings(id=1, saturday_lessons=True))
    classroom.session.flush()
    assert get_settings(classroom.session).saturday_lessons
    week = school_days(classroom.session, date(2026, 9, 7), date(2026, 9, 13))
    assert week[-1] == saturday and len(week) == 6
    assert teaching_term(classroom.session, saturday) == classroom.terms[0]
    with pytest.raises(ServiceError):
        teaching_term(classroom.session, date(2026, 9, 13))  # Sundays never


def test_outbox_events_live_and_die_with_their_transaction(classroom):
    session = classroom.session
    before = session.scalar(select(func.count()).select_from(NotificationEvent))
    savepoint = session.begin_nested()
    record_event(session, "grade", actor_id=1, grade_id=10, student_id=20)
    session.flush()
    savepoint.rollback()
    assert session.scalar(select(func.count()).select_from(NotificationEvent)) == before
    event = record_event(session, "remark", actor_id=1, remark_id=5)
    session.flush()
    assert session.get(NotificationEvent, event.id).payload == {"remark_id": 5}
    with pytest.raises(ValueError):
        record_event(session, "no_such_kind", actor_id=1)
