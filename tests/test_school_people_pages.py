"""school.people pages: class lists, forms, staff, the person page, reports, query counts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from accounts.models import Account, Role
from accounts.services import create_account, grant_role, hash_password
from conftest import TEST_PASSWORD, post_form
from conftest import login as log_in
from school.people import services
from school.people.models import Guardianship, Person, StaffRight, Student
from school.people.services import PersonDetails
from tenants.services import bind_to_school
from test_school_people import TODAY, People, admin, code_for, count, make_people, student_details

EN = {"Accept-Language": "en"}
_CHEAP_HASH = hash_password("not-used-here-1")


def login(client, name: str):
    """Log in with English chosen for the session (school A's own language is Lithuanian)."""
    post_form(client, "/language", {"locale": "en", "next": "/login"}, form_page="/login")
    return log_in(client, name)


@pytest.fixture
def people(in_school_a, world) -> People:
    return make_people(in_school_a, world)


def fill_class(session, school_class, how_many: int, start: int = 0) -> list[Student]:
    """Students with a guardian each, inserted directly (no Argon2 per person)."""
    students = []
    for n in range(start, start + how_many):
        accounts = [
            Account(login=f"s{n}.x", name=f"S{n} X", password_hash=_CHEAP_HASH),
            Account(login=f"g{n}.x", name=f"G{n} X", password_hash=_CHEAP_HASH,
                    last_login_at=datetime.now(UTC) if n % 2 else None),
        ]  # fmt: skip
        session.add_all(accounts)
        session.flush()
        child = Person(account_id=accounts[0].id, first_name=f"S{n}", last_name="X",
                       document_kind="other", document_number=f"D{n}")  # fmt: skip
        parent = Person(account_id=accounts[1].id, first_name=f"G{n}", last_name="X",
                        document_kind="other", phone="+37060000000")  # fmt: skip
        session.add_all([child, parent])
        session.flush()
        student = Student(person_id=child.id, class_id=school_class.id, status="active")
        session.add(student)
        session.flush()
        session.add(Guardianship(guardian_id=parent.id, student_id=child.id, relation="mother"))
        students.append(student)
    session.commit()
    return students


def test_menu_lists_the_people_pages(client, people):
    login(client, "admin.a")
    page = client.get("/s/school-a/", headers=EN).get_data(as_text=True)
    for label in ("Students", "Staff", "People", "Reports", "Credentials"):
        assert f">{label}</a>" in page
    login(guardian := client.application.test_client(), "guardian.both")
    page = guardian.get("/s/school-a/", headers=EN).get_data(as_text=True)
    assert ">Students</a>" not in page and ">Credentials</a>" not in page


def test_students_page_lists_class_with_guardians(client, in_school_a, people):
    fill_class(in_school_a, people.class_a, 2)
    login(client, "head.a")
    response = client.get("/s/school-a/people/students", headers=EN)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Class 5a" in page and "S0 X" not in page  # "last first" order
    assert "X S0" in page and "G0 X" in page and "+37060000000" in page
    assert "has not logged in yet" in page  # G0 never logged in
    assert "Add a student" in page


def test_students_page_is_for_staff_only(client, people):
    login(client, "guardian.both")
    assert client.get("/s/school-a/people/students").status_code == 403


def test_students_page_empty_states(client, in_school_a, people):
    login(client, "admin.a")
    page = client.get(
        f"/s/school-a/people/students?class={people.class_b.id}", headers=EN
    ).get_data(as_text=True)
    assert "No students in class 6b yet." in page
    assert client.get("/s/school-a/people/students?class=999999").status_code == 404
    huge = "99999999999999999999"
    assert client.get(f"/s/school-a/people/credentials?class={huge}").status_code == 200
    response = post_form(
        client, "/s/school-a/people/students/new",
        {"first_name": "J", "last_name": "K", "personal_code": code_for(date(2015, 1, 1)),
         "class_id": huge},
    )  # fmt: skip
    assert response.status_code == 400 and "Choose the student's class." in response.get_data(
        as_text=True
    ).replace("&#39;", "'")


def test_teacher_sees_names_but_not_contacts(client, in_school_a, people):
    fill_class(in_school_a, people.class_a, 1)
    login(client, "teacher.a")
    page = client.get(
        f"/s/school-a/people/students?class={people.class_a.id}", headers=EN
    ).get_data(as_text=True)
    assert "X S0" in page and "+37060000000" not in page and "Add a student" not in page


@pytest.mark.parametrize("how_many", [2, 20])
def test_students_page_query_count_is_constant(client, in_school_a, people, count_queries,
                                               how_many):  # fmt: skip
    fill_class(in_school_a, people.class_a, how_many)
    login(client, "head.a")
    url = f"/s/school-a/people/students?class={people.class_a.id}"
    client.get(url)  # warm-up (the first request compiles the templates)
    with count_queries() as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert len(queries) == 7, "\n".join(queries)  # the classes with their years: one


@pytest.mark.parametrize("how_many", [2, 20])
def test_staff_page_query_count_is_constant(client, in_school_a, people, count_queries,
                                            how_many):  # fmt: skip
    for n in range(how_many):
        account = Account(login=f"t{n}.x", name=f"T{n} X", password_hash=_CHEAP_HASH)
        in_school_a.add(account)
        in_school_a.flush()
        grant_role(in_school_a, account, people.world.school_a, Role.TEACHER)
        person = Person(account_id=account.id, first_name=f"T{n}", last_name="X",
                        document_kind="other")  # fmt: skip
        in_school_a.add(person)
        in_school_a.flush()
        in_school_a.add(StaffRight(person_id=person.id, right_code="form_groups"))
    in_school_a.commit()
    login(client, "admin.a")
    client.get("/s/school-a/people/staff")
    with count_queries() as queries:
        response = client.get("/s/school-a/people/staff", headers=EN)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "X T1" in page and "may form subject groups" in page and "teacher" in page
    assert len(queries) == 4, "\n".join(queries)  # the staff with roles, rights and subjects


@pytest.mark.parametrize("how_many", [2, 20])
def test_reports_query_count_is_constant(client, in_school_a, people, count_queries, how_many):
    fill_class(in_school_a, people.class_a, how_many)
    fill_class(in_school_a, people.class_b, how_many, start=100)
    login(client, "admin.a")
    client.get("/s/school-a/people/reports")
    with count_queries() as queries:
        response = client.get("/s/school-a/people/reports")
    assert response.status_code == 200
    assert len(queries) == 8, "\n".join(queries)


def test_adding_a_student_through_the_form(client, in_school_a, people):
    login(client, "head.a")
    code = code_for(date(2015, 3, 18))
    form = {"first_name": "Jonas", "last_name": "Jonaitis", "document_kind": "personal_code",
            "personal_code": code, "class_id": people.class_a.id, "locale": ""}  # fmt: skip
    response = post_form(
        client, "/s/school-a/people/students/new", form, headers=EN,
        form_page=f"/s/school-a/people/students/new?class={people.class_a.id}",
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    in_school_a.commit()
    person = in_school_a.scalar(select(Person).where(Person.personal_code == code))
    assert person.birth_date == date(2015, 3, 18)
    assert in_school_a.get(Account, person.account_id).login == "jonas.jonaitis"
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Jonas Jonaitis has been added to the class." in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"personal_code": "38703181746"}, "check) digit does not match"),
        ({"birth_date": "2015-03-19"}, "does not match the personal code"),
        ({"birth_date": "18.03.2015"}, "is not a date"),
        ({"first_name": ""}, "Enter the first name."),
        ({"email": "jonas.at.home"}, "is not an e-mail address"),
        (
            {"document_kind": "other", "document_number": "X-1", "birth_date": "1900-01-01"},
            "The birth date cannot be more than 100 years ago; check the year.",
        ),
    ],
)
def test_bad_student_form_shows_the_error_and_saves_nothing(
    client, in_school_a, people, changes, message
):
    login(client, "head.a")
    form = {"first_name": "Jonas", "last_name": "Jonaitis", "document_kind": "personal_code",
            "personal_code": code_for(date(2015, 3, 18)), "class_id": people.class_a.id,
            **changes}  # fmt: skip
    before = count(in_school_a, Person), count(in_school_a, Account)
    response = post_form(client, "/s/school-a/people/students/new", form, headers=EN)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page.replace("&#34;", '"').replace("&#39;", "'")
    assert 'value="Jonaitis"' in page  # the submitted values come back
    in_school_a.commit()
    assert (count(in_school_a, Person), count(in_school_a, Account)) == before


