"""The calendar's rules (school.calendar.services): years, terms, holidays, school days, bell
schedules, rooms. Every refusal names the field and saves nothing."""

from __future__ import annotations

import itertools
from datetime import date, time

import pytest
from flask_babel import force_locale
from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.orm import Session

from conftest import waits_for_commit
from dienynas.errors import NotFound, ServiceError
from gradebook.grades.models import Grade
from gradebook.grades.services import suggest_term_grades
from gradebook.lessons.models import Lesson
from school.calendar import services
from school.calendar.models import BellPeriod, BellSchedule, Holiday, Room, SchoolYear, Term
from school.classes.models import Group, SchoolClass
from school.curriculum.models import GradeScale, Subject
from school.timetable.models import TimetableEntry
from tenants.services import bind_to_school
from test_gradebook_overview import Journal

D = date


@pytest.fixture
def session(app, in_school_a):
    """School A's session, messages in English."""
    with app.test_request_context(), force_locale("en"):
        yield in_school_a


@pytest.fixture
def year(session) -> SchoolYear:
    """School A's year from the world: 1 September 2026 to 31 August 2027."""
    return session.scalar(select(SchoolYear))


def refused(call, field: str, *words: str) -> ServiceError:
    with pytest.raises(ServiceError) as excinfo:
        call()
    assert excinfo.value.field == field, excinfo.value.message
    for word in words:
        assert word in excinfo.value.message, excinfo.value.message
    return excinfo.value


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- years --------------------------------------------------------------------------------


def test_years_may_not_overlap_or_share_a_name(session, year):
    refused(
        lambda: services.create_year(
            session, name="2027–2028", starts_on=D(2027, 8, 1), ends_on=D(2028, 7, 31)
        ),
        "starts_on",
        "overlap",
        year.name,
    )
    refused(
        lambda: services.create_year(
            session, name=year.name, starts_on=D(2030, 9, 1), ends_on=D(2031, 8, 31)
        ),
        "name",
        "already exists",
    )
    refused(
        lambda: services.create_year(
            session, name="x" * 21, starts_on=D(2030, 9, 1), ends_on=D(2031, 8, 31)
        ),
        "name",
        "at most 20",
    )
    assert count(session, SchoolYear) == 1
    nxt = services.create_year(
        session, name="2027–2028", starts_on=D(2027, 9, 1), ends_on=D(2028, 8, 31)
    )
    refused(
        lambda: services.update_year(
            session, nxt, name="2027–2028", starts_on=D(2027, 8, 30), ends_on=D(2028, 6, 30)
        ),
        "starts_on",
        "overlap",
    )
    services.update_year(
        session, nxt, name="2027/2028", starts_on=D(2027, 9, 2), ends_on=D(2028, 8, 30)
    )
    assert (nxt.name, nxt.starts_on) == ("2027/2028", D(2027, 9, 2))


def test_a_year_may_last_at_most_366_days(session, year):
    refused(
        lambda: services.create_year(
            session, name="2027–2099", starts_on=D(2027, 9, 1), ends_on=D(2099, 8, 31)
        ),
        "ends_on",
        "A school year may last at most 366 days: it must end by Aug 31, 2028.",
    )
    refused(  # one day too many
        lambda: services.create_year(
            session, name="2027–2028", starts_on=D(2027, 9, 1), ends_on=D(2028, 9, 1)
        ),
        "ends_on",
        "at most 366 days",
    )
    refused(
        lambda: services.update_year(
            session, year, name=year.name, starts_on=year.starts_on, ends_on=D(2099, 8, 31)
        ),
        "ends_on",
        "at most 366 days",
    )
    assert count(session, SchoolYear) == 1
    session.expire_all()
    assert session.get(SchoolYear, year.id).ends_on == D(2027, 8, 31)
    leap = services.create_year(  # 1 September to 31 August of a leap year: 366 days
        session, name="2027–2028", starts_on=D(2027, 9, 1), ends_on=D(2028, 8, 31)
    )
    assert (leap.ends_on - leap.starts_on).days + 1 == 366


