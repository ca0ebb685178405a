"""The test calendar: announcing tests under the school's notice and tests-a-day rules (refuse
and warn), changing and cancelling them, and the month pages for staff, students and guardians.
"""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from conftest import login, post_form, run_sql
from dienynas.errors import PermissionDenied, ServiceError
from dienynas.i18n import in_locale
from gradebook.planning import services
from gradebook.planning.models import PlannedTest
from gradebook.settings.models import GradebookSettings
from notifications.models import NotificationEvent
from school.classes.models import Group, GroupStudent, GroupTeacher
from school.curriculum.models import AssessmentKind
from tenants.services import bind_to_school

TODAY = date(2026, 9, 7)  # a Monday of the first term
NEXT_MONDAY = date(2026, 9, 14)  # a maths day seven days later
BASE = "/s/school-a"


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


@pytest.fixture(autouse=True)
def fixed_today(school_day):
    """The pages' "today" (``dienynas.clock.today``) is ``TODAY``."""
    school_day(TODAY)


def set_rules(session, *, rule: str = "refuse", per_day: int = 1, notice: int = 7) -> None:
    settings = session.get(GradebookSettings, 1) or GradebookSettings(id=1)
    settings.test_rule, settings.tests_per_day, settings.test_notice_days = rule, per_day, notice
    session.add(settings)
    session.flush()


def announce(classroom, who: str = "teacher", group: Group | None = None, **kwargs):
    values = {
        "group": group or classroom.maths,
        "on_day": NEXT_MONDAY,
        "topic": "Trupmenos",
        "kind_id": None,
        "lesson_no": 1,
        "today": TODAY,
    } | kwargs
    return services.announce_test(
        classroom.session, classroom.account(who), classroom.school, **values
    )


def announce_anyway(classroom, who: str = "teacher", group: Group | None = None, **kwargs):
    """Announce; shown warnings, "Save anyway" (the key of exactly those warnings)."""
    result = announce(classroom, who, group, **kwargs)
    if result.saved:
        return result
    key = services.warnings_key(result.warnings)
    return announce(classroom, who, group, accept_warning=key, **kwargs)


def counts(session) -> tuple[int, int]:
    tests = session.scalar(select(func.count()).select_from(PlannedTest))
    events = session.scalar(
        select(func.count()).select_from(NotificationEvent).where(NotificationEvent.kind == "test")
    )
    return tests, events


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(ServiceError) as caught:
        call(*args, **kwargs)
    return caught.value.message


def logged_in(app, who: str):
    """A fresh client (its own cookies) logged in as ``who``."""
    client = app.test_client()
    login(client, who)
    return client


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- services -------------------------------------------------------------------------------


def test_a_teacher_announces_a_test_and_an_event_is_written(classroom):
    result = announce(classroom)
    assert result.saved and result.warnings == []
    test = result.test
    assert (test.group_id, test.on_day, test.topic, test.rule_warning) == (
        classroom.maths.id, NEXT_MONDAY, "Trupmenos", False,
    )  # fmt: skip
    assert test.announced_by == classroom.account("teacher").id
    event = classroom.session.scalar(select(NotificationEvent))
    assert event.kind == "test"
    assert event.payload == {"planned_test_id": test.id, "group_id": classroom.maths.id}
    assert event.actor_id == classroom.account("teacher").id


def test_too_short_notice_is_refused(classroom):
    message = refused(announce, classroom, on_day=date(2026, 9, 11))
    assert message == (
        "A test must be announced at least 7 days ahead; Sep 11, 2026 is 4 days away."
    )
    assert counts(classroom.session) == (0, 0)


def test_too_short_notice_warns_then_saves_when_accepted(classroom):
    set_rules(classroom.session, rule="warn")
    result = announce(classroom, on_day=date(2026, 9, 11))
    assert not result.saved
    assert result.warnings == [
        "A test must be announced at least 7 days ahead; Sep 11, 2026 is 4 days away."
    ]
    assert counts(classroom.session) == (0, 0)
    result = announce_anyway(classroom, on_day=date(2026, 9, 11))
    assert result.saved and result.test.rule_warning
    assert counts(classroom.session) == (1, 1)


def test_a_second_test_for_the_class_that_day_is_refused(classroom):
    announce(classroom, "other_teacher", group=classroom.english, lesson_no=2)
    message = refused(announce, classroom)
    assert message == (
        "A class may have at most 1 test a day. Already planned for Sep 14, 2026: "
        "English (5a anglų) (classes: 5a)."
    )
    assert counts(classroom.session) == (1, 1)


