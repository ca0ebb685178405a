"""Classes and subject groups: the rules (services) and the pages.

People are built by another part of the school (school.people); these tests create the
``Person`` and ``Student`` rows they need directly.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date

import pytest
from flask_babel import gettext
from sqlalchemy import func, select

from accounts.models import Account, SchoolGrant
from conftest import login, post_form
from dienynas import clock
from dienynas.errors import PermissionDenied, ServiceError
from dienynas.i18n import in_locale
from dienynas.names import name_sort_key
from school.calendar import services as calendar
from school.calendar.models import SchoolYear
from school.classes import services
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.curriculum.models import GradeScale, Subject
from school.people.models import Person, StaffRight, Student
from tenants.services import bind_to_school

CLASSES = "/s/school-a/classes"
GROUPS = "/s/school-a/groups"


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


@dataclass
class Setup:
    year: SchoolYear
    teacher: Person  # teacher.a's person: granted the teacher role in school A
    head: Person  # another account, granted class_head
    outsider: Person  # guardian.both's person: no teaching role
    math: Subject
    english_subject: Subject


def person(session, first: str, last: str, account_id: int | None = None) -> Person:
    p = Person(first_name=first, last_name=last, document_kind="other", account_id=account_id)
    session.add(p)
    session.flush()
    return p


def student(session, first: str, last: str, school_class: SchoolClass | None, status="active"):
    p = person(session, first, last)
    s = Student(person_id=p.id, class_id=school_class.id if school_class else None, status=status)
    session.add(s)
    session.flush()
    return s


def subject(session, code: str, name: str) -> Subject:
    scale_id = session.scalar(select(GradeScale.id).where(GradeScale.code == "ten_point"))
    s = Subject(code=code, name=name, name_translations={}, scale_id=scale_id, is_active=True)
    session.add(s)
    session.flush()
    return s


def build_setup(session, world) -> Setup:
    account = Account(login="head.a", name="Rasa Vadovė", password_hash="-", locale="en")
    session.add(account)
    session.flush()
    session.add(SchoolGrant(account_id=account.id, school_id=world.school_a.id, role="class_head"))
    session.flush()
    return Setup(
        year=session.scalar(select(SchoolYear)),
        teacher=person(session, "Tomas", "Mokytojas", world.teacher_a.id),
        head=person(session, "Rasa", "Vadovė", account.id),
        outsider=person(session, "Irena", "Globėja", world.guardian_both.id),
        math=subject(session, "MAT", "Matematika"),
        english_subject=subject(session, "ANG", "Anglų kalba"),
    )


@pytest.fixture
def setup(in_school_a, world) -> Setup:
    """School A's year, two teaching staff and a non-teaching person, two subjects."""
    return build_setup(in_school_a, world)


def add_class(session, world, setup: Setup, level=5, letter="a", head=None) -> SchoolClass:
    return services.create_class(
        session,
        world.school_a,
        year=setup.year,
        grade_level=level,
        letter=letter,
        head_id=head.id if head else None,
    )


def add_group(session, world, setup: Setup, name: str, kind: str, school_class=None) -> Group:
    return services.create_group(
        session,
        world.school_a,
        year=setup.year,
        name=name,
        subject_id=setup.math.id,
        kind=kind,
        class_id=school_class.id if school_class else None,
        teacher_ids=[setup.teacher.id],
    )


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def rebind(session, world) -> None:
    """Requests bind and reset the shared test connection; bind it back to school A."""
    bind_to_school(session, world.school_a)


def grant_form_groups(session, who: Person) -> None:
    session.add(StaffRight(person_id=who.id, right_code="form_groups"))
    session.flush()


# --- classes (services) -------------------------------------------------------------------------


def test_create_class_with_a_head(in_school_a, world, setup):
    school_class = add_class(in_school_a, world, setup, head=setup.head)
    assert school_class.name == "5a" and school_class.head_id == setup.head.id
    single = add_class(in_school_a, world, setup, level="12", letter=" ")
    assert single.name == "12"


def test_class_heads_are_chosen_from_the_schools_teachers(in_school_a, world, setup):
    staff = services.teaching_staff(in_school_a, world.school_a)
    assert [p.id for p in staff] == [setup.teacher.id, setup.head.id]  # by surname
    with pytest.raises(ServiceError) as excinfo:
        add_class(in_school_a, world, setup, head=setup.outsider)
    assert excinfo.value.field == "head"
    assert excinfo.value.message == "The class head must be one of the school's teachers."
    assert count(in_school_a, SchoolClass) == 0


@pytest.mark.parametrize(
    ("level", "letter", "field", "message"),
    [
        (5, "a", "letter", "Class 5a already exists in the school year 2026–2027 A."),
        (5, "A", "letter", "Class 5A already exists in the school year 2026–2027 A."),
        (13, "a", "grade_level", "The grade must be a whole number from 1 to 12."),
        (0, "a", "grade_level", "The grade must be a whole number from 1 to 12."),
        ("penkta", "a", "grade_level", "The grade must be a whole number from 1 to 12."),
        (5, "a1", "letter", "The class letter must be 1 to 4 letters"),
        (5, "abcde", "letter", "The class letter must be 1 to 4 letters"),
    ],
)
def test_bad_class_is_refused_and_nothing_is_saved(
    in_school_a, world, setup, level, letter, field, message
):
    add_class(in_school_a, world, setup)
    with pytest.raises(ServiceError) as excinfo:
        add_class(in_school_a, world, setup, level=level, letter=letter)
    assert excinfo.value.field == field
    assert message in excinfo.value.message
    assert count(in_school_a, SchoolClass) == 1


