"""Safety instructions: who records them for whom, bad input, reading and deleting, the
sign-off sheet (PDF) and the pages."""

from __future__ import annotations

import html
from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from accounts.models import Role
from classroom import _person, _student, new_account
from conftest import login, post_form
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.i18n import in_locale
from gradebook.briefings import services
from gradebook.briefings.models import Briefing
from school.classes.models import Group, GroupStudent, GroupTeacher
from school.people.models import Student
from tenants.services import bind_to_school

TODAY = date(2026, 9, 9)
BASE = "/s/school-a"
TOPIC = "Saugus elgesys chemijos kabinete"


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


@pytest.fixture(autouse=True)
def fixed_today(school_day):
    """The pages' "today" (``dienynas.clock.today``) is ``TODAY``."""
    school_day(TODAY)


@pytest.fixture
def c(classroom):
    """The classroom with a teacher of class 6b only (``teacher6.a``: Rasa Šeštokė, teaching
    the group "6b fizinis")."""
    session = classroom.session
    account = new_account(session, classroom.school, "teacher6.a", "Rasa Šeštokė", Role.TEACHER)
    person = _person(session, "Rasa", "Šeštokė", account)
    group = Group(year_id=classroom.year.id, subject_id=classroom.maths.subject_id,
                  name="6b fizinis", kind="class", class_id=classroom.c6b.id)  # fmt: skip
    session.add(group)
    session.flush()
    session.add(GroupTeacher(group_id=group.id, teacher_id=person.id))
    session.add(GroupStudent(group_id=group.id, student_id=classroom.outsider.id))
    session.flush()
    classroom.accounts["other_class_teacher"] = account
    classroom.other_class_group = group
    classroom.other_class_teacher = person
    return classroom


def record(c, who: str = "head", **kwargs) -> Briefing:
    giver = {"head": c.head, "teacher": c.teacher, "other_teacher": c.other_teacher}.get(who)
    values = {
        "class_id": c.c5a.id,
        "group_id": None,
        "on_day": TODAY,
        "topic": TOPIC,
        "given_by": (giver or c.head).id,
        "today": TODAY,
    } | kwargs
    return services.record_briefing(c.session, c.account(who), c.school, **values)


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Briefing))


def logged_in(app, who: str):
    client = app.test_client()
    login(client, who)
    return client


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


# --- recording --------------------------------------------------------------------------------


def test_the_head_records_for_the_class_and_a_teacher_for_their_group(c):
    # recorded in another order than the days': the list is by day, newest first
    by_admin = record(c, "admin", group_id=c.english.id, given_by=c.other_teacher.id,
                      on_day=date(2026, 9, 1), topic="x" * 200)  # fmt: skip
    assert by_admin.recorded_by == c.account("admin").id and len(by_admin.topic) == 200
    by_head = record(c, topic="  Saugus elgesys\n mokslo metų pradžioje ")
    assert (by_head.class_id, by_head.group_id, by_head.on_day, by_head.topic) == (
        c.c5a.id, None, TODAY, "Saugus elgesys mokslo metų pradžioje",
    )  # fmt: skip
    assert (by_head.given_by, by_head.recorded_by) == (c.head.id, c.account("head").id)
    by_teacher = record(c, "teacher", group_id=c.maths.id, on_day=date(2026, 9, 8))
    assert (by_teacher.group_id, by_teacher.given_by) == (c.maths.id, c.teacher.id)
    found = services.class_briefings(c.session, c.account("head"), c.school, c.c5a.id)
    assert [row.briefing.id for row in found.rows] == [by_head.id, by_teacher.id, by_admin.id]
    first, second, _third = found.rows
    assert (first.given_by.last_name, first.group_name, first.recorded_by) == (
        "Vadovė", None, "Kristina Vadovė",
    )  # fmt: skip
    assert (second.given_by.last_name, second.group_name) == ("Mokytojas", "5a matematika")
    assert found.access.manages and {g.id for g in found.groups} == {c.maths.id, c.english.id}
    assert found.deletable == {by_head.id}


def test_a_teacher_may_record_only_for_a_group_they_teach(c):
    found = services.class_briefings(c.session, c.account("teacher"), c.school, c.c5a.id)
    assert not found.access.manages and [g.id for g in found.groups] == [c.maths.id]
    with pytest.raises(PermissionDenied):
        record(c, "teacher", group_id=c.english.id)
    with pytest.raises(ServiceError) as refused:
        record(c, "teacher")  # the whole class: the class head's
    assert refused.value.field == "group_id"
    assert count(c.session) == 0


