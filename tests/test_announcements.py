"""Announcements (issue 7): school-wide or for chosen classes and audiences, optionally
scheduled; the periodic job publishes a due one once however often it runs; the list shows
each reader what is addressed to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import Account, Role
from classroom import MONDAY, new_account
from conftest import login, post_form
from dienynas.database import db
from dienynas.errors import PermissionDenied, ServiceError
from dienynas.jobs import PERIODIC
from notifications.announcements import services
from notifications.announcements.models import Announcement
from notifications.announcements.tasks import publish_announcements
from notifications.models import NotificationDelivery, NotificationEvent
from school.people.models import Guardianship, Person
from tenants.services import bind_to_school
from test_notifications import family, run_jobs, smtp

#: test_notifications' fixtures, used here by name (pytest finds them in this module)
SHARED_FIXTURES = (family, smtp)
NOW = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def school(family):
    """The family plus a guardian (with an account) of the 6b student ``outsider``."""
    session = family.session
    account = new_account(
        session, family.school, "guardian.6b", "Petras Kitas", Role.GUARDIAN, locale="lt"
    )
    person = Person(
        first_name="Petras", last_name="Kitas", document_kind="other", account_id=account.id
    )
    session.add(person)
    session.flush()
    session.add(Guardianship(guardian_id=person.id, student_id=family.outsider.id))
    session.flush()
    family.accounts["other_guardian"] = account
    return family


def _write(c, who: str = "director", **kwargs) -> Announcement:
    values = {"title": "Mokslo metų šventė", "body": "Rugsėjo 1 d. 9 val. kieme."} | kwargs
    return services.create(c.session, c.account(who), c.school, NOW, **values)


def test_addressing_by_audience_and_class(school, world):
    c = school
    ids = {key: c.account(key).id for key in c.accounts}
    everyone = _write(c)
    staff = _write(c, title="Posėdis", audiences=["staff"])
    sixth = _write(c, title="6b tėvams", audiences=["guardians"], class_ids=[c.c6b.id])
    fifth = _write(c, title="5a", audiences=["guardians", "students"], class_ids=[c.c5a.id])
    expected = {
        everyone.id: {ids[k] for k in ids if k not in ("director",)},
        staff.id: {ids[k] for k in ("teacher", "other_teacher", "head", "admin")},
        sixth.id: {ids["other_guardian"]},
        fifth.id: {ids["guardian"], ids["russian"], ids["student"]},
    }
    found = services.recipients_of_announcements(c.session, world.school_a.id, set(expected))
    assert found == expected

    def titles(who: str) -> set[str]:
        return {a.title for a, _ in services.visible(c.session, c.account(who), c.school)}

    assert titles("guardian") == {"Mokslo metų šventė", "5a"}
    assert titles("other_guardian") == {"Mokslo metų šventė", "6b tėvams"}
    assert titles("student") == {"Mokslo metų šventė", "5a"}
    assert titles("teacher") == {"Mokslo metų šventė", "Posėdis"}
    assert titles("director") == {"Mokslo metų šventė", "Posėdis", "6b tėvams", "5a"}


def test_published_announcement_is_delivered_once_in_each_language(school, smtp, world):
    c = school
    _write(c, audiences=["guardians"], class_ids=[c.c5a.id])
    c.session.commit()
    run_jobs()
    run_jobs()
    polish, russian = smtp.to("irena@example.lt"), smtp.to("olga@example.lt")
    assert len(polish) == len(russian) == 1 and len(smtp.messages) == 2
    assert polish[0]["Content-Language"] == "pl" and "Mokslo metų šventė" in polish[0]["Subject"]
    assert russian[0]["Content-Language"] == "ru"
    assert "kieme" in russian[0].get_body(("plain",)).get_content()


def test_scheduled_announcement_is_published_once_by_the_job_run_twice(school, world):
    c = school
    later = datetime.now(UTC) + timedelta(hours=2)
    announcement = services.create(
        c.session, c.account("admin"), c.school, datetime.now(UTC),
        title="Rytoj ekskursija", body="Autobusas 8:00.", publish_at=later,
    )  # fmt: skip
    announcement_id, guardian_id = announcement.id, c.account("guardian").id
    c.session.commit()
    assert publish_announcements() == 0  # not due yet
    session = bind(world)
    assert session.get(Announcement, announcement_id).published_at is None
    assert not services.visible(session, session.get(Account, guardian_id), world.school_a)
    session.get(Announcement, announcement_id).publish_at = datetime.now(UTC) - timedelta(minutes=1)
    session.commit()
    assert publish_announcements() == 1
    assert publish_announcements() == 0
    run_jobs()
    session = bind(world)
    events = session.scalars(
        select(NotificationEvent).where(NotificationEvent.kind == "announcement")
    ).all()
    assert len(events) == 1 and events[0].payload == {"announcement_id": announcement_id}
    deliveries = session.scalars(select(NotificationDelivery)).all()
    pairs = [(d.account_id, d.channel) for d in deliveries]
    assert len(pairs) == len(set(pairs)) and pairs
    assert "notifications.announcements.tasks.publish_announcements" in {p.func for p in PERIODIC}


@pytest.mark.parametrize(
    ("values", "field", "text"),
    [
        ({"title": " "}, "title", "Write the title"),
        ({"title": "x" * 201}, "title", "longer than 200"),
        ({"body": ""}, "body", "Write the announcement"),
        ({"audiences": ["parents"]}, "audiences", "Choose the audience"),
        ({"class_ids": [999_999]}, "classes", "Choose the classes"),
        ({"audiences": ["staff"], "class_ids": "c5a"}, "classes", "narrow guardians"),
    ],
)
def test_bad_announcements_are_refused_and_nothing_saved(school, values, field, text):
    c = school
    if values.get("class_ids") == "c5a":
        values = values | {"class_ids": [c.c5a.id]}
    with pytest.raises(ServiceError) as refused:
        _write(c, **values)
    assert refused.value.field == field and text in refused.value.message
    assert c.session.scalar(select(func.count()).select_from(Announcement)) == 0
    assert c.session.scalar(select(func.count()).select_from(NotificationEvent)) == 0


def test_only_the_administrator_the_director_and_class_heads_write(school):
    for who in ("teacher", "guardian", "student"):
        with pytest.raises(PermissionDenied):
            _write(school, who)


def test_a_class_head_writes_to_the_families_of_their_classes_only(school, world):
    """5a's head: to 5a's guardians and students (the default audience), never to another
    class or to the staff; nothing saved when refused."""
    c = school
    ids = {key: c.account(key).id for key in c.accounts}
    trip = _write(c, "head", title="Išvyka", class_ids=[c.c5a.id])
    assert trip.audiences == ["guardians", "students"]
    found = services.recipients_of_announcements(c.session, world.school_a.id, {trip.id})
    assert found[trip.id] == {ids["guardian"], ids["russian"], ids["student"]}
    with pytest.raises(PermissionDenied, match="only to the classes they head"):
        _write(c, "head", class_ids=[c.c6b.id])
    with pytest.raises(ServiceError, match="Choose the classes you head") as no_class:
        _write(c, "head")
    assert no_class.value.field == "classes"
    with pytest.raises(ServiceError, match="staff hear from the administration"):
        _write(c, "head", class_ids=[c.c5a.id], audiences=["staff"])
    titles = {a.title for a in c.session.scalars(select(Announcement))}
    assert titles == {"Išvyka"}
    # the head's own scheduled announcement is listed to them, others' are not
    _write(c, "head", title="Vėliau", class_ids=[c.c5a.id], publish_at=NOW + timedelta(days=2))
    _write(c, title="Direktoriaus", publish_at=NOW + timedelta(days=2))
    assert [a.title for a in services.pending(c.session, c.account("head"), c.school)] == ["Vėliau"]


def bind(world):
    bind_to_school(db.session, world.school_a)
    return db.session


def test_pages(school, app, client, world, school_day):
    school_day(MONDAY)
    school.session.commit()
    login(client, "teacher.a")
    assert client.get("/s/school-a/announcements/new").status_code == 403
    assert "/s/school-a/announcements" in client.get("/s/school-a/").get_data(as_text=True)
    director = app.test_client()
    login(director, "director.a")
    bad = post_form(
        director, "/s/school-a/announcements/new",
        {"title": "Susirinkimas", "body": "Tekstas", "publish_on": "2099-01-01"},
    )  # fmt: skip
    assert bad.status_code == 400 and "Enter a time" in bad.get_data(as_text=True)
    session = bind(world)
    assert session.scalar(select(func.count()).select_from(Announcement)) == 0
    session.commit()
    scheduled = post_form(
        director, "/s/school-a/announcements/new",
        {"title": "Susirinkimas", "body": "Tekstas", "publish_on": "2099-01-01",
         "publish_time": "18:30", "audiences": ["guardians"]},
    )  # fmt: skip
    assert scheduled.status_code == 302
    now = post_form(
        director, "/s/school-a/announcements/new",
        {"title": "Šiandien", "body": "Tekstas", "audiences": ["staff"]},
    )  # fmt: skip
    assert now.status_code == 302
    session = bind(world)
    rows = {a.title: a for a in session.scalars(select(Announcement))}
    # 18:30 in Vilnius in winter is 16:30 UTC
    assert rows["Susirinkimas"].publish_at == datetime(2099, 1, 1, 16, 30, tzinfo=UTC)
    assert rows["Susirinkimas"].published_at is None and rows["Šiandien"].published_at
    session.commit()
    page = director.get("/s/school-a/announcements").get_data(as_text=True)
    assert "Šiandien" in page and "Susirinkimas" in page  # published, and scheduled
    teacher_page = client.get("/s/school-a/announcements").get_data(as_text=True)
    assert "Šiandien" in teacher_page and "Susirinkimas" not in teacher_page
    refused = post_form(
        client, "/s/school-a/announcements/new", {"title": "x", "body": "y"},
        form_page="/s/school-a/announcements",
    )  # fmt: skip
    assert refused.status_code == 403


def test_the_class_heads_form_offers_their_classes_and_families_only(school, app, school_day):
    school_day(MONDAY)
    c = school
    c5a, c6b = c.c5a.id, c.c6b.id
    c.session.commit()
    head = app.test_client()
    login(head, "head.a")
    assert "/s/school-a/announcements/new" in head.get("/s/school-a/announcements").get_data(
        as_text=True
    )
    form = head.get("/s/school-a/announcements/new").get_data(as_text=True)
    assert f'<option value="{c5a}"' in form and f'<option value="{c6b}"' not in form
    assert 'value="guardians"' in form and 'value="staff"' not in form
    sent = post_form(
        head, "/s/school-a/announcements/new",
        {"title": "Tėvų susirinkimas", "body": "Ketvirtadienį 18 val.", "classes": [str(c5a)]},
    )  # fmt: skip
    assert sent.status_code == 302
    other = post_form(
        head, "/s/school-a/announcements/new",
        {"title": "x", "body": "y", "classes": [str(c6b)]},
        form_page="/s/school-a/announcements",
    )  # fmt: skip
    assert other.status_code == 403