def test_a_year_cannot_shrink_away_from_its_terms_and_holidays(session, year):
    services.add_term(
        session, year, kind="semester", number=1, starts_on=D(2026, 9, 1), ends_on=D(2027, 1, 22)
    )
    services.add_holiday(
        session, year, name="Vasaros atostogos", starts_on=D(2027, 6, 21), ends_on=D(2027, 8, 31)
    )
    refused(
        lambda: services.update_year(
            session, year, name=year.name, starts_on=D(2026, 9, 2), ends_on=year.ends_on
        ),
        "starts_on",
        "Semester 1",
    )
    refused(
        lambda: services.update_year(
            session, year, name=year.name, starts_on=year.starts_on, ends_on=D(2027, 6, 30)
        ),
        "ends_on",
        "Vasaros atostogos",
    )
    session.expire_all()
    assert session.get(SchoolYear, year.id).ends_on == D(2027, 8, 31)


def test_a_year_in_use_is_not_deleted_an_unused_one_goes_with_its_terms(session, year):
    spare = services.create_year(
        session, name="2030–2031", starts_on=D(2030, 9, 1), ends_on=D(2031, 8, 31)
    )
    services.add_term(
        session, spare, kind="semester", number=1, starts_on=D(2030, 9, 1), ends_on=D(2031, 1, 20)
    )
    services.add_holiday(
        session, spare, name="Ruduo", starts_on=D(2030, 10, 27), ends_on=D(2030, 10, 31)
    )
    session.add(SchoolClass(year_id=year.id, grade_level=5, letter="a"))
    session.flush()
    assert services.year_in_use(session, year) == ["classes"]
    refused(lambda: services.delete_year(session, year), None, "in use", "classes")
    scale = session.scalar(select(GradeScale).where(GradeScale.code == "ten_point"))
    subject = Subject(code="MAT", name="Matematika", name_translations={}, scale_id=scale.id)
    session.add(subject)
    session.flush()
    session.add(Group(year_id=year.id, subject_id=subject.id, name="5a matematika", kind="class"))
    session.flush()
    # what keeps it is listed as a sentence of the reader's language lists it
    for locale, listed in (("en", "classes and subject groups"),
                           ("lt", "klasės ir mokomųjų dalykų grupės"),
                           ("ru", "классы и группы по предметам"),
                           ("pl", "klasy i grupy przedmiotowe")):  # fmt: skip
        with force_locale(locale):
            refused(lambda: services.delete_year(session, year), None, listed)
    services.delete_year(session, spare)
    assert count(session, SchoolYear) == 1
    assert count(session, Term) == 0 and count(session, Holiday) == 0


def test_current_year_and_the_next_proposal(session, year):
    assert services.current_year(session, D(2027, 3, 1)) == year
    assert services.current_year(session, D(2026, 6, 1)) == year  # the next to start
    assert services.current_year(session, D(2027, 9, 1)) is None
    assert services.pick_year([year], None, D(2028, 1, 1)) == year  # else the latest
    assert services.pick_year([year], str(year.id), D(2028, 1, 1)) == year
    with pytest.raises(NotFound):
        services.pick_year([year], str(year.id + 1), D(2027, 3, 1))
    assert services.propose_next_year([year], D(2027, 5, 1)) == (
        "2027–2028",
        D(2027, 9, 1),
        D(2028, 8, 31),
    )
    assert services.propose_next_year([], D(2026, 11, 5))[0] == "2026–2027"
    assert services.propose_next_year([], D(2026, 6, 5))[0] == "2026–2027"


# --- terms --------------------------------------------------------------------------------


