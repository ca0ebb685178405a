"""Term locks: the automatic unlock window, the administrator's overrides, the page."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from accounts.models import Account
from conftest import login, post_form
from dienynas.errors import PermissionDenied, ServiceError
from school.calendar.models import Holiday, SchoolYear, Term
from school.locks import services
from school.locks.models import LockWindow, TermLock
from school.locks.services import DELETE_LESSON_DATES, TERM_GRADES


@pytest.fixture
def term(in_school_a) -> Term:
    """Semester 1 of school A's year, ending on Friday 22 January 2027."""
    year = in_school_a.scalar(select(SchoolYear))
    first = Term(year_id=year.id, kind="semester", number=1,
                 starts_on=date(2026, 9, 1), ends_on=date(2027, 1, 22))  # fmt: skip
    second = Term(year_id=year.id, kind="semester", number=2,
                  starts_on=date(2027, 1, 25), ends_on=date(2027, 6, 18))  # fmt: skip
    in_school_a.add_all([first, second])
    in_school_a.flush()
    return first


def account(session, login_name: str) -> Account:
    return session.scalar(select(Account).where(Account.login == login_name))


def test_term_grades_open_two_weeks_before_the_end_until_five_working_days_after(in_school_a, term):
    assert services.unlock_window(in_school_a, term) == (date(2027, 1, 8), date(2027, 1, 29))
    assert not services.is_open(in_school_a, term, TERM_GRADES, date(2027, 1, 7))
    assert services.is_open(in_school_a, term, TERM_GRADES, date(2027, 1, 8))
    assert services.is_open(in_school_a, term, TERM_GRADES, date(2027, 1, 29))
    assert not services.is_open(in_school_a, term, TERM_GRADES, date(2027, 1, 30))


def test_holidays_do_not_count_as_working_days(in_school_a, term):
    in_school_a.add(Holiday(year_id=term.year_id, name="Winter break",
                            starts_on=date(2027, 1, 25), ends_on=date(2027, 1, 26)))  # fmt: skip
    in_school_a.flush()
    assert services.unlock_window(in_school_a, term)[1] == date(2027, 2, 2)


def test_lesson_dates_can_be_deleted_until_the_term_closes(in_school_a, term):
    assert services.is_open(in_school_a, term, DELETE_LESSON_DATES, date(2026, 10, 1))
    assert services.is_open(in_school_a, term, DELETE_LESSON_DATES, date(2027, 1, 29))
    assert not services.is_open(in_school_a, term, DELETE_LESSON_DATES, date(2027, 2, 1))


def test_require_open_says_when(app, in_school_a, term):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(ServiceError, match="Entering term grades opens on January 8, 2027"):
            services.require_open(in_school_a, term, TERM_GRADES, date(2026, 12, 1))
        with pytest.raises(ServiceError, match="closed on January 29, 2027"):
            services.require_open(in_school_a, term, TERM_GRADES, date(2027, 3, 1))
        services.require_open(in_school_a, term, TERM_GRADES, date(2027, 1, 15))


def test_administrator_overrides_the_window(in_school_a, term, world):
    admin = account(in_school_a, "admin.a")
    services.set_mode(
        in_school_a, admin, world.school_a, term_id=term.id, function=TERM_GRADES, mode="locked"
    )
    assert not services.is_open(in_school_a, term, TERM_GRADES, date(2027, 1, 15))
    services.set_mode(
        in_school_a, admin, world.school_a, term_id=term.id, function=TERM_GRADES, mode="open"
    )
    assert services.is_open(in_school_a, term, TERM_GRADES, date(2027, 6, 1))
    lock = in_school_a.scalar(select(TermLock))
    assert lock.changed_by == admin.id


def test_teacher_cannot_change_locks(in_school_a, term, world):
    with pytest.raises(PermissionDenied):
        services.set_mode(in_school_a, account(in_school_a, "teacher.a"), world.school_a,
                          term_id=term.id, function=TERM_GRADES, mode="open")  # fmt: skip
    assert in_school_a.scalar(select(TermLock)) is None


