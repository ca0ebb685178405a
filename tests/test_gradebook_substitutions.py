"""The month's substitutions: the lessons substitute teachers held in place of the group's
teacher, for the e-diary administrator's account of their extra work."""

from __future__ import annotations

import csv
import html
import re
from datetime import date
from io import StringIO

import pytest
from sqlalchemy import select

from accounts.models import Role
from classroom import _person, new_account
from conftest import login
from dienynas.errors import PermissionDenied
from dienynas.i18n import in_locale
from gradebook.lessons.models import Lesson
from gradebook.overview.substitutions import month_substitutions
from school.calendar.models import SchoolYear
from school.calendar.services import set_terms
from school.classes.models import Group, GroupTeacher
from school.curriculum.models import GradeScale, Subject
from tenants.services import bind_to_school

BASE = "/s/school-a"
SEPTEMBER = date(2026, 9, 1)
#: The app's today on the pages: September is over, October is not.
TODAY = date(2026, 10, 20)


@pytest.fixture(autouse=True)
def english():
    with in_locale("en"):
        yield


def held(classroom, group: Group, day: date, lesson_no: int, teacher, instead_of=None) -> Lesson:
    """A lesson of ``group`` held by ``teacher``, in place of ``instead_of`` when given."""
    lesson = Lesson(
        group_id=group.id, on_day=day, lesson_no=lesson_no, term_id=classroom.terms[0].id,
        teacher_id=teacher.id, substitute_for_id=instead_of.id if instead_of else None,
    )  # fmt: skip
    classroom.session.add(lesson)
    classroom.session.flush()
    return lesson


@pytest.fixture
def substitutions(classroom):
    """September and October in 5a: the class head stands in twice in September and once in
    October, Anglas (English's teacher) once for maths; a new teacher, Ąžuolienė, once for
    English. Her name sorts between Anglas and Vadovė only with accents folded, and her id is
    the highest: the order is by name, not by id or bytes."""
    c = classroom
    azuoliene = _person(c.session, "Aušra", "Ąžuolienė")
    held(c, c.maths, date(2026, 9, 7), 1, c.teacher)  # the group's own teacher: not listed
    held(c, c.maths, date(2026, 9, 9), 2, c.head, c.teacher)
    held(c, c.english, date(2026, 9, 8), 1, c.head, c.other_teacher)
    held(c, c.maths, date(2026, 9, 14), 1, c.other_teacher, c.teacher)
    held(c, c.english, date(2026, 9, 24), 2, azuoliene, c.other_teacher)
    held(c, c.maths, date(2026, 10, 5), 1, c.head, c.teacher)  # October
    return c


def september(classroom, who: str = "admin", today: date = TODAY):
    return month_substitutions(
        classroom.session, classroom.account(who), classroom.school, month=SEPTEMBER,
        today=today,
    )  # fmt: skip


# --- the figures ------------------------------------------------------------------------------


def test_each_substitutes_lessons_are_listed_and_counted_by_name(substitutions):
    c = substitutions
    found = september(c)
    assert [(r.teacher.last_name, r.count) for r in found.rows] == [
        ("Anglas", 1), ("Ąžuolienė", 1), ("Vadovė", 2),
    ]  # fmt: skip
    assert found.count == 4 and found.month_over
    head = found.rows[2]
    assert [
        (x.on_day, x.lesson_no, x.group.name, x.group.subject.name_in("en"), x.stood_in_for.id)
        for x in head.lessons
    ] == [
        (date(2026, 9, 8), 1, "5a anglų", "English", c.other_teacher.id),
        (date(2026, 9, 9), 2, "5a matematika", "Mathematics", c.teacher.id),
    ]
    # the group's own teacher held 7 September: Mokytojas is nobody's substitute
    assert "Mokytojas" not in {r.teacher.last_name for r in found.rows}
    assert date(2026, 9, 7) not in {x.on_day for r in found.rows for x in r.lessons}


