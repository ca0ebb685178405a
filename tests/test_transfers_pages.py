"""Transfer pages: leaving a student through the student's card, the pool (who sees it, what it
shows before a claim, search), claiming through the page and the race message, returning a
claim, the extract download's permissions, the municipality's oversight and the transfer
notifications written in the same transaction (in the schools they belong to)."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from accounts.models import Account, Role
from classroom import new_account
from conftest import login, post_form
from dienynas.extensions import db
from dienynas.i18n import in_locale
from dienynas.jobs import queue
from notifications.models import NotificationDelivery, NotificationEvent
from notifications.tasks import dispatch_events, send_deliveries
from school.calendar.services import create_year
from school.classes.models import SchoolClass
from school.people.models import Student
from tenants.services import bind_to_school
from transfers.models import PoolEntry, TransferLog
from transfers.tasks import render_extract
from transfers_helpers import PERSONAL_CODE, TODAY, Transfer, build_transfer, claim, leave

A, B = "/s/school-a", "/s/school-b"


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


@pytest.fixture(autouse=True)
def fixed_today(school_day):
    school_day(TODAY)


@pytest.fixture
def transfer(classroom, world) -> Transfer:
    return build_transfer(classroom, world)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def events_in(session, school, kind: str) -> list[NotificationEvent]:
    session.expunge_all()
    bind_to_school(session, school)
    return list(session.scalars(select(NotificationEvent).where(NotificationEvent.kind == kind)))


def as_user(app, who: str):
    client = app.test_client()
    login(client, who)
    return client


# --- leaving ----------------------------------------------------------------------------------


def test_the_student_card_links_to_the_leaving_page_for_the_class_head(transfer, client):
    transfer.session.commit()
    login(client, "head.a")
    card = client.get(f"{A}/people/{transfer.student_id}").get_data(as_text=True)
    assert f"{A}/transfers/leave/{transfer.student_id}" in card


def test_the_class_head_moves_a_student_to_another_school(transfer, client, world):
    transfer.session.commit()
    login(client, "head.a")
    page = client.get(f"{A}/transfers/leave/{transfer.student_id}")
    assert page.status_code == 200
    assert "Бета гимназия" in text_of(page)  # school B is offered as the destination
    response = post_form(
        client, f"{A}/transfers/leave/{transfer.student_id}",
        {"left_on": TODAY.isoformat(), "reason": "Moved house",
         "destination_kind": "municipality", "to_school_id": str(world.school_b.id)},
    )  # fmt: skip
    assert response.status_code == 302, re.findall(r'role="alert">([^<]*)', text_of(response))
    session = db.session
    entry = session.scalar(
        select(PoolEntry).where(PoolEntry.student_person_id == transfer.student_id)
    )
    assert response.headers["Location"].endswith(f"{A}/transfers/{entry.id}")
    assert (entry.status, entry.to_school_id, entry.left_on) == (
        "in_pool",
        world.school_b.id,
        TODAY,
    )
    # the extract job is queued; school B's heads get "a student is heading to your school"
    assert [j.args for j in queue().jobs if j.func_name.endswith("render_extract")] == [(entry.id,)]
    (incoming,) = events_in(session, world.school_b, "transfer_incoming")
    assert incoming.payload == {"pool_id": entry.id}
    assert events_in(session, world.school_a, "transfer_incoming") == []
    # the leaving school's list of its transfers names where the student is heading
    pool = text_of(as_user(client.application, "admin.a").get(f"{A}/transfers/pool"))
    assert '<span class="muted">Бета гимназия</span>' in pool.split("Transfers of this school")[1]


def test_the_schools_transfers_say_abroad_when_the_student_went_abroad(transfer, client):
    transfer.session.commit()
    login(client, "head.a")
    response = post_form(
        client, f"{A}/transfers/leave/{transfer.student_id}",
        {"left_on": TODAY.isoformat(), "reason": "", "destination_kind": "abroad",
         "to_school_id": ""},
    )  # fmt: skip
    assert response.status_code == 302
    pool = text_of(as_user(client.application, "admin.a").get(f"{A}/transfers/pool"))
    assert '<span class="muted">Abroad</span>' in pool.split("Transfers of this school")[1]


def test_bad_leaving_input_is_refused_and_nothing_saved(transfer, client):
    transfer.session.commit()
    login(client, "head.a")
    response = post_form(
        client, f"{A}/transfers/leave/{transfer.student_id}",
        {"left_on": "2026-09-30", "destination_kind": "municipality", "to_school_id": ""},
    )  # fmt: skip
    assert response.status_code == 400
    assert "The leaving date cannot be in the future" in text_of(response)
    bad_date = post_form(
        client, f"{A}/transfers/leave/{transfer.student_id}",
        {"left_on": "15.09.2026", "destination_kind": "abroad"},
    )  # fmt: skip
    assert bad_date.status_code == 400
    assert "is not a date; use the form YYYY-MM-DD" in text_of(bad_date)
    session = db.session
    bind_to_school(session, transfer.world.school_a)
    assert session.scalar(select(func.count()).select_from(PoolEntry)) == 0
    assert session.get(Student, transfer.student_id).status == "active"


@pytest.mark.parametrize("who", ["teacher.a", "director.a", "guardian.both"])
def test_only_the_administrator_and_the_class_head_open_the_leaving_page(transfer, app, who):
    transfer.session.commit()
    client = as_user(app, who)
    assert client.get(f"{A}/transfers/leave/{transfer.student_id}").status_code == 403


# --- the pool ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("teacher.a", 403), ("guardian.both", 403),
                                             ("head.a", 403), ("director.a", 200),
                                             ("admin.a", 200)])  # fmt: skip
def test_who_sees_the_pool(transfer, app, who, status):
    transfer.session.commit()
    client = as_user(app, who)
    assert client.get(f"{A}/transfers/pool").status_code == status


def test_the_pool_shows_only_the_minimal_fields_before_a_claim(transfer, app):
    pool_id = leave(transfer)
    client = as_user(app, "director.b")
    page = text_of(client.get(f"{B}/transfers/pool"))
    row = re.search(r"<tbody>.*?</tbody>", page, re.S).group(0)
    assert "Agnė Ambrazaitė" in row and "2015" in row and "Alpha progimnazija" in row
    assert "heading to your school" in row
    assert f"{B}/transfers/pool/{pool_id}/claim" in row
    for hidden in (PERSONAL_CODE, "2015-03-04", "Globėja", "Irena", "Matematika", "Moved house"):
        assert hidden not in page, hidden
    # the transfer's page and the extract are not for school B before the claim
    assert client.get(f"{B}/transfers/{pool_id}").status_code == 403
    assert client.get(f"{B}/transfers/{pool_id}/extract.pdf").status_code == 403


def test_the_pool_filters_say_any_in_the_gender_of_their_noun(transfer, app):
    """Russian: «любой» класс, «любая» школа (one English word, two translations)."""
    transfer.session.commit()
    client = as_user(app, "director.b")
    post_form(client, "/language", {"locale": "ru"}, form_page=f"{B}/transfers/pool")
    page = client.get(f"{B}/transfers/pool").get_data(as_text=True)
    assert '<option value="">любой</option>' in page
    assert '<option value="">любая</option>' in page


@pytest.mark.parametrize(
    ("locale", "person", "thing"),
    [("lt", "Vardas, pavardė", "Pavadinimas"), ("pl", "Imię i nazwisko", "Nazwa")],
)
def test_the_pool_names_a_persons_name_as_such(transfer, app, locale, person, thing):
    """The student's name is a person's (“Vardas, pavardė”), not a thing's (“Pavadinimas”)."""
    leave(transfer)
    client = as_user(app, "director.b")
    post_form(client, "/language", {"locale": locale}, form_page=f"{B}/transfers/pool")
    page = client.get(f"{B}/transfers/pool").get_data(as_text=True)
    assert f'<label for="q">{person}</label>' in page
    assert f"<thead><tr><th>{person}</th>" in page
    assert f">{thing}<" not in page