def test_a_second_test_warns_and_is_marked_when_saved_anyway(classroom):
    set_rules(classroom.session, rule="warn")
    announce(classroom, "other_teacher", group=classroom.english)
    result = announce(classroom)
    assert not result.saved and "English (5a anglų)" in result.warnings[0]
    assert counts(classroom.session) == (1, 1)
    result = announce_anyway(classroom)
    assert result.saved and result.test.rule_warning
    assert counts(classroom.session) == (2, 2)


def test_both_rules_broken_give_two_warnings(classroom):
    set_rules(classroom.session, rule="warn")
    announce_anyway(classroom, "other_teacher", group=classroom.english, on_day=date(2026, 9, 11))
    result = announce(classroom, on_day=date(2026, 9, 11))
    assert len(result.warnings) == 2


def test_the_school_may_allow_two_tests_a_day(classroom):
    set_rules(classroom.session, per_day=2)
    announce(classroom, "other_teacher", group=classroom.english)
    assert announce(classroom).saved
    message = refused(announce, classroom, topic="Trečias")
    assert message.startswith("A class may have at most 2 tests a day.")
    assert "English (5a anglų)" in message and "Mathematics (5a matematika)" in message


def _part_group(classroom, name: str, students, kind: str = "part") -> Group:
    session = classroom.session
    group = Group(year_id=classroom.year.id, subject_id=classroom.english.subject_id, name=name,
                  kind=kind, class_id=classroom.c5a.id if kind == "part" else None)  # fmt: skip
    session.add(group)
    session.flush()
    session.add(GroupTeacher(group_id=group.id, teacher_id=classroom.teacher.id))
    session.add_all(GroupStudent(group_id=group.id, student_id=s.id) for s in students)
    session.flush()
    return group


def test_halves_of_a_class_may_write_on_the_same_day_but_a_shared_student_may_not(classroom):
    """The rule counts per student of the class: the two halves share no student."""
    students = classroom.students
    first = _part_group(classroom, "5a anglų 1 gr.", students[:2])
    second = _part_group(classroom, "5a anglų 2 gr.", students[2:])
    assert announce(classroom, group=first).saved
    assert announce(classroom, group=second).saved
    mixed = _part_group(classroom, "Būrelis", [students[4], classroom.outsider], kind="mixed")
    message = refused(announce, classroom, group=mixed)
    assert "English (5a anglų 2 gr.)" in message and "5a anglų 1 gr." not in message
    assert message.endswith("(classes: 5a).")


def test_a_mixed_group_names_the_classes_of_its_students(classroom):
    mixed = _part_group(classroom, "Būrelis", [classroom.students[0], classroom.outsider],
                        kind="mixed")  # fmt: skip
    announce(classroom, group=mixed)
    session = classroom.session
    other = _part_group(classroom, "6b ir 5a", [classroom.students[0], classroom.outsider],
                        kind="mixed")  # fmt: skip
    message = refused(announce, classroom, group=other)
    assert "(classes: 5a and 6b)" in message
    assert session.scalar(select(func.count()).select_from(PlannedTest)) == 1


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 10, 26), "Oct 26, 2026 is a holiday: Rudens atostogos."),
        (date(2026, 9, 19), "Sep 19, 2026 is not a school day."),
        (date(2027, 7, 5), "Jul 5, 2027 is outside the school's terms."),
        (date(2026, 9, 4), "Sep 4, 2026 has passed; a test is announced for a coming day."),
    ],
)
def test_a_test_needs_a_coming_school_day(classroom, day, expected):
    set_rules(classroom.session, rule="warn", notice=0)
    assert refused(announce_anyway, classroom, on_day=day) == expected
    assert counts(classroom.session) == (0, 0)


def test_another_teachers_group_is_refused(classroom):
    with pytest.raises(PermissionDenied):
        announce(classroom, group=classroom.english)
    with pytest.raises(PermissionDenied):
        announce(classroom, "head")
    assert counts(classroom.session) == (0, 0)


def test_the_administrator_announces_for_any_group(classroom):
    assert announce(classroom, "admin", group=classroom.english).saved


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        ({"topic": "  "}, "topic", "Enter the test's topic."),
        ({"topic": "x" * 301}, "topic", "The topic may be at most 300 characters long."),
        ({"kind_id": 999999}, "kind_id", "Choose one of the school's assessment kinds."),
        ({"lesson_no": 16}, "lesson_no", "The lesson number must be from 0 to 15."),
    ],
)
def test_bad_input_is_refused(classroom, values, field, expected):
    with pytest.raises(ServiceError) as caught:
        announce(classroom, **values)
    assert (caught.value.field, caught.value.message) == (field, expected)
    assert counts(classroom.session) == (0, 0)


