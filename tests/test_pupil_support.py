"""The social pedagogue and the health specialist (seed 001, 17–19): the social pedagogue
follows every class's attendance and behaviour (the class overview, the month's statistics, the
attendance summary: reading only), writes announcements and messages to anyone; families may
write to both of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from classroom import MONDAY, Classroom, new_account
from conftest import login
from dienynas.errors import PermissionDenied
from gradebook.attendance import services as attendance
from gradebook.overview import services as overview
from notifications.announcements import services as announcements
from notifications.messages import services as messages
from school.people.models import Person


@dataclass
class Support:
    room: Classroom
    pedagogue: Person
    nurse: Person


@pytest.fixture
def support(classroom) -> Support:
    session = classroom.session
    people = []
    for login_name, first, last, role in (
        ("socialine.pedagoge", "Rasa", "Socialinė", Role.SOCIAL_PEDAGOGUE),
        ("slaugytoja", "Inga", "Sveikatos", Role.HEALTH_SPECIALIST),
    ):
        account = new_account(session, classroom.school, login_name, f"{first} {last}", role)
        classroom.accounts[login_name] = account
        person = Person(first_name=first, last_name=last, document_kind="other",
                        account_id=account.id)  # fmt: skip
        session.add(person)
        people.append(person)
    session.flush()
    return Support(classroom, *people)


def test_the_social_pedagogue_reads_every_class_but_excuses_nothing(support):
    c = support.room
    pedagogue = c.account("socialine.pedagoge")
    listed = overview.classes_to_overview(c.session, pedagogue, c.school, MONDAY)
    assert {k.id for k in listed} == {c.c5a.id, c.c6b.id}
    for school_class in (c.c5a, c.c6b):
        overview.require_class_reader(c.session, pedagogue, c.school, school_class)
        assert (
            attendance.require_summary_reader(c.session, pedagogue, c.school, school_class) is False
        )
    nurse = c.account("slaugytoja")
    with pytest.raises(PermissionDenied):
        overview.require_class_reader(c.session, nurse, c.school, c.c5a)
    with pytest.raises(PermissionDenied):
        attendance.require_summary_reader(c.session, c.account("teacher"), c.school, c.c6b)


def test_the_social_pedagogue_opens_the_class_pages(support, app, school_day):
    c = support.room
    school_day(MONDAY)
    c5a, c6b = c.c5a.id, c.c6b.id
    c.session.commit()
    client = app.test_client()
    login(client, "socialine.pedagoge")
    menu = client.get("/s/school-a/").get_data(as_text=True)
    assert "/s/school-a/classes/overview" in menu
    for class_id in (c5a, c6b):
        assert client.get(f"/s/school-a/classes/{class_id}/overview").status_code == 200
        assert client.get(f"/s/school-a/classes/{class_id}/statistics").status_code == 200
        assert client.get(f"/s/school-a/classes/{class_id}/attendance").status_code == 200
    teacher = app.test_client()
    login(teacher, "teacher.a")
    assert teacher.get(f"/s/school-a/classes/{c6b}/overview").status_code == 403


def test_the_social_pedagogue_announces_to_anyone_and_sees_their_own_scheduled(support):
    c = support.room
    now = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)
    pedagogue = c.account("socialine.pedagoge")
    announcements.create(
        c.session, pedagogue, c.school, now, title="Vaiko gerovės komisija",
        body="Posėdis penktadienį.", audiences=["staff"],
    )  # fmt: skip
    later = now + timedelta(days=3)
    announcements.create(
        c.session, pedagogue, c.school, now, title="Paskaita tėvams", body="Apie patyčias.",
        audiences=["guardians"], publish_at=later,
    )  # fmt: skip
    announcements.create(c.session, c.account("director"), c.school, now, title="Direktoriaus",
                         body="Vėliau.", publish_at=later)  # fmt: skip
    # the published one is not pending; of the scheduled ones, only their own
    assert [a.title for a in announcements.pending(c.session, pedagogue, c.school)] == [
        "Paskaita tėvams"
    ]
    with pytest.raises(PermissionDenied):
        announcements.create(c.session, c.account("slaugytoja"), c.school, now, title="x",
                             body="y")  # fmt: skip


def test_messages_reach_the_social_pedagogue_and_the_health_specialist(support):
    c = support.room
    pedagogue = messages.addressable(c.session, c.account("socialine.pedagoge"), c.school, MONDAY)
    assert set(pedagogue.classes) == {c.c5a.id, c.c6b.id}
    guardian = messages.addressable(c.session, c.account("guardian"), c.school, MONDAY)
    assert {support.pedagogue.id, support.nurse.id} <= set(guardian.persons)
    assert {c.head.id, c.teacher.id} <= set(guardian.persons)
    student = messages.addressable(c.session, c.account("student"), c.school, MONDAY)
    assert {support.pedagogue.id, support.nurse.id} <= set(student.persons)