def test_cyrillic_letters_are_class_letters(in_school_a, world, setup):
    assert add_class(in_school_a, world, setup, letter="б").name == "5б"


def test_update_class_refuses_to_become_a_duplicate(in_school_a, world, setup):
    add_class(in_school_a, world, setup)
    b = add_class(in_school_a, world, setup, letter="b")
    services.update_class(
        in_school_a, world.school_a, b, grade_level=6, letter="b", head_id=setup.teacher.id
    )
    assert (b.name, b.head.full_name) == ("6b", "Tomas Mokytojas")
    with pytest.raises(ServiceError, match="Class 5a already exists"):
        services.update_class(in_school_a, world.school_a, b, grade_level=5, letter="a", head_id="")


def test_only_an_empty_class_is_deleted(in_school_a, world, setup):
    school_class = add_class(in_school_a, world, setup)
    student(in_school_a, "Ona", "Onaitė", school_class)
    with pytest.raises(ServiceError, match="Class 5a has 1 student"):
        services.delete_class(in_school_a, school_class)
    empty = add_class(in_school_a, world, setup, letter="b")
    add_group(in_school_a, world, setup, "5b matematika", "part", empty)
    with pytest.raises(ServiceError, match="Class 5b has 1 group"):
        services.delete_class(in_school_a, empty)
    mistake = add_class(in_school_a, world, setup, letter="c")
    services.delete_class(in_school_a, mistake)
    assert count(in_school_a, SchoolClass) == 2


def test_class_list_counts_active_students_in_one_grouped_query(in_school_a, world, setup):
    a = add_class(in_school_a, world, setup, head=setup.head)
    b = add_class(in_school_a, world, setup, letter="b")
    first = add_class(in_school_a, world, setup, level=1)
    for i in range(3):
        student(in_school_a, f"A{i}", "Aitė", a)
    student(in_school_a, "Left", "Gone", a, status="left")
    student(in_school_a, "B", "Bitė", b)
    rows = services.list_classes(in_school_a, setup.year)
    assert [(r.school_class.name, r.students) for r in rows] == [("1a", 0), ("5a", 3), ("5b", 1)]
    assert rows[0].school_class.id == first.id
    assert rows[1].school_class.head.full_name == "Rasa Vadovė"


# --- groups (services) --------------------------------------------------------------------------


def test_a_whole_class_group_gets_the_class_students_at_once(in_school_a, world, setup):
    a = add_class(in_school_a, world, setup)
    b = add_class(in_school_a, world, setup, letter="b")
    in_a = [student(in_school_a, n, "Aitė", a) for n in ("Ona", "Eglė")]
    student(in_school_a, "Left", "Gone", a, status="left")
    student(in_school_a, "Bronė", "Bitė", b)
    group = add_group(in_school_a, world, setup, "5a matematika", "class", a)
    members = [s for s, _c in services.group_students(in_school_a, group)]
    assert {s.person_id for s in members} == {s.person_id for s in in_a}
    assert [t.id for t in services.group_teachers(in_school_a, group)] == [setup.teacher.id]


#: Surnames as a Lithuanian school writes them, in the order its lists must show them: case
#: and accents do not count (Č with C, Š with S, Ž with Z; Ё with Е), whatever the collation.
IN_NAME_ORDER = ["Abromaitis", "Ąžuolaitis", "Čepulis", "Cibulskis", "de Vries", "Ivanov",
                 "ŠALNA", "Šimkus", "Stankus", "Zabiela", "Žukas", "Егоров", "Ёлкин"]  # fmt: skip


def test_a_groups_students_read_in_name_order(in_school_a, world, setup):
    """The database sorts (ORDER BY ``school.people.names.person_order``) as the pages' own
    sorting does (``person_sort_key``); byte order put Č, Š, Ž and "de Vries" after Z."""
    school_class = add_class(in_school_a, world, setup)
    for n, last in enumerate(reversed(IN_NAME_ORDER)):
        student(in_school_a, f"Vardas{n}", last, school_class)
    group = add_group(in_school_a, world, setup, "5a matematika", "class", school_class)
    shown = [s.person.last_name for s, _c in services.group_students(in_school_a, group)]
    assert shown == IN_NAME_ORDER
    assert shown == sorted(reversed(IN_NAME_ORDER), key=name_sort_key)
    byte_order = in_school_a.scalars(
        select(Person.last_name)
        .where(Person.last_name.in_(IN_NAME_ORDER))
        .order_by(Person.last_name.collate("C"))
    ).all()
    assert byte_order != IN_NAME_ORDER  # what the lists showed before