def semesters(session, year) -> tuple[Term, Term]:
    first = services.add_term(
        session, year, kind="semester", number=1, starts_on=D(2026, 9, 1), ends_on=D(2027, 1, 22)
    )
    second = services.add_term(
        session, year, kind="semester", number=2, starts_on=D(2027, 1, 25), ends_on=D(2027, 6, 18)
    )
    return first, second


def test_terms_lie_inside_the_year(session, year):
    refused(
        lambda: services.add_term(
            session,
            year,
            kind="semester",
            number=1,
            starts_on=D(2026, 8, 25),
            ends_on=D(2027, 1, 22),
        ),
        "starts_on",
        "within the school year",
    )
    refused(
        lambda: services.add_term(
            session,
            year,
            kind="semester",
            number=2,
            starts_on=D(2027, 1, 25),
            ends_on=D(2027, 9, 30),
        ),
        "ends_on",
        "within the school year",
    )
    refused(
        lambda: services.add_term(
            session,
            year,
            kind="semester",
            number=1,
            starts_on=D(2026, 10, 1),
            ends_on=D(2026, 10, 1),
        ),
        "ends_on",
        "end after it starts",
    )
    assert count(session, Term) == 0


def test_terms_do_not_overlap_and_the_message_names_the_other_term(session, year):
    services.add_term(
        session, year, kind="semester", number=1, starts_on=D(2026, 9, 1), ends_on=D(2027, 1, 22)
    )
    error = refused(
        lambda: services.add_term(
            session,
            year,
            kind="semester",
            number=2,
            starts_on=D(2027, 1, 10),
            ends_on=D(2027, 6, 18),
        ),
        "starts_on",
        "Semester 1",
    )
    assert "overlap" in error.message
    assert count(session, Term) == 1


def test_all_terms_of_a_year_are_of_one_kind(session, year):
    semesters(session, year)
    refused(
        lambda: services.add_term(
            session,
            year,
            kind="trimester",
            number=3,
            starts_on=D(2027, 6, 21),
            ends_on=D(2027, 6, 30),
        ),
        "kind",
        "semesters",
        "one kind",
    )
    refused(
        lambda: services.add_term(
            session, year, kind="yearly", number=1, starts_on=D(2027, 7, 1), ends_on=D(2027, 7, 9)
        ),
        "kind",
    )
    assert count(session, Term) == 2


def test_terms_are_numbered_within_their_kind_in_date_order(session, year):
    first, second = semesters(session, year)
    refused(
        lambda: services.add_term(
            session,
            year,
            kind="semester",
            number=3,
            starts_on=D(2027, 6, 21),
            ends_on=D(2027, 6, 30),
        ),
        "number",
        "1 or 2",
    )
    refused(
        lambda: services.update_term(
            session,
            second,
            kind="semester",
            number=1,
            starts_on=second.starts_on,
            ends_on=second.ends_on,
        ),
        "number",
        "“Semester 1” already exists",
    )
    services.delete_term(session, second)
    refused(
        lambda: services.add_term(
            session,
            year,
            kind="semester",
            number=2,
            starts_on=D(2026, 9, 1),
            ends_on=D(2026, 9, 2),
        ),
        "starts_on",
        "overlap",
    )
    services.update_term(
        session, first, kind="semester", number=1, starts_on=D(2027, 1, 4), ends_on=D(2027, 6, 1)
    )
    refused(
        lambda: services.add_term(
            session,
            year,
            kind="semester",
            number=2,
            starts_on=D(2026, 9, 1),
            ends_on=D(2026, 12, 23),
        ),
        "number",
        "“Semester 2” must come after “Semester 1”",
    )


def test_a_term_that_is_alone_may_change_kind(session, year):
    first, second = semesters(session, year)
    refused(
        lambda: services.update_term(
            session,
            first,
            kind="quarter",
            number=1,
            starts_on=first.starts_on,
            ends_on=first.ends_on,
        ),
        "kind",
    )
    services.delete_term(session, second)
    services.update_term(
        session, first, kind="quarter", number=1, starts_on=first.starts_on, ends_on=D(2026, 11, 6)
    )
    assert first.label == "Quarter 1"


