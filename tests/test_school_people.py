"""school.people services: personal codes, logins, students, guardians, staff, permissions.

Shared set-up for the other tests/test_school_people_*.py files: :func:`make_people` (plain
function; each file wraps it in its own fixture).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.orm import Session

from accounts.models import Account, LoginEvent, Role, SchoolGrant
from accounts.services import (
    authenticate,
    create_account,
    grant_role,
    issue_link_code,
    withdraw_link_code,
)
from accounts.tasks import LOGIN_EVENT_DAYS, prune_login_events
from conftest import TEST_PASSWORD, World, waits_for_commit
from dienynas.errors import PermissionDenied, ServiceError
from school.calendar.services import current_year
from school.classes.models import SchoolClass
from school.people import services
from school.people.models import Guardianship, Person, StaffRight, Student
from school.people.services import PersonDetails
from tenants.roles import reset_role
from tenants.services import bind_to_school

TODAY = date(2026, 11, 23)


def code_for(born: date, sex: str = "m", serial: int = 123) -> str:
    """A valid Lithuanian personal code, computed here independently of the service."""
    century_digit = {18: 1, 19: 3, 20: 5}[born.year // 100] + (sex == "f")
    head = f"{century_digit}{born:%y%m%d}{serial:03d}"
    digits = [int(c) for c in head]
    check = sum(d * w for d, w in zip(digits, (1, 2, 3, 4, 5, 6, 7, 8, 9, 1), strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits, (3, 4, 5, 6, 7, 8, 9, 1, 2, 3), strict=True))
        check = check % 11 % 10
    return head + str(check)


@dataclass
class People:
    """School A with two classes of the current year, each with a class head (a teacher with
    a person record), and a third teacher heading nothing."""

    world: World
    class_a: SchoolClass  # 5a, head: head.a
    class_b: SchoolClass  # 6b, head: head.b
    head_a: Account
    head_b: Account
    head_a_person: Person


def _staff_account(session: Session, world: World, login: str, name: str) -> Account:
    account, _ = create_account(session, login=login, name=name, password=TEST_PASSWORD)
    grant_role(session, account, world.school_a, Role.TEACHER)
    grant_role(session, account, world.school_a, Role.CLASS_HEAD)
    return account


def make_people(session: Session, world: World) -> People:
    """Call with a session bound to school A; commits (a savepoint of the test's transaction)."""
    year = current_year(session, TODAY)
    head_a = _staff_account(session, world, "head.a", "Rasa Vadovė")
    head_b = _staff_account(session, world, "head.b", "Petras Vadovas")
    person_a = Person(account_id=head_a.id, first_name="Rasa", last_name="Vadovė",
                      document_kind="other")  # fmt: skip
    person_b = Person(account_id=head_b.id, first_name="Petras", last_name="Vadovas",
                      document_kind="other")  # fmt: skip
    session.add_all([person_a, person_b])
    session.flush()
    class_a = SchoolClass(year_id=year.id, grade_level=5, letter="a", head_id=person_a.id)
    class_b = SchoolClass(year_id=year.id, grade_level=6, letter="b", head_id=person_b.id)
    session.add_all([class_a, class_b])
    session.commit()
    return People(world, class_a, class_b, head_a, head_b, person_a)


def student_details(first: str = "Jonas", last: str = "Jonaitis", **changes) -> PersonDetails:
    details = PersonDetails(
        first_name=first,
        last_name=last,
        personal_code=code_for(date(2015, 3, 18)),
        email="",
    )
    for key, value in changes.items():
        setattr(details, key, value)
    return details


def admin(session: Session, world: World) -> Account:
    return session.get(Account, world.admin_a.id)


def count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def people(in_school_a, world) -> People:
    return make_people(in_school_a, world)


# --- personal codes and logins ---------------------------------------------------------------


def test_personal_code_checksum_accepts_real_codes():
    assert services.check_personal_code("33309240064") == date(1933, 9, 24)
    assert services.check_personal_code("38703181745") == date(1987, 3, 18)
    assert services.check_personal_code(code_for(date(2015, 1, 1), "f"), TODAY) == date(2015, 1, 1)


def test_personal_code_second_pass_and_ten_rules():
    """Weights 1..9,1 give 10: weights 3..9,1,2,3 decide; when they give 10 too, 0."""
    found_second_pass = found_zero = None
    for serial in range(1000):
        head = f"50001010{serial:03d}"[:10]
        digits = [int(c) for c in head]
        first = sum(d * w for d, w in zip(digits, (1, 2, 3, 4, 5, 6, 7, 8, 9, 1), strict=True))
        second = sum(d * w for d, w in zip(digits, (3, 4, 5, 6, 7, 8, 9, 1, 2, 3), strict=True))
        if first % 11 == 10 and second % 11 != 10 and found_second_pass is None:
            found_second_pass = (head, second % 11)
        if first % 11 == 10 and second % 11 == 10 and found_zero is None:
            found_zero = head
    head, expected = found_second_pass
    assert services.personal_code_check_digit(head) == expected
    assert services.personal_code_check_digit(found_zero) == 0


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("3870318174", "11 digits"),
        ("3870318174a", "11 digits"),
        ("78703181745", "start with 1 to 6"),
        ("38702301745", "real date"),
        ("38713011745", "real date"),
        ("38703181746", "check"),
        ("62701010005", "future"),
    ],
)
def test_personal_code_rejects_bad_codes(code, message, app):
    with (
        app.test_request_context(headers={"Accept-Language": "en"}),
        pytest.raises(ServiceError, match=message) as excinfo,
    ):
        services.check_personal_code(code, TODAY)
    assert excinfo.value.field == "personal_code"


