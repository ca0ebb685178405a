"""The main pages looked at in each language: login, the school's home page, the journal grid
and the guardian's diary, in Lithuanian, Russian, Polish and English. In lt/ru/pl no English
text of the catalogue shows (visible text, tooltips and labels), nothing is wider than its box,
and a screenshot of each page is kept as tests/e2e/screenshots/<page>_<lang>.png.

The pages need the gradebook's school (tests/classroom.py), which lives in the test's
rolled-back transaction, so the app is served by a one-thread server of this module whose
requests use that transaction's connection (as in test_journal.py)."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from conftest import REPO, TEST_PASSWORD
from e2e.helpers import screenshot, translated
from gradebook.attendance.services import mark_attendance
from gradebook.grades.services import add_grade
from gradebook.lessons.models import Lesson
from gradebook.lessons.services import ensure_lessons
from gradebook.remarks.models import Remark
from test_i18n import compiled_catalogues, extract_messages  # noqa: F401  (fresh .mo files)

pytestmark = pytest.mark.e2e

LANGUAGES = ("lt", "ru", "pl", "en")
SEPTEMBER = (date(2026, 9, 1), date(2026, 9, 30))
WEEK = date(2026, 9, 7)
#: English words no Lithuanian, Russian or Polish sentence has: a hard-coded English string
#: that never reached the catalogue shows up by them.
ENGLISH_WORDS = ("the", "and", "of", "your", "with", "for", "this")
_PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")

#: Collects what the reader sees or hears: text nodes (not of scripts, styles, hidden
#: elements, the language switcher, whose options name each language in itself, or what is
#: marked translate="no": logins), and the title, aria-label, placeholder and alt attributes.
_SHOWN_TEXT = """() => {
  const parts = [];
  const skip = (el) => el.closest(
    'script, style, noscript, template, [hidden], #locale-select, [translate="no"]');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!skip(node.parentElement) && node.textContent.trim()) parts.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], [alt]')) {
    if (skip(el)) continue;
    for (const name of ['title', 'aria-label', 'placeholder', 'alt']) {
      if (el.getAttribute(name)) parts.push(el.getAttribute(name));
    }
  }
  parts.push(document.title);
  return parts.join('\\n');
}"""

#: Boxes whose content is wider than they are. Containers made to scroll sideways (the
#: timetable's and the journal's) are meant to; what is inside them is still checked.
_OVERFLOWS = """() => {
  const found = [];
  const boxes = 'th, td, button, .button, a, h1, h2, h3, label, select, input, dt, dd, li, p, '
    + '.status, .card, .topbar, main, nav, header, form';
  for (const el of document.querySelectorAll(boxes)) {
    if (el.matches('.tt-scroll, .j-scroll') || el.closest('.visually-hidden, [hidden]')) continue;
    if (el.clientWidth === 0) continue;  // inline boxes
    if (el.scrollWidth > el.clientWidth + 1) {
      const text = (el.innerText || el.value || '').trim().slice(0, 40);
      found.push(`${el.tagName.toLowerCase()}.${el.className}: ${el.scrollWidth} > `
        + `${el.clientWidth} (${text})`);
    }
  }
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth) {
    found.push(`the page: ${page.scrollWidth} > ${page.clientWidth}`);
  }
  return found;
}"""


def _catalogue(locale: str):
    with (REPO / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


@functools.cache
def english_phrases(locale: str) -> tuple[str, ...]:
    """The English texts of the catalogue and of the code (strings not extracted yet too),
    split at their placeholders, of at least four letters, that ``locale`` does not use
    itself (its translation does not contain them)."""
    target = _catalogue(locale)
    phrases = set()
    for message in [*_catalogue("en"), *extract_messages().catalog]:
        if not message.id:
            continue
        translation = target.get(message.id, context=message.context)
        forms = translation.string if translation is not None else ""
        in_target = " ".join(forms) if isinstance(forms, tuple) else forms
        for text in message.id if isinstance(message.id, tuple) else (message.id,):
            for fragment in _PLACEHOLDER.split(text):
                fragment = fragment.strip(" .,:;·()[]–—-/“”\"'?!…→←")
                if len(re.sub(r"[^A-Za-z]", "", fragment)) >= 4 and fragment not in in_target:
                    phrases.add(fragment)
    return tuple(sorted(phrases, key=len, reverse=True))


def english_in(text: str, locale: str) -> list[str]:
    """The English phrases and words found in a page's ``text`` (whole words only)."""
    found = [
        phrase
        for phrase in english_phrases(locale)
        if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text)
    ]
    found += [
        word for word in ENGLISH_WORDS if re.search(rf"(?<!\w){word}(?!\w)", text, re.IGNORECASE)
    ]
    return found


