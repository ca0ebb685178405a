"""The holder's own contacts (seed 000, 5.17: parents and students give their e-mail and phone
themselves): the phone is used at once, a new e-mail address only once its holder opened the
link mailed to it (a real SMTP server on loopback); refusals save nothing; the school's
administrator sees what is in use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from accounts import services
from accounts.models import Account
from accounts.tasks import send_email_confirmation
from conftest import TEST_PASSWORD, login, post_form
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.jobs import queue
from notifications.services import recipients_by_id
from school.people.models import Person
from tenants.services import bind_to_school
from test_notifications import smtp  # noqa: F401  (the SMTP sink fixture)

PAGE = "/account/contacts"
EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def empty_queue():
    queue().empty()
    yield
    queue().empty()


@dataclass
class Holder:
    id: int  # guardian.both's account (guardian of students[0] in school A)


@pytest.fixture
def guardian(classroom) -> Holder:
    """guardian.both, English, with an e-mail address and no phone."""
    account = classroom.account("guardian")
    account.email, account.phone, account.locale = "irena@example.lt", None, "en"
    classroom.session.commit()
    return Holder(account.id)


def signed_in(app):
    client = app.test_client()
    login(client, "guardian.both")
    return client


def save(client, **fields):
    data = {"email": "irena@example.lt", "phone": "", "current": TEST_PASSWORD, **fields}
    return post_form(client, PAGE, data, headers=EN)


def confirmation_jobs() -> list:
    return [j for j in queue().jobs if j.func_name.endswith("send_email_confirmation")]


def mailed_path(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://127\.0\.0\.1:5000(/account/email/\S+)", text).group(1)


def reloaded(account_id: int) -> Account:
    db.session.expire_all()
    return db.session.get(Account, account_id)


def test_a_new_address_is_used_once_its_holder_opens_the_link(app, smtp, guardian, classroom):  # noqa: F811
    client = signed_in(app)
    page = client.get(PAGE, headers=EN).get_data(as_text=True)
    assert 'href="/account/contacts"' in page and 'value="irena@example.lt"' in page
    response = save(client, email="irena.new@example.lt", phone="+370 612 34567")
    assert response.status_code == 302
    account = reloaded(guardian.id)
    assert account.phone == "+370 612 34567"  # the phone at once
    assert (account.email, account.pending_email) == ("irena@example.lt", "irena.new@example.lt")
    shown = client.get(PAGE, headers=EN).get_data(as_text=True)
    assert "We sent a link to irena.new@example.lt" in shown
    assert "Waiting for confirmation: irena.new@example.lt" in shown
    # until confirmed, notifications still go to the address in use
    bind_to_school(db.session, classroom.school)
    [recipient] = recipients_by_id(db.session, classroom.school, {guardian.id}).values()
    assert recipient.email == "irena@example.lt"

    [job] = confirmation_jobs()
    assert job.args == (guardian.id, "irena.new@example.lt")  # no token waits in Redis
    assert send_email_confirmation(*job.args) is True
    assert send_email_confirmation(*job.args) is False  # the job twice: one e-mail
    [message] = smtp.to("irena.new@example.lt")
    assert not smtp.to("irena@example.lt")
    assert message["Subject"] == "Dienynas: confirm your e-mail address"
    assert "guardian.both" in message.get_body(("plain",)).get_content()
    path = mailed_path(message)

    visitor = app.test_client()  # the link works in a browser that is not signed in
    confirm_page = visitor.get(path, headers=EN).get_data(as_text=True)
    assert "New e-mail address: irena.new@example.lt" in confirm_page
    assert post_form(visitor, path, {}).status_code == 302
    account = reloaded(guardian.id)
    assert (account.email, account.pending_email) == ("irena.new@example.lt", None)
    bind_to_school(db.session, classroom.school)
    [recipient] = recipients_by_id(db.session, classroom.school, {guardian.id}).values()
    assert recipient.email == "irena.new@example.lt"
    assert visitor.get(path, headers=EN).status_code == 410  # used


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"current": "not my password"}, "The current password is wrong."),
        ({"email": "irena at example"}, "“irena at example” is not an e-mail address."),
        ({"phone": "call me"}, "“call me” is not a phone number"),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(app, smtp, guardian, fields, message):  # noqa: F811
    client = signed_in(app)
    response = save(client, **{"email": "irena.new@example.lt", "phone": "+370 612 34567",
                               **fields})  # fmt: skip
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    account = reloaded(guardian.id)
    assert (account.email, account.pending_email, account.phone) == (
        "irena@example.lt",
        None,
        None,
    )
    assert confirmation_jobs() == []


def test_a_later_address_replaces_the_waiting_one_and_its_link(app, smtp, guardian):  # noqa: F811
    client = signed_in(app)
    assert save(client, email="first@example.lt").status_code == 302
    assert send_email_confirmation(*confirmation_jobs()[0].args) is True
    first_link = mailed_path(smtp.to("first@example.lt")[0])
    save(client, email="second@example.lt")
    assert client.get(first_link, headers=EN).status_code == 410
    assert send_email_confirmation(guardian.id, "first@example.lt") is False  # not waiting
    assert reloaded(guardian.id).pending_email == "second@example.lt"
    # the address in use again withdraws the waiting one
    save(client, email="irena@example.lt")
    account = reloaded(guardian.id)
    assert (account.email, account.pending_email) == ("irena@example.lt", None)


def test_an_empty_address_removes_the_one_in_use(app, smtp, guardian):  # noqa: F811
    client = signed_in(app)
    assert save(client, email="", phone="8 612 34567").status_code == 302
    account = reloaded(guardian.id)
    assert (account.email, account.phone) == (None, "8 612 34567")
    assert confirmation_jobs() == []


def test_without_e_mail_only_the_phone_is_changed_here(app, guardian):
    """No SMTP_URL: a new address could never be confirmed, so the page does not take one."""
    client = signed_in(app)
    page = client.get(PAGE, headers=EN).get_data(as_text=True)
    assert "This Dienynas sends no e-mail" in page and 'name="email"' not in page
    assert save(client, email="other@example.lt", phone="+48 601 234 567").status_code == 302
    account = reloaded(guardian.id)
    assert (account.email, account.pending_email, account.phone) == (
        "irena@example.lt",
        None,
        "+48 601 234 567",
    )


def test_an_expired_link_is_refused(db_session, guardian):
    account = db_session.get(Account, guardian.id)
    db_session.refresh(account)
    services.change_contacts(db_session, account, TEST_PASSWORD, "late@example.lt", "")
    then = datetime.now(UTC) - timedelta(hours=services.EMAIL_CONFIRM_HOURS + 1)
    token = services.issue_email_confirmation(account, then)
    with pytest.raises(ServiceError, match="expired"):
        services.confirm_email(db_session, token, datetime.now(UTC))
    assert account.email == "irena@example.lt"


def test_the_administrator_sees_the_contacts_in_use_and_the_schools_record(
    app, guardian, classroom
):
    """The holder changed their phone; the school's record still has the old one: the person
    page shows what notifications use, with the school's record beside it, and the person
    form offers the one in use."""
    session = classroom.session
    bind_to_school(session, classroom.school)
    guardian_person = session.get(Person, classroom.guardian.id)
    guardian_person.phone = "+370 600 00000"
    student_id, c5a = classroom.students[0].id, classroom.c5a.id
    account = session.get(Account, guardian.id)
    account.phone, account.pending_email = "+370 612 34567", "irena.new@example.lt"
    session.commit()
    admin = app.test_client()
    login(admin, "admin.a")
    people = f"/s/{classroom.school.slug}/people"
    page = admin.get(f"{people}/{guardian_person.id}", headers=EN).get_data(as_text=True)
    assert "+370 612 34567" in page
    assert "This school's record: +370 600 00000" in page
    assert "Waiting for the holder's confirmation: irena.new@example.lt" in page
    edit = f"{people}/students/{student_id}/guardians/{guardian_person.id}/edit"
    form = admin.get(edit, headers=EN).get_data(as_text=True)
    assert 'value="+370 612 34567"' in form
    # the class list's guardians show the same
    class_list = admin.get(f"{people}/students?class={c5a}", headers=EN).get_data(as_text=True)
    assert "+370 612 34567" in class_list and "+370 600 00000" not in class_list