def test_the_pool_page_runs_the_same_queries_for_one_entry_or_three(transfer, app, count_queries):
    client = as_user(app, "director.b")
    leave(transfer)
    with count_queries() as one:
        assert client.get(f"{B}/transfers/pool").status_code == 200
    others = [s.id for s in transfer.classroom.students[1:3]]
    for student_id in others:
        leave(transfer, student_id=student_id)
    with count_queries() as three:
        page = text_of(client.get(f"{B}/transfers/pool"))
    assert page.count("/claim") == 3
    assert len(three) == len(one)


def test_searching_the_pool(transfer, app):
    leave(transfer)
    client = as_user(app, "director.b")

    def names(query: str) -> bool:
        response = client.get(f"{B}/transfers/pool?{query}")
        assert response.status_code == 200
        return "Agnė Ambrazaitė" in text_of(response)

    assert names(f"personal_code={PERSONAL_CODE}")
    assert not names("personal_code=61503040124")
    assert names("q=agn") and not names("q=zzz")
    assert names("birth_date=2015-03-04") and not names("birth_date=2015-03-05")
    assert names("grade_level=5") and not names("grade_level=6")
    assert names(f"from_school={transfer.world.school_a.id}")
    assert names("min_days=0") and not names("min_days=30")
    bad = client.get(f"{B}/transfers/pool?birth_date=yesterday")
    assert bad.status_code == 400 and "is not a date" in text_of(bad)