def test_test_helper_makes_valid_codes():
    for born in (date(2015, 3, 18), date(1999, 12, 31), date(2008, 2, 29)):
        for sex in "mf":
            assert services.check_personal_code(code_for(born, sex), TODAY) == born


def test_ascii_folding_for_logins():
    assert services.ascii_fold("Žukauskaitė") == "zukauskaite"
    assert services.ascii_fold("Артём Иванов") == "artem ivanov"
    assert services.ascii_fold("Łukasz Wiśniewski") == "lukasz wisniewski"
    assert services.ascii_fold("Щукина Юлия") == "shchukina iuliia"


def test_generated_logins_are_unique(in_school_a, world):
    assert services.generate_login(in_school_a, "Jonas", "Jonaitis") == "jonas.jonaitis"
    create_account(in_school_a, login="jonas.jonaitis", name="Jonas Jonaitis")
    assert services.generate_login(in_school_a, "Jonas", "Jonaitis") == "jonas.jonaitis2"
    create_account(in_school_a, login="jonas.jonaitis2", name="Jonas Jonaitis")
    assert services.generate_login(in_school_a, "Jonas", "Jonaitis") == "jonas.jonaitis3"
    assert services.generate_login(in_school_a, "Ona Marija", "Žemaitė-Kairė") == (
        "ona-marija.zemaite-kaire"
    )
    assert services.generate_login(in_school_a, "李", "王") == "user"


# --- students ---------------------------------------------------------------------------------


def test_adding_a_student_creates_person_account_and_grant(in_school_a, people, world):
    student = services.add_student(
        in_school_a, admin(in_school_a, world), world.school_a,
        student_details(email="jonas@example.lt"), people.class_a.id, TODAY,
    )  # fmt: skip
    person = student.person
    assert person.birth_date == date(2015, 3, 18)  # taken from the code
    assert student.class_id == people.class_a.id and student.status == "active"
    account = in_school_a.get(Account, person.account_id)
    assert account.login == "jonas.jonaitis"
    assert account.must_change_password and account.email == "jonas@example.lt"
    assert Role.STUDENT in {
        Role(g.role) for g in account.grants if g.school_id == world.school_a.id
    }
    second = services.add_student(
        in_school_a, admin(in_school_a, world), world.school_a,
        student_details(personal_code=code_for(date(2015, 5, 1), serial=7)),
        people.class_a.id, TODAY,
    )  # fmt: skip
    assert in_school_a.get(Account, second.person.account_id).login == "jonas.jonaitis2"


def test_foreign_document_needs_number_and_birth_date(in_school_a, people, world):
    actor = admin(in_school_a, world)
    details = student_details(document_kind="other", personal_code="", document_number="")
    with pytest.raises(ServiceError) as excinfo:
        services.add_student(in_school_a, actor, world.school_a, details, people.class_a.id, TODAY)
    assert excinfo.value.field == "document_number"
    details.document_number = "UA-123456"
    with pytest.raises(ServiceError) as excinfo:
        services.add_student(in_school_a, actor, world.school_a, details, people.class_a.id, TODAY)
    assert excinfo.value.field == "birth_date"
    details.birth_date = date(2014, 6, 1)
    student = services.add_student(
        in_school_a, actor, world.school_a, details, people.class_a.id, TODAY
    )
    assert student.person.personal_code is None
    assert student.person.document_number == "UA-123456"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"personal_code": "38703181746"}, "personal_code"),
        ({"birth_date": date(2015, 3, 19)}, "birth_date"),
        ({"first_name": "  "}, "first_name"),
        ({"last_name": ""}, "last_name"),
        ({"email": "jonas@"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"personal_code": ""}, "personal_code"),
        ({"locale": "de"}, "locale"),
    ],
)
def test_bad_student_input_is_refused_and_nothing_saved(in_school_a, people, world, changes, field):
    before = (count(in_school_a, Person), count(in_school_a, Account), count(in_school_a, Student))
    with pytest.raises(ServiceError) as excinfo:
        services.add_student(
            in_school_a, admin(in_school_a, world), world.school_a,
            student_details(**changes), people.class_a.id, TODAY,
        )  # fmt: skip
    assert excinfo.value.field == field
    in_school_a.rollback()
    after = (count(in_school_a, Person), count(in_school_a, Account), count(in_school_a, Student))
    assert after == before


def test_duplicate_personal_code_in_the_school_is_refused(in_school_a, people, world):
    actor = admin(in_school_a, world)
    services.add_student(
        in_school_a, actor, world.school_a, student_details(), people.class_a.id, TODAY
    )
    in_school_a.commit()
    with pytest.raises(ServiceError, match="Jonas Jonaitis") as excinfo:
        services.add_student(
            in_school_a, actor, world.school_a, student_details("Petras", "Petraitis"),
            people.class_b.id, TODAY,
        )  # fmt: skip
    assert excinfo.value.field == "personal_code"


@pytest.mark.parametrize(
    ("born", "message"),
    [
        (date(1900, 1, 1), "The birth date cannot be more than 100 years ago; check the year."),
        (date(1926, 11, 22), "The birth date cannot be more than 100 years ago; check the year."),
        (TODAY + timedelta(days=1), "The birth date must be a past date."),
        (date(2099, 1, 1), "The birth date must be a past date."),
    ],
)
def test_a_birth_date_in_the_future_or_over_100_years_ago_is_refused(
    app, in_school_a, people, world, born, message
):
    actor = admin(in_school_a, world)
    student = services.add_student(
        in_school_a, actor, world.school_a, student_details(), people.class_a.id, TODAY
    )
    in_school_a.commit()
    before = (count(in_school_a, Person), count(in_school_a, Account))
    foreign = student_details("Ana", "Doe", document_kind="other", personal_code="",
                              document_number="X-1", birth_date=born)  # fmt: skip
    guardian = PersonDetails(first_name="Asta", last_name="Jonaitienė", birth_date=born)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        for add in (
            lambda: services.add_student(
                in_school_a, actor, world.school_a, foreign, people.class_a.id, TODAY
            ),
            lambda: services.add_guardian(
                in_school_a, actor, world.school_a, student, guardian, "mother", today=TODAY
            ),
        ):
            with pytest.raises(ServiceError) as excinfo:
                add()
            assert (excinfo.value.field, excinfo.value.message) == ("birth_date", message)
            in_school_a.rollback()
    assert (count(in_school_a, Person), count(in_school_a, Account)) == before


