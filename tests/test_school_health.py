"""Health recommendations (seed 001, 17–18): the health specialist writes what the teachers
must take into account; the teachers of the student's groups see it in their journals, the
class head on the student's page; families never; refusals save nothing."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlalchemy import func, select

from accounts.models import Role
from classroom import new_account
from conftest import login, post_form
from dienynas.i18n import in_locale
from school.health.models import HealthRecommendation
from school.people.models import Student
from tenants.services import bind_to_school

TODAY = date(2026, 9, 30)
A = "/s/school-a"
NEEDS = "Sėdi pirmame suole: silpnai mato"


@pytest.fixture(autouse=True)
def fixed_today(school_day):
    school_day(TODAY)


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


@pytest.fixture
def nurse(classroom):
    account = new_account(classroom.session, classroom.school, "slaugytoja", "Inga Sveikatos",
                          Role.HEALTH_SPECIALIST)  # fmt: skip
    classroom.accounts["nurse"] = account
    classroom.session.commit()
    return account


def signed_in(app, classroom, who: str):
    client = app.test_client()
    login(client, classroom.account(who).login)
    bind_to_school(classroom.session, classroom.school)
    return client


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def recommend(client, student_id, text=NEEDS, valid_until=""):
    return post_form(
        client, f"{A}/health/new",
        {"student_id": str(student_id), "text": text, "valid_until": valid_until},
        form_page=f"{A}/health",
    )  # fmt: skip


def saved(classroom) -> int:
    bind_to_school(classroom.session, classroom.school)
    return classroom.session.scalar(select(func.count()).select_from(HealthRecommendation))


def test_the_teachers_of_the_students_groups_see_the_recommendation(app, classroom, nurse):
    c = classroom
    pupil, outsider = c.students[0], c.outsider
    pupil_id, outsider_id, maths_id = pupil.id, outsider.id, c.maths.id
    specialist = signed_in(app, c, "nurse")
    assert recommend(specialist, pupil_id, valid_until="2026-12-31").status_code == 302
    assert recommend(specialist, outsider_id, text="6b: kitos klasės").status_code == 302
    listed = text_of(specialist.get(f"{A}/health"))
    assert NEEDS in listed and "6b: kitos klasės" in listed
    # the maths teacher of 5a: a mark at the student and the text under the grid
    grid = text_of(signed_in(app, c, "teacher").get(f"{A}/journal/{maths_id}?month=2026-09"))
    assert f'href="#health-{pupil_id}"' in grid and NEEDS in grid
    assert "6b: kitos klasės" not in grid  # not a student of the group
    # the class head on the student's page
    page = text_of(signed_in(app, c, "head").get(f"{A}/people/{pupil_id}"))
    assert NEEDS in page
    # families do not see the list
    assert signed_in(app, c, "guardian").get(f"{A}/health").status_code == 403


def test_a_recommendation_past_its_last_day_is_no_longer_shown(app, classroom, nurse):
    c = classroom
    c.session.add(
        HealthRecommendation(student_id=c.students[0].id, text="Praėjusi",
                             valid_until=date(2026, 9, 29), written_by=nurse.id)
    )  # fmt: skip
    maths_id = c.maths.id
    c.session.commit()
    assert "Praėjusi" not in text_of(signed_in(app, c, "nurse").get(f"{A}/health"))
    grid = text_of(signed_in(app, c, "teacher").get(f"{A}/journal/{maths_id}?month=2026-09"))
    assert "Praėjusi" not in grid


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "   "}, "Write the recommendation."),
        ({"text": "x" * 1001}, "at most 1000 characters"),
        ({"valid_until": "2026-09-29"}, "The last day cannot be in the past"),
        ({"valid_until": "someday"}, "is not a date"),
        ({"student_id": "999999"}, "Choose a student of the school."),
        ({"student_id": "left"}, "Choose a student of the school."),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(app, classroom, nurse, fields, message):
    c = classroom
    if fields.get("student_id") == "left":
        leaver = c.session.get(Student, c.students[1].id)
        leaver.status, leaver.left_on = "left", date(2026, 9, 20)
        fields = {**fields, "student_id": str(leaver.person_id)}
    values = {"student_id": str(c.students[0].id), "text": NEEDS, "valid_until": "", **fields}
    c.session.commit()
    response = post_form(signed_in(app, c, "nurse"), f"{A}/health/new", values,
                         form_page=f"{A}/health")  # fmt: skip
    assert response.status_code == 400
    assert message in text_of(response)
    assert saved(c) == 0


def test_only_the_health_specialist_and_the_administrator_write(app, classroom, nurse):
    c = classroom
    pupil_id = c.students[0].id
    c.session.commit()
    for who in ("teacher", "head", "director"):
        assert recommend(signed_in(app, c, who), pupil_id).status_code == 403, who
    assert signed_in(app, c, "teacher").get(f"{A}/health").status_code == 403
    director_page = text_of(signed_in(app, c, "director").get(f"{A}/health"))
    assert "New recommendation" not in director_page
    assert saved(c) == 0
    assert recommend(signed_in(app, c, "admin"), pupil_id).status_code == 302
    assert saved(c) == 1


def test_the_specialist_removes_a_recommendation(app, classroom, nurse):
    c = classroom
    specialist = signed_in(app, c, "nurse")
    recommend(specialist, c.students[0].id)
    bind_to_school(c.session, c.school)
    recommendation_id = c.session.scalar(select(HealthRecommendation.id))
    path = f"{A}/health/{recommendation_id}/remove"
    teacher = signed_in(app, c, "teacher")
    assert post_form(teacher, path, {}, form_page=f"{A}/").status_code == 403
    assert post_form(specialist, path, {}, form_page=f"{A}/health").status_code == 302
    assert saved(c) == 0
    assert post_form(specialist, path, {}, form_page=f"{A}/health").status_code == 404


def test_the_students_teachers_and_class_head_are_notified_without_the_text(
    classroom, nurse, world
):
    """The teachers of the student's groups and the class head get a notification in their
    language; it names the student and the class, never the recommendation (it may go by
    e-mail or SMS); the health specialist who wrote it gets none."""
    from notifications.models import NotificationDelivery, NotificationEvent
    from school.health import services
    from test_notifications import run_jobs

    c = classroom
    c.account("head").locale = "lt"
    teachers = {c.account(k).id for k in ("teacher", "other_teacher", "head")}
    head_id, teacher_id = c.account("head").id, c.account("teacher").id
    last_name = c.students[0].last_name
    services.write(c.session, nurse, c.school, student_id=c.students[0].id, text=NEEDS,
                   valid_until=None, today=TODAY)  # fmt: skip
    c.session.commit()
    run_jobs()
    bind_to_school(c.session, world.school_a)
    (event,) = c.session.scalars(
        select(NotificationEvent).where(NotificationEvent.kind == "health_recommendation")
    )
    assert set(event.payload) == {"student_id", "class_id", "recommendation_id"}
    delivered = {
        d.account_id: d
        for d in c.session.scalars(
            select(NotificationDelivery).where(NotificationDelivery.channel == "in_app")
        )
    }
    assert set(delivered) == teachers
    assert delivered[teacher_id].subject == "A health recommendation for a student of class 5a"
    assert last_name in delivered[teacher_id].body
    assert all(NEEDS not in d.body and NEEDS not in d.subject for d in delivered.values())
    assert delivered[head_id].subject.startswith("Sveikatos rekomendacija")


def test_two_students_of_one_name_are_told_apart_on_the_form(app, classroom, nurse):
    """A recommendation must reach the right child: namesakes show their birth dates."""
    from classroom import _student

    first = classroom.students[0]
    first.birth_date = date(2015, 3, 4)
    twin = _student(classroom.session, first.first_name, first.last_name, classroom.c5a, None)
    twin.birth_date = date(2015, 11, 20)
    classroom.session.commit()
    page = text_of(signed_in(app, classroom, "nurse").get(f"{A}/health"))
    assert "Ambrazaitė Agnė (4 Mar 2015)" in page and "Ambrazaitė Agnė (20 Nov 2015)" in page