def test_proposed_terms_split_evenly_and_meet_at_weekends():
    spans = services.propose_terms("trimester", D(2026, 9, 1), D(2027, 6, 18))
    assert len(spans) == 3
    assert spans[0][0] == D(2026, 9, 1) and spans[-1][1] == D(2027, 6, 18)
    for (_start, end), (next_start, _end) in itertools.pairwise(spans):
        assert next_start.weekday() == 0 and end.weekday() == 4
        assert (next_start - end).days == 3
    lengths = [(end - start).days for start, end in spans]
    assert max(lengths) - min(lengths) <= 10
    with pytest.raises(ServiceError) as excinfo:
        services.propose_terms("semester", D(2027, 6, 1), D(2027, 5, 1))
    assert excinfo.value.field == "to"


def test_set_terms_replaces_the_kind_and_keeps_the_rows(session, year):
    first, second = semesters(session, year)
    ids = {first.id, second.id}
    spans = services.propose_terms("trimester", D(2026, 9, 1), D(2027, 6, 18))
    terms = services.set_terms(session, year, "trimester", spans)
    assert [t.label for t in terms] == ["Trimester 1", "Trimester 2", "Trimester 3"]
    assert ids <= {t.id for t in terms}
    bad = [spans[0], (spans[0][1], spans[1][1]), spans[2]]
    refused(lambda: services.set_terms(session, year, "trimester", bad), "starts_on_2", "overlap")
    refused(lambda: services.set_terms(session, year, "semester", spans), "kind")
    halves = [(D(2026, 9, 1), D(2027, 1, 22)), (D(2027, 1, 25), D(2027, 6, 18))]
    services.set_terms(session, year, "semester", halves)
    assert count(session, Term) == 2


def test_term_for(session, year):
    first, second = semesters(session, year)
    assert services.term_for(session, D(2026, 12, 1)) == first
    assert services.term_for(session, D(2027, 1, 25)) == second
    assert services.term_for(session, D(2027, 1, 23)) is None
    assert services.term_for(session, D(2027, 7, 1)) is None


# --- term dates and the records in the terms ---------------------------------------------


def _in_term(session, model, row_id: int) -> str:
    session.expire_all()
    return session.get(Term, session.get(model, row_id).term_id).label


def test_moving_a_term_boundary_moves_the_lessons_and_grades_to_their_term(session, classroom):
    c, j = classroom, Journal(classroom)
    before = j.lesson(c.maths, D(2027, 1, 11))
    moved = j.lesson(c.maths, D(2027, 1, 18))
    in_lesson = j.grade(c.students[0], c.maths, "9", D(2027, 1, 18), lesson_id=moved.id)
    j.mark(moved, c.students[1])
    on_a_day = j.grade(c.students[0], c.english, "7", D(2027, 1, 20))
    services.set_terms(
        session,
        c.year,
        "semester",
        [(D(2026, 9, 1), D(2027, 1, 15)), (D(2027, 1, 18), D(2027, 6, 30))],
    )
    assert _in_term(session, Lesson, moved.id) == "Semester 2"
    assert _in_term(session, Grade, in_lesson.id) == "Semester 2"
    assert _in_term(session, Grade, on_a_day.id) == "Semester 2"
    assert _in_term(session, Lesson, before.id) == "Semester 1"
    # the term grade page of semester 2 counts the moved grade, semester 1's no longer does
    first, second = session.scalars(select(Term).order_by(Term.number)).all()
    assert suggest_term_grades(session, c.maths, second)[c.students[0].id].suggested == "9"
    assert suggest_term_grades(session, c.maths, first)[c.students[0].id].count == 0

    services.set_terms(  # and back: a correction of the correction
        session,
        c.year,
        "semester",
        [(D(2026, 9, 1), D(2027, 1, 31)), (D(2027, 2, 1), D(2027, 6, 30))],
    )
    assert _in_term(session, Grade, on_a_day.id) == "Semester 1"


