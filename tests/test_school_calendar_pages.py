"""The calendar pages: who may read and edit, bad input shown per field with nothing saved,
school B never visible in school A, list pages without N+1 queries."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from sqlalchemy import func, select

from conftest import login, post_form
from school.calendar import services
from school.calendar.models import BellPeriod, BellSchedule, Holiday, Room, SchoolYear, Term
from tenants.binding import unbind_session
from tenants.services import bind_to_school

A = "/s/school-a"
D = date


def english(client, who: str):
    """Log in with English chosen for the session (the school's own language is Lithuanian)."""
    post_form(client, "/language", {"locale": "en", "next": "/"}, form_page="/login")
    login(client, who)
    return client


@pytest.fixture
def admin(app, client, db_session):
    return english(client, "admin.a")


@pytest.fixture
def teacher(app, db_session):
    return english(app.test_client(), "teacher.a")


@pytest.fixture
def guardian(app, db_session):
    return english(app.test_client(), "guardian.both")


@pytest.fixture
def year(in_school_a) -> SchoolYear:
    return in_school_a.scalar(select(SchoolYear))


def page(response) -> str:
    return response.get_data(as_text=True)


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def field_error(html: str, field: str) -> str:
    """The message shown under ``field`` (the _field_error.html markup)."""
    match = re.search(rf'<p class="field-error" id="{field}-error" role="alert">([^<]*)</p>', html)
    assert match, f"no error under {field}"
    return match.group(1)


def submit(client, path: str, data: dict, form_page: str):
    return post_form(client, A + path, data, form_page=A + form_page)


# --- who may do what ----------------------------------------------------------------------

PAGES = ("/calendar", "/bells", "/rooms")


def test_pages_are_on_the_school_home(admin, teacher, guardian):
    home = page(admin.get(A + "/"))
    for path, label in zip(PAGES, ("Calendar", "Bell times", "Rooms"), strict=True):
        assert f'href="{A}{path}"' in home and label in home
    assert f'href="{A}/rooms"' in page(teacher.get(A + "/"))
    assert f'href="{A}/rooms"' not in page(guardian.get(A + "/"))


def test_staff_read_students_and_guardians_are_refused(admin, teacher, guardian):
    for path in PAGES:
        assert admin.get(A + path).status_code == 200
        response = teacher.get(A + path)
        assert response.status_code == 200
        assert "csrf_token" not in page(response).split("<main ")[1]  # no forms to edit
        assert guardian.get(A + path).status_code == 403


def test_a_teacher_cannot_edit(teacher, in_school_a, year):
    room = services.add_room(in_school_a, code="101")
    term = services.add_term(
        in_school_a, year, kind="semester", number=1, starts_on=D(2026, 9, 1), ends_on=D(2027, 1, 1)
    )
    in_school_a.commit()
    for path in (
        f"/rooms/{room.id}/edit",
        f"/rooms/{room.id}/delete",
        f"/calendar/terms/{term.id}/edit",
        f"/calendar/years/{year.id}/edit",
        f"/calendar/years/{year.id}/terms/setup",
    ):
        assert teacher.get(A + path).status_code == 403, path
    for path, data in (
        ("/rooms", {"code": "102"}),
        (f"/rooms/{room.id}/delete", {}),
        (f"/rooms/{room.id}/active", {"active": "0"}),
        (
            f"/calendar/years/{year.id}/holidays",
            {"name": "X", "starts_on": "2026-11-02", "ends_on": "2026-11-02"},
        ),
        ("/bells/schedules", {"name": "Main", "is_default": "1"}),
    ):
        assert submit(teacher, path, data, "/rooms").status_code == 403, path
    assert count(in_school_a, Room) == 1 and count(in_school_a, Holiday) == 0
    assert count(in_school_a, BellSchedule) == 0
    assert in_school_a.get(Room, room.id).is_active


def test_school_b_rooms_never_appear_in_school_a(admin, db_session, world):
    bind_to_school(db_session, world.school_b)
    b_room_id = services.add_room(db_session, code="B-777", name="Бета кабинет").id
    db_session.commit()
    unbind_session(db_session)
    html = page(admin.get(A + "/rooms"))
    assert "B-777" not in html and "Бета" not in html
    assert "No rooms yet." in html
    assert admin.get(f"{A}/rooms/{b_room_id}/edit").status_code == 404
    assert admin.get("/s/school-b/rooms").status_code == 403  # admin.a has no role in B


# --- the calendar: years, terms, holidays -------------------------------------------------


def test_admin_sets_up_a_year_with_terms_and_holidays(admin, in_school_a, year):
    html = page(admin.get(A + "/calendar"))
    assert "2026–2027 A" in html and "No terms yet." in html and "No holidays yet." in html
    assert 'value="2027–2028"' in html  # the next year is proposed

    path = f"/calendar/years/{year.id}/terms"
    response = submit(
        admin,
        path,
        {"kind": "semester", "number": "1", "starts_on": "2026-09-01", "ends_on": "2027-01-22"},
        "/calendar",
    )
    assert response.status_code == 302
    submit(
        admin,
        path,
        {"kind": "semester", "number": "2", "starts_on": "2027-01-25", "ends_on": "2027-06-18"},
        "/calendar",
    )
    response = submit(
        admin,
        f"/calendar/years/{year.id}/holidays",
        {"name": "Rudens atostogos", "starts_on": "2026-10-26", "ends_on": "2026-10-30"},
        "/calendar",
    )
    assert response.status_code == 302
    html = page(admin.get(A + response.headers["Location"].split(A, 1)[1]))
    assert "Semester 1" in html and "Semester 2" in html and "Rudens atostogos" in html
    assert "5 days" in html and "The holiday “Rudens atostogos” is added." in html
    assert count(in_school_a, Term) == 2 and count(in_school_a, Holiday) == 1

    response = submit(
        admin,
        "/calendar/years",
        {"name": "2027–2028", "starts_on": "2027-09-01", "ends_on": "2028-08-31"},
        "/calendar",
    )
    assert response.status_code == 302
    assert count(in_school_a, SchoolYear) == 2


def test_a_term_outside_the_year_is_refused_and_nothing_saved(admin, in_school_a, year):
    response = submit(
        admin,
        f"/calendar/years/{year.id}/terms",
        {"kind": "semester", "number": "1", "starts_on": "2026-08-20", "ends_on": "2027-01-22"},
        "/calendar",
    )
    assert response.status_code == 400
    html = page(response)
    assert "The term must lie within the school year 2026–2027 A" in field_error(html, "starts_on")
    assert 'value="2026-08-20"' in html  # the submitted values are kept
    assert count(in_school_a, Term) == 0


def test_overlapping_terms_are_refused_naming_the_other_term(admin, in_school_a, year):
    services.add_term(
        in_school_a,
        year,
        kind="semester",
        number=1,
        starts_on=D(2026, 9, 1),
        ends_on=D(2027, 1, 22),
    )
    in_school_a.commit()
    response = submit(
        admin,
        f"/calendar/years/{year.id}/terms",
        {"kind": "semester", "number": "2", "starts_on": "2027-01-15", "ends_on": "2027-06-18"},
        "/calendar",
    )
    assert response.status_code == 400
    message = field_error(page(response), "starts_on")
    assert "overlap “Semester 1”" in message and "Jan 22, 2027" in message
    assert count(in_school_a, Term) == 1


def test_mixed_term_kinds_are_refused(admin, in_school_a, year):
    services.add_term(
        in_school_a,
        year,
        kind="semester",
        number=1,
        starts_on=D(2026, 9, 1),
        ends_on=D(2027, 1, 22),
    )
    in_school_a.commit()
    response = submit(
        admin,
        f"/calendar/years/{year.id}/terms",
        {"kind": "trimester", "number": "2", "starts_on": "2027-01-25", "ends_on": "2027-03-26"},
        "/calendar",
    )
    assert response.status_code == 400
    assert "all terms of a year must be of one kind" in field_error(page(response), "kind")
    assert count(in_school_a, Term) == 1


def test_a_bad_date_is_refused_with_a_message(admin, in_school_a, year):
    response = submit(
        admin,
        f"/calendar/years/{year.id}/holidays",
        {"name": "Ruduo", "starts_on": "2026-13-40", "ends_on": ""},
        "/calendar",
    )
    assert response.status_code == 400
    assert "is not a date" in field_error(page(response), "starts_on")
    assert count(in_school_a, Holiday) == 0


def test_overlapping_holidays_are_refused(admin, in_school_a, year):
    services.add_holiday(
        in_school_a,
        year,
        name="Kalėdų atostogos",
        starts_on=D(2026, 12, 23),
        ends_on=D(2027, 1, 2),
    )
    in_school_a.commit()
    response = submit(
        admin,
        f"/calendar/years/{year.id}/holidays",
        {"name": "Naujieji metai", "starts_on": "2027-01-01", "ends_on": "2027-01-01"},
        "/calendar",
    )
    assert response.status_code == 400
    html = page(response)
    assert "overlap the holiday “Kalėdų atostogos”" in field_error(html, "starts_on")
    assert 'value="Naujieji metai"' in html
    assert count(in_school_a, Holiday) == 1


def test_overlapping_years_are_refused(admin, in_school_a):
    response = submit(
        admin,
        "/calendar/years",
        {"name": "2027–2028", "starts_on": "2027-08-01", "ends_on": "2028-07-31"},
        "/calendar",
    )
    assert response.status_code == 400
    assert "overlap the school year “2026–2027 A”" in field_error(page(response), "starts_on")
    assert count(in_school_a, SchoolYear) == 1


def test_a_year_of_seventy_years_is_refused_on_its_end_date(admin, in_school_a):
    response = submit(
        admin,
        "/calendar/years",
        {"name": "2027–2028", "starts_on": "2027-09-01", "ends_on": "2099-08-31"},
        "/calendar",
    )
    assert response.status_code == 400
    assert field_error(page(response), "ends_on") == (
        "A school year may last at most 366 days: it must end by Aug 31, 2028."
    )
    assert count(in_school_a, SchoolYear) == 1


def test_edit_pages_show_errors_and_save(admin, in_school_a, year):
    first = services.add_term(
        in_school_a,
        year,
        kind="semester",
        number=1,
        starts_on=D(2026, 9, 1),
        ends_on=D(2027, 1, 22),
    )
    holiday = services.add_holiday(
        in_school_a, year, name="Ruduo", starts_on=D(2026, 10, 26), ends_on=D(2026, 10, 30)
    )
    in_school_a.commit()
    edit = f"/calendar/terms/{first.id}/edit"
    assert 'value="2027-01-22"' in page(admin.get(A + edit))
    response = submit(
        admin,
        edit,
        {"kind": "semester", "number": "1", "starts_on": "2026-09-01", "ends_on": "2026-09-01"},
        edit,
    )
    assert response.status_code == 400
    assert "must end after it starts" in field_error(page(response), "ends_on")
    response = submit(
        admin,
        edit,
        {"kind": "semester", "number": "1", "starts_on": "2026-09-01", "ends_on": "2027-01-15"},
        edit,
    )
    assert response.status_code == 302
    in_school_a.expire_all()
    assert in_school_a.get(Term, first.id).ends_on == D(2027, 1, 15)

    edit = f"/calendar/holidays/{holiday.id}/edit"
    response = submit(
        admin, edit, {"name": "Ruduo", "starts_on": "2026-10-26", "ends_on": "2027-09-01"}, edit
    )
    assert response.status_code == 400 and "within the school year" in page(response)
    edit = f"/calendar/years/{year.id}/edit"
    response = submit(
        admin, edit, {"name": year.name, "starts_on": "2026-09-02", "ends_on": "2027-08-31"}, edit
    )
    assert response.status_code == 400
    assert "“Semester 1”" in field_error(page(response), "starts_on")
    in_school_a.expire_all()
    assert in_school_a.get(SchoolYear, year.id).starts_on == D(2026, 9, 1)


def test_term_dates_carry_the_lessons_and_grades_or_say_why_not(admin, in_school_a, classroom):
    from gradebook.grades.models import Grade
    from test_gradebook_overview import Journal

    c, j = classroom, Journal(classroom)
    first, second = c.terms
    lesson = j.lesson(c.maths, D(2027, 1, 25))
    grade = j.grade(c.students[0], c.maths, "9", D(2027, 1, 25), lesson_id=lesson.id).id
    in_school_a.commit()
    edit = f"/calendar/terms/{first.id}/edit"
    response = submit(
        admin,
        edit,
        {"kind": "semester", "number": "1", "starts_on": "2026-09-01", "ends_on": "2027-01-22"},
        edit,
    )
    assert response.status_code == 400
    message = field_error(page(response), "ends_on")
    assert "(lessons: 1, grades: 1; days: Jan 25, 2027)" in message
    assert "Set up all terms at once" in message
    in_school_a.expire_all()
    assert in_school_a.get(Term, first.id).ends_on == D(2027, 1, 31)

    setup = f"/calendar/years/{c.year.id}/terms/setup"
    data = {"kind": "semester", "starts_on_1": "2026-09-01", "ends_on_1": "2027-01-22"}
    data |= {"starts_on_2": "2027-01-25", "ends_on_2": "2027-06-30"}
    assert submit(admin, setup, data, setup).status_code == 302
    in_school_a.expire_all()
    assert in_school_a.get(Grade, grade).term_id == second.id


def test_deleting_asks_first_and_refuses_a_year_in_use(admin, in_school_a, year):
    from school.classes.models import SchoolClass

    holiday = services.add_holiday(
        in_school_a, year, name="Ruduo", starts_on=D(2026, 10, 26), ends_on=D(2026, 10, 30)
    )
    spare = services.create_year(
        in_school_a, name="2030–2031", starts_on=D(2030, 9, 1), ends_on=D(2031, 8, 31)
    )
    in_school_a.add(SchoolClass(year_id=year.id, grade_level=1, letter="a"))
    in_school_a.commit()

    path = f"/calendar/holidays/{holiday.id}/delete"
    confirm = page(admin.get(A + path))
    assert "Delete the holiday “Ruduo”" in confirm and f'action="{A}{path}"' in confirm
    assert count(in_school_a, Holiday) == 1  # asking deletes nothing
    assert submit(admin, path, {}, path).status_code == 302
    assert count(in_school_a, Holiday) == 0

    path = f"/calendar/years/{year.id}/delete"
    confirm = page(admin.get(A + path))
    assert "in use: classes" in confirm and f'action="{A}{path}"' not in confirm
    response = submit(admin, path, {}, "/calendar")
    assert response.status_code == 302
    assert "in use: classes" in page(admin.get(response.headers["Location"]))
    assert count(in_school_a, SchoolYear) == 2

    path = f"/calendar/years/{spare.id}/delete"
    assert submit(admin, path, {}, path).status_code == 302
    assert count(in_school_a, SchoolYear) == 1


def test_terms_set_up_from_a_proposal(admin, in_school_a, year):
    setup = f"/calendar/years/{year.id}/terms/setup"
    html = page(admin.get(A + setup + "?kind=trimester&from=2026-09-01&to=2027-06-18"))
    assert "Trimester 3" in html
    dates = re.findall(r'name="(starts_on_\d|ends_on_\d)" value="([\d-]+)"', html)
    data = dict(dates) | {"kind": "trimester"}
    assert data["starts_on_1"] == "2026-09-01" and data["ends_on_3"] == "2027-06-18"

    bad = data | {"starts_on_2": data["starts_on_1"]}
    response = submit(admin, setup, bad, setup)
    assert response.status_code == 400
    assert "overlap “Trimester 1”" in field_error(page(response), "starts_on_2")
    assert count(in_school_a, Term) == 0

    assert submit(admin, setup, data, setup).status_code == 302
    assert count(in_school_a, Term) == 3
    html = page(admin.get(A + setup))  # the saved terms come back for editing
    assert f'value="{data["ends_on_2"]}"' in html

    bad = page(admin.get(A + setup + "?kind=semester&from=2027-06-01&to=2027-01-01"))
    assert "must come after the first" in bad


# --- bell times ---------------------------------------------------------------------------


def test_admin_adds_schedules_and_periods(admin, in_school_a):
    html = page(admin.get(A + "/bells"))
    assert "No bell times yet." in html
    response = submit(
        admin, "/bells/schedules", {"name": "Pagrindinis", "is_default": "1"}, "/bells"
    )
    assert response.status_code == 302
    main = in_school_a.scalar(select(BellSchedule))
    fill = {
        "first_starts_at": "08:00",
        "lessons": "7",
        "lesson_minutes": "45",
        "break_minutes": "10",
    }
    assert submit(admin, f"/bells/schedules/{main.id}/fill", fill, "/bells").status_code == 302
    assert count(in_school_a, BellPeriod) == 7
    html = page(admin.get(A + "/bells"))
    assert "08:55" in html and "10 minutes" in html

    response = submit(
        admin,
        "/bells/schedules",
        {"name": "Pirmokai", "is_default": "", "min_grade": "1", "max_grade": "1"},
        "/bells",
    )
    assert response.status_code == 302
    assert services.schedule_for_grade(in_school_a, 1).name == "Pirmokai"


def test_a_bell_period_ending_before_it_starts_is_refused(admin, in_school_a):
    main = services.add_schedule(in_school_a, name="Pagrindinis", is_default=True)
    in_school_a.commit()
    response = submit(
        admin,
        f"/bells/schedules/{main.id}/periods",
        {"lesson_no": "1", "starts_at": "08:45", "ends_at": "08:00"},
        "/bells",
    )
    assert response.status_code == 400
    html = page(response)
    assert field_error(html, "ends_at") == "The lesson must end after it starts."
    assert 'value="08:45"' in html
    assert count(in_school_a, BellPeriod) == 0


def test_overlapping_bell_periods_are_refused(admin, in_school_a):
    main = services.add_schedule(in_school_a, name="Pagrindinis", is_default=True)
    services.add_period(in_school_a, main, lesson_no=1, starts_at=time(8), ends_at=time(8, 45))
    in_school_a.commit()
    path = f"/bells/schedules/{main.id}/periods"
    response = submit(
        admin, path, {"lesson_no": "2", "starts_at": "08:40", "ends_at": "09:25"}, "/bells"
    )
    assert response.status_code == 400
    assert "overlap lesson 1 (08:00–08:45)" in field_error(page(response), "starts_at")
    response = submit(
        admin, path, {"lesson_no": "1", "starts_at": "9:00", "ends_at": "9:45"}, "/bells"
    )
    assert response.status_code == 400
    assert "Lesson 1 already has its times" in field_error(page(response), "lesson_no")
    assert count(in_school_a, BellPeriod) == 1


def test_overlapping_grade_ranges_are_refused(admin, in_school_a):
    services.add_schedule(in_school_a, name="Pradinės", is_default=False, min_grade=1, max_grade=4)
    in_school_a.commit()
    response = submit(
        admin,
        "/bells/schedules",
        {"name": "Ketvirtokai", "is_default": "", "min_grade": "4", "max_grade": "5"},
        "/bells",
    )
    assert response.status_code == 400
    html = page(response)
    assert "overlap the schedule “Pradinės” (grades 1–4)" in field_error(html, "min_grade")
    assert 'value="Ketvirtokai"' in html
    assert "grades 5, 6, 7" in html  # no default yet: the page says which grades lack times
    assert count(in_school_a, BellSchedule) == 1


def test_period_edit_and_delete(admin, in_school_a):
    main = services.add_schedule(in_school_a, name="Pagrindinis", is_default=True)
    first = services.add_period(
        in_school_a, main, lesson_no=1, starts_at=time(8), ends_at=time(8, 45)
    )
    second = services.add_period(
        in_school_a, main, lesson_no=2, starts_at=time(8, 55), ends_at=time(9, 40)
    )
    in_school_a.commit()
    edit = f"/bells/periods/{second.id}/edit"
    response = submit(
        admin, edit, {"lesson_no": "2", "starts_at": "08:30", "ends_at": "09:40"}, edit
    )
    assert response.status_code == 400 and "overlap lesson 1" in page(response)
    response = submit(
        admin, edit, {"lesson_no": "2", "starts_at": "09:00", "ends_at": "09:45"}, edit
    )
    assert response.status_code == 302
    delete = f"/bells/periods/{first.id}/delete"
    assert "Delete lesson 1 (08:00–08:45)" in page(admin.get(A + delete))
    assert submit(admin, delete, {}, delete).status_code == 302
    in_school_a.expire_all()
    assert [(p.lesson_no, p.starts_at) for p in in_school_a.scalars(select(BellPeriod))] == [
        (2, time(9))
    ]
    delete = f"/bells/schedules/{main.id}/delete"
    assert "It is the default schedule" in page(admin.get(A + delete))
    assert submit(admin, delete, {}, delete).status_code == 302
    assert count(in_school_a, BellSchedule) == 0 and count(in_school_a, BellPeriod) == 0


# --- rooms --------------------------------------------------------------------------------


def test_a_duplicate_room_code_is_refused(admin, in_school_a):
    services.add_room(in_school_a, code="101", name="Matematika", capacity=30)
    in_school_a.commit()
    response = submit(admin, "/rooms", {"code": "101", "name": "Kita", "capacity": "20"}, "/rooms")
    assert response.status_code == 400
    html = page(response)
    assert "There already is a room with the code “101”." in field_error(html, "code")
    assert 'value="Kita"' in html
    response = submit(admin, "/rooms", {"code": "102", "capacity": "lots"}, "/rooms")
    assert response.status_code == 400
    assert "whole number from 1 to 2000" in field_error(page(response), "capacity")
    assert count(in_school_a, Room) == 1


def test_rooms_are_added_edited_deactivated_and_deleted(admin, in_school_a):
    response = submit(
        admin, "/rooms", {"code": "Aktų salė", "name": "", "capacity": "250"}, "/rooms"
    )
    assert response.status_code == 302
    room = in_school_a.scalar(select(Room))
    assert (room.code, room.name, room.capacity, room.is_active) == ("Aktų salė", None, 250, True)
    edit = f"/rooms/{room.id}/edit"
    response = submit(admin, edit, {"code": "Aktų salė", "name": "Didžioji", "capacity": ""}, edit)
    assert response.status_code == 302
    assert submit(admin, f"/rooms/{room.id}/active", {"active": "0"}, "/rooms").status_code == 302
    in_school_a.expire_all()
    assert (room.name, room.capacity, room.is_active) == ("Didžioji", None, False)
    assert "deactivated" in page(admin.get(A + "/rooms"))
    delete = f"/rooms/{room.id}/delete"
    assert "Delete the room Aktų salė?" in page(admin.get(A + delete))
    assert submit(admin, delete, {}, delete).status_code == 302
    assert count(in_school_a, Room) == 0


# --- no N+1 queries -----------------------------------------------------------------------


def queries_for(client, path: str, count_queries) -> int:
    with count_queries() as queries:
        response = client.get(A + path)
    assert response.status_code == 200
    return len(queries)


def test_calendar_page_queries_do_not_grow_with_rows(admin, in_school_a, year, count_queries):
    def fill(n: int) -> None:
        for i in range(n):
            day = D(2026, 9, 7) + (D(2026, 9, 14) - D(2026, 9, 7)) * i
            services.add_holiday(in_school_a, year, name=f"Diena {i}", starts_on=day, ends_on=day)
        in_school_a.commit()

    services.add_term(
        in_school_a, year, kind="quarter", number=1, starts_on=D(2026, 9, 1), ends_on=D(2026, 11, 1)
    )
    fill(2)
    few = queries_for(admin, "/calendar", count_queries)
    services.set_terms(
        in_school_a,
        year,
        "quarter",
        services.propose_terms("quarter", D(2026, 9, 1), D(2027, 6, 1)),
    )
    in_school_a.execute(Holiday.__table__.delete())
    fill(20)
    many = queries_for(admin, "/calendar", count_queries)
    assert many == few <= 10
    assert queries_for(admin, f"/calendar?year={year.id}", count_queries) == few


def test_bells_page_queries_do_not_grow_with_rows(admin, in_school_a, count_queries):
    def schedules(grades: range) -> None:
        for grade in grades:
            s = services.add_schedule(
                in_school_a, name=f"{grade} kl.", is_default=False, min_grade=grade, max_grade=grade
            )
            services.fill_periods(
                in_school_a,
                s,
                first_starts_at=time(8),
                lessons=8,
                lesson_minutes=45,
                break_minutes=10,
            )
        in_school_a.commit()

    schedules(range(1, 3))
    few = queries_for(admin, "/bells", count_queries)
    schedules(range(3, 13))
    many = queries_for(admin, "/bells", count_queries)
    assert many == few <= 10


def test_rooms_page_queries_do_not_grow_with_rows(admin, teacher, in_school_a, count_queries):
    def rooms(codes: range) -> None:
        for code in codes:
            services.add_room(in_school_a, code=str(code), capacity=30)
        in_school_a.commit()

    rooms(range(100, 102))
    few = queries_for(admin, "/rooms", count_queries)
    rooms(range(102, 120))
    many = queries_for(admin, "/rooms", count_queries)
    assert many == few <= 10
    assert queries_for(teacher, "/rooms", count_queries) == few


@pytest.mark.parametrize("locale", ["lt", "ru", "pl", "en"])
def test_pages_render_in_every_language(admin, in_school_a, year, locale):
    services.add_term(
        in_school_a,
        year,
        kind="trimester",
        number=1,
        starts_on=D(2026, 9, 1),
        ends_on=D(2026, 12, 4),
    )
    services.add_holiday(
        in_school_a, year, name="Ruduo", starts_on=D(2026, 10, 26), ends_on=D(2026, 10, 30)
    )
    main = services.add_schedule(in_school_a, name="Pagrindinis", is_default=True)
    services.fill_periods(
        in_school_a, main, first_starts_at=time(8), lessons=3, lesson_minutes=45, break_minutes=10
    )
    services.add_room(in_school_a, code="101")
    in_school_a.commit()
    post_form(admin, "/language", {"locale": locale, "next": "/"}, form_page=A + "/calendar")
    for path in (*PAGES, f"/calendar/years/{year.id}/terms/setup?kind=quarter"):
        response = admin.get(A + path)
        assert response.status_code == 200, path
        assert f'<html lang="{locale}">' in page(response)


def test_every_page_with_a_choice_of_year_shows_the_asked_one_or_404(admin, in_school_a, year):
    """One rule (calendar.services.pick_year): the asked year, else this one; an id that is no
    year of the school is a 404, never silently another year."""
    for path in ("calendar", "classes", "groups", "timetable/", "locks"):
        assert admin.get(f"{A}/{path}?year={year.id}").status_code == 200, path
        missing = admin.get(f"{A}/{path}?year=987654")
        assert missing.status_code == 404, path
        assert "There is no such school year." in page(missing), path