def test_a_personal_code_over_100_years_old_is_refused_and_100_years_is_not(
    app, in_school_a, people, world
):
    student = services.add_student(
        in_school_a, people.head_a, world.school_a, student_details(), people.class_a.id, TODAY
    )
    old = PersonDetails(first_name="Ona", last_name="Senolė",
                        personal_code=code_for(date(1920, 5, 5), "f"))  # fmt: skip
    with (
        app.test_request_context(headers={"Accept-Language": "en"}),
        pytest.raises(ServiceError, match="more than 100 years ago") as excinfo,
    ):
        services.add_guardian(
            in_school_a, people.head_a, world.school_a, student, old, "guardian", today=TODAY
        )
    assert excinfo.value.field == "personal_code"
    hundred = PersonDetails(first_name="Ona", last_name="Šimtametė", birth_date=date(1926, 11, 23))
    link, _ = services.add_guardian(
        in_school_a, people.head_a, world.school_a, student, hundred, "guardian", today=TODAY
    )
    assert in_school_a.get(Person, link.guardian_id).birth_date == date(1926, 11, 23)


def test_a_document_number_another_person_has_is_refused(app, in_school_a, people, world):
    actor = admin(in_school_a, world)
    foreign = {"document_kind": "other", "personal_code": "", "birth_date": date(2015, 2, 2)}
    first = services.add_student(
        in_school_a, actor, world.school_a,
        student_details("Ana", "Doe", document_number="AB 123456", **foreign),
        people.class_a.id, TODAY,
    )  # fmt: skip
    other = services.add_student(
        in_school_a, actor, world.school_a,
        student_details("Eva", "Roe", document_number="CD-1", **foreign), people.class_a.id,
        TODAY,
    )  # fmt: skip
    link, _ = services.add_guardian(
        in_school_a, actor, world.school_a, first,
        PersonDetails(first_name="Mia", last_name="Doe", document_kind="other",
                      document_number="P-77"),
        "mother", today=TODAY,
    )  # fmt: skip
    in_school_a.commit()
    before = (count(in_school_a, Person), count(in_school_a, Account))
    attempts = [
        lambda: services.add_student(  # spaces and case aside, the same passport
            in_school_a, actor, world.school_a,
            student_details("Jan", "Poe", document_number="ab123456", **foreign),
            people.class_b.id, TODAY,
        ),
        lambda: services.update_student(
            in_school_a, actor, world.school_a, other,
            student_details("Eva", "Roe", document_number="AB123456", **foreign),
            people.class_a.id, TODAY,
        ),
        lambda: services.add_guardian(
            in_school_a, actor, world.school_a, other,
            PersonDetails(first_name="Zoe", last_name="Roe", document_kind="other",
                          document_number="p-77"),
            "mother", today=TODAY,
        ),
        lambda: services.update_guardian(
            in_school_a, actor, world.school_a, first, link,
            PersonDetails(first_name="Mia", last_name="Doe", document_kind="other",
                          document_number="CD-1"),
            "mother", today=TODAY,
        ),
    ]  # fmt: skip
    holders = ["Ana Doe", "Ana Doe", "Mia Doe", "Eva Roe"]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        for attempt, holder in zip(attempts, holders, strict=True):
            with pytest.raises(ServiceError) as excinfo:
                attempt()
            assert excinfo.value.field == "document_number"
            assert excinfo.value.message == (
                f"This document number is already recorded for {holder} in this school."
            )
            in_school_a.rollback()
    assert (count(in_school_a, Person), count(in_school_a, Account)) == before
    in_school_a.expire_all()
    assert in_school_a.get(Person, other.person_id).document_number == "CD-1"
    assert in_school_a.get(Person, link.guardian_id).document_number == "P-77"
    # a person keeps their own number
    services.update_student(
        in_school_a, actor, world.school_a, in_school_a.get(Student, first.person_id),
        student_details("Ana", "Doe-Smith", document_number="AB 123456", **foreign),
        people.class_a.id, TODAY,
    )  # fmt: skip


def test_student_must_be_in_a_class_of_this_year(in_school_a, people, world):
    from school.calendar.services import create_year

    old_year = create_year(
        in_school_a, name="2025–2026 A", starts_on=date(2025, 9, 1), ends_on=date(2026, 8, 31)
    )
    old_class = SchoolClass(year_id=old_year.id, grade_level=4, letter="a")
    in_school_a.add(old_class)
    in_school_a.flush()
    for class_id in (None, old_class.id, 999999):
        with pytest.raises(ServiceError) as excinfo:
            services.add_student(
                in_school_a, admin(in_school_a, world), world.school_a, student_details(),
                class_id, TODAY,
            )  # fmt: skip
        assert excinfo.value.field == "class_id"