def test_a_mixed_group_counts_in_each_class_with_its_own_students(c):
    """A group of several classes is "of" each class it has students of; each class's sheet
    lists that class's students of the group."""
    mixed = Group(year_id=c.year.id, subject_id=c.english.subject_id, name="5-6 technologijos",
                  kind="mixed", class_id=None)  # fmt: skip
    c.session.add(mixed)
    c.session.flush()
    c.session.add(GroupTeacher(group_id=mixed.id, teacher_id=c.other_class_teacher.id))
    for student in (c.students[2], c.outsider):
        c.session.add(GroupStudent(group_id=mixed.id, student_id=student.id))
    c.session.flush()
    in_5a = record(c, "other_class_teacher", group_id=mixed.id,
                   given_by=c.other_class_teacher.id)  # fmt: skip
    in_6b = record(c, "other_class_teacher", class_id=c.c6b.id, group_id=mixed.id,
                   given_by=c.other_class_teacher.id)  # fmt: skip
    teacher = c.account("other_class_teacher")
    sheet = services.sign_off_sheet(c.session, teacher, c.school, c.c5a.id, in_5a.id)
    assert [p.id for p in sheet.students] == [c.students[2].id]
    sheet = services.sign_off_sheet(c.session, teacher, c.school, c.c6b.id, in_6b.id)
    assert [p.id for p in sheet.students] == [c.outsider.id]
    # but not a group of the other class only
    with pytest.raises(ServiceError) as refused:
        record(c, group_id=c.other_class_group.id)
    assert refused.value.field == "group_id"


def _too_long(c):
    return {"topic": "x" * 201}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda c: {"topic": ""}, "topic", "Write the instruction's topic."),
        (lambda c: {"topic": " \n "}, "topic", "Write the instruction's topic."),
        (_too_long, "topic", "The topic may be at most 200 characters long."),
        (lambda c: {"on_day": date(2026, 9, 10)}, "on_day", "Sep 10, 2026 is in the future."),
        (lambda c: {"on_day": date(2026, 8, 31)}, "on_day",
         "Aug 31, 2026 is outside the current school year (Sep 1, 2026 – Aug 31, 2027)."),
        (lambda c: {"group_id": c.other_class_group.id}, "group_id",
         "Choose a group of class 5a."),
        (lambda c: {"group_id": 10**9}, "group_id", "Choose a group of class 5a."),
        (lambda c: {"given_by": c.guardian.id}, "given_by",
         "Choose who gave the instruction: a member of the school's staff."),
        (lambda c: {"given_by": c.students[0].id}, "given_by",
         "Choose who gave the instruction: a member of the school's staff."),
        (lambda c: {"given_by": None}, "given_by",
         "Choose who gave the instruction: a member of the school's staff."),
    ],
)  # fmt: skip
def test_bad_input_is_refused_and_nothing_is_saved(c, change, field, message):
    with pytest.raises(ServiceError) as refused:
        record(c, **change(c))
    assert (refused.value.field, refused.value.message) == (field, message)
    assert count(c.session) == 0


def test_a_class_of_another_school_year_is_refused(c):
    from school.calendar.services import create_year
    from school.classes.models import SchoolClass

    next_year = create_year(c.session, name="2027–2028 A", starts_on=date(2027, 9, 1),
                            ends_on=date(2028, 8, 31))  # fmt: skip
    c6a = SchoolClass(year_id=next_year.id, grade_level=6, letter="a", head_id=c.head.id)
    c.session.add(c6a)
    c.session.flush()
    with pytest.raises(ServiceError) as refused:
        record(c, class_id=c6a.id)
    assert refused.value.field == "class_id"
    assert count(c.session) == 0


@pytest.mark.parametrize("who", ["other_class_teacher", "director", "guardian", "student"])
def test_others_may_not_record(c, who):
    with pytest.raises(PermissionDenied):
        record(c, who)
    with pytest.raises(PermissionDenied):
        record(c, who, group_id=c.maths.id)
    assert count(c.session) == 0


# --- reading and deleting ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["head", "admin", "director", "teacher", "other_teacher"])
def test_who_reads_the_list(c, who):
    briefing = record(c)
    found = services.class_briefings(c.session, c.account(who), c.school, c.c5a.id)
    assert [row.briefing.id for row in found.rows] == [briefing.id]
    sheet = services.sign_off_sheet(c.session, c.account(who), c.school, c.c5a.id, briefing.id)
    assert sheet.briefing.id == briefing.id


@pytest.mark.parametrize("who", ["other_class_teacher", "guardian", "student"])
def test_others_do_not_read_the_list_or_the_sheet(c, who):
    briefing = record(c)
    with pytest.raises(PermissionDenied):
        services.class_briefings(c.session, c.account(who), c.school, c.c5a.id)
    with pytest.raises(PermissionDenied):
        services.sign_off_sheet(c.session, c.account(who), c.school, c.c5a.id, briefing.id)


