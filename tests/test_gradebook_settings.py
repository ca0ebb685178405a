"""The gradebook settings: the administrator edits, the director reads, bad values refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conftest import login, post_form
from dienynas.errors import PermissionDenied, ServiceError
from dienynas.i18n import in_locale
from gradebook.days import get_settings, school_days
from gradebook.settings import services
from gradebook.settings.models import GradebookSettings
from tenants.services import bind_to_school

URL = "/s/school-a/gradebook/settings"
VALID = {
    "test_notice_days": "5",
    "tests_per_day": "2",
    "test_rule": "warn",
    "rounding": "half_down",
    "saturday_lessons": "1",
}


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


def test_defaults_until_the_administrator_saves(classroom):
    settings = get_settings(classroom.session)
    assert (settings.test_notice_days, settings.tests_per_day, settings.test_rule) == (
        7,
        1,
        "refuse",
    )
    assert (settings.rounding, settings.saturday_lessons) == ("half_up", False)


def test_administrator_saves_and_saturdays_become_school_days(classroom):
    session, admin = classroom.session, classroom.account("admin")
    saturday = classroom.terms[0].starts_on.replace(day=5)  # 2026-09-05
    assert school_days(session, saturday, saturday) == []
    services.update_settings(session, admin, classroom.school, **VALID)
    settings = session.get(GradebookSettings, 1)
    assert (settings.test_notice_days, settings.tests_per_day) == (5, 2)
    assert (settings.test_rule, settings.rounding, settings.saturday_lessons) == (
        "warn",
        "half_down",
        True,
    )
    assert school_days(session, saturday, saturday) == [saturday]
    services.update_settings(session, admin, classroom.school, **(VALID | {"saturday_lessons": ""}))
    assert session.get(GradebookSettings, 1).saturday_lessons is False
    assert session.scalar(select(func.count(GradebookSettings.id))) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("test_notice_days", "31", "Enter a whole number from 0 to 30."),
        ("test_notice_days", "seven", "Enter a whole number from 0 to 30."),
        ("tests_per_day", "0", "Enter a whole number from 1 to 5."),
        ("test_rule", "ignore", "Choose what happens when a test breaks the rules."),
        ("rounding", "banker", "Choose how term grades are rounded."),
    ],
)
def test_bad_values_are_refused_and_nothing_is_saved(classroom, field, value, message):
    with pytest.raises(ServiceError, match=message) as error:
        services.update_settings(
            classroom.session, classroom.account("admin"), classroom.school,
            **(VALID | {field: value}),
        )  # fmt: skip
    assert error.value.field == field
    assert classroom.session.get(GradebookSettings, 1) is None


@pytest.mark.parametrize("who", ["director", "teacher"])
def test_only_the_administrator_may_change_them(classroom, who):
    with pytest.raises(PermissionDenied):
        services.update_settings(
            classroom.session, classroom.account(who), classroom.school, **VALID
        )
    assert classroom.session.get(GradebookSettings, 1) is None


def test_settings_page_for_the_administrator(client, classroom, world):
    classroom.session.commit()
    login(client, "admin.a")
    home = client.get("/s/school-a/").get_data(as_text=True)
    assert "Gradebook settings" in home
    page = client.get(URL)
    assert page.status_code == 200
    assert 'name="test_notice_days"' in page.get_data(as_text=True)
    response = post_form(client, URL, VALID)
    assert response.status_code == 302
    bind_to_school(classroom.session, world.school_a)
    assert classroom.session.scalar(select(GradebookSettings.tests_per_day)) == 2


def test_settings_page_shows_the_error_and_saves_nothing(client, classroom, world):
    classroom.session.commit()
    login(client, "admin.a")
    response = post_form(client, URL, VALID | {"tests_per_day": "9"})
    assert response.status_code == 400
    assert "Enter a whole number from 1 to 5." in response.get_data(as_text=True)
    bind_to_school(classroom.session, world.school_a)
    assert classroom.session.scalar(select(func.count(GradebookSettings.id))) == 0


def test_director_reads_without_a_form_and_cannot_post(client, classroom, world):
    classroom.session.commit()
    login(client, "director.a")
    page = client.get(URL).get_data(as_text=True)
    assert "Gradebook settings" in page and "disabled" in page
    assert f'action="{URL}"' not in page
    response = post_form(client, URL, VALID, form_page="/s/school-a/")
    assert response.status_code == 403
    bind_to_school(classroom.session, world.school_a)
    assert classroom.session.scalar(select(func.count(GradebookSettings.id))) == 0


def test_teacher_has_no_settings_page(client, classroom):
    classroom.session.commit()
    login(client, "teacher.a")
    assert client.get(URL).status_code == 403
    assert "Gradebook settings" not in client.get("/s/school-a/").get_data(as_text=True)
