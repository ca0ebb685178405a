"""Login, logout, password rules, forced password change, CSRF, session cookies."""

import re

from sqlalchemy import select

from accounts.models import Account, Role
from accounts.services import (
    create_account,
    grant_role,
    hash_password,
    revoke_role,
    verify_password,
)
from conftest import TEST_PASSWORD, csrf_token, login, post_form
from dienynas.app import create_app


def test_password_is_stored_as_argon2id(db_session, world):
    account = db_session.scalar(select(Account).where(Account.login == "admin.a"))
    assert account.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in account.password_hash
    assert verify_password(account, TEST_PASSWORD)
    assert not verify_password(account, TEST_PASSWORD + "x")


def test_login_and_logout(client, world):
    response = login(client, "teacher.a")
    assert response.status_code == 302
    assert client.get("/s/school-a/").status_code == 200
    token = csrf_token(client, "/s/school-a/")
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/s/school-a/").status_code == 302


def test_wrong_password_is_refused_with_a_localised_message(client, world):
    response = client.get("/login", headers={"Accept-Language": "lt"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(
        1
    )
    response = client.post(
        "/login",
        data={"login": "teacher.a", "password": "wrong-password", "csrf_token": token},
        headers={"Accept-Language": "lt"},
    )
    assert response.status_code == 400
    assert "Neteisingas prisijungimo vardas arba slaptažodis" in response.get_data(as_text=True)
    assert client.get("/s/school-a/").status_code == 302


def test_unknown_login_gets_the_same_answer_as_a_wrong_password(client, world):
    wrong_password = post_form(
        client, "/login", {"login": "teacher.a", "password": "nope-nope-nope"}
    )
    unknown_login = post_form(
        client, "/login", {"login": "nobody.here", "password": "nope-nope-nope"}
    )
    assert wrong_password.status_code == unknown_login.status_code == 400
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(wrong_password) == strip(unknown_login)


def test_post_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"login": "teacher.a", "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert client.get("/s/school-a/").status_code == 302  # not logged in


def test_session_cookie_is_httponly_and_samesite(app, client, world):
    response = login(client, "teacher.a")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # Production default: Secure (the tests run over plain http, so they turn it off).
    from dienynas import config

    assert (
        config.load(
            {"DATABASE_URL": "postgresql://x@localhost/y", "REDIS_URL": "redis://localhost/0"},
            check_services=False,
        )["SESSION_COOKIE_SECURE"]
        is True
    )


def test_open_redirect_after_login_is_refused(client, world):
    token = csrf_token(client)
    response = client.post(
        "/login?next=https://evil.example/",
        data={"login": "teacher.a", "password": TEST_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_one_time_password_forces_a_new_password(client, db_session, world):
    account, one_time = create_account(db_session, login="new.teacher", name="Naujas Mokytojas")
    from accounts.models import Role
    from accounts.services import grant_role

    grant_role(db_session, account, world.school_a, Role.TEACHER)
    db_session.commit()
    assert one_time and len(one_time) >= 12
    login(client, "new.teacher", one_time)
    response = client.get("/s/school-a/")
    assert response.status_code == 302 and "/account/password" in response.headers["Location"]

    weak = post_form(
        client,
        "/account/password",
        {"current": one_time, "password": "short", "repeat": "short"},
        headers={"Accept-Language": "en"},
    )
    assert weak.status_code == 400
    # no language of the account's own: its school's (Lithuanian) before the browser's
    assert "ne trumpesnis kaip 10 simbolių" in weak.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Account, account.id).must_change_password is True  # nothing saved

    good = post_form(
        client,
        "/account/password",
        {"current": one_time, "password": "my-own-long-secret", "repeat": "my-own-long-secret"},
    )
    assert good.status_code == 302
    assert client.get("/s/school-a/").status_code == 200
    db_session.expire_all()
    assert db_session.get(Account, account.id).must_change_password is False


def test_changing_the_password_logs_out_other_sessions(app, client, db_session, world):
    create_account(
        db_session, login="two.devices", name="Du Įrenginiai", password="first-long-secret"
    )
    db_session.commit()
    other_device = app.test_client()
    login(client, "two.devices", "first-long-secret")
    login(other_device, "two.devices", "first-long-secret")
    assert other_device.get("/").status_code == 200
    post_form(
        client,
        "/account/password",
        {
            "current": "first-long-secret",
            "password": "second-long-secret",
            "repeat": "second-long-secret",
        },
    )
    assert client.get("/").status_code == 200
    assert other_device.get("/").status_code == 302  # back to the login page


def test_disabled_account_cannot_log_in(client, db_session, world):
    account, _ = create_account(
        db_session, login="left.school", name="Išėjęs", password="a-long-password-1"
    )
    account.is_enabled = False
    db_session.commit()
    response = login(client, "left.school", "a-long-password-1")
    assert response.status_code == 400


def test_repeated_failed_logins_are_throttled(client, world):
    from accounts.services import LOGIN_FAILURES_PER_LOGIN

    for _attempt in range(LOGIN_FAILURES_PER_LOGIN):
        assert (
            post_form(
                client, "/login", {"login": "teacher.a", "password": "guess-guess"}
            ).status_code
            == 400
        )
    blocked = post_form(
        client,
        "/login",
        {"login": "teacher.a", "password": TEST_PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.get_data(as_text=True)
    assert client.get("/s/school-a/").status_code == 302  # even the right password waits
    # another login from the same address is not locked out by these failures
    assert login(client, "admin.a").status_code == 302


def test_behind_nginx_each_client_has_its_own_failure_count(app, world):
    """With ``PROXIES=1`` (deploy/env.example) a client's address is the one nginx names in
    X-Forwarded-For: one client's mistyped passwords do not lock another client out of the
    same account (without it every client would be nginx's 127.0.0.1)."""
    from accounts.services import LOGIN_FAILURES_PER_LOGIN

    behind_nginx = create_app(
        {
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "TESTING": True,
            "SESSION_COOKIE_SECURE": False,
            "PROXIES": 1,
        }
    )
    guesser, owner = behind_nginx.test_client(), behind_nginx.test_client()
    guesser.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
    owner.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.23"
    for _attempt in range(LOGIN_FAILURES_PER_LOGIN):
        post_form(guesser, "/login", {"login": "teacher.a", "password": "guess-guess"})
    guessed = post_form(guesser, "/login", {"login": "teacher.a", "password": TEST_PASSWORD})
    assert guessed.status_code == 429
    assert login(owner, "teacher.a").status_code == 302


def test_login_works_when_redis_is_down(app, client, world, monkeypatch):
    import redis

    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    monkeypatch.setitem(app.extensions, "dienynas_redis", {"client": broken})
    assert login(client, "teacher.a").status_code == 302
    assert client.get("/s/school-a/").status_code == 200


def test_a_school_page_rechecks_the_account_on_every_request(app, client, db_session, world):
    """School pages read the account with the school (accounts.identity.preload): a password
    changed elsewhere, a withdrawn role and a disabled account each apply at the next request."""
    account, _ = create_account(
        db_session, login="careful.teacher", name="Atidi Mokytoja", password="first-long-secret"
    )
    grant_role(db_session, account, world.school_a, Role.TEACHER)
    db_session.commit()
    page = "/s/school-a/"
    login(client, "careful.teacher", "first-long-secret")
    assert client.get(page).status_code == 200

    account.password_hash = hash_password("second-long-secret")
    db_session.commit()
    assert client.get(page).status_code == 302  # the session's fingerprint is stale: log in

    login(client, "careful.teacher", "second-long-secret")
    assert client.get(page).status_code == 200
    revoke_role(db_session, account, world.school_a, Role.TEACHER)
    db_session.commit()
    assert client.get(page).status_code == 403

    grant_role(db_session, account, world.school_a, Role.TEACHER)
    account.is_enabled = False
    db_session.commit()
    assert client.get(page).status_code == 302