def test_moving_a_test_checks_the_new_day_and_tells_again(classroom):
    english = announce(classroom, "other_teacher", group=classroom.english).test
    test = announce(classroom, on_day=date(2026, 9, 16)).test
    session, teacher = classroom.session, classroom.account("teacher")

    def update(**kwargs):
        values = {"on_day": test.on_day, "topic": "Trupmenos", "kind_id": None,
                  "lesson_no": 2, "today": TODAY} | kwargs  # fmt: skip
        return services.update_test(session, teacher, classroom.school, test, **values)

    assert update(topic="Trupmenos ir dešimtainės").saved
    assert counts(session) == (2, 2)  # same day: no new event
    assert "English (5a anglų)" in refused(update, on_day=english.on_day)
    assert "at least 7 days ahead" in refused(update, on_day=date(2026, 9, 9))
    session.refresh(test)
    assert test.on_day == date(2026, 9, 16)
    assert update(on_day=date(2026, 9, 18)).saved
    assert counts(session) == (2, 3)
    with pytest.raises(PermissionDenied):
        services.update_test(session, classroom.account("other_teacher"), classroom.school, test,
                             on_day=test.on_day, topic="X", kind_id=None, lesson_no=None,
                             today=TODAY)  # fmt: skip


def test_cancelling(classroom):
    test = announce(classroom).test
    session = classroom.session
    with pytest.raises(PermissionDenied):
        services.cancel_test(session, classroom.account("other_teacher"), classroom.school, test,
                             today=TODAY)  # fmt: skip
    message = refused(services.cancel_test, session, classroom.account("teacher"),
                      classroom.school, test, today=date(2026, 9, 15))  # fmt: skip
    assert message == "A test that has taken place cannot be cancelled."
    assert counts(session) == (1, 1)
    services.cancel_test(session, classroom.account("teacher"), classroom.school, test, today=TODAY)
    assert counts(session)[0] == 0


# --- pages ----------------------------------------------------------------------------------


def test_teacher_announces_on_the_page(client, classroom):
    kind = classroom.session.scalar(select(AssessmentKind).limit(1))
    classroom.session.commit()
    login(client, "teacher.a")
    form = text_of(client.get(f"{BASE}/tests/new"))
    assert "5a matematika" in form and "5a anglų" not in form  # only the teacher's groups
    response = post_form(client, f"{BASE}/tests/new", {
        "group_id": classroom.maths.id, "on_day": "2026-09-14", "lesson_no": "1",
        "kind_id": kind.id if kind else "", "topic": "Trupmenos",
    }, form_page=f"{BASE}/tests/new")  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/tests?month=2026-09")
    page = text_of(client.get(f"{BASE}/tests?month=2026-09"))
    assert "Trupmenos" in page and "Mathematics" in page
    bind_to_school(classroom.session, classroom.school)
    assert counts(classroom.session) == (1, 1)


def test_page_refuses_bad_input_with_the_message(client, classroom):
    classroom.session.commit()
    login(client, "teacher.a")
    response = post_form(client, f"{BASE}/tests/new", {
        "group_id": classroom.maths.id, "on_day": "2026-09-09", "topic": "Trupmenos",
    }, form_page=f"{BASE}/tests/new")  # fmt: skip
    assert response.status_code == 400
    assert "at least 7 days ahead" in text_of(response)
    response = post_form(client, f"{BASE}/tests/new", {
        "group_id": classroom.maths.id, "on_day": "2026-09-14", "topic": "",
    }, form_page=f"{BASE}/tests/new")  # fmt: skip
    assert response.status_code == 400 and "Enter the test's topic." in text_of(response)
    bind_to_school(classroom.session, classroom.school)
    assert counts(classroom.session) == (0, 0)