def test_claiming_through_the_page_carries_the_history_and_tells_everyone(transfer, app, world):
    pool_id = leave(transfer)
    client = as_user(app, "director.b")
    response = post_form(
        client, f"{B}/transfers/pool/{pool_id}/claim", {"class_id": str(transfer.class_b_id)},
        form_page=f"{B}/transfers/pool",
    )  # fmt: skip
    # the answer is a page of its own: reloading it shows the same, it does not claim again
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/transfers/{pool_id}/claimed")
    page = text_of(client.get(response.headers["Location"]))
    assert "The student joins class 5b" in page and "1 grade" in page
    assert text_of(client.get(response.headers["Location"])) == page
    session = db.session
    entry = session.get(PoolEntry, pool_id)
    session.refresh(entry)
    assert (entry.status, entry.claimed_school_id) == ("claimed", world.school_b.id)
    assert f"{B}/people/{entry.claimed_person_id}" in page
    bind_to_school(session, world.school_b)
    assert session.get(Student, entry.claimed_person_id).class_id == transfer.class_b_id
    (told,) = events_in(session, world.school_b, "transfer_new_school")
    assert told.payload == {"pool_id": pool_id, "student_id": entry.claimed_person_id}
    # the new class's teachers and head learn of their new student
    (arrival,) = events_in(session, world.school_b, "student_joined")
    assert arrival.payload == {
        "student_id": entry.claimed_person_id,
        "class_id": transfer.class_b_id,
    }
    (leaving,) = events_in(session, world.school_a, "transfer_claimed")
    assert leaving.payload == {"pool_id": pool_id}
    # after the claim school B reads the transfer's page and may return the claim; the page
    # names the school the student was heading to
    entry_page = text_of(client.get(f"{B}/transfers/{pool_id}"))
    assert "A school of this municipality: Бета гимназия" in entry_page
    assert f"{B}/transfers/{pool_id}/return" in entry_page


def test_in_the_summer_the_pool_offers_next_years_classes_too(transfer, app, school_day):
    """The classes were moved up for September: a student leaving in August is claimed into
    next year's class, chosen from the list grouped by school year."""
    pool_id = leave(transfer)
    session = transfer.session
    session.expunge_all()
    bind_to_school(session, transfer.world.school_b)
    year = create_year(session, name="2027–2028", starts_on=date(2027, 9, 1),
                       ends_on=date(2028, 8, 31))  # fmt: skip
    class_6b = SchoolClass(year_id=year.id, grade_level=6, letter="b")
    session.add(class_6b)
    session.commit()
    class_6b_id = class_6b.id
    school_day(date(2027, 8, 20))
    client = as_user(app, "director.b")
    page = client.get(f"{B}/transfers/pool").get_data(as_text=True)
    this_year, next_year = re.findall(r'<optgroup label="([^"]+)">', page)
    assert next_year == "2027–2028" and this_year != next_year
    assert f'<option value="{class_6b_id}">6b</option>' in page
    response = post_form(
        client, f"{B}/transfers/pool/{pool_id}/claim", {"class_id": str(class_6b_id)},
        form_page=f"{B}/transfers/pool",
    )  # fmt: skip
    assert response.status_code == 302
    assert "The student joins class 6b" in text_of(client.get(response.headers["Location"]))


def test_a_claim_without_a_class_is_refused(transfer, app):
    pool_id = leave(transfer)
    client = as_user(app, "director.b")
    response = post_form(
        client, f"{B}/transfers/pool/{pool_id}/claim", {"class_id": ""},
        form_page=f"{B}/transfers/pool",
    )  # fmt: skip
    assert response.status_code == 409
    assert "Choose the class the student joins." in text_of(response)
    assert db.session.get(PoolEntry, pool_id).status == "in_pool"