def test_a_part_group_takes_only_its_class_and_active_students(in_school_a, world, setup):
    a = add_class(in_school_a, world, setup)
    b = add_class(in_school_a, world, setup, letter="b")
    ona = student(in_school_a, "Ona", "Aitė", a)
    gone = student(in_school_a, "Jonas", "Išėjęs", a, status="left")
    bronė = student(in_school_a, "Bronė", "Bitė", b)
    group = add_group(in_school_a, world, setup, "5a anglų 1 gr.", "part", a)
    assert services.group_students(in_school_a, group) == []
    with pytest.raises(ServiceError) as excinfo:
        services.add_students(in_school_a, group, [ona.person_id, bronė.person_id])
    assert excinfo.value.field == "students"
    assert excinfo.value.message == (
        "Bronė Bitė is not in class 5a: this group takes only the students of class 5a."
    )
    with pytest.raises(ServiceError, match="Jonas Išėjęs has left the school"):
        services.add_students(in_school_a, group, [gone.person_id])
    with pytest.raises(ServiceError, match="Choose the students to add"):
        services.add_students(in_school_a, group, [])
    with pytest.raises(ServiceError, match="There is no such student"):
        services.add_students(in_school_a, group, ["x"])
    assert count(in_school_a, GroupStudent) == 0
    assert services.add_students(in_school_a, group, [ona.person_id]) == 1
    assert services.add_students(in_school_a, group, [ona.person_id]) == 0  # already in
    assert [s.person_id for s, _c in services.candidate_students(in_school_a, group)] == []


def test_a_mixed_group_takes_students_of_several_classes(in_school_a, world, setup):
    a = add_class(in_school_a, world, setup)
    b = add_class(in_school_a, world, setup, letter="b")
    ona, bronė = student(in_school_a, "Ona", "Aitė", a), student(in_school_a, "Bronė", "Bitė", b)
    group = add_group(in_school_a, world, setup, "Etika 5", "mixed")
    assert group.class_id is None
    candidates = services.candidate_students(in_school_a, group)
    assert [(s.person_id, c.name) for s, c in candidates] == [
        (ona.person_id, "5a"),
        (bronė.person_id, "5b"),
    ]
    assert services.add_students(in_school_a, group, [ona.person_id, bronė.person_id]) == 2
    services.remove_student(in_school_a, group, ona.person_id)
    assert [s.person_id for s, _c in services.group_students(in_school_a, group)] == [
        bronė.person_id
    ]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": " "}, "name", "Enter the group's name"),
        ({"name": "5A  Matematika"}, "name", "A group named “5A Matematika” already exists"),
        ({"name": "x" * 61}, "name", "at most 60 characters"),
        ({"subject_id": ""}, "subject", "Choose the subject."),
        ({"kind": "half"}, "kind", "Choose what students the group has."),
        ({"class_id": ""}, "class_id", "Choose the group's class."),
        ({"teacher_ids": []}, "teachers", "Choose at least one teacher."),
        ({"teacher_ids": ["outsider"]}, "teachers", "The teachers must be the school's teachers."),
    ],
)
def test_bad_group_is_refused_and_nothing_is_saved(
    in_school_a, world, setup, changes, field, message
):
    a = add_class(in_school_a, world, setup)
    add_group(in_school_a, world, setup, "5a matematika", "class", a)
    values = {
        "name": "5a anglų",
        "subject_id": setup.english_subject.id,
        "kind": "part",
        "class_id": a.id,
        "teacher_ids": [setup.teacher.id],
    } | changes
    if values["teacher_ids"] == ["outsider"]:
        values["teacher_ids"] = [setup.outsider.id]
    with pytest.raises(ServiceError) as excinfo:
        services.create_group(in_school_a, world.school_a, year=setup.year, **values)
    assert excinfo.value.field == field
    assert message in excinfo.value.message
    assert count(in_school_a, Group) == 1


def test_a_deactivated_subject_is_not_offered_for_new_groups(in_school_a, world, setup):
    setup.english_subject.is_active = False
    with pytest.raises(ServiceError, match="The subject “Anglų kalba” is deactivated"):
        services.create_group(
            in_school_a,
            world.school_a,
            year=setup.year,
            name="Anglų",
            subject_id=setup.english_subject.id,
            kind="mixed",
            class_id=None,
            teacher_ids=[setup.teacher.id],
        )


def test_update_group_changes_name_subject_and_teachers(in_school_a, world, setup):
    group = add_group(in_school_a, world, setup, "Etika", "mixed")
    services.update_group(
        in_school_a,
        world.school_a,
        group,
        name="Anglų kalba 7",
        subject_id=setup.english_subject.id,
        teacher_ids=[setup.head.id, str(setup.teacher.id)],
    )
    assert group.name == "Anglų kalba 7" and group.subject.code == "ANG"
    services.update_group(
        in_school_a,
        world.school_a,
        group,
        name="Anglų kalba 7",
        subject_id=setup.english_subject.id,
        teacher_ids=[setup.head.id],
    )
    assert [t.id for t in services.group_teachers(in_school_a, group)] == [setup.head.id]


# --- pages: classes -----------------------------------------------------------------------------


