"""school.people credentials: class login slips (PDF), password resets."""

from __future__ import annotations

import io
import logging
import re
from datetime import UTC, date, datetime

import pytest
from babel.dates import format_date
from pypdf import PdfReader
from sqlalchemy import select

from accounts.models import Account, Role
from accounts.services import create_account, grant_role, hash_password
from conftest import TEST_PASSWORD, post_form
from conftest import login as log_in
from dienynas import clock
from school.people import services
from school.people.models import Person
from school.people.services import PersonDetails
from test_school_people import TODAY, People, code_for, make_people, student_details


@pytest.fixture
def people(in_school_a, world) -> People:
    return make_people(in_school_a, world)


def login(client, name: str, password: str = TEST_PASSWORD):
    post_form(client, "/language", {"locale": "en", "next": "/login"}, form_page="/login")
    return log_in(client, name, password)


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def class_5a(in_school_a, people):
    """5a: Jonas (guardians: a Russian-speaking mother, a father) and Ona (no guardian).

    Ids only: after a request the test's open transaction is no longer bound to the school."""
    school = people.world.school_a
    jonas = services.add_student(
        in_school_a, people.head_a, school, student_details(), people.class_a.id, TODAY
    )
    ona = services.add_student(
        in_school_a, people.head_a, school,
        student_details("Ona", "Onaitė", personal_code=code_for(date(2015, 6, 1), "f")),
        people.class_a.id, TODAY,
    )  # fmt: skip
    mother, _ = services.add_guardian(
        in_school_a, people.head_a, school, jonas,
        PersonDetails(first_name="Анна", last_name="Смирнова", locale="ru"), "mother",
        today=TODAY,
    )  # fmt: skip
    father, _ = services.add_guardian(
        in_school_a, people.head_a, school, jonas,
        PersonDetails(first_name="Petras", last_name="Jonaitis"), "father", today=TODAY,
    )  # fmt: skip
    ids = {"jonas": jonas.person_id, "ona": ona.person_id, "mother": mother.guardian_id,
           "father": father.guardian_id, "class": people.class_a.id}  # fmt: skip
    in_school_a.commit()
    return ids


def account_of(session, person_id: int) -> Account:
    session.commit()
    session.expire_all()
    return session.get(Account, session.get(Person, person_id).account_id)