def test_another_month_has_only_its_own_substitutions(substitutions):
    c = substitutions
    october = month_substitutions(
        c.session, c.account("director"), c.school, month=date(2026, 10, 1), today=TODAY
    )
    assert [(r.teacher.last_name, [x.on_day for x in r.lessons]) for r in october.rows] == [
        ("Vadovė", [date(2026, 10, 5)])
    ]
    assert date(2026, 10, 5) not in {x.on_day for r in september(c).rows for x in r.lessons}


def test_lessons_after_today_are_not_counted_yet(substitutions):
    found = september(substitutions, today=date(2026, 9, 10))
    assert [(r.teacher.last_name, r.count) for r in found.rows] == [("Vadovė", 2)]
    assert found.counted_until == date(2026, 9, 10) and not found.month_over


@pytest.mark.parametrize("who", ["teacher", "head", "guardian", "student"])
def test_only_the_director_and_the_administrator_see_substitutions(substitutions, who):
    with pytest.raises(PermissionDenied):
        september(substitutions, who)
    for allowed in ("director", "admin"):
        assert september(substitutions, allowed).count == 4


# --- the page and the file ----------------------------------------------------------------------


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(True))))


def test_the_page_lists_the_months_substitutes(client, substitutions, school_day):
    school_day(TODAY)
    substitutions.session.commit()
    login(client, "admin.a")
    response = client.get(f"{BASE}/substitutions?month=2026-09")
    assert response.status_code == 200
    page = text_of(response)
    assert "Substitutions" in page and "September 2026" in page
    assert "Anglas Jonas 1 Ąžuolienė Aušra 1 Vadovė Kristina 2 In all 4" in page
    assert "Teacher: Vadovė Kristina 2 lessons substituted" in page
    assert "Tue, 8 Sep 1 5a anglų English Anglas Jonas" in page
    assert "Teacher: Anglas Jonas 1 lesson substituted" in page
    assert "Counted up to" not in page  # September is over
    assert "substitutions.csv?month=2026-09" in response.get_data(as_text=True)
    # this month (the default) is counted up to today
    page = text_of(client.get(f"{BASE}/substitutions"))
    assert "October 2026" in page and "Counted up to Oct 20, 2026" in page
    assert "Vadovė Kristina 1 In all 1" in page
    empty = text_of(client.get(f"{BASE}/substitutions?month=2026-08"))
    assert "No lessons were held by a substitute teacher this month." in empty


def test_the_csv_file(client, substitutions, school_day):
    school_day(TODAY)
    substitutions.session.commit()
    login(client, "admin.a")
    response = client.get(f"{BASE}/substitutions.csv?month=2026-09")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "substitutions-2026-09.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(StringIO(response.data.decode("utf-8-sig"))))
    assert rows == [
        ["Teacher", "Date", "Lesson no.", "Group", "Subject", "Teacher stood in for",
         "Lessons substituted"],
        ["Anglas Jonas", "2026-09-14", "1", "5a matematika", "Mathematics", "Mokytojas Tomas", ""],
        ["Anglas Jonas", "", "", "", "", "", "1"],
        ["Ąžuolienė Aušra", "2026-09-24", "2", "5a anglų", "English", "Anglas Jonas", ""],
        ["Ąžuolienė Aušra", "", "", "", "", "", "1"],
        ["Vadovė Kristina", "2026-09-08", "1", "5a anglų", "English", "Anglas Jonas", ""],
        ["Vadovė Kristina", "2026-09-09", "2", "5a matematika", "Mathematics", "Mokytojas Tomas",
         ""],
        ["Vadovė Kristina", "", "", "", "", "", "2"],
        ["In all", "", "", "", "", "", "4"],
    ]  # fmt: skip


def test_teachers_and_guardians_are_refused(app, client, substitutions):
    substitutions.session.commit()
    for login_name in ("teacher.a", "head.a", "guardian.both"):
        other = app.test_client()
        login(other, login_name)
        for path in (
            "/substitutions?month=2026-09",
            "/substitutions.csv",
            "/substitutions?month=x",
        ):
            assert other.get(f"{BASE}{path}").status_code == 403, (login_name, path)
    login(client, "director.a")
    assert client.get(f"{BASE}/substitutions?month=2026-09").status_code == 200