def look_at(page: Page, name: str, locale: str, problems: list[str]) -> None:
    """The checks every page gets (what is wrong is added to ``problems``), then its
    screenshot."""
    expect(page.locator("html")).to_have_attribute("lang", locale)
    screenshot(page, f"{name}_{locale}")
    if locale != "en":
        leaks = english_in(page.evaluate(_SHOWN_TEXT), locale)
        if leaks:
            problems.append(f"{name} in {locale} shows English: {leaks}")
    overflows = page.evaluate(_OVERFLOWS)
    if overflows:
        problems.append(f"{name} in {locale}: content wider than its box: {overflows}")


@pytest.fixture
def pages_server(app: Flask, classroom, school_day) -> Iterator[str]:
    """School A on 30 September: a month of maths and English lessons with grades, absences
    (one excused), lateness, leaving early and a remark, so every page has content."""
    school_day(date(2026, 9, 30))
    session, school = classroom.session, classroom.school
    ensure_lessons(session, *SEPTEMBER, group_ids=[classroom.maths.id, classroom.english.id])
    teacher, other = classroom.account("teacher"), classroom.account("other_teacher")
    lessons = session.query(Lesson).filter(Lesson.on_day <= SEPTEMBER[1]).all()
    maths = sorted((x for x in lessons if x.group_id == classroom.maths.id), key=_order)
    english = sorted((x for x in lessons if x.group_id == classroom.english.id), key=_order)
    today = date(2026, 9, 30)
    for i, student in enumerate(classroom.students):
        for j, lesson in enumerate(maths[:6]):
            value = str(10 - (i + j) % 5)
            add_grade(session, teacher, school, group=classroom.maths, student_id=student.id,
                      value=value, lesson=lesson, today=today)  # fmt: skip
        add_grade(session, other, school, group=classroom.english, student_id=student.id,
                  value=str(7 + i % 4), lesson=english[1], today=today)  # fmt: skip
    first, second = classroom.students[:2]
    for lesson, student, mark in (
        (maths[1], first, "absent"), (maths[2], second, "late"),
        (english[0], first, "left_early"), (maths[3], second, "absent"),
    ):  # fmt: skip
        owner = teacher if lesson.group_id == classroom.maths.id else other
        mark_attendance(session, owner, school, lesson, student.id, mark, today=today)
    week_lessons = [x for x in maths if WEEK <= x.on_day < WEEK + timedelta(days=7)]
    week_lessons[0].topic = "Trupmenos"
    session.add(
        Remark(student_id=first.id, group_id=classroom.maths.id, kind="praise",
               text="Padėjo draugui", on_day=WEEK + timedelta(days=1), written_by=teacher.id)
    )  # fmt: skip
    session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, name="e2e-pages", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _order(lesson: Lesson) -> tuple[date, int]:
    return lesson.on_day, lesson.lesson_no