def test_class_head_manages_only_their_class(in_school_a, people, world):
    services.add_student(
        in_school_a, people.head_a, world.school_a, student_details(), people.class_a.id, TODAY
    )
    with pytest.raises(PermissionDenied):
        services.add_student(
            in_school_a, people.head_a, world.school_a,
            student_details("Ona", "Onaitė", personal_code=code_for(date(2014, 1, 2), "f")),
            people.class_b.id, TODAY,
        )  # fmt: skip
    teacher = in_school_a.get(Account, world.teacher_a.id)
    with pytest.raises(PermissionDenied):
        services.add_student(
            in_school_a, teacher, world.school_a,
            student_details("Ona", "Onaitė", personal_code=code_for(date(2014, 1, 2), "f")),
            people.class_a.id, TODAY,
        )  # fmt: skip


def test_class_head_cannot_move_a_student_to_another_class(in_school_a, people, world):
    student = services.add_student(
        in_school_a, people.head_a, world.school_a, student_details(), people.class_a.id, TODAY
    )
    details = PersonDetails.of(student.person)
    with pytest.raises(PermissionDenied):
        services.update_student(
            in_school_a, people.head_a, world.school_a, student, details, people.class_b.id, TODAY
        )
    services.update_student(
        in_school_a, admin(in_school_a, world), world.school_a, student, details,
        people.class_b.id, TODAY,
    )  # fmt: skip
    assert student.class_id == people.class_b.id


def test_editing_a_student_updates_the_account(in_school_a, people, world):
    student = services.add_student(
        in_school_a, people.head_a, world.school_a, student_details(), people.class_a.id, TODAY
    )
    details = PersonDetails.of(student.person)
    details.first_name, details.phone, details.locale = "Jonukas", "+370 612 34567", "ru"
    services.update_student(
        in_school_a, people.head_a, world.school_a, student, details, people.class_a.id, TODAY
    )
    account = in_school_a.get(Account, student.person.account_id)
    assert (account.name, account.phone, account.locale) == ("Jonukas Jonaitis",
                                                             "+370 612 34567", "ru")  # fmt: skip
    assert account.login == "jonas.jonaitis"  # the login does not change


def test_removing_a_student_keeps_the_row(in_school_a, people, world):
    actor = admin(in_school_a, world)
    student = services.add_student(
        in_school_a, actor, world.school_a, student_details(), people.class_a.id, TODAY
    )
    link, _ = services.add_guardian(
        in_school_a, actor, world.school_a, student,
        PersonDetails(first_name="Asta", last_name="Jonaitienė"), "mother", today=TODAY,
    )  # fmt: skip
    with pytest.raises(ServiceError) as excinfo:
        services.remove_student(in_school_a, actor, world.school_a, student, None, TODAY)
    assert excinfo.value.field == "left_on"
    services.remove_student(in_school_a, actor, world.school_a, student, TODAY, TODAY)
    in_school_a.commit()
    kept = in_school_a.get(Student, student.person_id)
    assert (kept.status, kept.left_on) == ("left", TODAY)
    student_account = in_school_a.get(Account, kept.person.account_id)
    assert services.roles_in_school(student_account, world.school_a) == set()
    mother = in_school_a.get(Person, link.guardian_id)
    assert in_school_a.get(Account, mother.account_id) is not None  # the account stays
    services.return_student(in_school_a, actor, world.school_a, kept)
    assert kept.status == "active" and kept.left_on is None
    assert Role.STUDENT in services.roles_in_school(student_account, world.school_a)


def test_a_leaving_date_in_the_future_is_refused_and_nothing_changes(in_school_a, people, world):
    actor = admin(in_school_a, world)
    student = services.add_student(
        in_school_a, actor, world.school_a, student_details(), people.class_a.id, TODAY
    )
    link, _ = services.add_guardian(
        in_school_a, actor, world.school_a, student,
        PersonDetails(first_name="Asta", last_name="Jonaitienė"), "mother", today=TODAY,
    )  # fmt: skip
    in_school_a.commit()
    with pytest.raises(ServiceError) as excinfo:
        services.remove_student(
            in_school_a, actor, world.school_a, student, TODAY + timedelta(days=1), TODAY
        )
    assert excinfo.value.field == "left_on"
    assert "cannot be in the future" in excinfo.value.message
    in_school_a.rollback()
    kept = in_school_a.get(Student, student.person_id)
    assert (kept.status, kept.left_on, kept.class_id) == ("active", None, people.class_a.id)
    student_account = in_school_a.get(Account, kept.person.account_id)
    assert services.roles_in_school(student_account, world.school_a) == {Role.STUDENT}
    mother = in_school_a.get(Account, in_school_a.get(Person, link.guardian_id).account_id)
    assert services.roles_in_school(mother, world.school_a) == {Role.GUARDIAN}


# --- guardians --------------------------------------------------------------------------------


def test_guardian_is_created_with_account_and_grant(in_school_a, people, world):
    student = services.add_student(
        in_school_a, people.head_a, world.school_a, student_details(), people.class_a.id, TODAY
    )
    link, linked = services.add_guardian(
        in_school_a, people.head_a, world.school_a, student,
        PersonDetails(first_name="Асель", last_name="Иванова", locale="ru",
                      email="asel@example.lt"),
        "mother", today=TODAY,
    )  # fmt: skip
    assert not linked and link.relation == "mother"
    guardian = in_school_a.get(Person, link.guardian_id)
    assert guardian.document_kind == "other" and guardian.personal_code is None
    account = in_school_a.get(Account, guardian.account_id)
    assert account.login == "asel.ivanova" and account.locale == "ru"
    assert Role.GUARDIAN in services.roles_in_school(account, world.school_a)