def test_a_bad_month_is_a_clear_400(client, substitutions):
    substitutions.session.commit()
    login(client, "admin.a")
    for path in ("/substitutions?month=2026-13", "/substitutions.csv?month=2026-13"):
        response = client.get(f"{BASE}{path}")
        assert response.status_code == 400
        assert "“2026-13” is not a month; use the form YYYY-MM." in text_of(response)


def test_the_menu_offers_it_to_the_director_and_the_administrator(app, substitutions):
    substitutions.session.commit()
    for login_name, shown in (("admin.a", True), ("director.a", True), ("teacher.a", False)):
        client = app.test_client()
        login(client, login_name)
        home = client.get(f"{BASE}/").get_data(as_text=True)
        assert (f'href="{BASE}/substitutions"' in home) is shown, login_name


def test_the_page_runs_the_same_queries_for_1_and_3_substitutions(
    client, classroom, count_queries, school_day
):
    school_day(TODAY)
    c = classroom
    held(c, c.maths, date(2026, 9, 9), 2, c.head, c.teacher)
    c.session.commit()
    login(client, "admin.a")
    counts = []
    for more in (0, 2):
        bind_to_school(c.session, c.school)
        for n in range(more):
            substitute = _person(c.session, "Papildomas", f"Mokytojas{n}")
            held(c, c.english, date(2026, 9, 10 + n), 1, substitute, c.other_teacher)
        c.session.commit()
        with count_queries() as queries:
            response = client.get(f"{BASE}/substitutions?month=2026-09")
        assert response.status_code == 200
        counts.append(len(queries))
        assert f"In all {1 + more}" in text_of(response)
    assert counts[0] == counts[1] <= 2, counts


# --- schools apart ----------------------------------------------------------------------------


def substitution_in_school_b(session, world) -> None:
    """School B: Zamena stands in for Borisov on 9 September (the day and lesson of one of
    school A's); its administrator admin.b. School A's objects are let go first (ids repeat
    across schools)."""
    session.expunge_all()
    bind_to_school(session, world.school_b)
    year = session.scalar(select(SchoolYear))
    (term, _second) = set_terms(session, year, "semester",
                                [(date(2026, 9, 1), date(2027, 1, 31)),
                                 (date(2027, 2, 1), date(2027, 6, 30))])  # fmt: skip
    scale = session.scalar(select(GradeScale).where(GradeScale.code == "ten_point"))
    subject = Subject(code="RUS", name="Русский язык", scale_id=scale.id)
    session.add(subject)
    session.flush()
    group = Group(year_id=year.id, subject_id=subject.id, name="3b русский", kind="class")
    regular = _person(session, "Boris", "Borisov")
    substitute = _person(session, "Zinaida", "Zamena")
    session.add(group)
    session.flush()
    session.add(GroupTeacher(group_id=group.id, teacher_id=regular.id))
    session.add(
        Lesson(group_id=group.id, on_day=date(2026, 9, 9), lesson_no=2, term_id=term.id,
               teacher_id=substitute.id, substitute_for_id=regular.id)
    )  # fmt: skip
    new_account(session, world.school_b, "admin.b", "Boris Administrator", Role.ADMIN)
    session.flush()


def test_another_schools_substitutions_never_appear(app, client, substitutions, world):
    substitution_in_school_b(substitutions.session, world)
    substitutions.session.commit()
    login(client, "admin.a")
    page = text_of(client.get(f"{BASE}/substitutions?month=2026-09"))
    csv_file = client.get(f"{BASE}/substitutions.csv?month=2026-09").data.decode("utf-8-sig")
    assert "Vadovė Kristina" in page and "Vadovė Kristina" in csv_file
    for text in (page, csv_file):
        assert "Zamena" not in text and "Borisov" not in text and "русский" not in text
    school_b = app.test_client()
    login(school_b, "admin.b")
    page = text_of(school_b.get("/s/school-b/substitutions?month=2026-09"))
    assert "Zamena Zinaida 1" in page and "Borisov Boris" in page
    assert "Vadovė" not in page and "Anglas" not in page