def test_locks_page_and_setting_a_lock(client, in_school_a, term, count_queries):
    next_year = SchoolYear(
        name="2027–2028 A", starts_on=date(2027, 9, 1), ends_on=date(2028, 8, 31)
    )
    in_school_a.add(next_year)
    in_school_a.flush()
    in_school_a.add_all(
        Term(year_id=next_year.id, kind="quarter", number=n,
             starts_on=date(2027, 9, 1) + timedelta(days=70 * (n - 1)),
             ends_on=date(2027, 9, 1) + timedelta(days=70 * (n - 1) + 60))
        for n in range(1, 5)
    )  # fmt: skip
    in_school_a.commit()
    year_ids = (term.year_id, next_year.id)
    login(client, "admin.a")
    with count_queries() as two_terms:
        page = client.get(f"/s/school-a/locks?year={year_ids[0]}")
    assert page.status_code == 200
    with count_queries() as four_terms:
        assert client.get(f"/s/school-a/locks?year={year_ids[1]}").status_code == 200
    assert len(two_terms) == len(four_terms) <= 10, "\n".join(four_terms)
    response = post_form(client, f"/s/school-a/locks/{term.id}/term_grades", {"mode": "locked"},
                         form_page="/s/school-a/locks")  # fmt: skip
    assert response.status_code == 302
    assert in_school_a.scalar(select(TermLock.mode)) == "locked"


def test_the_locks_table_scrolls_in_its_own_box_on_a_phone(client, in_school_a, term):
    """The table is wider than a 390 px phone (in Polish and Russian): it scrolls inside a
    positioned box, which also holds the visually hidden label of each setting (an absolutely
    positioned element placed outside it widened the whole page to 418 px)."""
    in_school_a.commit()
    login(client, "admin.a")
    page = client.get("/s/school-a/locks").get_data(as_text=True)
    box = re.search(r'<div class="tt-scroll">\s*<table>(.*?)</table>\s*</div>', page, re.S)
    assert box and 'class="visually-hidden"' in box.group(1)
    css = client.get("/static/dienynas.css").get_data(as_text=True)
    rule = re.search(r"^\.tt-scroll \{([^}]*)\}", css, re.M).group(1)
    assert "overflow-x: auto" in rule and "position: relative" in rule


def test_teacher_may_read_but_not_post(client, in_school_a, term):
    in_school_a.commit()
    login(client, "teacher.a")
    assert client.get("/s/school-a/locks").status_code == 200
    response = post_form(client, f"/s/school-a/locks/{term.id}/term_grades", {"mode": "open"},
                         form_page="/s/school-a/locks")  # fmt: skip
    assert response.status_code == 403
    assert in_school_a.scalar(select(TermLock)) is None


def test_guardian_cannot_see_locks(client, world):
    login(client, "guardian.both")
    assert client.get("/s/school-a/locks").status_code == 403


def test_bad_window_is_refused_and_nothing_saved(client, in_school_a, term):
    in_school_a.commit()
    login(client, "admin.a")
    response = post_form(
        client,
        "/s/school-a/locks/window",
        {"days_before_end": "soon", "working_days_after_end": "5"},
        form_page="/s/school-a/locks",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "Enter a whole number from 0 to 60" in response.get_data(as_text=True)
    assert in_school_a.get(LockWindow, 1) is None
    ok = post_form(
        client,
        "/s/school-a/locks/window",
        {"days_before_end": "10", "working_days_after_end": "7"},
        form_page="/s/school-a/locks",
    )
    assert ok.status_code == 302
    in_school_a.expire_all()
    assert in_school_a.get(LockWindow, 1).days_before_end == 10


def test_the_page_says_lesson_dates_are_deleted_until_the_term_closes(client, in_school_a, term):
    """Deleting lesson dates is open any time up to the closing day, not inside a window: the
    page gives only that day for it (a start date read as "opens then")."""
    in_school_a.commit()
    login(client, "admin.a")
    page = client.get("/s/school-a/locks", headers={"Accept-Language": "en"})
    rows = re.findall(r"<tr>(.*?)</tr>", page.get_data(as_text=True), re.S)
    deleting = next(row for row in rows if "Deleting lesson dates" in row)
    assert re.search(r"<td>until \w{3} \d{1,2}, \d{4}</td>", deleting), deleting