def test_existing_login_is_linked_not_duplicated(in_school_a, people, world):
    actor = admin(in_school_a, world)
    first = services.add_student(
        in_school_a, actor, world.school_a, student_details(), people.class_a.id, TODAY
    )
    accounts_before = count(in_school_a, Account)
    link, linked = services.add_guardian(
        in_school_a, actor, world.school_a, first, PersonDetails(), "guardian",
        login="Guardian.Both", today=TODAY,
    )  # fmt: skip
    assert not linked  # a new person record for the existing account
    guardian = in_school_a.get(Person, link.guardian_id)
    assert guardian.account_id == world.guardian_both.id
    assert (guardian.first_name, guardian.last_name) == ("Irena", "Globėja")
    sibling = services.add_student(
        in_school_a, actor, world.school_a,
        student_details("Ona", "Jonaitytė", personal_code=code_for(date(2017, 1, 5), "f")),
        people.class_b.id, TODAY,
    )  # fmt: skip
    link2, linked2 = services.add_guardian(
        in_school_a, actor, world.school_a, sibling, PersonDetails(), "mother",
        login="guardian.both", today=TODAY,
    )  # fmt: skip
    assert linked2 and link2.guardian_id == guardian.id
    assert count(in_school_a, Account) == accounts_before + 1  # only the sibling's own account
    with pytest.raises(ServiceError, match="already a guardian"):
        services.add_guardian(
            in_school_a, actor, world.school_a, sibling, PersonDetails(), "mother",
            login="guardian.both", today=TODAY,
        )  # fmt: skip
    with pytest.raises(ServiceError) as excinfo:
        services.add_guardian(
            in_school_a, actor, world.school_a, sibling, PersonDetails(), "mother",
            login="nobody.here", today=TODAY,
        )  # fmt: skip
    assert excinfo.value.field == "link_code"  # the same answer as for a login that exists


def test_personal_code_already_recorded_links_that_person(in_school_a, people, world):
    actor = admin(in_school_a, world)
    parent_code = code_for(date(1985, 7, 7), "f", 55)
    first = services.add_student(
        in_school_a, actor, world.school_a, student_details(), people.class_a.id, TODAY
    )
    link, _ = services.add_guardian(
        in_school_a, actor, world.school_a, first,
        PersonDetails(first_name="Asta", last_name="Jonaitienė", personal_code=parent_code),
        "mother", today=TODAY,
    )  # fmt: skip
    sibling = services.add_student(
        in_school_a, actor, world.school_a,
        student_details("Ona", "Jonaitytė", personal_code=code_for(date(2017, 1, 5), "f")),
        people.class_b.id, TODAY,
    )  # fmt: skip
    people_before, accounts_before = count(in_school_a, Person), count(in_school_a, Account)
    link2, linked = services.add_guardian(
        in_school_a, actor, world.school_a, sibling,
        PersonDetails(first_name="Asta", last_name="Jonaitienė", personal_code=parent_code),
        "mother", today=TODAY,
    )  # fmt: skip
    assert linked and link2.guardian_id == link.guardian_id
    assert (count(in_school_a, Person), count(in_school_a, Account)) == (
        people_before, accounts_before)  # fmt: skip


def test_the_same_guardian_added_twice_is_refused(app, in_school_a, people, world):
    """A form sent twice, or the same parent typed in again: one person, one account."""
    actor = admin(in_school_a, world)
    student = services.add_student(
        in_school_a, actor, world.school_a, student_details(), people.class_a.id, TODAY
    )
    services.add_guardian(
        in_school_a, actor, world.school_a, student,
        PersonDetails(first_name="Asta", last_name="Jonaitienė"), "mother", today=TODAY,
    )  # fmt: skip
    parent_code = code_for(date(1980, 4, 4), "m", 9)
    services.add_guardian(
        in_school_a, actor, world.school_a, student,
        PersonDetails(first_name="Tomas", last_name="Jonaitis", personal_code=parent_code),
        "father", today=TODAY,
    )  # fmt: skip
    in_school_a.commit()
    before = (count(in_school_a, Person), count(in_school_a, Account),
              count(in_school_a, Guardianship))  # fmt: skip
    with app.test_request_context(headers={"Accept-Language": "en"}):
        for details, field, message in (
            (PersonDetails(first_name="Asta", last_name="Jonaitienė"), "first_name",
             "Jonas Jonaitis already has a guardian named Asta Jonaitienė. To change their "
             "details, edit that guardian."),
            (PersonDetails(first_name=" ASTA ", last_name="jonaitienė"), "first_name",
             "already has a guardian named Asta Jonaitienė"),
            # the code the first one has not recorded yet: still the same name
            (PersonDetails(first_name="Asta", last_name="Jonaitienė",
                           personal_code=code_for(date(1984, 1, 2), "f", 8)), "first_name",
             "already has a guardian named Asta Jonaitienė"),
            (PersonDetails(first_name="Tomas", last_name="Jonaitis"), "first_name",
             "already has a guardian named Tomas Jonaitis"),
            (PersonDetails(first_name="T.", last_name="J.", personal_code=parent_code),
             "personal_code", "Tomas Jonaitis is already a guardian of Jonas Jonaitis."),
        ):  # fmt: skip
            with pytest.raises(ServiceError) as excinfo:
                services.add_guardian(
                    in_school_a, actor, world.school_a, student, details, "mother", today=TODAY
                )
            assert excinfo.value.field == field
            assert message in excinfo.value.message
            in_school_a.rollback()
    after = (count(in_school_a, Person), count(in_school_a, Account),
             count(in_school_a, Guardianship))  # fmt: skip
    assert after == before
    # two people of one name with different personal codes are two people
    _link, linked = services.add_guardian(
        in_school_a, actor, world.school_a, student,
        PersonDetails(first_name="Tomas", last_name="Jonaitis",
                      personal_code=code_for(date(1955, 6, 6), "m", 3)),
        "guardian", today=TODAY,
    )  # fmt: skip
    assert not linked and count(in_school_a, Guardianship) == before[2] + 1