def test_another_classs_briefing_is_not_found_by_this_classs_address(c):
    briefing = record(c)
    with pytest.raises(NotFound):
        services.sign_off_sheet(c.session, c.account("admin"), c.school, c.c6b.id, briefing.id)


def test_the_author_and_the_administrator_delete(c):
    by_teacher = record(c, "teacher", group_id=c.maths.id)
    by_head = record(c)
    for who in ("head", "director", "other_teacher"):
        with pytest.raises(PermissionDenied):
            services.delete_briefing(c.session, c.account(who), c.school, by_teacher)
    services.delete_briefing(c.session, c.account("teacher"), c.school, by_teacher)
    services.delete_briefing(c.session, c.account("admin"), c.school, by_head)
    assert count(c.session) == 0


def test_the_sheet_lists_the_active_students_by_name(c):
    left = c.students[1]
    c.session.get(Student, left.id).status = "left"
    early = _student(c.session, "Ąžuolas", "Ąbalis", c.c5a)  # Ą sorts with A, not after Z
    c.session.add(GroupStudent(group_id=c.maths.id, student_id=early.id))
    c.session.flush()
    briefing = record(c)
    sheet = services.sign_off_sheet(c.session, c.account("head"), c.school, c.c5a.id, briefing.id)
    expected = [early] + [p for p in c.students if p.id != left.id]
    assert [p.last_name for p in sheet.students] == [p.last_name for p in expected]
    assert [p.last_name for p in sheet.students][:3] == ["Ąbalis", "Ambrazaitė", "Čepas"]
    # the group's students only, when a group was instructed
    c.session.delete(
        c.session.get(GroupStudent, {"group_id": c.maths.id, "student_id": c.students[3].id})
    )
    c.session.flush()
    for_group = record(c, "teacher", group_id=c.maths.id)
    sheet = services.sign_off_sheet(
        c.session, c.account("teacher"), c.school, c.c5a.id, for_group.id
    )
    assert [p.id for p in sheet.students] == [p.id for p in expected if p.id != c.students[3].id]
    assert (sheet.group.name, sheet.given_by.last_name) == ("5a matematika", "Mokytojas")


# --- pages ------------------------------------------------------------------------------------