def test_the_loser_of_a_race_sees_the_message(transfer, app):
    pool_id = leave(transfer)
    claim(transfer, pool_id)  # school B was faster
    client = as_user(app, "admin.a")
    response = post_form(
        client, f"{A}/transfers/pool/{pool_id}/claim", {"class_id": str(transfer.c5a_id)},
        form_page=f"{A}/transfers/pool",
    )  # fmt: skip
    assert response.status_code == 409
    assert "This student has already been claimed by another school." in text_of(response)
    session = db.session
    bind_to_school(session, transfer.world.school_a)
    assert session.get(Student, transfer.student_id).status == "left"
    # only the winner's claim told school A
    assert len(events_in(session, transfer.world.school_a, "transfer_claimed")) == 1
    claims = select(func.count()).select_from(TransferLog).where(TransferLog.action == "claimed")
    assert session.scalar(claims) == 1


def test_a_teacher_cannot_claim(transfer, app):
    pool_id = leave(transfer)
    client = as_user(app, "teacher.a")
    response = post_form(
        client, f"{A}/transfers/pool/{pool_id}/claim", {"class_id": str(transfer.c5a_id)},
        form_page=f"{A}/people/students",
    )  # fmt: skip
    assert response.status_code == 403
    assert db.session.get(PoolEntry, pool_id).status == "in_pool"