def test_unlinking_a_guardian_keeps_the_account(in_school_a, people, world):
    student = services.add_student(
        in_school_a, people.head_a, world.school_a, student_details(), people.class_a.id, TODAY
    )
    link, _ = services.add_guardian(
        in_school_a, people.head_a, world.school_a, student,
        PersonDetails(first_name="Asta", last_name="Jonaitienė"), "mother", today=TODAY,
    )  # fmt: skip
    guardian = in_school_a.get(Person, link.guardian_id)
    with pytest.raises(PermissionDenied):
        services.unlink_guardian(in_school_a, people.head_b, world.school_a, student, link)
    services.unlink_guardian(in_school_a, people.head_a, world.school_a, student, link)
    assert count(in_school_a, Guardianship) == 0
    account = in_school_a.get(Account, guardian.account_id)
    assert account is not None and account.is_enabled
    assert services.roles_in_school(account, world.school_a) == set()


def test_bad_guardian_input_saves_nothing(in_school_a, people, world):
    student = services.add_student(
        in_school_a, people.head_a, world.school_a, student_details(), people.class_a.id, TODAY
    )
    in_school_a.commit()
    before = (count(in_school_a, Person), count(in_school_a, Guardianship))
    for details, relation, field in (
        (PersonDetails(first_name="Asta", last_name="J", email="asta@"), "mother", "email"),
        (PersonDetails(first_name="", last_name="J"), "mother", "first_name"),
        (PersonDetails(first_name="Asta", last_name="J"), "aunt", "relation"),
        (PersonDetails(first_name="A", last_name="J", personal_code="48507071234"), "mother",
         "personal_code"),
    ):  # fmt: skip
        with pytest.raises(ServiceError) as excinfo:
            services.add_guardian(
                in_school_a, people.head_a, world.school_a, student, details, relation,
                today=TODAY,
            )  # fmt: skip
        assert excinfo.value.field == field
        in_school_a.rollback()
    assert (count(in_school_a, Person), count(in_school_a, Guardianship)) == before


# --- staff ------------------------------------------------------------------------------------


def test_staff_roles_and_rights(in_school_a, people, world):
    actor = admin(in_school_a, world)
    person, linked = services.add_staff(
        in_school_a, actor, world.school_a,
        PersonDetails(first_name="Vida", last_name="Matematikė", email="vida@example.lt"),
        ["teacher"], ["form_groups"], today=TODAY,
    )  # fmt: skip
    assert not linked
    account = in_school_a.get(Account, person.account_id)
    assert account.login == "vida.matematike"
    assert services.roles_in_school(account, world.school_a) == {Role.TEACHER}
    assert in_school_a.scalars(select(StaffRight.right_code)).all() == ["form_groups"]
    member = services.get_staff_member(in_school_a, world.school_a, account.id)
    assert member.roles == [Role.TEACHER] and member.rights == ["form_groups"]
    services.update_staff(
        in_school_a, actor, world.school_a, member, PersonDetails.of(person),
        ["admin", "director"], ["edit_timetable"], today=TODAY,
    )  # fmt: skip
    assert services.roles_in_school(account, world.school_a) == {Role.ADMIN, Role.DIRECTOR}
    assert in_school_a.scalars(select(StaffRight.right_code)).all() == ["edit_timetable"]
    names = [m.login for m in services.list_staff(in_school_a, world.school_a)]
    assert set(names) == {"admin.a", "teacher.a", "head.a", "head.b", "vida.matematike"}
    member = services.get_staff_member(in_school_a, world.school_a, account.id)
    services.remove_staff(in_school_a, actor, world.school_a, member)
    assert services.roles_in_school(account, world.school_a) == set()
    assert count(in_school_a, StaffRight) == 0
    assert in_school_a.get(Person, person.id) is not None


def test_staff_rules(in_school_a, people, world):
    actor = admin(in_school_a, world)
    details = PersonDetails(first_name="Vida", last_name="Matematikė")
    with pytest.raises(ServiceError) as excinfo:
        services.add_staff(in_school_a, actor, world.school_a, details, [], [], today=TODAY)
    assert excinfo.value.field == "roles"
    with pytest.raises(ServiceError) as excinfo:
        services.add_staff(
            in_school_a, actor, world.school_a, details, ["student"], [], today=TODAY
        )
    assert excinfo.value.field == "roles"
    with pytest.raises(ServiceError) as excinfo:
        services.add_staff(
            in_school_a, actor, world.school_a, details, ["teacher"], ["everything"], today=TODAY
        )
    assert excinfo.value.field == "rights"
    with pytest.raises(PermissionDenied):
        services.add_staff(in_school_a, people.head_a, world.school_a, details, ["teacher"], [])
    me = services.get_staff_member(in_school_a, world.school_a, actor.id)
    with pytest.raises(ServiceError, match="your own administrator role"):
        services.update_staff(
            in_school_a, actor, world.school_a, me,
            PersonDetails(first_name="Aldona", last_name="Administratorė"), ["teacher"], [],
            today=TODAY,
        )  # fmt: skip
    with pytest.raises(ServiceError, match="yourself"):
        services.remove_staff(in_school_a, actor, world.school_a, me)
    with pytest.raises(ServiceError, match="already on the staff"):
        services.add_staff(
            in_school_a, actor, world.school_a, PersonDetails(), ["teacher"], [],
            login="teacher.a", today=TODAY,
        )  # fmt: skip


