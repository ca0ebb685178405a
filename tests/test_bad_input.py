"""Bad input anywhere gets a clear page, never a server error."""

import pytest

from conftest import login
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