def test_a_term_edit_leaving_records_outside_every_term_is_refused(session, classroom):
    c, j = classroom, Journal(classroom)
    first = c.terms[0]
    lesson = j.lesson(c.maths, D(2027, 1, 18))
    j.grade(c.students[0], c.maths, "9", D(2027, 1, 18), lesson_id=lesson.id)
    j.grade(c.students[1], c.english, "7", D(2027, 1, 20))
    session.commit()
    error = refused(
        lambda: services.update_term(
            session,
            first,
            kind="semester",
            number=1,
            starts_on=D(2026, 9, 1),
            ends_on=D(2027, 1, 15),
        ),
        "ends_on",
        "outside every term (lessons: 1, grades: 2; days: Jan 18, 2027 and Jan 20, 2027)",
        "Set up all terms at once",
    )
    assert "lessons and grades" in error.message
    session.rollback()
    session.expire_all()
    assert session.get(Term, first.id).ends_on == D(2027, 1, 31)
    assert _in_term(session, Lesson, lesson.id) == "Semester 1"


def test_empty_generated_lessons_outside_the_terms_go_written_ones_stop_the_change(
    session, classroom
):
    c, j = classroom, Journal(classroom)
    second = c.terms[1]
    empty = j.lesson(c.maths, D(2027, 6, 21), topic=None).id  # generated ahead, nothing written
    services.update_term(
        session, second, kind="semester", number=2, starts_on=D(2027, 2, 1), ends_on=D(2027, 6, 18)
    )
    assert session.scalar(select(Lesson.id).where(Lesson.id == empty)) is None
    j.lesson(c.maths, D(2027, 6, 14), topic="Kartojimas")
    refused(
        lambda: services.update_term(
            session,
            second,
            kind="semester",
            number=2,
            starts_on=D(2027, 2, 1),
            ends_on=D(2027, 6, 11),
        ),
        "ends_on",
        "(lessons: 1, grades: 0; days: Jun 14, 2027)",
    )


def test_records_do_not_move_between_terms_with_confirmed_term_grades(session, classroom):
    c, j = classroom, Journal(classroom)
    lesson = j.lesson(c.maths, D(2027, 1, 25))
    j.grade(c.students[0], c.maths, "9", D(2027, 1, 25), lesson_id=lesson.id)
    j.term_grade(c.students[0], c.maths, "9")  # semester 1's, given for its old days
    halves = [(D(2026, 9, 1), D(2027, 1, 22)), (D(2027, 1, 25), D(2027, 6, 30))]
    session.commit()
    refused(
        lambda: services.set_terms(session, c.year, "semester", halves),
        "ends_on_1",
        "(lessons: 1, grades: 1; days: Jan 25, 2027)",
        "term grades are already confirmed for: Semester 1",
    )
    session.rollback()
    session.expire_all()
    assert _in_term(session, Lesson, lesson.id) == "Semester 1"
    assert session.get(Term, c.terms[0].id).ends_on == D(2027, 1, 31)
    # dates that move no record are still accepted
    services.set_terms(
        session,
        c.year,
        "semester",
        [(D(2026, 9, 1), D(2027, 1, 29)), (D(2027, 2, 1), D(2027, 6, 30))],
    )


def test_a_year_cannot_shrink_away_from_its_lessons_and_grades(session, classroom):
    c, j = classroom, Journal(classroom)
    j.lesson(c.maths, D(2026, 9, 7))
    # left after the last term by a term change made before the records moved along
    j.lesson(c.maths, D(2027, 7, 5))
    refused(
        lambda: services.update_year(
            session, c.year, name=c.year.name, starts_on=c.year.starts_on, ends_on=D(2027, 6, 30)
        ),
        "ends_on",
        "lessons or grades from Sep 7, 2026 to Jul 5, 2027",
    )
    session.expire_all()
    assert session.get(SchoolYear, c.year.id).ends_on == D(2027, 8, 31)