def test_staff_member_from_another_school_links_their_account(in_school_a, people, world):
    """A teacher of school B joins school A: one account, roles in both."""
    actor = admin(in_school_a, world)
    teacher_b, _ = create_account(in_school_a, login="teacher.b", name="Olga Petrova",
                                  password=TEST_PASSWORD)  # fmt: skip
    grant_role(in_school_a, teacher_b, world.school_b, Role.TEACHER)
    code = issue_link_code(teacher_b, datetime.now(UTC))  # on her account page
    person, _ = services.add_staff(
        in_school_a, actor, world.school_a, PersonDetails(), ["teacher"], [],
        login="teacher.b", today=TODAY, link_code=code.lower().replace("-", " "),
    )  # fmt: skip
    assert person.account_id == teacher_b.id and person.full_name == "Olga Petrova"
    schools = {g.school_id for g in teacher_b.grants}
    assert schools == {world.school_a.id, world.school_b.id}
    assert teacher_b.link_code_hash is None  # used up


def _linking_refused(session, world, actor, login: str, code: str) -> ServiceError:
    """Linking ``login`` as a teacher of school A with ``code`` is refused and changes
    nothing; the error."""
    grants, persons = count(session, SchoolGrant), count(session, Person)
    savepoint = session.begin_nested()
    with pytest.raises(ServiceError) as excinfo:
        services.add_staff(
            session, actor, world.school_a, PersonDetails(), ["teacher"], [], login=login,
            today=TODAY, link_code=code,
        )  # fmt: skip
    savepoint.rollback()
    assert (count(session, SchoolGrant), count(session, Person)) == (grants, persons)
    return excinfo.value


def test_linking_an_account_not_known_here_needs_its_holders_link_code(in_school_a, people, world):
    """The holder's consent: without their code a school links nobody, and it cannot tell
    a login that exists from one that does not, nor learn the account's name."""
    actor = admin(in_school_a, world)
    teacher_b, _ = create_account(in_school_a, login="teacher.b", name="Olga Petrova",
                                  password=TEST_PASSWORD)  # fmt: skip
    grant_role(in_school_a, teacher_b, world.school_b, Role.TEACHER)
    now = datetime.now(UTC)
    code = issue_link_code(teacher_b, now)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", code)
    assert teacher_b.link_code_hash != code.replace("-", "")  # only a digest is kept

    missing = _linking_refused(in_school_a, world, actor, "teacher.b", "")
    assert missing.field == "link_code" and "account page" in missing.message
    assert missing.message == _linking_refused(in_school_a, world, actor, "nobody.x", "").message
    wrong = _linking_refused(in_school_a, world, actor, "teacher.b", "AAAA-BBBB-CCCC")
    unknown = _linking_refused(in_school_a, world, actor, "nobody.x", code)
    assert wrong.field == "link_code" and wrong.message == unknown.message
    assert "Olga" not in wrong.message + missing.message

    teacher_b.link_code_expires_at = now - timedelta(minutes=1)
    expired = _linking_refused(in_school_a, world, actor, "teacher.b", code)
    assert expired.message == wrong.message
    teacher_b.link_code_expires_at = now + timedelta(days=1)
    teacher_b.is_enabled = False
    assert _linking_refused(in_school_a, world, actor, "teacher.b", code).message == wrong.message
    teacher_b.is_enabled = True
    withdraw_link_code(teacher_b)
    assert _linking_refused(in_school_a, world, actor, "teacher.b", code).message == wrong.message

    # a code that works once: the guardian link uses it, a second link with it is refused
    code = issue_link_code(teacher_b, now)
    student = services.add_student(
        in_school_a, actor, world.school_a, student_details(), people.class_a.id, TODAY
    )
    link, linked = services.add_guardian(
        in_school_a, actor, world.school_a, student, PersonDetails(), "mother",
        login="teacher.b", today=TODAY, link_code=code,
    )  # fmt: skip
    assert not linked and in_school_a.get(Person, link.guardian_id).account_id == teacher_b.id
    assert teacher_b.link_code_hash is None and teacher_b.link_code_expires_at is None
    # now known here: her person is linked again without a code (a brother or sister)
    sibling = services.add_student(
        in_school_a, actor, world.school_a,
        student_details("Ona", "Jonaitytė", personal_code=code_for(date(2017, 1, 5), "f")),
        people.class_b.id, TODAY,
    )  # fmt: skip
    link2, linked2 = services.add_guardian(
        in_school_a, actor, world.school_a, sibling, PersonDetails(), "mother",
        login="teacher.b", today=TODAY,
    )  # fmt: skip
    assert linked2 and link2.guardian_id == link.guardian_id


def test_a_refused_link_keeps_the_code(in_school_a, people, world):
    """The code is used up only with the link: a link refused after the code was checked
    (a personal code recorded for someone else) leaves it working."""
    actor = admin(in_school_a, world)
    other = services.add_student(
        in_school_a, actor, world.school_a, student_details(), people.class_a.id, TODAY
    )
    teacher_b, _ = create_account(in_school_a, login="teacher.b", name="Olga Petrova",
                                  password=TEST_PASSWORD)  # fmt: skip
    code = issue_link_code(teacher_b, datetime.now(UTC))
    in_school_a.flush()
    taken = PersonDetails(first_name="Olga", last_name="Petrova",
                          personal_code=other.person.personal_code)  # fmt: skip
    savepoint = in_school_a.begin_nested()
    with pytest.raises(ServiceError, match="already recorded"):
        services.add_staff(
            in_school_a, actor, world.school_a, taken, ["teacher"], [], login="teacher.b",
            today=TODAY, link_code=code,
        )  # fmt: skip
    savepoint.rollback()
    in_school_a.refresh(teacher_b)
    assert teacher_b.link_code_hash is not None


