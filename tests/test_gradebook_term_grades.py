"""Term and year grades: suggestions by the school's rounding rule, confirming inside the unlock
window, and the group's term-grades page."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from conftest import login, post_form
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.i18n import in_locale
from gradebook.grades import services
from gradebook.grades.models import Grade, TermGrade
from gradebook.settings.models import GradebookSettings
from notifications.models import NotificationEvent
from school.classes.models import Group, GroupStudent, GroupTeacher
from school.curriculum.models import GradeScale, Subject
from school.locks.models import TermLock
from school.locks.services import TERM_GRADES
from school.people.models import Person, Student
from tenants.services import bind_to_school

#: Term 1 (2026-09-01 – 2027-01-31): term grades from 17 January to 5 February 2027.
IN_WINDOW = date(2027, 1, 20)
#: Term 2 (2027-02-01 – 2027-06-30): from 16 June to 7 July 2027; year grades then too.
YEAR_WINDOW = date(2027, 6, 21)
SCHOOL_DAYS = [date(2026, 9, 7), date(2026, 9, 8), date(2026, 9, 9), date(2026, 9, 10)]

#: A page whose layout carries a CSRF token (the logout form).
HOME = "/s/school-a/"


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


def grade(classroom, student: int, *values: str, group=None, term: int = 0) -> None:
    """Grades put straight into the table (giving them is tested in test_gradebook_grades)."""
    group = group or classroom.maths
    days = SCHOOL_DAYS if term == 0 else [date(2027, 2, day) for day in range(1, 5)]
    for day, value in zip(days, values, strict=False):
        classroom.session.add(
            Grade(
                student_id=classroom.students[student].id,
                group_id=group.id,
                on_day=day,
                term_id=classroom.terms[term].id,
                value=value,
                created_by=1,
            )
        )
    classroom.session.flush()


def confirm(classroom, values, *, who="teacher", today=IN_WINDOW, term=0, group=None):
    return services.confirm_term_grades(
        classroom.session, classroom.account(who), classroom.school,
        group or classroom.maths, classroom.terms[term],
        {classroom.students[i].id: v for i, v in values.items()}, today,
    )  # fmt: skip


def term_grades(session) -> list[tuple]:
    return list(
        session.execute(
            select(
                TermGrade.student_id, TermGrade.term_id, TermGrade.suggested, TermGrade.value
            ).order_by(TermGrade.term_id.nulls_last(), TermGrade.student_id)
        )
    )


def event_count(session) -> int:
    return session.scalar(
        select(func.count())
        .select_from(NotificationEvent)
        .where(NotificationEvent.kind == "term_grade")
    )


def rounding(session, rule: str) -> None:
    session.add(GradebookSettings(id=1, rounding=rule))
    session.flush()


def set_lock(session, term, mode: str) -> None:
    session.add(TermLock(term_id=term.id, function=TERM_GRADES, mode=mode))
    session.flush()


# --- suggestions --------------------------------------------------------------------------------


def test_the_mean_rounds_half_up_by_default(classroom):
    grade(classroom, 0, "7", "8")
    grade(classroom, 1, "7", "8", "8")
    grade(classroom, 2, "9", term=1)  # another term does not count
    suggestions = services.suggest_term_grades(
        classroom.session, classroom.maths, classroom.terms[0]
    )
    first, second, third = (suggestions[classroom.students[i].id] for i in range(3))
    assert (first.count, first.mean, first.suggested) == (2, Decimal("7.5"), "8")
    assert (second.count, second.suggested) == (3, "8")
    assert round(second.mean, 2) == Decimal("7.67")
    assert (third.count, third.mean, third.suggested) == (0, None, None)
    assert set(suggestions) == {s.id for s in classroom.students}


def test_half_down_rounds_a_half_down(classroom):
    rounding(classroom.session, "half_down")
    grade(classroom, 0, "7", "8")
    grade(classroom, 1, "7", "8", "8")
    suggestions = services.suggest_term_grades(
        classroom.session, classroom.maths, classroom.terms[0]
    )
    assert suggestions[classroom.students[0].id].suggested == "7"
    assert suggestions[classroom.students[1].id].suggested == "8"


@pytest.fixture
def sport(classroom) -> Group:
    """A pass/fail group of 5a taught by ``teacher``."""
    session = classroom.session
    scale = session.scalar(select(GradeScale).where(GradeScale.code == "pass_fail"))
    subject = Subject(code="KK", name="Kūno kultūra", scale_id=scale.id, name_translations={})
    session.add(subject)
    session.flush()
    group = Group(year_id=classroom.year.id, subject_id=subject.id, name="5a kūno kultūra",
                  kind="class", class_id=classroom.c5a.id)  # fmt: skip
    session.add(group)
    session.flush()
    session.add(GroupTeacher(group_id=group.id, teacher_id=classroom.teacher.id))
    session.add_all(GroupStudent(group_id=group.id, student_id=p.id) for p in classroom.students)
    session.flush()
    return group


def test_pass_fail_suggests_the_latest_grade(classroom, sport):
    grade(classroom, 0, "failed", "passed", group=sport)
    grade(classroom, 1, "passed", "failed", group=sport)
    suggestions = services.suggest_term_grades(classroom.session, sport, classroom.terms[0])
    first, second = (suggestions[classroom.students[i].id] for i in range(2))
    assert (first.count, first.mean, first.suggested) == (2, None, "passed")
    assert second.suggested == "failed"
    changed = confirm(classroom, {0: "passed", 1: "Failed"}, group=sport)
    assert [row.value for row in changed] == ["passed", "failed"]
    with pytest.raises(ServiceError, match="the grade is “passed” or “failed”"):
        confirm(classroom, {0: "7"}, group=sport)


# --- confirming term grades ---------------------------------------------------------------------


def test_teacher_confirms_term_grades_inside_the_window(classroom):
    session = classroom.session
    grade(classroom, 0, "7", "8")
    grade(classroom, 1, "9", "9")
    teacher = classroom.account("teacher")
    changed = confirm(classroom, {0: "7", 1: " 9 ", 2: ""})
    assert len(changed) == 2
    ids = [s.id for s in classroom.students]
    term = classroom.terms[0].id
    assert term_grades(session) == [(ids[0], term, "8", "7"), (ids[1], term, "9", "9")]
    row = changed[0]
    assert row.confirmed_by == teacher.id and row.confirmed_at is not None
    assert row.year_id == classroom.year.id
    events = session.scalars(
        select(NotificationEvent).where(NotificationEvent.kind == "term_grade")
    ).all()
    assert [e.payload for e in events] == [
        {"term_grade_id": r.id, "student_id": r.student_id, "group_id": classroom.maths.id,
         "term_id": term}
        for r in changed
    ]  # fmt: skip

    # the same values again: nothing changes, no event; one changed: one event
    assert confirm(classroom, {0: "7", 1: "9"}) == []
    assert event_count(session) == 2
    assert [r.value for r in confirm(classroom, {0: "8", 1: "9"})] == ["8"]
    assert event_count(session) == 3
    # a blank clears a confirmed grade
    assert [r.value for r in confirm(classroom, {1: ""})] == [None]
    assert event_count(session) == 4


@pytest.mark.parametrize(
    ("today", "message"),
    [
        (date(2026, 12, 1), "Entering term grades opens on January 17, 2027."),
        (date(2027, 3, 1), "Entering term grades closed on February 5, 2027;"),
    ],
)
def test_outside_the_window_term_grades_are_refused(classroom, today, message):
    grade(classroom, 0, "7")
    for who in ("teacher", "admin"):
        with pytest.raises(ServiceError) as refused:
            confirm(classroom, {0: "7"}, who=who, today=today)
        assert message in refused.value.message
    assert term_grades(classroom.session) == [] and event_count(classroom.session) == 0


def test_the_administrator_may_open_or_lock_the_window(classroom):
    set_lock(classroom.session, classroom.terms[0], "locked")
    with pytest.raises(ServiceError, match="locked for this term by the e-diary administrator"):
        confirm(classroom, {0: "7"})
    classroom.session.execute(TermLock.__table__.update().values(mode="open"))
    assert len(confirm(classroom, {0: "7"}, today=date(2027, 5, 3))) == 1


def test_a_bad_value_names_the_student_and_saves_nothing(classroom):
    with pytest.raises(ServiceError) as refused:
        confirm(classroom, {0: "8", 1: "11"})
    assert refused.value.message == (
        "Student: Benas Butkus. The grade must be a whole number from 1 to 10."
    )
    assert refused.value.field == f"value-{classroom.students[1].id}"
    assert term_grades(classroom.session) == [] and event_count(classroom.session) == 0


def test_a_student_not_in_the_group_is_refused(classroom):
    with pytest.raises(ServiceError, match="not in this group"):
        services.confirm_term_grades(
            classroom.session, classroom.account("teacher"), classroom.school,
            classroom.maths, classroom.terms[0], {classroom.outsider.id: "8"}, IN_WINDOW,
        )  # fmt: skip
    assert term_grades(classroom.session) == []


@pytest.mark.parametrize("who", ["other_teacher", "director", "head"])
def test_only_the_groups_teacher_or_the_administrator_confirms(classroom, who):
    with pytest.raises(PermissionDenied):
        confirm(classroom, {0: "8"}, who=who)
    assert term_grades(classroom.session) == []
    assert len(confirm(classroom, {0: "8"}, who="admin")) == 1


def test_a_term_of_another_year_is_not_found(classroom):
    from school.calendar.models import SchoolYear, Term

    session = classroom.session
    later = SchoolYear(name="2027–2028 A", starts_on=date(2027, 9, 1), ends_on=date(2028, 8, 31))
    session.add(later)
    session.flush()
    term = Term(year_id=later.id, kind="semester", number=1,
                starts_on=date(2027, 9, 1), ends_on=date(2028, 1, 31))  # fmt: skip
    session.add(term)
    session.flush()
    with pytest.raises(NotFound):
        services.confirm_term_grades(
            session, classroom.account("teacher"), classroom.school, classroom.maths, term,
            {classroom.students[0].id: "8"}, date(2028, 1, 20),
        )  # fmt: skip


# --- year grades --------------------------------------------------------------------------------


def test_year_grades_come_from_the_confirmed_term_grades(classroom):
    session = classroom.session
    confirm(classroom, {0: "8", 1: "6", 2: "9"})
    set_lock(session, classroom.terms[1], "open")
    confirm(classroom, {0: "7", 1: "6"}, term=1, today=YEAR_WINDOW)
    suggestions = services.suggest_year_grades(session, classroom.maths)
    ids = [s.id for s in classroom.students]
    assert suggestions[ids[0]] == services.Suggestion(2, Decimal("7.5"), "8")
    assert suggestions[ids[1]].suggested == "6"
    assert suggestions[ids[2]].count == 1 and suggestions[ids[3]].suggested is None
    rounding(session, "half_down")
    assert services.suggest_year_grades(session, classroom.maths)[ids[0]].suggested == "7"

    changed = services.confirm_year_grades(
        session, classroom.account("teacher"), classroom.school, classroom.maths,
        {ids[0]: "7", ids[1]: "6"}, YEAR_WINDOW,
    )  # fmt: skip
    assert [(r.term_id, r.suggested, r.value) for r in changed] == [(None, "7", "7"),
                                                                     (None, "6", "6")]  # fmt: skip
    assert event_count(session) == 5 + 2
    year_event = session.scalars(
        select(NotificationEvent).order_by(NotificationEvent.id.desc())
    ).first()
    assert year_event.payload["year_id"] == classroom.year.id
    assert "term_id" not in year_event.payload


def test_year_grades_only_inside_the_last_terms_window(classroom):
    session = classroom.session
    for today, message in (
        (IN_WINDOW, "opens on June 16, 2027"),
        (date(2027, 8, 2), "closed on July 7, 2027"),
    ):
        with pytest.raises(ServiceError, match=message):
            services.confirm_year_grades(
                session, classroom.account("teacher"), classroom.school, classroom.maths,
                {classroom.students[0].id: "8"}, today,
            )  # fmt: skip
    assert term_grades(session) == [] and event_count(session) == 0


# --- the page -----------------------------------------------------------------------------------


def page_url(classroom, term: int = 0) -> str:
    return f"/s/school-a/groups/{classroom.maths.id}/term-grades?term={classroom.terms[term].id}"


def add_students(classroom, how_many: int) -> None:
    session = classroom.session
    for index in range(how_many):
        person = Person(first_name="Extra", last_name=f"Student{index}", document_kind="other")
        session.add(person)
        session.flush()
        session.add(Student(person_id=person.id, class_id=classroom.c5a.id))
        session.flush()
        session.add(GroupStudent(group_id=classroom.maths.id, student_id=person.id))
        session.add(
            Grade(
                student_id=person.id,
                group_id=classroom.maths.id,
                on_day=SCHOOL_DAYS[0],
                term_id=classroom.terms[0].id,
                value="6",
                created_by=1,
            )
        )
        session.add(TermGrade(student_id=person.id, group_id=classroom.maths.id,
                              year_id=classroom.year.id, term_id=classroom.terms[0].id,
                              value="6"))  # fmt: skip
    session.flush()


def test_page_shows_counts_means_suggestions_in_constant_queries(classroom, client, world,
                                                                count_queries):  # fmt: skip
    session = classroom.session
    set_lock(session, classroom.terms[0], "open")
    grade(classroom, 0, "7", "8")
    grade(classroom, 1, "9", "10", "10")
    confirm(classroom, {1: "10"})
    set_lock(session, classroom.terms[1], "locked")
    classroom.account("teacher").locale = "lt"  # decimal commas
    url, ids = page_url(classroom), [s.id for s in classroom.students]
    session.commit()
    login(client, "teacher.a")
    with count_queries() as five:
        page = client.get(url)
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "Ambrazaitė Agnė" in text and "7,50" in text and "9,67" in text
    assert f'name="term-{ids[0]}" value=""' in text
    assert 'placeholder="8"' in text
    assert f'name="term-{ids[1]}" value="10"' in text
    assert 'name="column" value="term"' in text
    assert 'name="column" value="year"' not in text  # the year's window is not open

    bind_to_school(session, world.school_a)
    add_students(classroom, 6)
    session.commit()
    with count_queries() as eleven:
        page = client.get(url)
    assert page.status_code == 200
    assert "Student5" in page.get_data(as_text=True)
    assert len(five) == len(eleven) <= 16, "\n".join(eleven)


def test_page_saves_the_column_and_refuses_bad_values(classroom, client, world):
    session = classroom.session
    set_lock(session, classroom.terms[0], "open")
    grade(classroom, 0, "7", "8")
    url, ids = page_url(classroom), [s.id for s in classroom.students]
    session.commit()
    login(client, "teacher.a")
    bad = post_form(client, url, {"column": "term", f"term-{ids[0]}": "8",
                                                  f"term-{ids[2]}": "abc"},
                    headers={"Accept-Language": "en"})  # fmt: skip
    assert bad.status_code == 400
    text = html.unescape(bad.get_data(as_text=True))
    assert "Student: Cezaris Čepas. The grade must be a whole number from 1 to 10." in text
    assert f'name="term-{ids[2]}" value="abc"' in text  # what was typed stays
    bind_to_school(session, world.school_a)
    assert term_grades(session) == []

    saved = post_form(client, url,
                      {"column": "term", f"term-{ids[0]}": "8", f"term-{ids[1]}": "5"})  # fmt: skip
    assert saved.status_code == 302
    bind_to_school(session, world.school_a)
    assert [(r[0], r[2], r[3]) for r in term_grades(session)] == [(ids[0], "8", "8"),
                                                                  (ids[1], None, "5")]  # fmt: skip
    assert event_count(session) == 2
    assert "2 grades saved." in client.get(url).get_data(as_text=True)


def test_the_suggestions_are_filled_in_for_the_teacher_to_check_and_save(classroom, client, world):
    """“Fill in the suggested term grades”: the empty fields get the suggestions, a grade
    confirmed already stays as it is, and nothing is saved until the form is sent."""
    session = classroom.session
    set_lock(session, classroom.terms[0], "open")
    grade(classroom, 0, "7", "8")
    grade(classroom, 1, "9", "10", "10")
    confirm(classroom, {1: "9"})
    url, ids = page_url(classroom), [s.id for s in classroom.students]
    session.commit()
    login(client, "teacher.a")
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert f"{url}&fill=term" in page
    filled = html.unescape(client.get(f"{url}&fill=term").get_data(as_text=True))
    assert "The suggested grades are filled in" in filled
    assert f'name="term-{ids[0]}" value="8"' in filled  # 7.5 rounded up, by the school's rule
    assert f'name="term-{ids[1]}" value="9"' in filled  # confirmed: not the suggested 10
    assert f'name="term-{ids[2]}" value=""' in filled  # no grades, no suggestion
    bind_to_school(session, world.school_a)
    assert [(r[0], r[3]) for r in term_grades(session)] == [(ids[1], "9")]


def test_page_saves_year_grades_in_the_last_terms_window(classroom, client, world):
    session = classroom.session
    set_lock(session, classroom.terms[1], "open")
    confirm(classroom, {0: "9"})
    url, student = page_url(classroom, term=1), classroom.students[0].id
    session.commit()
    login(client, "teacher.a")
    page = client.get(url).get_data(as_text=True)
    assert 'name="column" value="year"' in page
    saved = post_form(client, url,
                      {"column": "year", f"year-{student}": "9"})  # fmt: skip
    assert saved.status_code == 302
    bind_to_school(session, world.school_a)
    assert term_grades(session)[-1] == (student, None, "9", "9")


def test_locked_term_is_shown_and_cannot_be_saved(classroom, client, world):
    session = classroom.session
    set_lock(session, classroom.terms[0], "locked")
    set_lock(session, classroom.terms[1], "locked")
    url, student = page_url(classroom), classroom.students[0].id
    session.commit()
    login(client, "teacher.a")
    text = html.unescape(client.get(url).get_data(as_text=True))
    assert "Locked by the e-diary administrator" in text
    assert 'name="column"' not in text and '<input type="text"' not in text
    refused = post_form(client, url, {"column": "term", f"term-{student}": "8"},
                        form_page=HOME)  # fmt: skip
    assert refused.status_code == 400
    assert "locked for this term by the e-diary administrator" in html.unescape(
        refused.get_data(as_text=True)
    )
    bind_to_school(session, world.school_a)
    assert term_grades(session) == []


def test_readers_and_outsiders(classroom, app, world):
    set_lock(classroom.session, classroom.terms[0], "open")
    student = classroom.students[0].id
    url = page_url(classroom)
    other_term = f"/s/school-a/groups/{classroom.maths.id}/term-grades?term=999999"
    classroom.session.commit()
    for login_name in ("director.a", "head.a"):
        client = app.test_client()
        login(client, login_name)
        page = client.get(url)
        assert page.status_code == 200
        assert 'name="column"' not in page.get_data(as_text=True)
        refused = post_form(client, url,
                            {"column": "term", f"term-{student}": "8"}, form_page=HOME)  # fmt: skip
        assert refused.status_code == 403
    for login_name in ("teacher2.a", "guardian.both", "student.a"):
        client = app.test_client()
        login(client, login_name)
        assert client.get(url).status_code == 403
    bind_to_school(classroom.session, world.school_a)
    assert term_grades(classroom.session) == []
    client = app.test_client()
    login(client, "admin.a")
    assert client.get(other_term).status_code == 404
    assert client.get("/s/school-a/groups/999999/term-grades").status_code == 404


def test_pass_fail_page_offers_passed_or_failed(classroom, sport, client):
    set_lock(classroom.session, classroom.terms[0], "open")
    grade(classroom, 0, "failed", "passed", group=sport)
    confirm(classroom, {1: "failed"}, group=sport)
    url = f"/s/school-a/groups/{sport.id}/term-grades?term={classroom.terms[0].id}"
    first, second = classroom.students[0].id, classroom.students[1].id
    classroom.session.commit()
    login(client, "teacher.a")
    text = html.unescape(client.get(url).get_data(as_text=True))
    assert "<th>Mean</th>" not in text
    assert f'<select name="term-{first}"' in text and f'<select name="term-{second}"' in text
    assert '<option value="failed" selected>failed</option>' in text
    saved = post_form(client, url, {"column": "term", f"term-{first}": "passed"})
    assert saved.status_code == 302