def test_classes_page_empty_state_then_the_admin_adds_a_class(client, in_school_a, world, setup):
    year_id, head_id = setup.year.id, setup.head.id
    login(client, "admin.a")
    page = text_of(client.get(CLASSES))
    assert "Classes of the school year 2026–2027 A" in page
    assert "No classes in this school year yet." in page
    assert "Vadovė Rasa" in page  # offered as a class head
    response = post_form(
        client, CLASSES, {"year": year_id, "grade_level": "5", "letter": "a", "head": head_id}
    )
    assert response.status_code == 302
    page = text_of(client.get(CLASSES))
    assert "Class 5a is added." in page and "Rasa Vadovė" in page


@pytest.mark.parametrize(
    ("grade", "letter", "message"),
    [
        ("13", "a", "The grade must be a whole number from 1 to 12."),
        ("5", "a", "Class 5a already exists in the school year 2026–2027 A."),
    ],
)
def test_bad_class_on_the_page_shows_the_error_and_saves_nothing(
    client, in_school_a, world, setup, grade, letter, message
):
    add_class(in_school_a, world, setup)
    year_id = setup.year.id
    login(client, "admin.a")
    response = post_form(
        client, CLASSES, {"year": year_id, "grade_level": grade, "letter": letter, "head": ""}
    )
    assert response.status_code == 400
    page = text_of(response)
    assert message in page
    assert f'value="{grade}"' in page  # the input is kept
    rebind(in_school_a, world)
    assert count(in_school_a, SchoolClass) == 1


def test_class_error_is_shown_in_the_schools_language(client, in_school_a, world, setup):
    """admin.a without a language of their own reads school A's pages in Lithuanian."""
    in_school_a.get(Account, world.admin_a.id).locale = None
    in_school_a.flush()
    year_id = setup.year.id
    login(client, "admin.a")
    response = post_form(client, CLASSES, {"year": year_id, "grade_level": "13", "letter": "a"})
    assert response.status_code == 400
    with in_locale("lt"):
        expected = gettext("The grade must be a whole number from 1 to 12.")
    page = text_of(response)
    assert 'lang="lt"' in page and expected in page
    rebind(in_school_a, world)
    assert count(in_school_a, SchoolClass) == 0


def test_admin_edits_and_deletes_a_class(client, in_school_a, world, setup):
    class_id = add_class(in_school_a, world, setup).id
    teacher_id = setup.teacher.id
    login(client, "admin.a")
    assert 'value="5"' in client.get(f"{CLASSES}/{class_id}/edit").get_data(as_text=True)
    response = post_form(
        client,
        f"{CLASSES}/{class_id}/edit",
        {"grade_level": "5", "letter": "b", "head": teacher_id},
    )
    assert response.status_code == 302
    assert "Class 5b is saved." in text_of(client.get(CLASSES))
    assert "Delete class 5b?" in text_of(client.get(f"{CLASSES}/{class_id}/delete"))
    assert post_form(client, f"{CLASSES}/{class_id}/delete", {}).status_code == 302
    rebind(in_school_a, world)
    assert count(in_school_a, SchoolClass) == 0


def test_deleting_a_class_with_students_is_refused_on_the_page(client, in_school_a, world, setup):
    school_class = add_class(in_school_a, world, setup)
    student(in_school_a, "Ona", "Onaitė", school_class)
    class_id = school_class.id
    login(client, "admin.a")
    response = post_form(client, f"{CLASSES}/{class_id}/delete", {})
    assert response.status_code == 400
    assert "Class 5a has 1 student; move the student to another class first." in text_of(response)
    rebind(in_school_a, world)
    assert count(in_school_a, SchoolClass) == 1


def test_class_page_lists_students_and_groups(client, in_school_a, world, setup):
    school_class = add_class(in_school_a, world, setup, head=setup.head)
    student(in_school_a, "Ona", "Onaitė", school_class)
    student(in_school_a, "Jonas", "Išėjęs", school_class, status="left")
    add_group(in_school_a, world, setup, "5a matematika", "class", school_class)
    class_id = school_class.id
    login(client, "teacher.a")
    page = text_of(client.get(f"{CLASSES}/{class_id}"))
    assert "Class 5a" in page and "Rasa Vadovė" in page
    assert "Onaitė Ona" in page and "Išėjęs" not in page
    assert "5a matematika" in page
    assert "Form a group of this class" not in page  # teacher.a may not form groups


def test_class_heads_see_their_class_marked(client, in_school_a, world, setup):
    add_class(in_school_a, world, setup, head=setup.teacher)
    add_class(in_school_a, world, setup, letter="b", head=setup.head)
    login(client, "teacher.a")
    page = text_of(client.get(CLASSES))
    assert page.count("your class") == 1


def test_teachers_read_classes_but_only_the_admin_changes_them(client, in_school_a, world, setup):
    class_id = add_class(in_school_a, world, setup).id
    year_id = setup.year.id
    login(client, "teacher.a")
    page = text_of(client.get(CLASSES))
    assert "5a" in page and "Add a class" not in page
    response = post_form(
        client, CLASSES, {"year": year_id, "grade_level": "6", "letter": "a"}, form_page=CLASSES
    )
    assert response.status_code == 403
    assert client.get(f"{CLASSES}/{class_id}/edit").status_code == 403
    response = post_form(client, f"{CLASSES}/{class_id}/delete", {}, form_page=CLASSES)
    assert response.status_code == 403
    rebind(in_school_a, world)
    assert count(in_school_a, SchoolClass) == 1