def test_another_schools_people_are_invisible(in_school_a, people, world, db_session):
    from tenants.services import bind_to_school

    services.add_student(
        in_school_a, admin(in_school_a, world), world.school_a, student_details(),
        people.class_a.id, TODAY,
    )  # fmt: skip
    in_school_a.commit()
    assert count(in_school_a, Person) == 3
    bind_to_school(db_session, world.school_b)
    db_session.commit()  # the next transaction is bound to school B
    assert count(db_session, Person) == 0
    assert services.list_staff(db_session, world.school_b) == []
    grants_b = db_session.scalars(
        select(SchoolGrant.role).where(SchoolGrant.school_id == world.school_b.id)
    ).all()
    assert grants_b == ["guardian"]


def test_two_administrators_naming_the_same_person_at_once_get_two_logins(engine_url):
    """The second waits for the first's transaction, then takes the next free login."""
    engine = create_engine(engine_url)
    first, second = Session(engine), Session(engine)
    chosen: dict[str, str] = {}

    def second_administrator() -> None:
        chosen["login"] = services.generate_login(second, "Zigmas", "Zaleckas")

    try:
        login = services.generate_login(first, "Zigmas", "Zaleckas")
        first.add(Account(login=login, name="Zigmas Zaleckas", password_hash="!"))
        first.flush()
        waits_for_commit(first, second_administrator)
        assert chosen["login"] == f"{login}2"
    finally:
        second.rollback()
        first.execute(delete(Account).where(Account.login == "zigmas.zaleckas"))
        first.commit()
        first.close()
        second.close()
        engine.dispose()


# --- the activity report ----------------------------------------------------------------------


def _logged_in(session, account: Account, *moments: datetime, school=None) -> None:
    """Login events as the login page writes them: unbound (schools only read them); then
    bound to ``school`` again."""
    reset_role(session.connection())
    session.add_all(LoginEvent(account_id=account.id, logged_in_at=m) for m in moments)
    session.flush()
    if school is not None:
        bind_to_school(session, school)


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (date(2026, 1, 1), (date(2026, 1, 1), date(2026, 3, 31))),
        (date(2026, 6, 30), (date(2026, 4, 1), date(2026, 6, 30))),
        (date(2026, 11, 23), (date(2026, 10, 1), date(2026, 12, 31))),
    ],
)
def test_quarter_of(day, quarter):
    assert services.quarter_of(day) == quarter


def test_a_login_is_recorded_for_the_reports(db_session, world):
    before = count(db_session, LoginEvent)
    assert authenticate(db_session, "teacher.a", "wrong password") is None
    assert count(db_session, LoginEvent) == before
    assert authenticate(db_session, "teacher.a", TEST_PASSWORD) is not None
    assert count(db_session, LoginEvent) == before + 1


def test_activity_report_counts_logins_by_role_in_the_period(in_school_a, people, world):
    """Q1 2025: the teacher logged in twice (the first minute of 1 January and the last of
    31 March, Vilnius time), the guardian only before it; the administrator never."""
    session = in_school_a
    vilnius = ZoneInfo("Europe/Vilnius")
    teacher, guardian = session.get(Account, world.teacher_a.id), world.guardian_both
    _logged_in(session, teacher, datetime(2025, 1, 1, 0, 1, tzinfo=vilnius),
               datetime(2025, 3, 31, 23, 59, tzinfo=vilnius),
               datetime(2025, 4, 1, 0, 1, tzinfo=vilnius), school=world.school_a)  # fmt: skip
    _logged_in(session, guardian, datetime(2024, 12, 31, 23, 59, tzinfo=vilnius),
               school=world.school_a)  # fmt: skip
    teacher_b, _ = create_account(session, login="teacher.b", name="Olga Petrova",
                                  password=TEST_PASSWORD)  # fmt: skip
    grant_role(session, teacher_b, world.school_b, Role.TEACHER)  # school B only
    _logged_in(session, teacher_b, datetime(2025, 2, 1, 12, 0, tzinfo=vilnius),
               school=world.school_a)  # fmt: skip
    report = services.activity_report(
        session, admin(session, world), world.school_a, date(2025, 1, 1), date(2025, 3, 31)
    )
    by_role = {r.role: r for r in report.roles}
    assert by_role[Role.TEACHER].active == 1
    assert by_role[Role.TEACHER].logins == 2  # not school B's teacher
    assert (by_role[Role.GUARDIAN].active, by_role[Role.GUARDIAN].logins) == (0, 0)
    assert by_role[Role.ADMIN].accounts >= 1 and by_role[Role.ADMIN].active == 0
    idle = {s.login for s in report.idle_staff}
    assert "admin.a" in idle and "teacher.a" not in idle
    assert "guardian.both" not in idle and "teacher.b" not in idle  # not staff here


def test_activity_report_refusals(in_school_a, people, world):
    with pytest.raises(ServiceError) as excinfo:
        services.activity_report(in_school_a, admin(in_school_a, world), world.school_a,
                                 date(2025, 3, 1), date(2025, 2, 1))  # fmt: skip
    assert excinfo.value.field == "to"
    with pytest.raises(PermissionDenied):
        services.activity_report(in_school_a, people.head_a, world.school_a,
                                 date(2025, 1, 1), date(2025, 3, 31))  # fmt: skip


def test_old_login_events_are_pruned(db_session, world):
    now = datetime.now(UTC)
    old = now - timedelta(days=LOGIN_EVENT_DAYS + 1)
    recent = now - timedelta(days=LOGIN_EVENT_DAYS - 1)
    _logged_in(db_session, world.teacher_a, old, recent)
    assert prune_login_events() >= 1
    kept = set(
        db_session.scalars(
            select(LoginEvent.logged_in_at).where(LoginEvent.account_id == world.teacher_a.id)
        )
    )
    assert recent in kept and old not in kept
    assert prune_login_events() == 0  # twice does no harm