def test_page_warns_and_saves_anyway(client, classroom):
    set_rules(classroom.session, rule="warn")
    classroom.session.commit()
    login(client, "teacher.a")
    data = {"group_id": classroom.maths.id, "on_day": "2026-09-09", "topic": "Trupmenos"}
    response = post_form(client, f"{BASE}/tests/new", data, form_page=f"{BASE}/tests/new")
    page = text_of(response)
    assert response.status_code == 200
    assert "at least 7 days ahead" in page and "Save anyway" in page
    key = re.search(r'name="accept_warning" value="(\w+)"', page).group(1)
    bind_to_school(classroom.session, classroom.school)
    assert counts(classroom.session) == (0, 0)
    # "Save anyway" after changing the day: the new day's rules were never shown, so they are
    other_day = data | {"on_day": "2026-09-10", "accept_warning": key}
    again = post_form(client, f"{BASE}/tests/new", other_day, form_page=f"{BASE}/tests/new")
    assert again.status_code == 200 and "Sep 10, 2026 is 3 days away" in text_of(again)
    bind_to_school(classroom.session, classroom.school)
    assert counts(classroom.session) == (0, 0)
    response = post_form(client, f"{BASE}/tests/new", data | {"accept_warning": key},
                         form_page=f"{BASE}/tests/new")  # fmt: skip
    assert response.status_code == 302
    bind_to_school(classroom.session, classroom.school)
    assert counts(classroom.session) == (1, 1)


def test_another_teachers_group_is_403_on_the_page(app, client, classroom):
    classroom.session.commit()
    login(client, "teacher.a")
    response = post_form(client, f"{BASE}/tests/new", {
        "group_id": classroom.english.id, "on_day": "2026-09-15", "topic": "Past Simple",
    }, form_page=f"{BASE}/tests/new")  # fmt: skip
    assert response.status_code == 403
    test = announce(classroom, "other_teacher", group=classroom.english).test
    classroom.session.commit()
    assert client.get(f"{BASE}/tests/{test.id}/edit").status_code == 403
    guardian = logged_in(app, "guardian.both")
    assert guardian.get(f"{BASE}/tests/new").status_code == 403
    response = post_form(client, f"{BASE}/tests/{test.id}/cancel", {},
                         form_page=f"{BASE}/tests/new")  # fmt: skip
    assert response.status_code == 403
    bind_to_school(classroom.session, classroom.school)
    assert counts(classroom.session) == (1, 1)


def test_edit_and_cancel_on_the_page(client, classroom):
    test = announce(classroom).test
    classroom.session.commit()
    login(client, "teacher.a")
    edit = f"{BASE}/tests/{test.id}/edit"
    assert "Trupmenos" in text_of(client.get(edit))
    response = post_form(client, edit, {"on_day": "2026-09-16", "topic": "Lygtys"})
    assert response.status_code == 302
    response = post_form(client, f"{BASE}/tests/{test.id}/cancel", {}, form_page=edit)
    assert response.status_code == 302
    bind_to_school(classroom.session, classroom.school)
    assert counts(classroom.session) == (0, 2)


def test_another_schools_ids_are_not_found(app, client, classroom, world):
    test = announce(classroom).test
    classroom.session.commit()
    guardian = logged_in(app, "guardian.both")  # a guardian in both schools
    assert guardian.get(f"/s/school-b/tests/{test.id}/edit").status_code == 404
    assert "Trupmenos" not in text_of(guardian.get("/s/school-b/tests?month=2026-09"))
    login(client, "admin.a")
    assert client.get(f"{BASE}/tests/{test.id + 1000}/edit").status_code == 404
    assert client.get(f"{BASE}/tests?class=999999").status_code == 404
    response = post_form(client, f"{BASE}/tests/new", {
        "group_id": 999999, "on_day": "2026-09-14", "topic": "X",
    }, form_page=f"{BASE}/tests/new")  # fmt: skip
    assert response.status_code == 404


def test_who_sees_which_tests(app, classroom):
    announce(classroom, topic="Trupmenos")
    announce(classroom, "other_teacher", group=classroom.english, on_day=date(2026, 9, 15),
             topic="Past Simple")  # fmt: skip
    sixth = Group(year_id=classroom.year.id, subject_id=classroom.maths.subject_id,
                  name="6b matematika", kind="class", class_id=classroom.c6b.id)  # fmt: skip
    classroom.session.add(sixth)
    classroom.session.flush()
    classroom.session.add(GroupStudent(group_id=sixth.id, student_id=classroom.outsider.id))
    announce(classroom, "admin", group=sixth, on_day=date(2026, 9, 16), topic="Kampai")
    classroom.session.commit()
    month = f"{BASE}/tests?month=2026-09"
    expectations = {
        "teacher.a": ({"Trupmenos"}, {"Past Simple", "Kampai"}),
        "head.a": ({"Trupmenos", "Past Simple"}, {"Kampai"}),
        "student.a": ({"Trupmenos", "Past Simple"}, {"Kampai"}),
        "guardian.both": ({"Trupmenos", "Past Simple"}, {"Kampai"}),
        "director.a": ({"Trupmenos", "Past Simple", "Kampai"}, set()),
    }
    for who, (shown, hidden) in expectations.items():
        page = text_of(logged_in(app, who).get(month))
        assert all(t in page for t in shown), (who, shown)
        assert not any(t in page for t in hidden), (who, hidden)
    page = text_of(logged_in(app, "teacher.a").get(f"{month}&class={classroom.c6b.id}"))
    assert "Kampai" in page and "Trupmenos" not in page