def _new_page(browser: Browser, base_url: str, locale: str, contexts: list) -> Page:
    context = browser.new_context(
        base_url=base_url,
        locale={"en": "en-US", "lt": "lt-LT", "ru": "ru-RU", "pl": "pl-PL"}[locale],
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(10_000)
    contexts.append(context)
    return context.new_page()


def _log_in(page: Page, app: Flask, locale: str, login: str) -> None:
    page.goto("/login")
    page.locator("#login").fill(login)
    page.locator("#password").fill(TEST_PASSWORD)
    page.get_by_role("button", name=translated(app, locale, "Log in"), exact=True).click()
    expect(page.locator("#login")).to_have_count(0)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_main_pages_in_each_language(
    browser: Browser, pages_server: str, app: Flask, classroom, locale: str
) -> None:
    maths_id, student_id = classroom.maths.id, classroom.students[0].id
    # The accounts read the language (their preference; the login page follows the browser).
    classroom.account("teacher").locale = locale
    classroom.account("guardian").locale = locale
    classroom.session.commit()
    contexts: list = []
    problems: list[str] = []
    try:
        page = _new_page(browser, pages_server, locale, contexts)
        page.goto("/login")
        expect(page.locator("h1")).to_have_text(translated(app, locale, "Log in to Dienynas"))
        look_at(page, "login", locale, problems)

        _log_in(page, app, locale, "teacher.a")
        page.goto("/s/school-a/")
        expect(page.locator("h1")).to_contain_text("Alpha progimnazija")
        look_at(page, "school_home", locale, problems)

        page.goto(f"/s/school-a/journal/{maths_id}?month=2026-09")
        expect(page.locator("h1")).to_contain_text(translated(app, locale, "Journal"))
        expect(page.locator("td.j-average").first).to_have_text(re.compile(r"^\d+[,.]\d\d$"))
        look_at(page, "journal", locale, problems)

        page = _new_page(browser, pages_server, locale, contexts)
        _log_in(page, app, locale, "guardian.both")
        page.goto(f"/s/school-a/diary?student={student_id}&week={WEEK.isoformat()}")
        expect(page.locator("h2").first).to_contain_text(
            translated(app, locale, "Week %(first)s – %(last)s", first="", last="").split()[0]
        )
        look_at(page, "diary", locale, problems)
    finally:
        for context in contexts:
            context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_attendance_and_overview_pages_in_each_language(
    browser: Browser, pages_server: str, app: Flask, classroom, locale: str
) -> None:
    """The pages whose columns count absences (attendance summary, class overview and its
    month's statistics, school overview): their headers are the longest words of the
    gradebook in ru and pl."""
    class_id = classroom.c5a.id
    classroom.account("head").locale = locale
    classroom.account("director").locale = locale
    classroom.session.commit()
    contexts: list = []
    problems: list[str] = []
    try:
        page = _new_page(browser, pages_server, locale, contexts)
        _log_in(page, app, locale, "head.a")
        page.goto(f"/s/school-a/classes/{class_id}/attendance?month=2026-09")
        expect(page.locator("h1")).to_contain_text(translated(app, locale, "Monthly attendance"))
        look_at(page, "attendance_summary", locale, problems)
        page.goto(f"/s/school-a/classes/{class_id}/overview")
        expect(page.locator("h1")).to_contain_text(translated(app, locale, "Class overview"))
        look_at(page, "class_overview", locale, problems)
        page.goto(f"/s/school-a/classes/{class_id}/statistics?month=2026-09")
        expect(page.locator("h1")).to_contain_text(translated(app, locale, "Month's statistics"))
        look_at(page, "month_statistics", locale, problems)

        page = _new_page(browser, pages_server, locale, contexts)
        _log_in(page, app, locale, "director.a")
        page.goto("/s/school-a/overview")
        expect(page.locator("h1")).to_have_text(translated(app, locale, "School overview"))
        look_at(page, "school_overview", locale, problems)
    finally:
        for context in contexts:
            context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_pool_page_in_each_language(
    browser: Browser, pages_server: str, app: Flask, classroom, locale: str
) -> None:
    """The pool of unassigned students, as a director sees it, with a student who left
    school A for a school elsewhere."""
    from school.people.models import Student
    from transfers.services import leave_student

    classroom.session.get(Student, classroom.students[1].id).enrolled_on = date(2026, 9, 1)
    leave_student(
        classroom.session, classroom.account("admin"), classroom.school,
        student_id=classroom.students[1].id, left_on=date(2026, 9, 30), reason=None,
        destination_kind="elsewhere", to_school_id=None, today=date(2026, 9, 30),
    )  # fmt: skip
    classroom.account("director").locale = locale
    classroom.session.commit()
    contexts: list = []
    problems: list[str] = []
    try:
        page = _new_page(browser, pages_server, locale, contexts)
        _log_in(page, app, locale, "director.a")
        page.goto("/s/school-a/transfers/pool")
        expect(page.locator("h1")).to_have_text(
            translated(app, locale, "Pool of unassigned students")
        )
        expect(page.locator("body")).to_contain_text(classroom.students[1].last_name)
        look_at(page, "pool", locale, problems)
    finally:
        for context in contexts:
            context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_year_end_and_account_pages_in_each_language(
    browser: Browser, pages_server: str, app: Flask, classroom, locale: str
) -> None:
    """The pages added for the year's end and for accounts: moving the classes up (a finished
    2025–2026 with classes 5b and 12a), the year archive, diary use, grades from another
    school, the link code and the forgotten password."""
    from school.calendar import services as calendar
    from school.classes.services import create_class

    session, school = classroom.session, classroom.school
    finished = calendar.create_year(
        session, name="2025–2026", starts_on=date(2025, 9, 1), ends_on=date(2026, 8, 31)
    )
    for level, letter in ((5, "b"), (12, "a")):
        create_class(session, school, year=finished, grade_level=level, letter=letter)
    classroom.account("admin").locale = locale
    year_id, class_id = classroom.year.id, classroom.c5a.id
    session.commit()
    app.config["SMTP_URL"] = "smtp://127.0.0.1:1"  # the forgotten-password form shows
    contexts: list = []
    problems: list[str] = []
    try:
        page = _new_page(browser, pages_server, locale, contexts)
        page.goto("/password/forgot")
        expect(page.locator("#who")).to_be_visible()
        look_at(page, "forgot_password", locale, problems)

        _log_in(page, app, locale, "admin.a")
        page.goto(f"/s/school-a/classes/next-year?year={year_id}")
        expect(page.locator("select").first).to_be_visible()
        look_at(page, "next_year", locale, problems)
        page.goto("/s/school-a/archive")
        expect(page.locator("h1")).to_have_text(translated(app, locale, "Year archive"))
        look_at(page, "year_archive", locale, problems)
        page.goto("/s/school-a/people/activity")
        expect(page.locator("table").first).to_be_visible()
        look_at(page, "diary_use", locale, problems)
        page.goto(f"/s/school-a/classes/{class_id}/outside-grades")
        expect(page.locator("#origin")).to_be_visible()
        look_at(page, "outside_grades", locale, problems)
        page.goto("/account/link-code")
        page.get_by_role("button", name=translated(app, locale, "Make a link code")).click()
        expect(page.locator("#link-code")).to_have_text(
            re.compile(r"^[A-Z0-9]{4}(-[A-Z0-9]{4}){2}$")
        )
        look_at(page, "link_code", locale, problems)
    finally:
        app.config["SMTP_URL"] = ""
        for context in contexts:
            context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_support_and_account_contacts_pages_in_each_language(
    browser: Browser, pages_server: str, app: Flask, classroom, locale: str
) -> None:
    """The pages added in session 10, as the administrator sees them with something on each:
    the account's contacts, health recommendations, a class's safety instructions, the
    month's substitutions, the announcement form and the teacher's journal with a student's
    health recommendation."""
    from gradebook.briefings.services import record_briefing
    from gradebook.lessons.services import assign_substitute
    from school.health.services import write

    session, school, admin = classroom.session, classroom.school, classroom.account("admin")
    today = date(2026, 9, 30)
    write(session, admin, school, student_id=classroom.students[0].id,
          text="Sėdi pirmame suole: silpnai mato", valid_until=None, today=today)  # fmt: skip
    record_briefing(session, admin, school, class_id=classroom.c5a.id, group_id=None,
                    on_day=date(2026, 9, 1), topic="Saugus elgesys mokykloje",
                    given_by=classroom.head.id, today=today)  # fmt: skip
    lesson = session.scalars(
        select(Lesson).where(Lesson.group_id == classroom.maths.id).order_by(Lesson.on_day)
    ).first()
    assign_substitute(session, admin, school, lesson, teacher_id=classroom.other_teacher.id)
    admin.locale = locale
    classroom.account("teacher").locale = locale
    class_id, maths_id = classroom.c5a.id, classroom.maths.id
    session.commit()
    app.config["SMTP_URL"] = "smtp://127.0.0.1:1"  # the contacts form takes an e-mail address
    contexts: list = []
    problems: list[str] = []
    try:
        page = _new_page(browser, pages_server, locale, contexts)
        _log_in(page, app, locale, "admin.a")
        page.goto("/account/contacts")
        expect(page.locator("#phone")).to_be_visible()
        look_at(page, "contacts", locale, problems)
        page.goto("/s/school-a/health")
        expect(page.locator("body")).to_contain_text("Sėdi pirmame suole")
        look_at(page, "health_recommendations", locale, problems)
        page.goto(f"/s/school-a/classes/{class_id}/briefings")
        expect(page.locator("body")).to_contain_text("Saugus elgesys mokykloje")
        look_at(page, "safety_instructions", locale, problems)
        page.goto("/s/school-a/substitutions?month=2026-09")
        expect(page.locator("h1")).to_have_text(translated(app, locale, "Substitutions"))
        look_at(page, "substitutions", locale, problems)
        page.goto("/s/school-a/announcements/new")
        expect(page.locator("#announcement-body")).to_be_visible()
        look_at(page, "announcement_form", locale, problems)

        page = _new_page(browser, pages_server, locale, contexts)
        _log_in(page, app, locale, "teacher.a")
        page.goto(f"/s/school-a/journal/{maths_id}?month=2026-09")
        expect(page.locator("a.j-health")).to_have_count(1)
        look_at(page, "journal_health", locale, problems)
    finally:
        app.config["SMTP_URL"] = ""
        for context in contexts:
            context.close()
    assert not problems, "\n".join(problems)