# --- holidays and school days -------------------------------------------------------------


def test_holidays_lie_inside_the_year_and_do_not_overlap(session, year):
    autumn = services.add_holiday(
        session, year, name="Rudens atostogos", starts_on=D(2026, 10, 26), ends_on=D(2026, 10, 30)
    )
    refused(
        lambda: services.add_holiday(
            session, year, name="Klaida", starts_on=D(2026, 10, 30), ends_on=D(2026, 11, 2)
        ),
        "starts_on",
        "Rudens atostogos",
    )
    refused(
        lambda: services.add_holiday(
            session, year, name="Vasara", starts_on=D(2027, 6, 21), ends_on=D(2027, 9, 1)
        ),
        "ends_on",
        "within the school year",
    )
    refused(
        lambda: services.add_holiday(
            session, year, name="Atgal", starts_on=D(2026, 12, 24), ends_on=D(2026, 12, 23)
        ),
        "ends_on",
    )
    refused(
        lambda: services.add_holiday(
            session, year, name=" ", starts_on=D(2026, 12, 24), ends_on=D(2026, 12, 24)
        ),
        "name",
    )
    assert count(session, Holiday) == 1
    one_day = services.add_holiday(
        session, year, name="Vasario 16-oji", starts_on=D(2027, 2, 16), ends_on=D(2027, 2, 16)
    )
    services.update_holiday(
        session, autumn, name="Rudens atostogos", starts_on=D(2026, 10, 26), ends_on=D(2026, 11, 2)
    )
    refused(
        lambda: services.update_holiday(
            session, one_day, name=one_day.name, starts_on=D(2026, 11, 2), ends_on=D(2026, 11, 2)
        ),
        "starts_on",
        "Rudens atostogos",
    )
    services.delete_holiday(session, one_day)
    assert count(session, Holiday) == 1


def test_school_days_are_weekdays_of_the_year_outside_holidays(session, year, count_queries):
    services.add_holiday(
        session, year, name="Rudens atostogos", starts_on=D(2026, 10, 26), ends_on=D(2026, 10, 30)
    )
    assert services.is_school_day(session, D(2026, 9, 1))  # a Tuesday
    assert not services.is_school_day(session, D(2026, 9, 5))  # a Saturday
    assert not services.is_school_day(session, D(2026, 10, 28))  # holiday
    assert not services.is_school_day(session, D(2026, 8, 31))  # before the year
    assert services.is_school_day(session, D(2027, 7, 14))  # no terms yet: the whole year
    # October 2026: 22 weekdays, 5 of them the holiday
    with count_queries() as queries:
        october = services.school_days_between(session, D(2026, 10, 1), D(2026, 10, 31))
    assert len(october) == 17 and len(queries) == 3
    assert october == sorted(october) and D(2026, 10, 26) not in october
    assert services.school_days_between(session, D(2026, 10, 2), D(2026, 10, 1)) == []
    # the holiday's days inside a window, clipped to it (the term locks count working days)
    assert services.holiday_days_between(session, D(2026, 10, 28), D(2026, 11, 2)) == {
        D(2026, 10, 28),
        D(2026, 10, 29),
        D(2026, 10, 30),
    }
    assert services.holiday_days_between(session, D(2026, 11, 2), D(2026, 11, 9)) == set()


def test_with_terms_school_days_are_inside_the_terms(session, year):
    semesters(session, year)
    assert services.is_school_day(session, D(2027, 1, 22))
    assert not services.is_school_day(session, D(2027, 7, 14))  # summer, after the last term
    days = services.school_days_between(session, D(2027, 6, 14), D(2027, 6, 25))
    assert days == [D(2027, 6, d) for d in (14, 15, 16, 17, 18)]
    assert services.term_school_days(year)[year.terms[0].id] == services.count_school_days(
        D(2026, 9, 1), D(2027, 1, 22), []
    )