def test_the_menu_shows_the_calendar_to_everyone(app, classroom):
    classroom.session.commit()
    for who in ("student.a", "guardian.both", "teacher.a"):
        page = logged_in(app, who).get(f"{BASE}/").get_data(as_text=True)
        assert "/s/school-a/tests" in page, who


@pytest.mark.parametrize(
    ("who", "query"), [("guardian.both", ""), ("teacher.a", ""), ("teacher.a", "&class=5a")]
)
def test_the_month_runs_the_same_queries_for_one_and_many_tests(
    app, classroom, count_queries, who, query
):
    set_rules(classroom.session, rule="warn", per_day=5)
    announce(classroom, topic="Pirmas")
    classroom.session.commit()
    client = logged_in(app, who)
    month = f"{BASE}/tests?month=2026-09" + query.replace("5a", str(classroom.c5a.id))
    with count_queries() as queries:
        assert "Pirmas" in text_of(client.get(month))
    few = len(queries)
    bind_to_school(classroom.session, classroom.school)
    for n, day in enumerate([14, 16, 18, 21, 23, 25, 28, 30]):
        for teacher, group in (("teacher", classroom.maths), ("other_teacher", classroom.english)):
            announce_anyway(classroom, teacher, group=group, on_day=date(2026, 9, day),
                            topic=f"Testas {n}")  # fmt: skip
    classroom.session.commit()
    with count_queries() as queries:
        assert "Testas 7" in text_of(client.get(month))
    assert len(queries) == few <= 12, queries


def test_a_bad_month_shows_this_month_with_a_message(client, classroom):
    classroom.session.commit()
    login(client, "teacher.a")
    page = text_of(client.get(f"{BASE}/tests?month=2026-13"))
    assert "“2026-13” is not a month; use the form YYYY-MM." in page
    assert "September 2026" in page


def test_a_test_saved_against_the_rules_is_marked_for_staff_only(app, classroom):
    set_rules(classroom.session, rule="warn")
    announce_anyway(classroom, on_day=date(2026, 9, 9))
    classroom.session.commit()
    month = f"{BASE}/tests?month=2026-09"
    marker = "Announced against the school's test rules."
    assert marker in text_of(logged_in(app, "head.a").get(month))
    page = text_of(logged_in(app, "guardian.both").get(month))
    assert "Trupmenos" in page and marker not in page


def test_announcements_for_one_day_wait_for_each_other(classroom, fresh_engine, world):
    """The tests-a-day count is taken under a lock of the day, held until the commit."""
    announce(classroom)
    key = f"{world.school_a.schema_name}:tests:{NEXT_MONDAY.isoformat()}"
    sql = "SELECT pg_try_advisory_xact_lock(hashtext(:key))"
    assert run_sql(fresh_engine, sql, key=key) == [(False,)]
    other_day = f"{world.school_a.schema_name}:tests:2026-09-15"
    assert run_sql(fresh_engine, sql, key=other_day) == [(True,)]


def test_the_month_grid_shows_holidays_and_saturdays_of_six_day_weeks(client, classroom):
    weeks, holidays = services.month_grid(classroom.session, date(2026, 10, 1))
    assert [len(w) for w in weeks] == [5] * 5
    assert weeks[0] == [None, None, None, date(2026, 10, 1), date(2026, 10, 2)]
    assert sorted(holidays) == [date(2026, 10, d) for d in range(26, 31)]
    classroom.session.add(GradebookSettings(id=1, saturday_lessons=True))
    classroom.session.commit()
    login(client, "teacher.a")
    page = text_of(client.get(f"{BASE}/tests?month=2026-10"))
    assert "Rudens atostogos" in page and "Saturday" in page and "Sunday" not in page