def test_class_head_of_another_class_gets_403(client, in_school_a, people):
    student = services.add_student(
        in_school_a, people.head_a, people.world.school_a, student_details(),
        people.class_a.id, TODAY,
    )  # fmt: skip
    in_school_a.commit()
    login(client, "head.b")
    sid = student.person_id
    assert client.get(f"/s/school-a/people/students/{sid}/edit").status_code == 403
    assert client.get(f"/s/school-a/people/students/{sid}/guardians/new").status_code == 403
    assert client.get(f"/s/school-a/people/{sid}").status_code == 403
    form = {"first_name": "X", "last_name": "Y", "personal_code": code_for(date(2015, 1, 1)),
            "class_id": people.class_a.id}  # fmt: skip
    response = post_form(
        client, "/s/school-a/people/students/new", form,
        form_page="/s/school-a/people/students/new",
    )  # fmt: skip
    assert response.status_code == 403
    login(teacher := client.application.test_client(), "teacher.a")
    assert teacher.get("/s/school-a/people/students/new").status_code == 403
    assert teacher.get("/s/school-a/people/staff/new").status_code == 403


def test_guardian_link_and_unlink_pages(client, in_school_a, people):
    student = services.add_student(
        in_school_a, people.head_a, people.world.school_a, student_details(),
        people.class_a.id, TODAY,
    )  # fmt: skip
    in_school_a.commit()
    sid = student.person_id
    login(client, "head.a")
    response = post_form(
        client, f"/s/school-a/people/students/{sid}/guardians/new",
        {"mode": "link", "login": "guardian.both", "relation": "mother"}, headers=EN,
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get(f"/s/school-a/people/{sid}", headers=EN).get_data(as_text=True)
    assert "Irena Globėja" in page and "mother" in page
    bad = post_form(
        client, f"/s/school-a/people/students/{sid}/guardians/new",
        {"mode": "link", "login": "nobody", "relation": "mother"}, headers=EN,
    )  # fmt: skip
    assert bad.status_code == 400 and "Enter the link code" in bad.get_data(as_text=True)
    in_school_a.commit()
    guardian = in_school_a.scalar(
        select(Person).where(Person.account_id == people.world.guardian_both.id)
    )
    unlink = f"/s/school-a/people/students/{sid}/guardians/{guardian.id}/unlink"
    assert "no longer see the diary" in client.get(unlink, headers=EN).get_data(as_text=True)
    assert post_form(client, unlink, {}).status_code == 302
    in_school_a.commit()
    assert count(in_school_a, Guardianship) == 0
    assert in_school_a.get(Account, people.world.guardian_both.id) is not None


def test_a_parent_links_their_login_with_a_link_code(client, in_school_a, people):
    """A parent from another school makes a link code on their account page; the class head
    links their login with it; the code is shown once and works once."""
    parent, _ = create_account(in_school_a, login="parent.b", name="Rūta Kitamokyklė",
                               password=TEST_PASSWORD, locale="en")  # fmt: skip
    grant_role(in_school_a, parent, people.world.school_b, Role.GUARDIAN)
    student = services.add_student(
        in_school_a, people.head_a, people.world.school_a, student_details(),
        people.class_a.id, TODAY,
    )  # fmt: skip
    in_school_a.commit()
    sid = student.person_id

    login(client, "parent.b")
    page = client.get("/account/link-code", headers=EN).get_data(as_text=True)
    assert "Make a link code" in page and 'id="link-code"' not in page
    made = post_form(client, "/account/link-code", {}, headers=EN)
    shown = made.get_data(as_text=True)
    code = re.search(r'id="link-code">([A-Z0-9-]+)<', shown).group(1)
    assert made.headers["Cache-Control"] == "no-store"
    again = client.get("/account/link-code", headers=EN).get_data(as_text=True)
    assert code not in again and "You have a link code that works until" in again
    post_form(client, "/logout", {}, form_page="/account/link-code")

    login(client, "head.a")
    form = f"/s/school-a/people/students/{sid}/guardians/new"
    refused = post_form(
        client, form, {"mode": "link", "login": "parent.b", "relation": "mother",
                       "link_code": "AAAA-AAAA-AAAA"}, headers=EN,
    )  # fmt: skip
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "No account matches this login and link code" in text
    assert "AAAA-AAAA-AAAA" not in text and "Rūta" not in text  # nothing echoed, nothing told
    linked = post_form(
        client, form, {"mode": "link", "login": "parent.b", "relation": "mother",
                       "link_code": code}, headers=EN,
    )  # fmt: skip
    assert linked.status_code == 302
    in_school_a.commit()
    guardian = in_school_a.scalar(select(Person).where(Person.account_id == parent.id))
    assert guardian is not None and guardian.full_name == "Rūta Kitamokyklė"
    assert in_school_a.get(Account, parent.id).link_code_hash is None
    class_b_student = services.add_student(
        in_school_a, people.head_b, people.world.school_a,
        student_details("Ona", "Ko", personal_code=code_for(date(2016, 2, 2), "f")),
        people.class_b.id, TODAY,
    )  # fmt: skip
    in_school_a.commit()
    post_form(client, "/logout", {}, form_page="/account/link-code")
    login(client, "head.b")
    reused = post_form(
        client, f"/s/school-a/people/students/{class_b_student.person_id}/guardians/new",
        {"mode": "link", "login": "parent.b", "relation": "mother", "link_code": code},
        headers=EN,
    )  # fmt: skip
    assert reused.status_code == 302  # known here now: the code is not asked again


def test_a_link_code_can_be_withdrawn(client, in_school_a, people):
    account, _ = create_account(in_school_a, login="parent.c", name="Parent C",
                                password=TEST_PASSWORD, locale="en")  # fmt: skip
    in_school_a.commit()
    login(client, "parent.c")
    post_form(client, "/account/link-code", {})
    in_school_a.commit()
    assert in_school_a.get(Account, account.id).link_code_hash is not None
    response = post_form(client, "/account/link-code", {"action": "withdraw"}, headers=EN)
    assert response.status_code == 302
    in_school_a.expire_all()
    assert in_school_a.get(Account, account.id).link_code_hash is None
    page = client.get("/account/link-code", headers=EN).get_data(as_text=True)
    assert "Your link code no longer works." in page and "You have a link code" not in page


def test_new_guardian_form_error_keeps_values(client, in_school_a, people):
    student = services.add_student(
        in_school_a, people.head_a, people.world.school_a, student_details(),
        people.class_a.id, TODAY,
    )  # fmt: skip
    in_school_a.commit()
    login(client, "head.a")
    before = count(in_school_a, Person)
    response = post_form(
        client, f"/s/school-a/people/students/{student.person_id}/guardians/new",
        {"mode": "new", "first_name": "Asta", "last_name": "Jonaitienė", "relation": "mother",
         "email": "asta@@example"}, headers=EN,
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "is not an e-mail address" in page and 'value="Jonaitienė"' in page
    in_school_a.commit()
    assert count(in_school_a, Person) == before


def test_linking_a_guardian_without_a_login_says_the_login_is_missing(client, in_school_a, people):
    student = services.add_student(
        in_school_a, people.head_a, people.world.school_a, student_details(),
        people.class_a.id, TODAY,
    )  # fmt: skip
    in_school_a.commit()
    login(client, "head.a")
    before = count(in_school_a, Person), count(in_school_a, Guardianship)
    response = post_form(
        client, f"/s/school-a/people/students/{student.person_id}/guardians/new",
        {"mode": "link", "login": "  ", "link_code": "", "relation": "mother"}, headers=EN,
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (
        '<p class="field-error" id="link-login-error" role="alert">'
        "Enter the login of the account to link.</p>"
    ) in page
    assert "Enter the first name" not in page
    in_school_a.commit()
    assert (count(in_school_a, Person), count(in_school_a, Guardianship)) == before


def test_linking_staff_without_a_login_says_the_login_is_missing(client, in_school_a, people):
    login(client, "admin.a")
    before = count(in_school_a, Person), count(in_school_a, Account)
    response = post_form(
        client, "/s/school-a/people/staff/new",
        {"mode": "link", "login": "", "roles": ["teacher"]}, headers=EN,
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (
        '<p class="field-error" id="link-login-error" role="alert">'
        "Enter the login of the account to link.</p>"
    ) in page
    assert "Enter the first name" not in page
    in_school_a.commit()
    assert (count(in_school_a, Person), count(in_school_a, Account)) == before


def test_a_guardian_form_sent_twice_adds_one_guardian(client, in_school_a, people):
    student = services.add_student(
        in_school_a, people.head_a, people.world.school_a, student_details(),
        people.class_a.id, TODAY,
    )  # fmt: skip
    in_school_a.commit()
    login(client, "head.a")
    url = f"/s/school-a/people/students/{student.person_id}/guardians/new"
    form = {"mode": "new", "first_name": "Asta", "last_name": "Jonaitienė", "relation": "mother",
            "document_kind": "personal_code", "personal_code": ""}  # fmt: skip
    assert post_form(client, url, form, headers=EN).status_code == 302
    in_school_a.commit()
    before = count(in_school_a, Person), count(in_school_a, Account)
    again = post_form(client, url, form, headers=EN)
    assert again.status_code == 400
    assert (
        "Jonas Jonaitis already has a guardian named Asta Jonaitienė. To change their details, "
        "edit that guardian." in again.get_data(as_text=True)
    )
    in_school_a.commit()
    assert (count(in_school_a, Person), count(in_school_a, Account)) == before
    assert count(in_school_a, Guardianship) == 1


@pytest.mark.parametrize(
    ("born", "message"),
    [
        ("1900-01-01", "The birth date cannot be more than 100 years ago; check the year."),
        ("2100-01-01", "The birth date must be a past date."),
    ],
)
def test_a_guardians_birth_date_of_1900_or_in_the_future_is_refused(
    client, in_school_a, people, born, message
):
    student = services.add_student(
        in_school_a, people.head_a, people.world.school_a, student_details(),
        people.class_a.id, TODAY,
    )  # fmt: skip
    in_school_a.commit()
    login(client, "head.a")
    before = count(in_school_a, Person)
    response = post_form(
        client, f"/s/school-a/people/students/{student.person_id}/guardians/new",
        {"mode": "new", "first_name": "Asta", "last_name": "Jonaitienė", "relation": "mother",
         "birth_date": born}, headers=EN,
    )  # fmt: skip
    assert response.status_code == 400
    assert (
        f'<p class="field-error" id="birth_date-error" role="alert">{message}</p>'
        in response.get_data(as_text=True)
    )
    in_school_a.commit()
    assert count(in_school_a, Person) == before


def test_leaving_through_the_confirmation_form(client, in_school_a, people):
    student = services.add_student(
        in_school_a, people.head_a, people.world.school_a, student_details(),
        people.class_a.id, TODAY,
    )  # fmt: skip
    in_school_a.commit()
    login(client, "head.a")
    path = f"/s/school-a/people/students/{student.person_id}/leave"
    assert "Confirm the leaving" in client.get(path, headers=EN).get_data(as_text=True)
    bad = post_form(client, path, {"left_on": "2000-01-01"}, headers=EN)
    assert bad.status_code == 400 and "cannot leave before" in bad.get_data(as_text=True)
    assert post_form(client, path, {"left_on": TODAY.isoformat()}).status_code == 302
    in_school_a.commit()
    in_school_a.expire_all()
    kept = in_school_a.get(Student, student.person_id)
    assert kept.status == "left" and kept.left_on == TODAY


def test_staff_form_adds_and_edits(client, in_school_a, people):
    login(client, "admin.a")
    response = post_form(
        client, "/s/school-a/people/staff/new",
        {"mode": "new", "first_name": "Vida", "last_name": "Matematikė", "roles": ["teacher",
         "class_head"], "rights": ["edit_timetable"], "email": "vida@example.lt"}, headers=EN,
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    in_school_a.commit()
    account = in_school_a.scalar(select(Account).where(Account.login == "vida.matematike"))
    assert services.roles_in_school(account, people.world.school_a) == {
        Role.TEACHER, Role.CLASS_HEAD}  # fmt: skip
    edit = f"/s/school-a/people/staff/{account.id}/edit"
    page = client.get(edit, headers=EN).get_data(as_text=True)
    assert 'value="Matematikė"' in page and 'value="edit_timetable" checked' in page
    bad = post_form(client, edit, {"first_name": "Vida", "last_name": "Matematikė"}, headers=EN)
    assert bad.status_code == 400 and "Choose at least one role." in bad.get_data(as_text=True)
    ok = post_form(
        client, edit, {"first_name": "Vida", "last_name": "Matematikė", "roles": ["admin"]}
    )
    assert ok.status_code == 302
    in_school_a.commit()
    in_school_a.expire_all()
    account = in_school_a.get(Account, account.id)
    assert services.roles_in_school(account, people.world.school_a) == {Role.ADMIN}
    assert count(in_school_a, StaffRight) == 0


def test_staff_edit_makes_a_person_for_a_command_line_account(client, in_school_a, people):
    """admin.a got the role from the command line and has no person record yet."""
    login(client, "admin.a")
    edit = f"/s/school-a/people/staff/{people.world.admin_a.id}/edit"
    page = client.get(edit, headers=EN).get_data(as_text=True)
    assert 'value="Aldona"' in page and 'value="Administratorė"' in page
    response = post_form(
        client, edit,
        {"first_name": "Aldona", "last_name": "Administratorė", "roles": ["admin"],
         "phone": "+370 600 11111"},
    )  # fmt: skip
    assert response.status_code == 302
    in_school_a.commit()
    person = in_school_a.scalar(select(Person).where(Person.account_id == people.world.admin_a.id))
    assert person.phone == "+370 600 11111"


def test_person_page_and_search(client, in_school_a, people):
    student = services.add_student(
        in_school_a, people.head_a, people.world.school_a, student_details(),
        people.class_a.id, TODAY,
    )  # fmt: skip
    in_school_a.commit()
    login(client, "admin.a")
    page = client.get(f"/s/school-a/people/{student.person_id}", headers=EN).get_data(as_text=True)
    assert "Jonas Jonaitis" in page and "jonas.jonaitis" in page and "Class 5a" in page
    assert "Reset the password" in page
    found = client.get("/s/school-a/people/?q=jonait", headers=EN).get_data(as_text=True)
    assert "Jonaitis Jonas" in found and "student" in found
    assert "No one here matches" in client.get("/s/school-a/people/?q=zzz", headers=EN).get_data(
        as_text=True
    )
    login(teacher := client.application.test_client(), "teacher.a")
    assert teacher.get(f"/s/school-a/people/{student.person_id}").status_code == 403


@pytest.mark.parametrize("how_many", [1, 3])
def test_class_heads_person_page_query_count(client, in_school_a, people, count_queries, how_many):
    """A class head reading a student of their class: which classes they head is one
    statement (it was two: their person, then the classes), asked once for the viewing check
    and the page's edit links; the count does not grow with the student's guardians."""
    student = fill_class(in_school_a, people.class_a, 1)[0]
    for n in range(1, how_many):
        guardian = Person(first_name=f"G{n}", last_name="Extra", document_kind="other")
        in_school_a.add(guardian)
        in_school_a.flush()
        in_school_a.add(Guardianship(guardian_id=guardian.id, student_id=student.person_id,
                                     relation="other"))  # fmt: skip
    in_school_a.commit()
    login(client, "head.a")
    url = f"/s/school-a/people/{student.person_id}"
    client.get(url)
    with count_queries() as queries:
        response = client.get(url, headers=EN)
    assert response.status_code == 200 and "S0" in response.get_data(as_text=True)
    headed = [q for q in queries if "JOIN people ON people.id = classes.head_id" in q]
    assert len(headed) == 1, "\n".join(queries)
    assert len(queries) == 12, "\n".join(queries)  # 11, and the health recommendations


def test_another_schools_person_is_not_found(client, in_school_a, people, db_session):
    student = services.add_student(
        in_school_a, admin(in_school_a, people.world), people.world.school_a, student_details(),
        people.class_a.id, TODAY,
    )  # fmt: skip
    admin_b, _ = create_account(in_school_a, login="admin.b", name="Admin B",
                                password=TEST_PASSWORD)  # fmt: skip
    grant_role(in_school_a, admin_b, people.world.school_b, Role.ADMIN)
    in_school_a.commit()
    login(client, "admin.b")
    assert client.get(f"/s/school-b/people/{student.person_id}").status_code == 404
    assert client.get(f"/s/school-b/people/students/{student.person_id}/edit").status_code == 404
    assert "Jonaitis" not in client.get("/s/school-b/people/?q=jonaitis").get_data(as_text=True)
    assert "Vadov" not in client.get("/s/school-b/people/staff").get_data(as_text=True)
    assert client.get(f"/s/school-a/people/{student.person_id}").status_code == 403


def test_reports_list_the_gaps(client, in_school_a, people):
    fill_class(in_school_a, people.class_a, 2)  # S0: guardian never logged in; S1: logged in
    lonely = services.add_student(
        in_school_a, people.head_b, people.world.school_a, student_details(),
        people.class_b.id, TODAY,
    )  # fmt: skip
    in_school_a.commit()
    login(client, "admin.a")
    page = client.get("/s/school-a/people/reports", headers=EN).get_data(as_text=True)
    no_login, contacts = page.split("missing an e-mail or phone")
    assert "X S0" in no_login and "X S1" not in no_login
    assert "1 guardian, none has logged in" in no_login
    assert "Jonaitis Jonas" in no_login and "no guardian linked" in no_login
    assert "X S0" in contacts and "X G0" in contacts  # no e-mail (the guardian has a phone)
    assert "guardian of S0 X" in contacts and "e-mail and phone" in contacts
    login(head_b := client.application.test_client(), "head.b")
    page = head_b.get("/s/school-a/people/reports", headers=EN).get_data(as_text=True)
    assert "Jonaitis Jonas" in page and "X S0" not in page  # only their class
    login(teacher := client.application.test_client(), "teacher.a")
    assert teacher.get("/s/school-a/people/reports").status_code == 403
    assert lonely.person_id


def test_reports_when_all_is_well(client, in_school_a, people):
    login(client, "admin.a")
    page = client.get("/s/school-a/people/reports", headers=EN).get_data(as_text=True)
    assert "Every student in your classes has a guardian who has logged in." in page
    assert in_school_a.scalar(select(func.count()).select_from(Student)) == 0
    assert isinstance(PersonDetails(), PersonDetails)


def test_staff_removal_asks_first(client, in_school_a, people):
    head_b = people.head_b.id
    login(client, "admin.a")
    path = f"/s/school-a/people/staff/{head_b}/remove"
    page = client.get(path).get_data(as_text=True)
    assert "Remove Petras Vadovas from the staff?" in page and "teacher and class head" in page
    assert post_form(client, path, {}).status_code == 302
    in_school_a.commit()
    account = in_school_a.get(Account, head_b)
    assert services.roles_in_school(account, people.world.school_a) == set()
    own = post_form(
        client, f"/s/school-a/people/staff/{people.world.admin_a.id}/remove", {},
        form_page="/s/school-a/people/staff",
    )  # fmt: skip
    assert own.status_code == 400 and "cannot remove yourself" in own.get_data(as_text=True)


def test_student_edit_form_shows_the_record(client, in_school_a, people):
    student = services.add_student(
        in_school_a, people.head_a, people.world.school_a,
        student_details(email="jonas@example.lt"), people.class_a.id, TODAY,
    )  # fmt: skip
    in_school_a.commit()
    login(client, "head.a")
    path = f"/s/school-a/people/students/{student.person_id}/edit"
    page = client.get(path).get_data(as_text=True)
    assert 'value="Jonaitis"' in page and 'value="jonas@example.lt"' in page
    assert 'value="2015-03-18"' in page and code_for(date(2015, 3, 18)) in page
    response = post_form(
        client, path,
        {"first_name": "Jonas", "last_name": "Jonaitis", "document_kind": "personal_code",
         "personal_code": code_for(date(2015, 3, 18)), "class_id": people.class_a.id,
         "phone": "+370 612 34567"},
    )  # fmt: skip
    assert response.status_code == 302
    in_school_a.commit()
    in_school_a.expire_all()
    assert in_school_a.get(Person, student.person_id).phone == "+370 612 34567"


def test_staff_form_records_the_subjects_they_teach(client, in_school_a, people):
    from school.curriculum.models import GradeScale, Subject
    from school.people.models import TeacherSubject

    scale = in_school_a.scalar(select(GradeScale.id).where(GradeScale.code == "ten_point"))
    maths = Subject(code="MAT", name="Matematika", name_translations={"en": "Mathematics"},
                    scale_id=scale)  # fmt: skip
    in_school_a.add(maths)
    in_school_a.commit()
    maths_id = maths.id
    login(client, "admin.a")
    response = post_form(
        client, "/s/school-a/people/staff/new",
        {"mode": "new", "first_name": "Vida", "last_name": "Matematikė", "roles": ["teacher"],
         "subjects": [str(maths_id)]}, headers=EN,
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get("/s/school-a/people/staff", headers=EN).get_data(as_text=True)
    assert "Mathematics" in page
    bad = post_form(
        client, "/s/school-a/people/staff/new",
        {"mode": "new", "first_name": "Jonas", "last_name": "Blogas", "roles": ["teacher"],
         "subjects": ["999999"]}, headers=EN,
    )  # fmt: skip
    assert bad.status_code == 400 and "There is no such subject." in bad.get_data(as_text=True)
    bind_to_school(in_school_a, people.world.school_a)
    assert count(in_school_a, TeacherSubject) == 1
    assert in_school_a.scalar(select(Account).where(Account.login == "jonas.blogas")) is None


def test_activity_page_for_the_administrator(client, in_school_a, people):
    login(client, "head.a")
    assert client.get("/s/school-a/people/activity", headers=EN).status_code == 403
    post_form(client, "/logout", {}, form_page="/s/school-a/people/reports")
    login(client, "admin.a")
    reports = client.get("/s/school-a/people/reports", headers=EN).get_data(as_text=True)
    assert "/s/school-a/people/activity" in reports
    page = client.get("/s/school-a/people/activity", headers=EN)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Diary use from" in text
    # admin.a just logged in: not among the idle staff; the teacher who never did is
    idle = text.split("Staff who did not log in in this period", 1)[1]
    assert "admin.a" not in idle and "head.b" in idle
    assert "The previous quarter" in text
    bad = client.get("/s/school-a/people/activity?from=2026-12-01&to=2026-11-01", headers=EN)
    assert bad.status_code == 400
    assert "The last day must not be before the first day." in bad.get_data(as_text=True)


def test_in_the_summer_a_student_is_enrolled_into_next_years_class(
    client, in_school_a, people, school_day
):
    """The classes were moved up for September: the students page lists next year's classes
    with the year's name and a new student is added into one; a class of a year that has
    ended is refused."""
    from school.calendar.models import SchoolYear
    from school.calendar.services import create_year
    from school.classes.models import SchoolClass

    finished = in_school_a.get(SchoolYear, people.class_a.year_id)
    next_year = create_year(
        in_school_a, name="2099–2100", starts_on=finished.ends_on.replace(day=1, month=9),
        ends_on=finished.ends_on.replace(year=finished.ends_on.year + 1),
    )  # fmt: skip
    c6a = SchoolClass(year_id=next_year.id, grade_level=6, letter="a")
    in_school_a.add(c6a)
    in_school_a.commit()
    c6a_id, class_a_id = c6a.id, people.class_a.id
    summer = finished.ends_on.replace(month=8, day=20)
    school_day(summer)
    login(client, "admin.a")
    page = client.get("/s/school-a/people/students", headers=EN).get_data(as_text=True)
    assert "6a (2099–2100)" in page
    bind_to_school(in_school_a, people.world.school_a)
    student = services.add_student(
        in_school_a, admin(in_school_a, people.world), people.world.school_a, student_details(),
        c6a_id, summer,
    )  # fmt: skip
    assert student.class_id == c6a_id
    school_day(finished.ends_on.replace(year=finished.ends_on.year + 1, month=9, day=2))
    with pytest.raises(services.ServiceError, match="this school year or of the next one"):
        services.add_student(
            in_school_a, admin(in_school_a, people.world), people.world.school_a,
            student_details(first="Kitas", personal_code=code_for(date(2015, 4, 1))),
            class_a_id, finished.ends_on.replace(year=finished.ends_on.year + 1, month=9, day=2),
        )  # fmt: skip