# --- bell schedules -----------------------------------------------------------------------


def test_one_default_schedule_and_grade_ranges_that_do_not_overlap(session):
    main = services.add_schedule(session, name="Pagrindinis", is_default=True)
    assert (main.min_grade, main.max_grade) == (1, 12)
    refused(
        lambda: services.add_schedule(session, name="Kitas", is_default=True),
        "is_default",
        "Pagrindinis",
    )
    refused(
        lambda: services.add_schedule(session, name="pagrindinis", is_default=False),
        "name",
        "already",
    )
    services.add_schedule(session, name="Pradinės", is_default=False, min_grade=1, max_grade=4)
    refused(
        lambda: services.add_schedule(
            session, name="Antrokai", is_default=False, min_grade=2, max_grade=2
        ),
        "min_grade",
        "Pradinės",
        "overlap",
    )
    refused(
        lambda: services.add_schedule(
            session, name="Atvirkščiai", is_default=False, min_grade=8, max_grade=5
        ),
        "max_grade",
    )
    assert count(session, BellSchedule) == 2


def test_schedule_for_grade(session):
    assert services.schedule_for_grade(session, 3) is None
    first = services.add_schedule(
        session, name="1 klasė", is_default=False, min_grade=1, max_grade=1
    )
    assert services.schedule_for_grade(session, 5) is None
    assert services.grades_without_schedule([first]) == list(range(2, 13))
    main = services.add_schedule(session, name="Pagrindinis", is_default=True)
    services.add_period(session, main, lesson_no=1, starts_at=time(8), ends_at=time(8, 45))
    assert services.schedule_for_grade(session, 1) == first
    assert services.schedule_for_grade(session, 5) == main
    assert services.schedule_for_grade(session, 12).periods[0].lesson_no == 1
    assert services.grades_without_schedule([first, main]) == []


def test_bell_periods_end_after_they_start_and_never_overlap(session):
    main = services.add_schedule(session, name="Pagrindinis", is_default=True)
    refused(
        lambda: services.add_period(
            session, main, lesson_no=1, starts_at=time(8, 45), ends_at=time(8, 0)
        ),
        "ends_at",
        "end after it starts",
    )
    services.add_period(session, main, lesson_no=1, starts_at=time(8), ends_at=time(8, 45))
    services.add_period(session, main, lesson_no=2, starts_at=time(8, 55), ends_at=time(9, 40))
    refused(
        lambda: services.add_period(
            session, main, lesson_no=3, starts_at=time(9, 30), ends_at=time(10, 15)
        ),
        "starts_at",
        "overlap lesson 2",
    )
    refused(
        lambda: services.add_period(
            session, main, lesson_no=2, starts_at=time(10), ends_at=time(10, 45)
        ),
        "lesson_no",
        "Lesson 2",
    )
    refused(
        lambda: services.add_period(
            session, main, lesson_no=0, starts_at=time(10), ends_at=time(10, 45)
        ),
        "starts_at",
        "before lesson 1",
    )
    assert count(session, BellPeriod) == 2
    zero = services.add_period(
        session, main, lesson_no=0, starts_at=time(7, 10), ends_at=time(7, 55)
    )
    assert [p.lesson_no for p in main.periods] == [0, 1, 2]
    services.update_period(session, zero, lesson_no=0, starts_at=time(7, 5), ends_at=time(7, 50))
    services.delete_period(session, zero)
    assert [p.lesson_no for p in main.periods] == [1, 2]


