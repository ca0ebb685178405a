"""A forgotten password: a reset link by e-mail (a real SMTP server on loopback, aiosmtpd),
in the account's language, working once and for an hour; nothing tells who has an account."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from accounts.models import Account
from accounts.tasks import send_password_reset
from conftest import TEST_PASSWORD, login, post_form
from dienynas.extensions import db
from dienynas.jobs import queue
from notifications.channels import DeliveryError
from test_notifications import smtp  # noqa: F401  (the SMTP sink fixture)

NEW_PASSWORD = "a-brand-new-secret-7"
SENT = "a link to choose a new password is on its way"


@pytest.fixture(autouse=True)
def empty_queue():
    queue().empty()
    yield
    queue().empty()


@pytest.fixture
def teacher(db_session, world) -> Account:
    account = db_session.get(Account, world.teacher_a.id)
    account.email, account.locale = "tomas@example.lt", "en"
    db_session.commit()
    return account


def reset_jobs() -> list:
    return [j for j in queue().jobs if j.func_name.endswith("send_password_reset")]


def forgot(client, who: str):
    return post_form(client, "/password/forgot", {"who": who}, headers={"Accept-Language": "en"})


def mailed_link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://127\.0\.0\.1:5000(/password/reset/\S+)", text).group(1)


def test_a_reset_link_by_e_mail_sets_a_new_password_once(client, smtp, teacher):  # noqa: F811
    response = forgot(client, "Teacher.A")
    assert response.status_code == 302
    assert SENT in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    [job] = reset_jobs()
    assert job.args[0] == teacher.id and len(job.args) == 2  # ids only: no token in Redis
    assert send_password_reset(*job.args) is True
    assert send_password_reset(*job.args) is False  # the job twice: one e-mail
    [message] = smtp.to("tomas@example.lt")
    assert message["Subject"] == "Dienynas: a new password"
    text = message.get_body(("plain",)).get_content()
    assert "teacher.a" in text and "60 minutes" in text
    path = mailed_link(message)
    assert path in message.get_body(("html",)).get_content()

    page = client.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    differ = post_form(client, path, {"password": NEW_PASSWORD, "repeat": "something else 1"})
    assert differ.status_code == 400
    done = post_form(client, path, {"password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert done.status_code == 302
    assert client.get(path).status_code == 410  # used
    assert login(client, "teacher.a", TEST_PASSWORD).status_code == 400
    assert login(client, "teacher.a", NEW_PASSWORD).status_code == 302


def test_the_answer_does_not_tell_who_has_an_account(client, smtp, teacher, db_session):  # noqa: F811
    for who in ("nobody.here", "nobody@example.lt", "guardian.both"):  # the last has no e-mail
        forgot(client, who)
        page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert SENT in page
    assert reset_jobs() == []
    forgot(client, "TOMAS@example.lt")  # by e-mail address
    assert len(reset_jobs()) == 1
    forgot(client, "teacher.a")  # again within minutes: no second e-mail
    assert len(reset_jobs()) == 1


def test_an_expired_link_is_refused(client, smtp, teacher, db_session):  # noqa: F811
    forgot(client, "teacher.a")
    send_password_reset(*reset_jobs()[0].args)
    path = mailed_link(smtp.to("tomas@example.lt")[0])
    account = db.session.scalar(select(Account).where(Account.login == "teacher.a"))
    account.password_reset_expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    page = client.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 410 and "has expired" in page.get_data(as_text=True)
    assert post_form(client, path, {"password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
                     form_page="/password/forgot").status_code == 410  # fmt: skip


def test_a_failed_delivery_takes_the_link_back(client, smtp, teacher):  # noqa: F811
    forgot(client, "teacher.a")
    smtp.refuse = True
    with pytest.raises(DeliveryError):
        send_password_reset(*reset_jobs()[0].args)
    account = db.session.scalar(select(Account).where(Account.login == "teacher.a"))
    assert account.password_reset_hash is None  # a retry of the job mails a new link
    smtp.refuse = False
    assert send_password_reset(*reset_jobs()[0].args) is True


def test_without_an_smtp_server_the_page_sends_to_the_school(client, app, teacher):
    app.config["SMTP_URL"] = ""
    page = client.get("/password/forgot", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert 'name="who"' not in text and "one-time password" in text
    assert send_password_reset(teacher.id, datetime.now(UTC).isoformat()) is False
