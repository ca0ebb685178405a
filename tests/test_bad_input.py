"""Bad input anywhere gets a clear page, never a server error."""

import pytest

from conftest import login, post_form
from dienynas.errors import DienynasError
from school.imports import services as imports


@pytest.mark.parametrize(
    "path",
    [
        "/s/school-a/classes?year=99999999999999999999",
        "/s/school-a/groups?year=%C2%B2",
        "/s/school-a/locks?year=99999999999999999999",
        "/s/school-a/people/students?class=99999999999999999999",
    ],
)
def test_ids_out_of_range_in_query_strings_get_a_page_not_an_error(client, world, path):
    login(client, "admin.a")
    assert client.get(path).status_code in (200, 404)  # the page, or "no such school year"


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/lessons/mine?day=9999-12-31", "teacher.a"),
        ("/lessons/mine?day=0001-01-01", "teacher.a"),
        ("/tests?month=9999-12", "teacher.a"),
        ("/classes/{c5a}/statistics?month=9999-12", "head.a"),
        ("/classes/{c5a}/statistics.csv?month=9999-12", "head.a"),
        ("/classes/{c5a}/attendance?month=9999-12", "head.a"),
        ("/classes/{c5a}/monthly-reports.pdf?month=9999-12", "head.a"),
        ("/journal/{maths}?month=9999-12", "teacher.a"),
    ],
)
def test_dates_at_the_ends_of_the_calendar_get_a_message_not_an_error(client, classroom, path, who):
    """A date field lets anyone type 9999-12-31; a page adding a day or a month to it would
    leave the calendar (a server error): the year is refused with a message instead."""
    c5a, maths = classroom.c5a.id, classroom.maths.id
    classroom.session.commit()
    login(client, who)
    response = client.get("/s/school-a" + path.format(c5a=c5a, maths=maths), follow_redirects=True)
    assert response.status_code in (200, 400), response.status_code
    assert "choose a year from 1900 to 2199" in response.get_data(as_text=True)


def test_a_post_without_a_valid_form_token_gets_a_clear_page(client, world):
    login(client, "admin.a")
    response = client.post("/s/school-a/locks/window", data={"days_before_end": "3"})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)


def test_an_unreadable_csv_is_refused_clearly(app):
    huge_field = b'"' + b"x" * 200_000 + b'"\n'
    english = app.test_request_context(headers={"Accept-Language": "en"})
    with english, pytest.raises(DienynasError, match="cannot be read"):
        imports.read_table("list.csv", b"code,name\n" + huge_field)


def test_only_those_who_manage_people_can_search_by_personal_code(client, in_school_a):
    from school.people.models import Person
    from school.people.services import personal_code_check_digit

    code = "3800101123" + str(personal_code_check_digit("3800101123"))
    in_school_a.add(Person(first_name="Ona", last_name="Kodaitė", personal_code=code))
    in_school_a.commit()
    login(client, "teacher.a")
    assert "Kodaitė" not in client.get(f"/s/school-a/people/?q={code}").get_data(as_text=True)
    assert "Kodaitė" in client.get("/s/school-a/people/?q=Kodait").get_data(as_text=True)
    login(admin := client.application.test_client(), "admin.a")
    assert "Kodaitė" in admin.get(f"/s/school-a/people/?q={code}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "/login", {"login": "admin\x00a", "password": "x"}),
        ("get", "/s/school-a/people/?q=%00", None),
    ],
)
def test_a_nul_character_gets_a_page_that_says_so_not_a_server_error(
    client, world, method, path, data
):
    """Text copied from some documents carries a NUL, which PostgreSQL cannot store."""
    if method == "get":
        login(client, "admin.a")
        response = client.get(path)
    else:
        response = post_form(client, path, data, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "invisible character that cannot be saved" in response.get_data(as_text=True)
