"""The journal grid in a browser: a teacher moves with the arrow keys, types a grade and Enter
(saved without reloading the page), gives the grade a kind and a comment in the grade dialog,
and gets the error of a grade outside the scale.

Unlike the other browser tests this one needs the gradebook's school (tests/classroom.py),
which lives in the test's rolled-back transaction (``db_session``); so the app is served by a
server of its own in one thread, whose requests use that transaction's connection one at a
time (a threaded server would share the connection between requests)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from conftest import TEST_PASSWORD
from e2e.helpers import screenshot, translated
from gradebook.grades.models import Grade
from gradebook.lessons.models import Lesson
from gradebook.lessons.services import assign_substitute, ensure_lessons
from tenants.services import bind_to_school

pytestmark = pytest.mark.e2e

SEPTEMBER = (date(2026, 9, 1), date(2026, 9, 30))


@pytest.fixture
def journal_server(app: Flask, classroom, school_day) -> Iterator[str]:
    school_day(date(2026, 9, 30))  # September's lessons are past, the term still open
    ensure_lessons(classroom.session, *SEPTEMBER, group_ids=[classroom.maths.id])
    classroom.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, name="e2e-journal", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def journal_page(browser: Browser, journal_server: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=journal_server, locale="en-US", viewport={"width": 1400, "height": 800}
    )
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_teacher_enters_grades_with_the_keyboard(journal_page: Page, app: Flask, classroom):
    page = journal_page

    def en(message: str, **variables) -> str:
        return translated(app, "en", message, **variables)

    maths_id = classroom.maths.id
    first, second, third = classroom.students[:3]
    names = {p.id: f"{p.last_name} {p.first_name}" for p in (first, second, third)}
    page.goto("/login")
    page.get_by_label(en("Login"), exact=True).fill("teacher.a")
    page.get_by_label(en("Password"), exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name=en("Log in"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/s/school-a/|/$"))

    page.goto(f"/s/school-a/journal/{maths_id}?month=2026-09")
    expect(page.locator("h1")).to_have_text(en("Journal") + ": 5a matematika")

    def label(student, day: int, number: int) -> str:
        return en(
            "Student: %(name)s. %(day)s, lesson %(number)d",
            name=names[student.id],
            day=f"Sep {day}, 2026",
            number=number,
        )

    # From the first cell (Agnė, Wednesday 2 September) one right and one down:
    # Benas, Friday 4 September.
    page.locator("button.jcell").first.focus()
    expect(page.locator(":focus")).to_have_attribute("aria-label", label(first, 2, 2))
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    target = page.locator("td.j-cell").filter(has=page.get_by_label(label(second, 4, 3)))
    expect(page.locator(":focus")).to_have_attribute("aria-label", label(second, 4, 3))
    # The grid is one tab stop: the cell last focused.
    expect(page.locator('button.jcell[tabindex="0"]')).to_have_count(1)
    expect(page.locator('button.jcell[tabindex="0"]')).to_have_attribute(
        "aria-label", label(second, 4, 3)
    )

    page.keyboard.type("9")
    editor = target.locator("input.j-editor")
    expect(editor).to_have_value("9")
    page.keyboard.press("Enter")
    expect(target.locator(".j-grade")).to_have_text("9")
    expect(target.locator("input")).to_have_count(0)
    expect(page.locator("tbody tr").nth(1).locator("td.j-average")).to_have_text("9.00")
    # Saved at once, and the focus went down to the next student.
    expect(page.locator(":focus")).to_have_attribute("aria-label", label(third, 4, 3))
    page.reload()
    expect(target.locator(".j-grade")).to_have_text("9")

    # Shift+Enter: the grade's kind and comment in a dialog.
    target.locator("button.jcell").focus()
    page.keyboard.press("Shift+Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    kind = dialog.get_by_label(en("Assessment kind"))
    kind.select_option(index=1)
    kind_name = kind.locator("option:checked").inner_text()
    dialog.get_by_label(en("Comment")).fill("Answered at the board")
    screenshot(page, "journal_grade_dialog")
    dialog.get_by_role("button", name=en("Save"), exact=True).click()
    expect(dialog).to_be_hidden()
    expect(target.locator(".j-grade")).to_have_attribute(
        "title", f"{kind_name}: Answered at the board"
    )
    expect(page.locator(":focus")).to_have_attribute("aria-label", re.compile(names[second.id]))

    # A grade outside the scale: the message under the cell, the typed value kept.
    target.locator("button.jcell").focus()
    page.keyboard.type("11")
    page.keyboard.press("Enter")
    error = target.get_by_role("alert")
    expect(error).to_have_text(en("The grade must be a whole number from %(min)d to %(max)d.",
                                  min=1, max=10))  # fmt: skip
    expect(target.locator("input.j-editor")).to_have_value("11")
    expect(target.locator("input.j-editor")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "journal_grid_error")

    # Escape gives the cell back as it was.
    page.keyboard.press("Escape")
    expect(target.locator(".j-grade")).to_have_text("9")
    expect(target.get_by_role("alert")).to_have_count(0)
    screenshot(page, "journal_grid")

    bind_to_school(classroom.session, classroom.school)
    grades = classroom.session.execute(
        select(Grade.value, Lesson.on_day, Grade.comment)
        .join(Lesson, Lesson.id == Grade.lesson_id)
        .where(Grade.student_id == second.id)
    ).all()
    assert [tuple(row) for row in grades] == [("9", date(2026, 9, 4), "Answered at the board")]


def test_a_substitute_moves_between_the_lessons_they_hold(
    journal_page: Page, app: Flask, classroom
):
    """The substitute's grid has buttons only in their lessons' columns; the arrow keys step
    over the columns between, and Enter saves as for the group's teacher."""
    page = journal_page

    def en(message: str, **variables) -> str:
        return translated(app, "en", message, **variables)

    session = classroom.session
    bind_to_school(session, classroom.school)  # the server's fixture committed
    maths = select(Lesson).where(Lesson.group_id == classroom.maths.id)
    held = [
        session.scalar(maths.where(Lesson.on_day == day))
        for day in (date(2026, 9, 2), date(2026, 9, 7))
    ]
    for lesson in held:
        assign_substitute(
            session, classroom.account("admin"), classroom.school, lesson,
            teacher_id=str(classroom.other_teacher.id),
        )  # fmt: skip
    session.commit()
    # read before the pages are served: their requests rebind the test's connection
    held_ids = [lesson.id for lesson in held]
    maths_id, login = classroom.maths.id, classroom.account("other_teacher").login
    first, second = classroom.students[:2]
    names = {p.id: f"{p.last_name} {p.first_name}" for p in (first, second)}
    page.goto("/login")
    page.get_by_label(en("Login"), exact=True).fill(login)
    page.get_by_label(en("Password"), exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name=en("Log in"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/s/school-a/|/$"))
    page.goto(f"/s/school-a/journal/{maths_id}?month=2026-09")

    def label(student, day: str, number: int) -> str:
        return en("Student: %(name)s. %(day)s, lesson %(number)d", name=names[student.id],
                  day=day, number=number)  # fmt: skip

    page.locator("button.jcell").first.focus()
    expect(page.locator(":focus")).to_have_attribute("aria-label", label(first, "Sep 2, 2026", 2))
    page.keyboard.press("ArrowRight")  # over Friday 4 September, not theirs
    expect(page.locator(":focus")).to_have_attribute("aria-label", label(first, "Sep 7, 2026", 1))
    page.keyboard.type("8")
    page.keyboard.press("Enter")
    target = page.locator("td.j-cell").filter(has=page.get_by_label(label(first, "Sep 7, 2026", 1)))
    expect(target.locator(".j-grade")).to_have_text("8")
    expect(page.locator(":focus")).to_have_attribute("aria-label", label(second, "Sep 7, 2026", 1))
    screenshot(page, "journal_substitute")
    bind_to_school(session, classroom.school)
    saved = session.execute(select(Grade.lesson_id, Grade.value)).all()
    assert saved == [(held_ids[1], "8")]