def test_fill_periods(session):
    main = services.add_schedule(session, name="Pagrindinis", is_default=True)
    periods = services.fill_periods(
        session, main, first_starts_at=time(8), lessons=8, lesson_minutes=45, break_minutes=10
    )
    assert [(p.lesson_no, p.starts_at, p.ends_at) for p in periods][:2] == [
        (1, time(8), time(8, 45)),
        (2, time(8, 55), time(9, 40)),
    ]
    assert periods[-1].ends_at == time(15, 10)
    refused(
        lambda: services.fill_periods(
            session, main, first_starts_at=time(8), lessons=1, lesson_minutes=45, break_minutes=10
        ),
        "lessons",
    )
    late = services.add_schedule(
        session, name="Vakarinė", is_default=False, min_grade=12, max_grade=12
    )
    refused(
        lambda: services.fill_periods(
            session, late, first_starts_at=time(20), lessons=6, lesson_minutes=45, break_minutes=10
        ),
        "lessons",
        "midnight",
    )
    assert late.periods == []


# --- rooms --------------------------------------------------------------------------------


def test_room_codes_are_unique_whatever_the_case(session):
    services.add_room(session, code="Sporto salė", name=None, capacity=None)
    refused(lambda: services.add_room(session, code="sporto salė "), "code", "Sporto salė")
    refused(lambda: services.add_room(session, code=""), "code")
    refused(lambda: services.add_room(session, code="x" * 21), "code", "at most 20")
    assert count(session, Room) == 1
    room = services.add_room(session, code="101", name="Matematikos kabinetas", capacity=30)
    refused(
        lambda: services.update_room(session, room, code="SPORTO SALĖ", name=None, capacity=None),
        "code",
    )
    services.update_room(session, room, code="101a", name="", capacity=None)
    assert (room.code, room.name, room.capacity) == ("101a", None, None)


def test_rooms_sort_naturally_active_first(session):
    for code in ("12", "Aktų salė", "101", "2", "101a"):
        services.add_room(session, code=code)
    services.set_room_active(session, session.scalar(select(Room).where(Room.code == "2")), False)
    assert [r.code for r in services.list_rooms(session)] == ["12", "101", "101a", "Aktų salė", "2"]


def test_a_used_room_is_deactivated_instead_of_deleted(session, year):
    used = services.add_room(session, code="201")
    unused = services.add_room(session, code="202")
    scale = session.scalar(select(GradeScale).where(GradeScale.code == "ten_point"))
    subject = Subject(code="MAT", name="Matematika", name_translations={}, scale_id=scale.id)
    session.add(subject)
    session.flush()
    group = Group(year_id=year.id, subject_id=subject.id, name="5a matematika", kind="class")
    session.add(group)
    session.flush()
    session.add(
        TimetableEntry(
            group_id=group.id, weekday=1, lesson_no=1, room_id=used.id, valid_from=D(2026, 9, 1)
        )
    )
    session.flush()
    assert services.room_in_use(session, used) == ["timetable lessons"]
    assert services.delete_room(session, used) is False
    assert services.delete_room(session, unused) is True
    session.expire_all()
    assert [(r.code, r.is_active) for r in session.scalars(select(Room))] == [("201", False)]


def test_two_administrators_saving_overlapping_schedules_at_once(engine_url, world):
    """The second waits for the first's transaction, then gets the overlap refusal (before,
    both were saved)."""
    engine = create_engine(engine_url)
    first, second = Session(engine), Session(engine)
    for session in (first, second):
        bind_to_school(session, world.school_a)
    outcome: dict[str, str] = {}

    def second_administrator() -> None:
        try:
            services.add_schedule(second, name="Abiturientai", is_default=False,
                                  min_grade=11, max_grade=12)  # fmt: skip
        except ServiceError as exc:
            outcome["refused"] = exc.message

    try:
        services.add_schedule(first, name="Dvyliktokai", is_default=False,
                              min_grade=12, max_grade=12)  # fmt: skip
        waits_for_commit(first, second_administrator)
        assert "overlap the schedule “Dvyliktokai”" in outcome["refused"]
    finally:
        second.rollback()
        first.execute(delete(BellSchedule).where(BellSchedule.name == "Dvyliktokai"))
        first.commit()
        first.close()
        second.close()
        engine.dispose()
