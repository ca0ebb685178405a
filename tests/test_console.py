"""The municipality console and the health check."""

import html
import re

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from conftest import login, post_form
from dienynas.jobs import queue
from tenants.models import School


def test_console_is_for_operators_only(client, world):
    login(client, "admin.a")
    assert client.get("/municipality/schools").status_code == 403
    response = client.post("/municipality/schools/school-b/suspend")
    assert response.status_code in (400, 403)  # no CSRF token, and not an operator anyway


def test_the_operators_home_says_they_manage_the_municipality(client, world):
    """Not “you have no role in any school yet”: the operator's work is the console."""
    login(client, "operator.test")
    page = html.unescape(client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert "You are the municipality operator: in the municipality console you add" in page
    assert "no role in any school" not in page
    assert '<a href="/municipality/schools">Municipality console: schools</a>' in page


def test_console_lists_schools(client, world):
    login(client, "operator.test")
    page = client.get("/municipality/schools", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Alpha progimnazija" in page and "Бета гимназия" in page


def test_operator_suspends_and_resumes_a_school(client, db_session, world):
    login(client, "operator.test")
    # the list asks first, naming the school and what suspending closes
    confirm = "/municipality/schools/school-b/suspend"
    assert confirm in client.get("/municipality/schools").get_data(as_text=True)
    page = client.get(confirm, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Suspend “Бета гимназия”?" in page
    assert db_session.scalar(select(School.status).where(School.slug == "school-b")) == "active"
    response = post_form(client, confirm, {})
    assert response.status_code == 302
    assert db_session.scalar(select(School.status).where(School.slug == "school-b")) == "suspended"
    guardian = client.application.test_client()
    login(guardian, "guardian.both")
    assert guardian.get("/s/school-b/").status_code == 403
    post_form(
        client, "/municipality/schools/school-b/resume", {}, form_page="/municipality/schools"
    )
    assert db_session.scalar(select(School.status).where(School.slug == "school-b")) == "active"
    assert guardian.get("/s/school-b/").status_code == 200


def test_creating_a_school_registers_it_and_a_job_builds_it(app, client, db_session, world):
    login(client, "operator.test")
    response = post_form(
        client,
        "/municipality/schools",
        {"slug": "naujoji-mokykla", "name": "Naujoji mokykla", "locale": "pl"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 302
    school = db_session.scalar(select(School).where(School.slug == "naujoji-mokykla"))
    assert school.status == "provisioning" and school.schema_version is None

    login(client2 := app.test_client(), "guardian.both")
    assert client2.get("/s/naujoji-mokykla/").status_code in (403, 503)

    # The web request built nothing; the RQ job does.
    jobs = queue().jobs
    assert [j.func_name for j in jobs] == ["tenants.tasks.provision_school"]
    SimpleWorker([queue()], connection=queue().connection).work(burst=True)
    db_session.expire_all()
    school = db_session.scalar(select(School).where(School.slug == "naujoji-mokykla"))
    assert school.status == "active" and school.schema_version is not None


def test_creating_a_school_with_bad_input_shows_the_error_and_saves_nothing(
    client, db_session, world
):
    login(client, "operator.test")
    response = post_form(
        client,
        "/municipality/schools",
        {"slug": "school-a", "name": "Copy", "locale": "lt"},
        form_page="/municipality/schools",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert (
        db_session.scalar(select(School.name).where(School.slug == "school-a"))
        == "Alpha progimnazija"
    )
    assert queue().count == 0


@pytest.mark.parametrize("name", ["Alpha progimnazija", "  alpha PROGIMNAZIJA ", "БЕТА гимназия"])
def test_a_second_school_of_the_same_name_is_refused_on_the_name_field(
    client, db_session, world, name
):
    login(client, "operator.test")
    response = post_form(
        client,
        "/municipality/schools",
        {"slug": "alpha-2", "name": name, "locale": "lt"},
        form_page="/municipality/schools",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    existing = "Бета гимназия" if "Б" in name else "Alpha progimnazija"
    message = f"The municipality already has a school named “{existing}”."
    assert f'<p class="field-error" id="name-error" role="alert">{message}</p>' in page
    assert db_session.scalar(select(School.id).where(School.slug == "alpha-2")) is None
    assert queue().count == 0


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_reports_redis_down(app, client, monkeypatch):
    import redis

    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    monkeypatch.setitem(app.extensions, "dienynas_redis", {"client": broken})
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["redis"].startswith("error") and response.json["database"] == "ok"


EN = {"Accept-Language": "en"}


def test_operator_finds_a_shared_account_and_gives_it_a_one_time_password(app, client, world):
    """A parent with children in two schools, whom neither school may reset."""
    login(client, "operator.test")
    page = client.get("/municipality/accounts?q=globėja", headers=EN).get_data(as_text=True)
    assert "Irena Globėja" in page and "guardian.both" in page
    assert "Alpha progimnazija: guardian" in page and "Бета гимназия: guardian" in page
    shown = post_form(
        client, f"/municipality/accounts/{world.guardian_both.id}/password", {"q": "globėja"},
        form_page="/municipality/accounts?q=globėja", headers=EN,
    )  # fmt: skip
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    password = re.search(r'<code class="people-secret">([^<]+)</code>', text).group(1)
    assert "Give these to Irena Globėja privately" in text and "guardian.both" in text
    assert 'href="/municipality/accounts?q=' in text  # back to the search
    parent = app.test_client()
    response = post_form(parent, "/login", {"login": "guardian.both", "password": password})
    assert response.status_code == 302
    assert parent.get("/s/school-a/").status_code == 302  # first the password of their own
    assert "/password" in parent.get("/s/school-a/").headers["Location"]


def test_the_accounts_page_refuses_and_finds_nothing_as_expected(app, client, world):
    login(school_admin := app.test_client(), "admin.a")
    assert school_admin.get("/municipality/accounts?q=globėja").status_code == 403
    login(client, "operator.test")
    # LIKE's wildcards are searched for literally
    assert "No account matches “%”." in client.get(
        "/municipality/accounts?q=%25", headers=EN
    ).get_data(as_text=True)
    response = post_form(
        client, f"/municipality/accounts/{world.operator.id}/password", {"q": "oper"},
        form_page="/municipality/accounts?q=oper", headers=EN,
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Change your own password on the password page." in page
    response = post_form(
        client, "/municipality/accounts/987654/password", {}, form_page="/municipality/accounts",
        headers=EN,
    )  # fmt: skip
    assert response.status_code == 404
    assert "There is no such account." in response.get_data(as_text=True)
