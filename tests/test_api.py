"""/api/v1: personal tokens (page, hashing, revoking, expiry), the read endpoints and their
refusals as JSON, and the OpenAPI document checked against real answers."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from flask_babel import gettext
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.services import secret_digest
from api import services
from api.models import ApiToken
from classroom import MONDAY, Classroom
from conftest import login, post_form
from dienynas import clock
from dienynas.i18n import in_locale
from gradebook.attendance.models import Attendance
from gradebook.grades.models import Grade
from gradebook.lessons.models import Homework, HomeworkFile, Lesson
from school.people.models import Person, Student
from tenants.binding import bind_session, session_binding, unbind_session
from tenants.services import bind_to_school
from test_gradebook_diary import child_in_school_b

TODAY = date(2026, 9, 9)
DIARY = "/api/v1/schools/school-a/students/{id}/diary"
GRADES = "/api/v1/schools/school-a/students/{id}/grades"


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


@contextmanager
def in_public(session: Session) -> Iterator[None]:
    """Tokens are shared tables the school roles may not read: leave the school for a while
    (the session is bound to it again afterwards)."""
    binding = session_binding(session)
    session.commit()
    unbind_session(session)
    try:
        yield
    finally:
        session.commit()
        if binding is not None:
            bind_session(session, binding)


def token_for(session: Session, account, **kwargs) -> str:
    with in_public(session):
        _row, secret = services.create_token(
            session, account, name=kwargs.pop("name", "Phone"),
            expires_on=kwargs.pop("expires_on", None), today=TODAY,
        )  # fmt: skip
    return secret


def bearer(secret: str) -> dict[str, str]:
    """The token's header; a refused token is answered in the Accept-Language (English here)."""
    return {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}


@pytest.fixture
def lessons(classroom: Classroom) -> Classroom:
    """A maths lesson on Monday with homework and a file, Agnė's grade and Benas's absence."""
    c = classroom
    lesson = Lesson(group_id=c.maths.id, on_day=MONDAY, lesson_no=1, term_id=c.terms[0].id,
                    topic="Fractions", source="timetable")  # fmt: skip
    c.session.add(lesson)
    c.session.flush()
    homework = Homework(lesson_id=lesson.id, text="Exercises", due_on=MONDAY + timedelta(2))
    c.session.add(homework)
    c.session.flush()
    c.session.add_all(
        [
            HomeworkFile(homework_id=homework.id, file_name="a.pdf",
                         content_type="application/pdf", size=3, content=b"pdf"),
            Grade(student_id=c.students[0].id, group_id=c.maths.id, lesson_id=lesson.id,
                  on_day=MONDAY, term_id=c.terms[0].id, value="9", comment="Good",
                  created_by=c.account("teacher").id),
            Grade(student_id=c.students[0].id, group_id=c.english.id, on_day=MONDAY + timedelta(8),
                  term_id=c.terms[0].id, value="7", created_by=c.account("teacher").id),
            Attendance(lesson_id=lesson.id, student_id=c.students[1].id, mark="absent",
                       marked_by=c.account("teacher").id),
        ]
    )  # fmt: skip
    c.session.flush()
    return c


# --- the token page ---------------------------------------------------------------------------