def test_the_head_records_on_the_page_and_prints_the_sheet(app, c):
    url, head_id = f"{BASE}/classes/{c.c5a.id}/briefings", c.head.id
    names = [f"{p.last_name} {p.first_name}" for p in c.students]
    c.session.commit()
    head = logged_in(app, "head.a")
    page = text_of(head.get(url))
    assert "Record a safety instruction" in page and "No safety instructions" in page
    assert f'value="{head_id}" selected' in page and 'value="2026-09-09"' in page
    response = post_form(head, url, {"on_day": "2026-09-08", "group_id": "",
                                     "given_by": str(head_id), "topic": TOPIC})  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    page = text_of(head.get(url))
    assert "The safety instruction is recorded." in page and TOPIC in page
    assert "Sep 8, 2026" in page and "Kristina Vadovė" in page
    bind_to_school(c.session, c.school)
    briefing_id = c.session.scalar(select(Briefing.id))
    c.session.commit()
    pdf_url = f"{url}/{briefing_id}/sheet.pdf"
    assert pdf_url in page
    response = head.get(pdf_url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Cache-Control"] == "private, no-store"
    text = pdf_text(response.data)
    assert "Alpha progimnazija" in text and TOPIC in text and "Klasė: 5a" in text
    # in the school's language (Lithuanian), whatever the reader's
    assert "Data: 2026 m. rugsėjo 8 d." in text and "Mokinys" in text
    assert "Kristina Vadovė" in text
    for name in names:
        assert name in text
    assert "Išorinis" not in text  # 6b's student


def test_the_page_shows_bad_input_and_saves_nothing(app, c):
    url = f"{BASE}/classes/{c.c5a.id}/briefings"
    good = {"on_day": "2026-09-09", "group_id": str(c.maths.id), "given_by": str(c.teacher.id),
            "topic": TOPIC}  # fmt: skip
    english = str(c.english.id)
    c.session.commit()
    teacher = logged_in(app, "teacher.a")
    for change, message in (
        ({"topic": ""}, "Write the instruction's topic."),
        ({"topic": "y" * 201}, "The topic may be at most 200 characters long."),
        ({"on_day": "2026-09-10"}, "Sep 10, 2026 is in the future."),
        ({"on_day": "rugsėjo 9"}, "“rugsėjo 9” is not a date; use the form YYYY-MM-DD."),
        ({"group_id": ""}, "Choose the group you instructed."),
    ):
        response = post_form(teacher, url, good | change)
        assert response.status_code == 400, change
        assert message in text_of(response)
    response = post_form(teacher, url, good | {"group_id": english})
    assert response.status_code == 403
    bind_to_school(c.session, c.school)
    assert count(c.session) == 0


def test_refusals_on_the_pages(app, c):
    briefing_id = record(c, "teacher", group_id=c.maths.id).id
    url = f"{BASE}/classes/{c.c5a.id}/briefings"
    data = {"on_day": "2026-09-09", "group_id": "", "given_by": str(c.head.id), "topic": TOPIC}
    c.session.commit()
    for login_name in ("teacher6.a", "guardian.both", "student.a"):
        client = logged_in(app, login_name)
        assert client.get(url).status_code == 403, login_name
        assert client.get(f"{url}/{briefing_id}/sheet.pdf").status_code == 403, login_name
        assert post_form(client, url, data, form_page=f"{BASE}/tests").status_code == 403
        deleting = post_form(client, f"{url}/{briefing_id}/delete", {}, form_page=f"{BASE}/tests")
        assert deleting.status_code == 403, login_name
    head = logged_in(app, "head.a")  # reads, but did not record it
    assert post_form(head, f"{url}/{briefing_id}/delete", {}, form_page=url).status_code == 403
    bind_to_school(c.session, c.school)
    assert count(c.session) == 1
    c.session.commit()
    teacher = logged_in(app, "teacher.a")
    deleting = post_form(teacher, f"{url}/{briefing_id}/delete", {}, form_page=url)
    assert deleting.status_code == 302
    assert "The safety instruction is deleted." in text_of(teacher.get(url))
    bind_to_school(c.session, c.school)
    assert count(c.session) == 0


def test_another_schools_briefing_is_not_found(app, c, world):
    briefing_id = record(c).id
    school_b = f"/s/school-b/classes/{c.c5a.id}/briefings"
    other_class = f"{BASE}/classes/{c.c6b.id}/briefings/{briefing_id}/sheet.pdf"
    new_account(c.session, world.school_b, "admin.b", "Boris Administrator", Role.ADMIN)
    c.session.commit()
    for login_name in ("admin.b", "guardian.both"):
        client = logged_in(app, login_name)
        assert client.get(school_b).status_code == 404
        assert client.get(f"{school_b}/{briefing_id}/sheet.pdf").status_code == 404
        deleting = post_form(client, f"{school_b}/{briefing_id}/delete", {},
                             form_page="/s/school-b/tests")  # fmt: skip
        assert deleting.status_code == 404
    # and in school A, under another class's address
    admin = logged_in(app, "admin.a")
    assert admin.get(other_class).status_code == 404
    bind_to_school(c.session, c.school)
    assert count(c.session) == 1


def test_the_list_pages_queries_do_not_grow_with_the_briefings(app, c, count_queries):
    record(c)
    url = f"{BASE}/classes/{c.c5a.id}/briefings"
    c.session.commit()
    head = logged_in(app, "head.a")
    with count_queries() as queries:
        page = text_of(head.get(url))
    assert page.count("sheet.pdf") == 1
    few = len(queries)
    bind_to_school(c.session, c.school)
    for n in range(5):
        record(c, "teacher", group_id=c.maths.id, topic=f"Instruktažas {n}")
    c.session.commit()
    with count_queries() as queries:
        page = text_of(head.get(url))
    assert page.count("sheet.pdf") == 6 and "Instruktažas 4" in page
    assert len(queries) == few, queries


def test_the_menu_and_the_class_overview_lead_to_the_list(app, c):
    url = f"{BASE}/classes/{c.c5a.id}/briefings"
    overview, c6b_id = f"{BASE}/classes/{c.c5a.id}/overview", c.c6b.id
    c.session.commit()
    head = logged_in(app, "head.a")
    assert f'{BASE}/briefings"' in head.get(f"{BASE}/").get_data(as_text=True)
    assert url in head.get(overview).get_data(as_text=True)
    response = head.get(f"{BASE}/briefings")
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    response = logged_in(app, "teacher6.a").get(f"{BASE}/briefings")
    assert response.headers["Location"].endswith(f"/classes/{c6b_id}/briefings")
    page = text_of(logged_in(app, "director.a").get(f"{BASE}/briefings"))
    assert "5a" in page and "6b" in page
    guardian_home = logged_in(app, "guardian.both").get(f"{BASE}/").get_data(as_text=True)
    assert f'{BASE}/briefings"' not in guardian_home