def test_class_slips_are_a_pdf_in_each_persons_language(client, in_school_a, people, class_5a):
    login(client, "head.a")
    preview = client.get(f"/s/school-a/people/credentials?class={class_5a['class']}")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    for login_name in ("jonas.jonaitis", "ona.onaite", "anna.smirnova", "petras.jonaitis"):
        assert login_name in page
    old_hash = account_of(in_school_a, class_5a["mother"]).password_hash
    response = post_form(
        client, "/s/school-a/people/credentials", {"class": class_5a["class"]},
        form_page=f"/s/school-a/people/credentials?class={class_5a['class']}",
    )  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    for login_name in ("jonas.jonaitis", "ona.onaite", "anna.smirnova", "petras.jonaitis"):
        assert login_name in text
    assert "Alpha progimnazija" in text and "http://localhost/login" in text
    # the Russian-speaking mother's slip is in Russian (the rest in Lithuanian, the school's)
    mother_slip = text[text.index("Анна Смирнова") :].split("Petras Jonaitis")[0]
    assert "Логин" in mother_slip
    assert format_date(clock.today(), "long", locale="ru") in mother_slip
    assert format_date(clock.today(), "long", locale="lt") in text
    mother = account_of(in_school_a, class_5a["mother"])
    assert mother.must_change_password and mother.password_hash != old_hash
    fonts = {
        str(font.get_object()["/BaseFont"]).split("+")[-1]
        for page in PdfReader(io.BytesIO(response.data)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all(name.startswith("DejaVu") for name in fonts), fonts


def test_a_printed_password_logs_in_and_must_be_changed(client, in_school_a, people, class_5a):
    login(client, "head.a")
    response = post_form(
        client, "/s/school-a/people/credentials", {"class": class_5a["class"]},
        form_page="/s/school-a/people/credentials",
    )  # fmt: skip
    text = pdf_text(response.data)
    # the one-time password: 12 characters of the unambiguous alphabet (no i, l, o, I, O, 0, 1)
    match = re.search(r"\b([a-hjkmnp-zA-HJ-NP-Z2-9]{12})\b", text[text.index("ona.onaite") :])
    assert match, text
    student = client.application.test_client()
    assert login(student, "ona.onaite", match.group(1)).status_code == 302
    assert "/account/password" in student.get("/s/school-a/").headers["Location"]


def test_people_already_using_their_login_are_skipped(client, in_school_a, people, class_5a):
    father = account_of(in_school_a, class_5a["father"])
    father.must_change_password, father.last_login_at = False, datetime.now(UTC)
    father.password_hash = hash_password(TEST_PASSWORD)
    in_school_a.commit()
    login(client, "head.a")
    page = client.get(f"/s/school-a/people/credentials?class={class_5a['class']}").get_data(
        as_text=True
    )
    assert "already uses the account" in page
    response = post_form(
        client, "/s/school-a/people/credentials", {"class": class_5a["class"]},
        form_page="/s/school-a/people/credentials",
    )  # fmt: skip
    assert "petras.jonaitis" not in pdf_text(response.data)
    assert login(client.application.test_client(), "petras.jonaitis").status_code == 302
    again = post_form(
        client, "/s/school-a/people/credentials",
        {"class": class_5a["class"], "include_in_use": "1"},
        form_page="/s/school-a/people/credentials",
    )  # fmt: skip
    assert "petras.jonaitis" in pdf_text(again.data)
    assert login(client.application.test_client(), "petras.jonaitis").status_code == 400


def test_staff_of_another_school_get_no_slip(client, in_school_a, people, class_5a):
    father = account_of(in_school_a, class_5a["father"])
    grant_role(in_school_a, father, people.world.school_b, Role.TEACHER)
    in_school_a.commit()
    login(client, "admin.a")
    page = client.get(f"/s/school-a/people/credentials?class={class_5a['class']}").get_data(
        as_text=True
    )
    assert "also used in another school" in page
    response = post_form(
        client, f"/s/school-a/people/accounts/{father.id}/password", {"format": "page"},
        form_page=f"/s/school-a/people/{class_5a['father']}",
    )  # fmt: skip
    assert response.status_code == 403


def test_class_head_of_another_class_gets_403(client, in_school_a, people, class_5a):
    login(client, "head.b")
    assert client.get(f"/s/school-a/people/credentials?class={class_5a['class']}").status_code == (
        403
    )
    before = account_of(in_school_a, class_5a["jonas"]).password_hash
    response = post_form(
        client, "/s/school-a/people/credentials", {"class": class_5a["class"]},
        form_page="/s/school-a/people/credentials",
    )  # fmt: skip
    assert response.status_code == 403
    jonas = account_of(in_school_a, class_5a["jonas"])
    assert jonas.password_hash == before
    reset = post_form(
        client, f"/s/school-a/people/accounts/{jonas.id}/password", {"format": "page"},
        form_page="/s/school-a/people/credentials",
    )  # fmt: skip
    assert reset.status_code == 403
    login(teacher := client.application.test_client(), "teacher.a")
    assert teacher.get("/s/school-a/people/credentials").status_code == 403


def test_credentials_need_a_class(client, people):
    class_b = people.class_b.id
    login(client, "admin.a")
    response = post_form(client, "/s/school-a/people/credentials", {})
    assert response.status_code == 400 and "Choose a class." in response.get_data(as_text=True)
    empty = post_form(
        client, "/s/school-a/people/credentials", {"class": class_b},
        form_page="/s/school-a/people/credentials",
    )  # fmt: skip
    assert empty.status_code == 400
    assert "No one in this class needs new credentials." in empty.get_data(as_text=True)


def test_reset_shows_the_password_once_and_the_old_one_stops_working(
    client, in_school_a, people, class_5a, caplog
):
    student = account_of(in_school_a, class_5a["ona"])
    student.password_hash, student.must_change_password = hash_password(TEST_PASSWORD), False
    in_school_a.commit()
    assert login(client.application.test_client(), "ona.onaite").status_code == 302
    login(client, "head.a")
    with caplog.at_level(logging.DEBUG):
        response = post_form(
            client, f"/s/school-a/people/accounts/{student.id}/password",
            {"format": "page", "back": f"/s/school-a/people/{class_5a['ona']}"},
            form_page=f"/s/school-a/people/{class_5a['ona']}",
        )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    new_password = re.search(r'<code class="people-secret">([^<]+)</code>', page).group(1)
    assert new_password not in caplog.text
    assert login(client.application.test_client(), "ona.onaite").status_code == 400
    fresh = client.application.test_client()
    assert login(fresh, "ona.onaite", new_password).status_code == 302
    assert "/account/password" in fresh.get("/s/school-a/").headers["Location"]
    stored = account_of(in_school_a, class_5a["ona"])
    assert new_password not in stored.password_hash and stored.must_change_password


def test_reset_as_a_one_slip_pdf(client, in_school_a, people, class_5a):
    mother = account_of(in_school_a, class_5a["mother"])
    login(client, "admin.a")
    response = post_form(
        client, f"/s/school-a/people/accounts/{mother.id}/password", {"format": "pdf"},
        form_page=f"/s/school-a/people/{class_5a['mother']}",
    )  # fmt: skip
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "anna.smirnova" in text and "Логин" in text and "Jonas Jonaitis" in text
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 1


def test_who_may_reset_whom(client, in_school_a, people, class_5a):
    login(client, "head.a")
    school = people.world.school_a
    # a guardian of the head's class who is also on the staff here: only the administrator
    father = account_of(in_school_a, class_5a["father"])
    grant_role(in_school_a, father, school, Role.TEACHER)
    stranger, _ = create_account(in_school_a, login="stranger", name="Stranger",
                                 password=TEST_PASSWORD)  # fmt: skip
    in_school_a.commit()
    ids = {"admin": people.world.admin_a.id, "father": father.id, "stranger": stranger.id}
    for target, status in (("admin", 403), ("father", 403), ("stranger", 404)):
        response = post_form(
            client, f"/s/school-a/people/accounts/{ids[target]}/password", {"format": "page"},
            form_page="/s/school-a/people/credentials",
        )  # fmt: skip
        assert response.status_code == status, target
    login(admin := client.application.test_client(), "admin.a")
    ok = post_form(
        admin, f"/s/school-a/people/accounts/{father.id}/password", {"format": "page"},
        form_page="/s/school-a/people/credentials",
    )  # fmt: skip
    assert ok.status_code == 200
    operator = in_school_a.scalar(select(Account).where(Account.login == "operator.test"))
    grant_role(in_school_a, operator, school, Role.TEACHER)
    in_school_a.commit()
    refused = post_form(
        admin, f"/s/school-a/people/accounts/{operator.id}/password", {"format": "page"},
        form_page="/s/school-a/people/credentials",
    )  # fmt: skip
    assert refused.status_code == 403
    assert "municipality" in refused.get_data(as_text=True)


def test_a_linked_account_of_another_school_cannot_be_reset_here(client, in_school_a, people,
                                                                 class_5a):  # fmt: skip
    """Any school may link an existing account by its login; it must not get its password."""
    father = account_of(in_school_a, class_5a["father"])
    grant_role(in_school_a, father, people.world.school_b, Role.GUARDIAN)
    in_school_a.commit()
    before = father.password_hash
    login(client, "admin.a")
    response = post_form(
        client, f"/s/school-a/people/accounts/{father.id}/password", {"format": "page"},
        form_page=f"/s/school-a/people/{class_5a['father']}",
    )  # fmt: skip
    assert response.status_code == 403
    in_school_a.expire_all()
    assert account_of(in_school_a, class_5a["father"]).password_hash == before