def test_returning_a_claim_through_the_page(transfer, app):
    pool_id = leave(transfer)
    claim(transfer, pool_id)
    client = as_user(app, "director.b")
    # the transfer's page asks first what returning deletes
    assert f"{B}/transfers/{pool_id}/return" in text_of(client.get(f"{B}/transfers/{pool_id}"))
    confirm = text_of(client.get(f"{B}/transfers/{pool_id}/return"))
    assert "Return Agnė Ambrazaitė to the pool?" in confirm
    assert db.session.get(PoolEntry, pool_id).status == "claimed"
    # the leaving school is sent back to the transfer's page: nothing to return there
    other = as_user(app, "admin.a")
    assert other.get(f"{A}/transfers/{pool_id}/return").status_code == 302
    response = post_form(
        client, f"{B}/transfers/{pool_id}/return", {}, form_page=f"{B}/transfers/{pool_id}/return"
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/transfers/pool")
    assert db.session.get(PoolEntry, pool_id).status == "in_pool"
    assert "Agnė Ambrazaitė" in text_of(client.get(f"{B}/transfers/pool"))


# --- the extract ------------------------------------------------------------------------------


def test_the_extract_is_for_the_leaving_school_and_after_the_claim_the_receiving_one(
    transfer, app, world
):
    pool_id = leave(transfer)
    leaving = as_user(app, "admin.a")
    receiving = as_user(app, "director.b")
    waiting = leaving.get(f"{A}/transfers/{pool_id}/extract.pdf")
    assert waiting.status_code == 404 and "being prepared" in text_of(waiting)
    assert render_extract(pool_id) is True
    ready = leaving.get(f"{A}/transfers/{pool_id}/extract.pdf")
    assert ready.status_code == 200 and ready.mimetype == "application/pdf"
    assert ready.data.startswith(b"%PDF")
    assert receiving.get(f"{B}/transfers/{pool_id}/extract.pdf").status_code == 403
    assert as_user(app, "teacher.a").get(f"{A}/transfers/{pool_id}/extract.pdf").status_code == 403
    assert (
        as_user(app, "guardian.both").get(f"{B}/transfers/{pool_id}/extract.pdf").status_code == 403
    )
    claim(transfer, pool_id)
    after = receiving.get(f"{B}/transfers/{pool_id}/extract.pdf")
    assert after.status_code == 200 and after.data == ready.data


# --- the municipality -------------------------------------------------------------------------


def test_the_municipality_page_is_for_operators_only(transfer, app):
    pool_id = leave(transfer)
    claim(transfer, pool_id)
    operator = as_user(app, "operator.test")
    page = operator.get("/municipality/transfers")
    assert page.status_code == 200
    body = text_of(page)
    assert "Agnė Ambrazaitė" in body and "Boris Direktor" in body
    assert "Alpha progimnazija" in body and "Бета гимназия" in body
    assert "/municipality/transfers" in text_of(operator.get("/municipality/schools"))
    for who in ("admin.a", "director.b"):
        assert as_user(app, who).get("/municipality/transfers").status_code == 403


def test_the_municipality_pages_name_a_persons_name_as_such(transfer, app):
    leave(transfer)
    operator = as_user(app, "operator.test")
    post_form(operator, "/language", {"locale": "lt"}, form_page="/municipality/transfers")
    for path in ("/municipality/transfers", "/municipality/accounts?q=globėja"):
        page = operator.get(path).get_data(as_text=True)
        assert "<thead><tr><th>Vardas, pavardė</th>" in page, path
        assert ">Pavadinimas<" not in page, path


def test_the_municipality_page_lists_entries_waiting_too_long(transfer, app, school_day):
    leave(transfer)
    school_day(date(2026, 10, 5))  # 20 days later
    body = text_of(as_user(app, "operator.test").get("/municipality/transfers"))
    stale = body.split('id="stale"')[1].split("</table>")[0]
    assert "Agnė Ambrazaitė" in stale and "<td>20</td>" in stale


# --- notifications ----------------------------------------------------------------------------


def test_the_notifications_reach_the_heads_and_the_guardian(transfer, world):
    """Dispatched and sent by the existing jobs: school B's director learns that a student is
    heading there; after the claim school A's administrator and director learn where the
    student went, and the guardian learns the child's new school (the student does not)."""
    session = transfer.session
    accounts = {a.login: a for a in session.scalars(select(Account))}
    accounts["guardian.both"].locale = "en"
    session.commit()
    admin_a, director_a = accounts["admin.a"].id, accounts["director.a"].id
    guardian, student = accounts["guardian.both"].id, accounts["student.a"].id
    director_b = accounts["director.b"].id
    pool_id = leave(transfer)
    claim(transfer, pool_id)
    for school in (world.school_a, world.school_b):
        dispatch_events(school.id)
    for job in list(queue().jobs):
        if job.func_name.endswith("send_deliveries"):
            send_deliveries(*job.args)

    def in_app(school) -> dict[int, set[str]]:
        bind_to_school(db.session, school)
        rows = db.session.scalars(
            select(NotificationDelivery).where(NotificationDelivery.channel == "in_app")
        )
        found: dict[int, set[str]] = {}
        for d in rows:
            found.setdefault(d.account_id, set()).add(d.subject)
        return found

    in_b, in_a = in_app(world.school_b), in_app(world.school_a)
    assert in_b[director_b] == {"A student is heading to your school: Agnė Ambrazaitė"}
    assert in_b[guardian] == {"Your child's new school is Бета гимназия"}
    assert director_b not in in_a
    for head in (admin_a, director_a):
        assert in_a[head] == {"Agnė Ambrazaitė now studies at Бета гимназия"}
    assert student not in in_b and student not in in_a


def test_the_records_carried_over_are_shown_to_those_who_teach_and_raise_the_student(
    transfer, app, world
):
    """School B has no maths group: the grade came as a carried record. The claim's page links
    to it; the director and the student's guardian read it, a teacher of school B who does not
    teach the student does not."""
    pool_id = leave(transfer)
    client = as_user(app, "director.b")
    claimed = post_form(
        client, f"{B}/transfers/pool/{pool_id}/claim", {"class_id": str(transfer.class_b_id)},
        form_page=f"{B}/transfers/pool",
    )  # fmt: skip
    page = text_of(client.get(claimed.headers["Location"]))
    person_id = db.session.get(PoolEntry, pool_id).claimed_person_id
    carried = f"{B}/transfers/students/{person_id}/carried"
    assert carried in page
    history = text_of(client.get(carried))
    assert "Records from the previous school" in history and "Alpha progimnazija" in history
    grades = history[history.index("<h2>Grades</h2>") :]
    assert "Sep 9, 2026" in grades and "<td>9</td>" in grades
    guardian = as_user(app, "guardian.both")
    assert guardian.get(carried).status_code == 200
    # the family's diary leads there
    assert carried in guardian.get(f"{B}/diary?student={person_id}").get_data(as_text=True)
    session = transfer.session
    session.expunge_all()
    bind_to_school(session, world.school_b)
    new_account(session, world.school_b, "teacher.b", "Tina Mokytoja", Role.TEACHER)
    session.commit()
    assert as_user(app, "teacher.b").get(carried).status_code == 403
