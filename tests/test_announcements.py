"""Announcements (issue 7): school-wide or for chosen classes and audiences, optionally
scheduled; the periodic job publishes a due one once however often it runs; the list shows
each reader what is addressed to them, with the attached files (seed 001, 14.15 and 15.7),
which only those readers download."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import Account, Role
from classroom import MONDAY, new_account
from conftest import login, post_form
from dienynas.database import db
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.jobs import PERIODIC
from gradebook.lessons.services import MAX_FILE_BYTES, Upload
from notifications.announcements import services
from notifications.announcements.models import Announcement, AnnouncementFile
from notifications.announcements.tasks import publish_announcements
from notifications.models import NotificationDelivery, NotificationEvent
from school.people.models import Guardianship, Person
from tenants.services import bind_to_school
from test_notifications import family, run_jobs, smtp

#: test_notifications' fixtures, used here by name (pytest finds them in this module)
SHARED_FIXTURES = (family, smtp)
NOW = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)
PDF = b"%PDF-1.4 tiny"


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
        ({"files": [Upload("programa.exe", b"MZ")]}, "files", "cannot be attached"),
        ({"files": [Upload("netikras.pdf", b"<html>")]}, "files", "not the kind of file"),
        (
            {"files": [Upload("a.pdf", PDF), Upload("didelis.pdf", PDF + b"0" * MAX_FILE_BYTES)]},
            "files",
            "“didelis.pdf” is larger than 5 MB",
        ),
        ({"files": [Upload(f"{i}.pdf", PDF) for i in range(11)]}, "files", "At most 10 files"),
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
    assert c.session.scalar(select(func.count()).select_from(AnnouncementFile)) == 0
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
    assert "The announcement is published." in director.get(now.headers["Location"]).get_data(
        as_text=True
    )
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


def _files(session, announcement_id: int) -> list[AnnouncementFile]:
    return list(
        session.scalars(
            select(AnnouncementFile).where(AnnouncementFile.announcement_id == announcement_id)
        )
    )


def test_a_file_is_downloaded_by_the_addressed_families_only(
    school, app, client, world, school_day
):
    """Attached on the form; the 5a guardian sees the link and downloads the bytes (the name
    in the Content-Disposition, accents kept in filename*); 6b's guardian, another
    announcement's address, another school's address: 404, as if there were no file."""
    school_day(MONDAY)
    c = school
    school.session.commit()
    director = app.test_client()
    login(director, "director.a")
    sent = post_form(
        director, "/s/school-a/announcements/new",
        {"title": "Ugdymo planas", "body": "Pridedame planą.", "audiences": ["guardians"],
         "classes": [str(c.c5a.id)], "files": (io.BytesIO(PDF), "Ugdymo planas ąčę.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert sent.status_code == 302
    session = bind(world)
    announcement = session.scalar(select(Announcement))
    [file] = _files(session, announcement.id)
    assert (file.file_name, file.content_type, file.size) == (
        "Ugdymo planas ąčę.pdf", "application/pdf", len(PDF)
    )  # fmt: skip
    everyone = _write(c, title="Visiems")  # also shown to 6b's guardian
    path = f"/s/school-a/announcements/{announcement.id}/files/{file.id}"
    session.commit()

    login(client, "guardian.both")
    page = client.get("/s/school-a/announcements").get_data(as_text=True)
    assert path in page and "Ugdymo planas ąčę.pdf" in page
    response = client.get(path)
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="Ugdymo planas ace.pdf"; '
        "filename*=UTF-8''Ugdymo%20planas%20%C4%85%C4%8D%C4%99.pdf"
    )
    # the file under another announcement's address, or another school's
    assert client.get(f"/s/school-a/announcements/{everyone.id}/files/{file.id}").status_code == 404
    assert (
        client.get(f"/s/school-b/announcements/{announcement.id}/files/{file.id}").status_code
        == 404
    )

    other = app.test_client()
    login(other, "guardian.6b")
    assert other.get(path).status_code == 404
    page = other.get("/s/school-a/announcements").get_data(as_text=True)
    assert "Visiems" in page and "Ugdymo planas" not in page


def test_a_scheduled_announcements_files_are_its_authors_and_the_administrations(school):
    c = school
    scheduled = _write(
        c, "head", class_ids=[c.c5a.id], publish_at=NOW + timedelta(days=1),
        files=[Upload("planas.pdf", PDF)],
    )  # fmt: skip
    [file] = _files(c.session, scheduled.id)
    for who in ("head", "director", "admin"):
        found = services.announcement_file(
            c.session, c.account(who), c.school, scheduled.id, file.id
        )
        assert found.content == PDF
    for who in ("guardian", "student", "teacher"):  # addressed, but not published yet
        with pytest.raises(NotFound):
            services.announcement_file(c.session, c.account(who), c.school, scheduled.id, file.id)
    services.publish_due(c.session, NOW + timedelta(days=2))
    found = services.announcement_file(
        c.session, c.account("guardian"), c.school, scheduled.id, file.id
    )
    assert found.content == PDF
    with pytest.raises(NotFound):  # 5a's families only
        services.announcement_file(c.session, c.account("teacher"), c.school, scheduled.id, file.id)


def test_a_refused_file_on_the_form_is_named_and_nothing_saved(school, app, world, school_day):
    """The form takes more than one request's usual limit (two files of 4 and 5 MB: the view
    accepts files), and names the file it refuses."""
    school_day(MONDAY)
    school.session.commit()
    director = app.test_client()
    login(director, "director.a")
    fine = ("priedas.pdf", PDF + b"0" * (MAX_FILE_BYTES - 2**20))
    for files, text in (
        ([fine, ("didelis.pdf", PDF + b"0" * MAX_FILE_BYTES)], "“didelis.pdf” is larger than 5 MB"),
        ([("programa.exe", b"MZ")], "“programa.exe” cannot be attached"),
    ):
        refused = post_form(
            director, "/s/school-a/announcements/new",
            {"title": "Planas", "body": "Tekstas",
             "files": [(io.BytesIO(content), name) for name, content in files]},
            content_type="multipart/form-data",
        )  # fmt: skip
        page = refused.get_data(as_text=True)
        assert refused.status_code == 400 and text in page
        assert 'value="Planas"' in page  # the form keeps what was typed
    session = bind(world)
    assert session.scalar(select(func.count()).select_from(Announcement)) == 0
    assert session.scalar(select(func.count()).select_from(AnnouncementFile)) == 0


def test_the_list_runs_as_many_queries_for_one_announcement_as_for_three(
    school, world, app, client, count_queries, school_day
):
    """Each announcement has files (published ones and the director's scheduled ones): their
    names come in one query for the whole list, the content is not read."""
    school_day(MONDAY)
    c = school
    director_account, class_5a = c.account("director"), c.c5a.id
    c.session.commit()
    director = app.test_client()
    login(director, "director.a")
    login(client, "guardian.both")

    def announce(count: int) -> None:
        session = bind(world)
        for index in range(count):
            for publish_at in (None, NOW + timedelta(days=3)):
                services.create(
                    session, director_account, world.school_a, NOW,
                    title=f"Skelbimas {index}", body="Tekstas", class_ids=[class_5a],
                    publish_at=publish_at,
                    files=[Upload(f"{index}.pdf", PDF), Upload(f"{index}.txt", b"tekstas")],
                )  # fmt: skip
        session.commit()

    def queries(user_client) -> tuple[int, str]:
        with count_queries() as statements:
            response = user_client.get("/s/school-a/announcements")
        assert response.status_code == 200
        assert not any(re.search(r"announcement_files\.content\b", s) for s in statements)
        return len(statements), response.get_data(as_text=True)

    announce(1)
    before = {"guardian": queries(client), "director": queries(director)}
    assert before["guardian"][1].count("0.pdf") == 1 and before["director"][1].count("0.pdf") == 2
    announce(2)
    after = {"guardian": queries(client), "director": queries(director)}
    assert after["guardian"][1].count(".txt<") == 3 and after["director"][1].count(".txt<") == 6
    assert {k: n for k, (n, _) in after.items()} == {k: n for k, (n, _) in before.items()}


def test_the_author_and_the_administration_correct_an_announcement(school, smtp, world):
    """The class head corrects their own published announcement: readers see the new text
    marked as edited, and the notice not sent yet carries it. Nobody else but the director
    and the administrator changes it; a bad correction is refused and nothing is saved."""
    c = school
    trip = _write(c, "head", title="Išvyka", body="Penktadienį 8 val.", class_ids=[c.c5a.id])
    edited = services.edit(
        c.session, c.account("head"), c.school, trip.id, NOW + timedelta(minutes=5),
        title="Išvyka (pakeista)", body="Penktadienį 9 val.",
    )  # fmt: skip
    assert (edited.title, edited.body) == ("Išvyka (pakeista)", "Penktadienį 9 val.")
    assert edited.edited_at == NOW + timedelta(minutes=5)
    assert edited.edited_by == c.account("head").id
    for who, refusal in (("teacher", NotFound), ("guardian", PermissionDenied),
                         ("other_teacher", NotFound)):  # fmt: skip
        with pytest.raises(refusal):
            services.edit(c.session, c.account(who), c.school, trip.id, NOW, title="x", body="y")
    with pytest.raises(ServiceError, match="Write the title") as empty:
        services.edit(c.session, c.account("director"), c.school, trip.id, NOW, title=" ",
                      body="Kita")  # fmt: skip
    assert empty.value.field == "title"
    services.edit(c.session, c.account("director"), c.school, trip.id, NOW,
                  title="Išvyka (pakeista)", body="Penktadienį 9 val., prie mokyklos.")  # fmt: skip
    c.session.commit()
    run_jobs()
    polish = smtp.to("irena@example.lt")
    assert len(polish) == 1 and "Išvyka (pakeista)" in polish[0]["Subject"]
    assert "prie mokyklos" in polish[0].get_body(("plain",)).get_content()


def test_a_scheduled_announcement_is_corrected_without_an_edited_mark(school):
    c = school
    later = _write(c, title="Vėliau", publish_at=NOW + timedelta(days=2))
    services.edit(c.session, c.account("director"), c.school, later.id, NOW,
                  title="Vėliau, pataisyta", body="Tekstas")  # fmt: skip
    assert (later.title, later.edited_at) == ("Vėliau, pataisyta", None)


def test_a_withdrawn_announcement_is_gone_with_its_files_and_its_notices(school, smtp, world):
    """Withdrawn before the notices were sent: nobody is told, the files are deleted too,
    readers no longer see it. Only the author and the administration withdraw."""
    c = school
    announcement = _write(c, audiences=["guardians"], class_ids=[c.c5a.id],
                          files=[Upload("planas.pdf", PDF)])  # fmt: skip
    announcement_id, guardian_id = announcement.id, c.account("guardian").id
    with pytest.raises(PermissionDenied):
        services.withdraw(c.session, c.account("guardian"), c.school, announcement_id)
    with pytest.raises(NotFound):
        services.withdraw(c.session, c.account("head"), c.school, announcement_id + 1000)
    assert services.withdraw(c.session, c.account("admin"), c.school, announcement_id) == (
        "Mokslo metų šventė"
    )
    c.session.commit()
    run_jobs()
    assert smtp.messages == []
    session = bind(world)
    assert session.get(Announcement, announcement_id) is None
    assert _files(session, announcement_id) == []
    assert not services.visible(session, session.get(Account, guardian_id), world.school_a)


def test_edit_and_withdraw_pages(school, app, client, world, school_day):
    school_day(MONDAY)
    c = school
    trip = _write(c, "head", title="Išvyka", body="8 val.", class_ids=[c.c5a.id])
    other = _write(c, title="Direktoriaus")
    trip_id, other_id = trip.id, other.id
    c.session.commit()
    head = app.test_client()
    login(head, "head.a")
    page = head.get("/s/school-a/announcements").get_data(as_text=True)
    assert (
        f"/announcements/{trip_id}/edit" in page and f"/announcements/{other_id}/edit" not in page
    )
    assert head.get(f"/s/school-a/announcements/{other_id}/edit").status_code == 403
    form = head.get(f"/s/school-a/announcements/{trip_id}/edit").get_data(as_text=True)
    assert 'value="Išvyka"' in form and ">8 val.</textarea>" in form
    bad = post_form(
        head, f"/s/school-a/announcements/{trip_id}/edit", {"title": "", "body": "Kita"}
    )
    assert bad.status_code == 400 and "Write the title" in bad.get_data(as_text=True)
    assert bind(world).get(Announcement, trip_id).body == "8 val."
    db.session.commit()
    saved = post_form(
        head,
        f"/s/school-a/announcements/{trip_id}/edit",
        {"title": "Išvyka", "body": "Išvykstame 10.15"},
    )
    assert saved.status_code == 302

    login(client, "guardian.both")
    page = client.get("/s/school-a/announcements").get_data(as_text=True)
    assert "Išvykstame 10.15" in page and f"/announcements/{trip_id}/edit" not in page
    assert "· edited " in head.get("/s/school-a/announcements").get_data(as_text=True)
    assert client.get(f"/s/school-a/announcements/{trip_id}/withdraw").status_code == 403

    confirm = head.get(f"/s/school-a/announcements/{trip_id}/withdraw").get_data(as_text=True)
    assert "Withdraw the announcement “Išvyka”?" in confirm
    gone = post_form(head, f"/s/school-a/announcements/{trip_id}/withdraw", {})
    assert gone.status_code == 302
    page = client.get("/s/school-a/announcements").get_data(as_text=True)
    assert "Išvykstame 10.15" not in page and "Direktoriaus" in page