def test_tokens_are_created_shown_once_stored_hashed_and_revoked(client, classroom):
    classroom.session.commit()
    login(client, "guardian.both")
    response = post_form(client, "/account/api-tokens", {"name": "Family phone"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    secret = page.split('<code class="api-token">')[1].split("</code>")[0]
    assert secret.startswith("dnk_") and len(secret) > 40
    with in_public(classroom.session):
        token = classroom.session.scalar(select(ApiToken).where(ApiToken.name == "Family phone"))
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in (token.prefix, token.token_hash) and token.expires_on is None
        token_id, prefix = token.id, token.prefix
    # the list shows the token's beginning, never the token
    listing = client.get("/account/api-tokens").get_data(as_text=True)
    assert prefix in listing and secret not in listing
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200

    response = post_form(
        client, f"/account/api-tokens/{token_id}/revoke", {}, form_page="/account/api-tokens"
    )
    assert response.status_code == 302
    refused = client.get("/api/v1/me", headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.get_json() == {
        "error": "unauthorized",
        "message": "The API token has been revoked.",
    }


def count_tokens(session: Session) -> int:
    with in_public(session):
        return session.scalar(select(func.count()).select_from(ApiToken))


def test_bad_token_forms_are_refused_and_nothing_is_saved(client, classroom, db_session):
    classroom.session.commit()
    login(client, "teacher.a")  # reads English
    before = count_tokens(db_session)
    for data, message in (
        ({"name": "  "}, "Name the token, e.g. after the device that uses it."),
        ({"name": "x" * 101}, "The name may be at most 100 characters long."),
        ({"name": "Old", "expires_on": "2020-01-01"}, "The expiry date has passed"),
        ({"name": "Odd", "expires_on": "tomorrow"}, "is not a date"),
    ):
        response = post_form(client, "/account/api-tokens", data)
        assert response.status_code == 400
        assert message in html.unescape(response.get_data(as_text=True))
    assert count_tokens(db_session) == before


def test_only_own_tokens_can_be_revoked(client, classroom, world):
    other = token_for(classroom.session, classroom.account("teacher"))
    with in_public(classroom.session):
        token_id = classroom.session.scalar(select(ApiToken.id))
    login(client, "guardian.both")
    response = post_form(
        client, f"/account/api-tokens/{token_id}/revoke", {}, form_page="/account/api-tokens"
    )
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200


def test_token_page_needs_login(client):
    response = client.get("/account/api-tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- authentication ---------------------------------------------------------------------------


def test_missing_unknown_and_expired_tokens_are_401(app, client, classroom):
    guardian = classroom.account("guardian")
    expiring = token_for(classroom.session, guardian, expires_on=clock.today().isoformat())
    expired = token_for(classroom.session, guardian)
    with in_public(classroom.session):
        classroom.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == secret_digest(expired))
        ).expires_on = clock.today() - timedelta(days=1)
    for headers, message in (
        ({}, "Give an API token: Authorization: Bearer <token>."),
        ({"Authorization": "Basic abc"}, "Give an API token"),
        (bearer("dnk_unknown"), "The API token is not valid."),
        (bearer(expired), "The API token has expired."),
    ):
        response = client.get("/api/v1/me", headers={**headers, "Accept-Language": "en"})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["error"] == "unauthorized"
        assert message in response.get_json()["message"]
    lithuanian = client.get("/api/v1/me", headers={"Accept-Language": "lt"}).get_json()
    assert lithuanian["message"].startswith("Pateikite API prieigos raktą")
    # the last day it works is the expiry date itself
    assert client.get("/api/v1/me", headers=bearer(expiring)).status_code == 200


def test_disabled_account_token_is_401(client, classroom):
    secret = token_for(classroom.session, classroom.account("guardian"))
    classroom.account("guardian").is_enabled = False
    classroom.session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_api_uses_no_session(client, classroom):
    """A logged-in browser session is not a token, and API answers set no cookie."""
    secret = token_for(classroom.session, classroom.account("guardian"))
    classroom.session.commit()
    login(client, "guardian.both")
    assert client.get("/api/v1/me").status_code == 401
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


# --- endpoints --------------------------------------------------------------------------------


def test_me_lists_schools_and_children_in_each(client, classroom, world):
    secret = token_for(classroom.session, classroom.account("guardian"))
    agne = classroom.students[0].id
    boris = child_in_school_b(classroom.session, world)
    classroom.session.commit()
    body = client.get("/api/v1/me", headers=bearer(secret)).get_json()
    assert body["account"]["login"] == "guardian.both" and body["account"]["locale"] == "pl"
    schools = {s["slug"]: s for s in body["schools"]}
    assert schools["school-a"]["roles"] == ["guardian"]
    assert [(s["id"], s["class_name"]) for s in schools["school-a"]["students"]] == [(agne, "5a")]
    assert [(s["id"], s["first_name"]) for s in schools["school-b"]["students"]] == [
        (boris, "Boris")
    ]


def test_diary_of_a_child(client, lessons):
    secret = token_for(lessons.session, lessons.account("guardian"))
    agne = lessons.students[0].id
    lessons.session.commit()
    response = client.get(
        DIARY.format(id=agne) + f"?week={(MONDAY + timedelta(2)).isoformat()}",
        headers=bearer(secret),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["monday"] == MONDAY.isoformat() and len(body["days"]) == 5
    (student,) = body["students"]
    assert student["student_id"] == agne and student["class_name"] == "5a"
    (maths,) = student["days"][0]["lessons"]
    assert maths["subject"] == "Matematika"  # the guardian reads Polish: no Polish name
    assert maths["starts_at"] == "08:00:00" and maths["topic"] == "Fractions"
    assert maths["homework"]["files"][0]["file_name"] == "a.pdf"
    assert [(g["value"], g["comment"]) for g in maths["grades"]] == [("9", "Good")]
    assert maths["attendance"] is None  # Benas was absent, not Agnė
    assert student["days"][1]["slots"][0]["subject"] == "Anglų kalba"
    assert [g["value"] for g in student["latest_grades"]] == ["7", "9"]


def test_grades_between_dates(client, lessons):
    secret = token_for(lessons.session, lessons.account("student"))
    agne = lessons.students[0].id
    lessons.session.commit()
    url = GRADES.format(id=agne)
    everything = client.get(url, headers=bearer(secret)).get_json()
    assert [g["value"] for g in everything["grades"]] == ["9", "7"]
    assert everything["from"] is None and everything["to"] is None
    first_week = client.get(
        f"{url}?from={MONDAY.isoformat()}&to={(MONDAY + timedelta(6)).isoformat()}",
        headers=bearer(secret),
    ).get_json()
    assert [g["value"] for g in first_week["grades"]] == ["9"]
    assert first_week["from"] == MONDAY.isoformat()
    # the student reads Lithuanian: subject names as the school writes them
    assert first_week["grades"][0]["subject"] == "Matematika"


def test_refusals(client, lessons, world):
    c = lessons
    guardian = token_for(c.session, c.account("guardian"))
    teacher = token_for(c.session, c.account("teacher"))
    agne, benas = c.students[0].id, c.students[1].id
    school_a_students = set(c.session.scalars(select(Student.person_id)))
    boris = child_in_school_b(c.session, world)
    c.session.commit()
    # Boris's id means nothing in school A (ids are per school): not a student there
    bind_to_school(c.session, world.school_a)
    assert boris not in school_a_students

    def get(url: str, secret: str) -> tuple[int, dict[str, Any]]:
        response = client.get(url, headers=bearer(secret))
        return response.status_code, response.get_json()

    with in_locale("pl"):
        not_yours = gettext("You do not have access to this student's diary.")
    assert get(DIARY.format(id=benas), guardian) == (
        403, {"error": "forbidden", "message": not_yours}
    )  # fmt: skip
    assert get(GRADES.format(id=benas), guardian)[0] == 403
    assert get(DIARY.format(id=boris), guardian)[0] == 404
    assert get(DIARY.format(id=999999), guardian)[1]["error"] == "not_found"
    assert get("/api/v1/schools/no-such/students/1/diary", guardian)[0] == 404
    # teacher.a has no role in school B; the guardian has, and reads Boris there
    status, body = get(f"/api/v1/schools/school-b/students/{boris}/diary", teacher)
    assert (status, body["error"]) == (403, "forbidden")
    assert get(f"/api/v1/schools/school-b/students/{boris}/diary", guardian)[0] == 200
    # bad dates: 400 naming the value
    status, body = get(DIARY.format(id=agne) + "?week=2026-02-30", guardian)
    assert status == 400 and "2026-02-30" in body["message"]
    assert get(DIARY.format(id=agne) + "?week=9999-12-31", guardian)[0] == 400
    status, body = get(GRADES.format(id=agne) + "?from=2026-10-01&to=2026-09-01", guardian)
    assert (status, body["error"]) == (400, "bad_request")
    assert get(GRADES.format(id=agne) + "?to=soon", guardian)[0] == 400


def test_every_error_under_the_api_is_json_in_the_readers_language(client, lessons):
    """Addresses no endpoint answers (an id that is no number of a database too), a method the
    API has not: JSON in the documented shape, not the web application's HTML pages."""
    guardian = token_for(lessons.session, lessons.account("guardian"))  # reads Polish
    lessons.session.commit()
    with in_locale("pl"):
        no_such = gettext(
            "There is no such address in the API; its addresses are listed in %(document)s.",
            document="/api/v1/openapi.json",
        )
    for path in (
        DIARY.format(id="abc"),
        GRADES.format(id="-1"),
        DIARY.format(id=10**30),
        "/api/v1/students/1/diary",
        "/api/v1",
        "/api/v1/",
    ):
        response = client.get(path, headers=bearer(guardian))
        assert (response.status_code, response.mimetype) == (404, "application/json"), path
        assert response.get_json() == {"error": "not_found", "message": no_such}, path
    # without a token: in the Accept-Language
    assert client.get("/api/v1/nothing", headers={"Accept-Language": "en"}).get_json() == {
        "error": "not_found",
        "message": "There is no such address in the API; its addresses are listed in "
        "/api/v1/openapi.json.",
    }
    posted = client.post("/api/v1/me", headers=bearer(guardian))
    assert (posted.status_code, posted.mimetype) == (405, "application/json")
    assert posted.get_json()["error"] == "method_not_allowed"
    assert "GET" in posted.headers["Allow"]
    anonymous = client.delete("/api/v1/openapi.json", headers={"Accept-Language": "en"})
    assert anonymous.get_json() == {
        "error": "method_not_allowed",
        "message": "The API only reads: send GET requests.",
    }
    # the web application's own pages keep their HTML error pages
    assert client.get("/api/v2/me").mimetype == "text/html"
    login(client, "guardian.both")
    assert client.get("/account/api-tokens/1/revoke").mimetype == "text/html"


def test_a_server_error_in_the_api_is_json(app, client, lessons, monkeypatch):
    import api.blueprint

    secret = token_for(lessons.session, lessons.account("guardian"))
    agne = lessons.students[0].id
    lessons.session.commit()

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.blueprint, "diary_week", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    response = client.get(DIARY.format(id=agne), headers=bearer(secret))
    assert (response.status_code, response.mimetype) == (500, "application/json")
    with in_locale("pl"):  # the guardian's language
        message = gettext("Something went wrong on the server. Please try again later.")
    assert response.get_json() == {"error": "server_error", "message": message}
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_class_head_reads_through_the_api_too(client, lessons):
    secret = token_for(lessons.session, lessons.account("head"))
    agne = lessons.students[0].id
    lessons.session.commit()
    assert client.get(DIARY.format(id=agne), headers=bearer(secret)).status_code == 200


def test_diary_queries_do_not_grow(client, lessons, count_queries):
    c = lessons
    secret = token_for(c.session, c.account("guardian"))
    agne = c.students[0].id
    c.session.commit()
    url = DIARY.format(id=agne) + f"?week={MONDAY.isoformat()}"
    with count_queries() as small:
        assert client.get(url, headers=bearer(secret)).status_code == 200
    bind_to_school(c.session, c.school)
    for n in range(20):
        person = Person(first_name="Extra", last_name=f"S{n}", document_kind="other")
        c.session.add(person)
        c.session.flush()
        c.session.add(Student(person_id=person.id, class_id=c.c5a.id))
    c.session.commit()
    with count_queries() as big:
        assert client.get(url, headers=bearer(secret)).status_code == 200
    # token and account, grants, binding, who reads whom, the week (with how it is planned)
    assert len(small) == len(big) == 6


# --- the OpenAPI document ---------------------------------------------------------------------


def _check(instance: Any, schema: dict[str, Any], document: dict[str, Any], where: str) -> None:
    """Validate against the schema, and every object has exactly the documented keys."""
    OAS30Validator({**schema, "components": document["components"]}).validate(instance)
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        _check(instance, document["components"]["schemas"][name], document, f"{where}.{name}")
    elif instance is None:
        return
    elif schema.get("type") == "array":
        for item in instance:
            _check(item, schema["items"], document, f"{where}[]")
    elif "properties" in schema:
        assert set(instance) == set(schema["properties"]), where
        for key, value in instance.items():
            _check(value, schema["properties"][key], document, f"{where}.{key}")
    elif "allOf" in schema:
        for part in schema["allOf"]:
            _check(instance, part, document, where)


def test_openapi_document_is_valid_and_matches_real_answers(client, lessons):
    c = lessons
    secret = token_for(c.session, c.account("guardian"))
    agne, benas = c.students[0].id, c.students[1].id
    c.session.commit()
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    week = MONDAY.isoformat()
    real = {
        ("/api/v1/me", "200"): client.get("/api/v1/me", headers=bearer(secret)),
        ("/api/v1/me", "401"): client.get("/api/v1/me"),
    }
    for path, endpoint in (("diary", DIARY), ("grades", GRADES)):
        key = f"/api/v1/schools/{{slug}}/students/{{student_id}}/{path}"
        real[key, "200"] = client.get(
            endpoint.format(id=agne) + f"?week={week}&from={week}", headers=bearer(secret)
        )
        real[key, "400"] = client.get(
            endpoint.format(id=agne) + "?week=x&from=x", headers=bearer(secret)
        )
        real[key, "401"] = client.get(endpoint.format(id=agne), headers=bearer("dnk_nope"))
        real[key, "403"] = client.get(endpoint.format(id=benas), headers=bearer(secret))
        real[key, "404"] = client.get(endpoint.format(id=999999), headers=bearer(secret))
    documented = {
        (path, status)
        for path, item in document["paths"].items()
        for status in item["get"]["responses"]
    }
    assert documented == set(real)
    for (path, status), response in real.items():
        assert response.status_code == int(status), (path, status)
        schema = document["paths"][path]["get"]["responses"][status]["content"]["application/json"][
            "schema"
        ]
        _check(response.get_json(), schema, document, f"{path} {status}")
    # every lesson part of the diary was present, so its schema was checked too
    lesson = real["/api/v1/schools/{slug}/students/{student_id}/diary", "200"].get_json()
    assert lesson["students"][0]["days"][0]["lessons"][0]["homework"]["files"]