def test_guardians_see_no_classes_or_groups(client, world):
    login(client, "guardian.both")
    assert client.get(CLASSES).status_code == 403
    assert client.get(GROUPS).status_code == 403


def _many(session, world, setup: Setup, first: int, last: int) -> None:
    """Classes number ``first`` to ``last`` - 1, each with a head, two students and a whole-class
    group taught by two teachers."""
    for i in range(first, last):
        school_class = add_class(
            session, world, setup, level=1 + i % 12, letter="abcdefgh"[i // 12], head=setup.head
        )
        for j in range(2):
            student(session, f"S{i}-{j}", f"Pavardė{i}", school_class)
        services.create_group(
            session,
            world.school_a,
            year=setup.year,
            name=f"{school_class.name} matematika",
            subject_id=setup.math.id,
            kind="class",
            class_id=school_class.id,
            teacher_ids=[setup.teacher.id, setup.head.id],
        )


@pytest.mark.parametrize("path", [CLASSES, GROUPS])
def test_list_pages_run_the_same_few_queries_for_2_and_20_rows(
    client, in_school_a, world, setup, count_queries, path
):
    login(client, "admin.a")
    counts = []
    for first, last in ((0, 2), (2, 20)):
        rebind(in_school_a, world)
        _many(in_school_a, world, setup, first, last)
        with count_queries() as queries:
            response = client.get(path)
        assert response.status_code == 200
        links = re.findall(r'href="/s/school-a/(?:classes|groups)/\d+"', response.get_data(True))
        assert len(links) == last
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 12, counts


# --- pages: groups ------------------------------------------------------------------------------


def _group_form(setup: Setup, school_class: SchoolClass | None, **changes) -> dict:
    return {
        "year": setup.year.id,
        "name": "5a matematika",
        "subject": setup.math.id,
        "kind": "class",
        "class_id": school_class.id if school_class else "",
        "teachers": [setup.teacher.id],
    } | changes


def test_a_teacher_without_the_right_gets_403_forming_a_group(client, in_school_a, world, setup):
    school_class = add_class(in_school_a, world, setup)
    data = _group_form(setup, school_class)
    login(client, "teacher.a")
    assert client.get(GROUPS).status_code == 200
    assert "Form a group" not in text_of(client.get(GROUPS))
    assert client.get(GROUPS + "/new").status_code == 403
    response = post_form(client, GROUPS + "/new", data, form_page=GROUPS)
    assert response.status_code == 403
    rebind(in_school_a, world)
    assert count(in_school_a, Group) == 0


def test_a_teacher_granted_form_groups_forms_a_group(client, in_school_a, world, setup):
    school_class = add_class(in_school_a, world, setup)
    ona = student(in_school_a, "Ona", "Onaitė", school_class)
    grant_form_groups(in_school_a, setup.teacher)
    data = _group_form(setup, school_class, teachers=[setup.teacher.id, setup.head.id])
    class_id = school_class.id
    login(client, "teacher.a")
    assert "Form a group" in text_of(client.get(GROUPS))
    assert "Form a group of this class" in text_of(client.get(f"{CLASSES}/{class_id}"))
    form = client.get(GROUPS + "/new")
    assert form.status_code == 200 and "Matematika (MAT)" in text_of(form)
    response = post_form(client, GROUPS + "/new", data)
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "The group “5a matematika” is formed." in page
    assert "Onaitė Ona" in page
    assert "Tomas Mokytojas, Rasa Vadovė" in page or "Rasa Vadovė, Tomas Mokytojas" in page
    rebind(in_school_a, world)
    group = in_school_a.scalar(select(Group))
    assert group.kind == "class"
    assert count(in_school_a, GroupStudent, GroupStudent.student_id == ona.person_id) == 1
    assert count(in_school_a, GroupTeacher) == 2


def test_a_group_with_a_student_of_another_class_is_refused_on_the_page(
    client, in_school_a, world, setup
):
    a = add_class(in_school_a, world, setup)
    b = add_class(in_school_a, world, setup, letter="b")
    ona = student(in_school_a, "Ona", "Aitė", a)
    bronė = student(in_school_a, "Bronė", "Bitė", b)
    group = add_group(in_school_a, world, setup, "5a anglų 1 gr.", "part", a)
    group_id, ids = group.id, [ona.person_id, bronė.person_id]
    login(client, "admin.a")
    page = text_of(client.get(f"{GROUPS}/{group_id}"))
    assert "Aitė Ona" in page and "Bitė Bronė" not in page  # only 5a is offered
    response = post_form(
        client, f"{GROUPS}/{group_id}/students", {"students": ids}, form_page=f"{GROUPS}/{group_id}"
    )
    assert response.status_code == 400
    assert (
        "Bronė Bitė is not in class 5a: this group takes only the students of class 5a."
        in text_of(response)
    )
    rebind(in_school_a, world)
    assert count(in_school_a, GroupStudent) == 0


def test_students_are_added_to_and_removed_from_a_group_on_its_page(
    client, in_school_a, world, setup
):
    a = add_class(in_school_a, world, setup)
    b = add_class(in_school_a, world, setup, letter="b")
    ona = student(in_school_a, "Ona", "Aitė", a)
    bronė = student(in_school_a, "Bronė", "Bitė", b)
    group_id = add_group(in_school_a, world, setup, "Etika 5", "mixed").id
    ids = [ona.person_id, bronė.person_id]
    login(client, "admin.a")
    page_path = f"{GROUPS}/{group_id}"
    response = post_form(client, f"{page_path}/students", {"students": ids}, form_page=page_path)
    assert response.status_code == 302
    page = text_of(client.get(page_path))
    assert "2 students are added to the group." in page
    assert "Aitė Ona" in page and "Bitė Bronė" in page
    assert "Every active student of the school is in this group." in page
    response = post_form(
        client, f"{page_path}/students/{ona.person_id}/remove", {}, form_page=page_path
    )
    assert response.status_code == 302
    assert "Ona Aitė is removed from the group “Etika 5”." in text_of(client.get(page_path))
    rebind(in_school_a, world)
    assert count(in_school_a, GroupStudent) == 1


def test_duplicate_group_name_on_the_page_shows_the_error_and_saves_nothing(
    client, in_school_a, world, setup
):
    school_class = add_class(in_school_a, world, setup)
    add_group(in_school_a, world, setup, "5a matematika", "class", school_class)
    data = _group_form(setup, school_class, name="5A matematika", teachers=[])
    login(client, "admin.a")
    response = post_form(client, GROUPS + "/new", data, form_page=GROUPS + "/new")
    assert response.status_code == 400
    page = text_of(response)
    assert "A group named “5A matematika” already exists this school year." in page
    assert 'value="5A matematika"' in page
    rebind(in_school_a, world)
    assert count(in_school_a, Group) == 1


def test_admin_edits_and_deletes_a_group(client, in_school_a, world, setup):
    group_id = add_group(in_school_a, world, setup, "Etika 5", "mixed").id
    head_id, subject_id = setup.head.id, setup.english_subject.id
    login(client, "admin.a")
    edit = client.get(f"{GROUPS}/{group_id}/edit")
    assert 'value="Etika 5"' in edit.get_data(as_text=True)
    response = post_form(
        client,
        f"{GROUPS}/{group_id}/edit",
        {"name": "Anglų 5", "subject": subject_id, "teachers": [head_id]},
    )
    assert response.status_code == 302
    page = text_of(client.get(f"{GROUPS}/{group_id}"))
    assert "Anglų 5" in page and "Rasa Vadovė" in page and "Tomas Mokytojas" not in page
    assert "Delete the group “Anglų 5”?" in text_of(client.get(f"{GROUPS}/{group_id}/delete"))
    assert post_form(client, f"{GROUPS}/{group_id}/delete", {}).status_code == 302
    rebind(in_school_a, world)
    assert count(in_school_a, Group) == 0


def test_groups_page_empty_state(client, world, setup):
    login(client, "admin.a")
    page = text_of(client.get(GROUPS))
    assert "No groups in this school year yet." in page and "Form a group" in page


# --- isolation ----------------------------------------------------------------------------------


def test_another_schools_classes_groups_and_subjects_are_never_visible(
    client, db_session, world, setup
):
    bind_to_school(db_session, world.school_b)
    b_year = db_session.scalar(select(SchoolYear))
    b_scale = db_session.scalar(select(GradeScale.id).where(GradeScale.code == "ten_point"))
    b_subject = Subject(
        id=987001, code="RUS", name="Русский язык", scale_id=b_scale, name_translations={}
    )
    b_class = SchoolClass(id=987002, year_id=b_year.id, grade_level=7, letter="я")
    db_session.add_all([b_subject, b_class])
    db_session.flush()
    db_session.add(
        Group(
            id=987003,
            year_id=b_year.id,
            subject_id=b_subject.id,
            name="7я русский",
            kind="class",
            class_id=b_class.id,
        )
    )
    db_session.flush()
    bind_to_school(db_session, world.school_a)
    a_class = add_class(db_session, world, setup)
    data = _group_form(setup, a_class, subject=987001)

    login(client, "admin.a")
    for path in (CLASSES, GROUPS, GROUPS + "/new"):
        page = text_of(client.get(path))
        assert "7я" not in page and "Русский язык" not in page and "RUS" not in page
    assert client.get(f"{CLASSES}/987002").status_code == 404
    assert client.get(f"{GROUPS}/987003").status_code == 404
    response = post_form(client, GROUPS + "/new", data, form_page=GROUPS + "/new")
    assert response.status_code == 400 and "Choose the subject." in text_of(response)
    data = _group_form(setup, None, kind="part", class_id=987002)
    response = post_form(client, GROUPS + "/new", data, form_page=GROUPS + "/new")
    assert response.status_code == 400 and "Choose the group's class." in text_of(response)
    assert client.get("/s/school-b/classes").status_code == 403
    rebind(db_session, world)
    assert count(db_session, Group) == 0


# --- moving the classes up into the next school year ------------------------------------------

#: After the finished year's last term (19 June 2026), before the next year starts.
SUMMER = date(2026, 8, 25)


@dataclass
class FinishedYear:
    year: SchoolYear
    c5a: SchoolClass
    c5b: SchoolClass
    c12a: SchoolClass
    kept_out: SchoolClass  # 7a: the administrator chooses "not now"
    students: dict[str, Student]
    old_group: Group  # 5a's whole-class maths group of the finished year
    new_group: Group  # 6b's whole-class maths group, made in the new year before the move


@pytest.fixture
def finished(in_school_a, world, setup) -> FinishedYear:
    """2025–2026 with two semesters and classes 5a (head: Rasa), 5b, 7a and 12a; the new
    year (setup.year, 2026–2027) already has 6b with a whole-class group."""
    session = in_school_a
    year = calendar.create_year(
        session, name="2025–2026", starts_on=date(2025, 9, 1), ends_on=date(2026, 8, 31)
    )
    calendar.set_terms(
        session, year, "semester",
        calendar.propose_terms("semester", date(2025, 9, 1), date(2026, 6, 19)),
    )  # fmt: skip
    made = {}
    for level, letter, head in ((5, "a", setup.head), (5, "b", None), (7, "a", None),
                                (12, "a", setup.teacher)):  # fmt: skip
        made[f"{level}{letter}"] = services.create_class(
            session, world.school_a, year=year, grade_level=level, letter=letter,
            head_id=head.id if head else None,
        )  # fmt: skip
    students = {
        name: student(session, name, "Mokinys", made[class_name])
        for name, class_name in (("Ona", "5a"), ("Jonas", "5a"), ("Rūta", "5b"),
                                 ("Petras", "7a"), ("Eglė", "12a"), ("Tomas", "12a"))
    }  # fmt: skip
    left = student(session, "Išėjęs", "Mokinys", made["5a"], status="left")
    students["left"] = left
    for s in students.values():
        s.enrolled_on = date(2025, 9, 1)
    old_group = services.create_group(
        session, world.school_a, year=year, name="5a matematika", subject_id=setup.math.id,
        kind="class", class_id=made["5a"].id, teacher_ids=[setup.teacher.id],
    )  # fmt: skip
    services.add_students(session, old_group, [students["Ona"].person_id,
                                               students["Jonas"].person_id])  # fmt: skip
    half = services.create_group(
        session, world.school_a, year=year, name="5a anglų k. 1 gr.",
        subject_id=setup.english_subject.id, kind="part", class_id=made["5a"].id,
        teacher_ids=[setup.head.id],
    )  # fmt: skip
    services.add_students(session, half, [students["Ona"].person_id])
    c6b = add_class(session, world, setup, level=6, letter="b")
    new_group = services.create_group(
        session, world.school_a, year=setup.year, name="6b matematika",
        subject_id=setup.math.id, kind="class", class_id=c6b.id, teacher_ids=[setup.teacher.id],
    )  # fmt: skip
    session.flush()
    return FinishedYear(year, made["5a"], made["5b"], made["12a"], made["7a"], students,
                        old_group, new_group)  # fmt: skip


def test_moving_up_plan(in_school_a, setup, finished):
    plan = services.promotion_plan(in_school_a, finished.year, setup.year)
    rows = [(m.school_class.name, m.students, m.target_name, m.target_exists, m.default)
            for m in plan]  # fmt: skip
    assert rows == [
        ("5a", 2, "6a", False, "promote"),
        ("5b", 1, "6b", True, "promote"),
        ("7a", 1, "8a", False, "promote"),
        ("12a", 2, None, False, "graduate"),
    ]  # fmt: skip


def test_moving_up_moves_students_keeps_history_and_graduates_the_last_grade(
    in_school_a, world, setup, finished
):
    session = in_school_a
    summary = services.promote_classes(
        session, world.admin_a, world.school_a, setup.year,
        {finished.kept_out.id: "keep"}, SUMMER,
    )  # fmt: skip
    assert (summary.classes_created, summary.groups_copied, summary.students_moved,
            summary.students_graduated) == (1, 2, 3, 2)  # fmt: skip
    c6a = session.scalar(select(SchoolClass).where(
        SchoolClass.year_id == setup.year.id, SchoolClass.grade_level == 6,
        SchoolClass.letter == "a"))  # fmt: skip
    assert c6a.head_id == setup.head.id  # the head moves up with the class
    s = finished.students
    session.expire_all()
    assert {s["Ona"].class_id, s["Jonas"].class_id} == {c6a.id}
    assert s["Rūta"].class_id == finished.new_group.class_id  # into the 6b made already
    assert s["Petras"].class_id == finished.kept_out.id  # "not now"
    assert s["left"].class_id == finished.c5a.id and s["left"].status == "left"
    # the finished year's group keeps its students; 6b's whole-class group took Rūta in
    members = set(
        session.scalars(
            select(GroupStudent.student_id).where(GroupStudent.group_id == finished.old_group.id)
        )
    )
    assert members == {s["Ona"].person_id, s["Jonas"].person_id}
    assert session.get(GroupStudent, (finished.new_group.id, s["Rūta"].person_id)) is not None
    # 5a's groups came along for 6a: same subject and teacher; the whole class, and the half
    copies = {g.name: g for g in session.scalars(select(Group).where(Group.class_id == c6a.id))}
    assert set(copies) == {"6a matematika", "6a anglų k. 1 gr."}
    assert copies["6a matematika"].kind == "class"
    assert {t.id for t in services.group_teachers(session, copies["6a matematika"])} == {
        setup.teacher.id
    }
    members = {
        name: {st.person_id for st, _class in services.group_students(session, group)}
        for name, group in copies.items()
    }
    assert members == {
        "6a matematika": {s["Ona"].person_id, s["Jonas"].person_id},
        "6a anglų k. 1 gr.": {s["Ona"].person_id},
    }
    for name in ("Eglė", "Tomas"):  # graduated on the last day of studies, records kept
        assert (s[name].status, s[name].left_on, s[name].class_id) == (
            "left", date(2026, 6, 19), finished.c12a.id,
        )  # fmt: skip

    again = services.promote_classes(
        session, world.admin_a, world.school_a, setup.year,
        {finished.kept_out.id: "keep"}, SUMMER,
    )  # fmt: skip
    assert (again.classes_created, again.groups_copied, again.students_moved,
            again.students_graduated) == (0, 0, 0, 0)  # fmt: skip
    assert count(session, SchoolClass, SchoolClass.year_id == setup.year.id) == 2  # 6a, 6b
    assert count(session, Group, Group.year_id == setup.year.id) == 3  # 6b's and the 2 copies


def test_moving_up_without_the_groups(in_school_a, world, setup, finished):
    summary = services.promote_classes(
        in_school_a, world.admin_a, world.school_a, setup.year, {}, SUMMER, copy_groups=False
    )
    assert summary.groups_copied == 0
    assert count(in_school_a, Group, Group.year_id == setup.year.id) == 1  # 6b's own


@pytest.mark.parametrize(
    ("today", "choice", "message"),
    [
        (date(2026, 6, 19), None, "move up after their last term ends"),
        (SUMMER, "promote", "in the last grade: its students can only graduate"),
        (SUMMER, "sideways", "Choose what happens to each class"),
    ],
)
def test_moving_up_refused_saves_nothing(in_school_a, world, setup, finished, today, choice,
                                         message):  # fmt: skip
    session = in_school_a
    choices = {finished.c12a.id: choice} if choice else {}
    before = count(session, SchoolClass), count(session, Student, Student.status == "left")
    savepoint = session.begin_nested()
    with pytest.raises(ServiceError, match=message):
        services.promote_classes(session, world.admin_a, world.school_a, setup.year, choices,
                                 today)  # fmt: skip
    savepoint.rollback()
    assert (count(session, SchoolClass), count(session, Student, Student.status == "left")) == (
        before
    )
    assert finished.students["Ona"].class_id == finished.c5a.id


def test_moving_up_is_for_the_administrator_and_needs_an_earlier_year(
    in_school_a, world, setup, finished
):
    with pytest.raises(PermissionDenied):
        services.promote_classes(in_school_a, world.teacher_a, world.school_a, setup.year, {},
                                 SUMMER)  # fmt: skip
    with pytest.raises(ServiceError, match="no earlier school year"):
        services.promote_classes(in_school_a, world.admin_a, world.school_a, finished.year, {},
                                 SUMMER)  # fmt: skip


def test_moving_up_pages(client, in_school_a, world, setup, finished, monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: SUMMER)
    year_id, kept_id, last_grade_id = setup.year.id, finished.kept_out.id, finished.c12a.id
    in_school_a.commit()
    login(client, "teacher.a")
    assert client.get(f"{CLASSES}/next-year?year={year_id}").status_code == 403
    post_form(client, "/logout", {}, form_page=f"{CLASSES}?year={year_id}")
    login(client, "admin.a")
    listing = client.get(f"{CLASSES}?year={year_id}").get_data(as_text=True)
    assert f"/classes/next-year?year={year_id}" in listing
    page = client.get(f"{CLASSES}/next-year?year={year_id}").get_data(as_text=True)
    assert "becomes 6a" in page and "becomes 6b (made already)" in page
    assert "graduates: the students leave the school" in page
    done = post_form(
        client, f"{CLASSES}/next-year",
        {"year": year_id, f"class-{kept_id}": "keep", "copy_groups": "1"},
        form_page=f"{CLASSES}/next-year?year={year_id}",
    )  # fmt: skip
    assert done.status_code == 302
    flashed = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Groups copied: 2. Students moved up: 3. Students graduated: 2." in html.unescape(
        flashed
    )
    bad = post_form(
        client, f"{CLASSES}/next-year",
        {"year": year_id, f"class-{last_grade_id}": "promote"},
        form_page=f"{CLASSES}/next-year?year={year_id}",
    )  # fmt: skip
    assert bad.status_code == 400
    assert "can only graduate" in html.unescape(bad.get_data(as_text=True))
