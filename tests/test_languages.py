"""Languages in use: the app's plural messages read as real phrases in every language, and
pages and exports take dates, weekday and month names and decimal commas from Babel's locale
data (DESIGN.md 6). The catalogues themselves are checked in tests/test_i18n.py."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from flask import render_template_string
from flask_babel import gettext, ngettext, npgettext
from sqlalchemy import delete

from conftest import login
from dienynas.errors import ServiceError
from dienynas.i18n import in_locale
from gradebook.grades.models import Grade
from gradebook.grades.services import add_grade
from gradebook.lessons.models import Lesson
from gradebook.lessons.services import Upload, delete_lesson, ensure_lessons, save_homework
from tenants.services import bind_to_school
from test_i18n import compiled_catalogues  # noqa: F401  (the pages read the compiled catalogues)

MONDAY = date(2026, 9, 7)
TODAY = date(2026, 9, 30)

#: ``npgettext("mark", "%(num)d grade", "%(num)d grades", n)`` as a native speaker writes it:
#: the CLDR categories one / few / many (other), with the teens and 21, 22, 25, 111, 112.
GRADES = {
    "lt": {1: "1 pažymys", 2: "2 pažymiai", 5: "5 pažymiai", 10: "10 pažymių",
           11: "11 pažymių", 12: "12 pažymių", 21: "21 pažymys", 22: "22 pažymiai",
           25: "25 pažymiai", 30: "30 pažymių", 101: "101 pažymys", 111: "111 pažymių",
           112: "112 pažymių"},
    "ru": {1: "1 оценка", 2: "2 оценки", 5: "5 оценок", 10: "10 оценок", 11: "11 оценок",
           12: "12 оценок", 21: "21 оценка", 22: "22 оценки", 25: "25 оценок",
           30: "30 оценок", 101: "101 оценка", 111: "111 оценок", 112: "112 оценок"},
    "pl": {1: "1 ocena", 2: "2 oceny", 5: "5 ocen", 10: "10 ocen", 11: "11 ocen",
           12: "12 ocen", 21: "21 ocen", 22: "22 oceny", 25: "25 ocen", 30: "30 ocen",
           101: "101 ocen", 111: "111 ocen", 112: "112 ocen"},
    "en": {1: "1 grade", 2: "2 grades", 5: "5 grades", 21: "21 grades", 111: "111 grades"},
}  # fmt: skip

#: ``ngettext("%(num)d school day", "%(num)d school days", n)`` (no context).
SCHOOL_DAYS = {
    "lt": {1: "1 mokymosi diena", 2: "2 mokymosi dienos", 10: "10 mokymosi dienų",
           21: "21 mokymosi diena", 22: "22 mokymosi dienos", 25: "25 mokymosi dienos",
           111: "111 mokymosi dienų", 112: "112 mokymosi dienų"},
    "ru": {1: "1 учебный день", 2: "2 учебных дня", 5: "5 учебных дней",
           21: "21 учебный день", 22: "22 учебных дня", 25: "25 учебных дней",
           111: "111 учебных дней", 112: "112 учебных дней"},
    "pl": {1: "1 dzień nauki", 2: "2 dni nauki", 5: "5 dni nauki", 21: "21 dni nauki",
           22: "22 dni nauki", 25: "25 dni nauki", 111: "111 dni nauki",
           112: "112 dni nauki"},
}  # fmt: skip


#: Every member of the gettext family as the templates call it (dienynas.i18n's render-bound
#: callables): a plural with a context, a plural, a context-less string with an argument.
FAMILY = (
    '{{ npgettext("mark", "%(num)d grade", "%(num)d grades", n) }}|'
    '{{ ngettext("%(num)d school day", "%(num)d school days", n) }}|'
    '{{ _("%(name)s has been added to the class.", name=who) }}'
)


@pytest.mark.parametrize("locale", ["lt", "ru", "pl"])
def test_templates_translate_in_the_locale_in_force_and_escape_arguments(app, locale):
    """A page in Lithuanian that renders a template for someone else (``in_locale``, as a
    notification does) gets that reader's language in the template, and its own again after."""
    who = "<b>Jonas</b>"
    # an app context of its own: a fresh ``g`` (no signed-in account left by another test)
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "lt"}):
        with in_locale(locale):
            shown = render_template_string(FAMILY, n=22, who=who)
            sentence = gettext("%(name)s has been added to the class.", name=html.escape(who))
        assert shown == f"{GRADES[locale][22]}|{SCHOOL_DAYS[locale][22]}|{sentence}"
        assert "<b>" not in shown and "&lt;b&gt;Jonas&lt;/b&gt;" in shown
        assert render_template_string(FAMILY, n=21, who="Jonas") == (
            f"{GRADES['lt'][21]}|{SCHOOL_DAYS['lt'][21]}|Mokinys įtrauktas į klasę: Jonas."
        )


@pytest.mark.parametrize("locale", ["lt", "ru", "pl", "en"])
def test_the_grade_count_reads_right_for_every_number(app, locale):
    with app.app_context(), in_locale(locale):
        shown = {n: npgettext("mark", "%(num)d grade", "%(num)d grades", n) for n in GRADES[locale]}
    assert shown == GRADES[locale]


@pytest.mark.parametrize("locale", ["lt", "ru", "pl"])
def test_a_count_without_context_reads_right_for_every_number(app, locale):
    with app.app_context(), in_locale(locale):
        shown = {
            n: ngettext("%(num)d school day", "%(num)d school days", n) for n in SCHOOL_DAYS[locale]
        }
    assert shown == SCHOOL_DAYS[locale]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("lt", ("1 pažymys", "2 pažymiai", "5 pažymiai")),
        ("ru", ("1 оценка", "2 оценки", "5 оценок")),
        ("pl", ("1 ocena", "2 oceny", "5 ocen")),
    ],
)
def test_refusal_to_delete_a_graded_lesson_counts_the_grades_in_the_readers_language(
    classroom, locale, expected
):
    """The lessons service's own message: 'it has %(records)s' with the npgettext count."""
    session = classroom.session
    teacher = classroom.account("teacher")
    ensure_lessons(session, MONDAY, MONDAY, group_ids=[classroom.maths.id])
    lesson = session.query(Lesson).filter_by(group_id=classroom.maths.id, on_day=MONDAY).one()
    for number, phrase in zip((1, 2, 5), expected, strict=True):
        session.execute(delete(Grade))
        for student in classroom.students[:number]:
            add_grade(
                session, teacher, classroom.school, group=classroom.maths,
                student_id=student.id, value="8", lesson=lesson, today=TODAY,
            )  # fmt: skip
        with in_locale(locale), pytest.raises(ServiceError) as refused:
            delete_lesson(session, teacher, classroom.school, lesson, TODAY)
        assert phrase in str(refused.value), (number, str(refused.value))
    assert session.get(Lesson, lesson.id) is not None


# --- locale data on the pages and in the export ----------------------------------------------


def _plain_spaces(page: str) -> str:
    """Babel's dates and units use no-break spaces (7 сентября 2026 г., 12,5 kB)."""
    return re.sub("[\N{NO-BREAK SPACE}\N{NARROW NO-BREAK SPACE}]", " ", page)


def _grade_monday(classroom) -> Lesson:
    ensure_lessons(classroom.session, MONDAY, MONDAY, group_ids=[classroom.maths.id])
    lesson = (
        classroom.session.query(Lesson).filter_by(group_id=classroom.maths.id, on_day=MONDAY).one()
    )
    add_grade(
        classroom.session, classroom.account("teacher"), classroom.school, group=classroom.maths,
        student_id=classroom.students[0].id, value="9", lesson=lesson, today=TODAY,
    )  # fmt: skip
    return lesson


@pytest.mark.parametrize(
    ("locale", "average", "month"),
    [("lt", "9,00", "rugsėjis"), ("ru", "9,00", "сентябрь"), ("pl", "9,00", "wrzesień"),
     ("en", "9.00", "September")],
)  # fmt: skip
def test_journal_average_and_month_in_the_teachers_language(
    client, classroom, school_day, locale, average, month
):
    school_day(TODAY)
    _grade_monday(classroom)
    classroom.account("teacher").locale = locale
    classroom.session.commit()
    path = f"/s/school-a/journal/{classroom.maths.id}?month=2026-09"
    login(client, classroom.account("teacher").login)
    response = client.get(path)
    bind_to_school(classroom.session, classroom.school)
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert f'<td class="j-average">{average}</td>' in page
    assert f'aria-current="page">{month.capitalize()} 2026' in page or (
        f'aria-current="page">{month} 2026' in page
    )


def test_diary_weekday_and_month_names_and_mean_in_russian(client, classroom, school_day):
    school_day(TODAY)
    _grade_monday(classroom)
    classroom.account("guardian").locale = "ru"
    classroom.session.commit()
    path = f"/s/school-a/diary?student={classroom.students[0].id}&week=2026-09-09"
    login(client, classroom.account("guardian").login)
    response = client.get(path)
    bind_to_school(classroom.session, classroom.school)
    assert response.status_code == 200
    page = _plain_spaces(response.get_data(as_text=True))
    for weekday in ("понедельник", "вторник", "среда", "четверг", "пятница"):
        assert f"<h3>{weekday}, " in page, weekday
    assert "7 сентября 2026 г." in page
    assert "Неделя: 7 сентября 2026 г. – 11 сентября 2026 г." in page
    assert "<td>9,00</td>" in page  # the term summary's mean
    assert "Monday" not in page and "September" not in page


def test_attendance_csv_headers_in_the_readers_language(client, classroom):
    """The export's count columns read as counts (Опоздания, not Опоздание)."""
    classroom.account("head").locale = "ru"
    classroom.session.commit()
    path = f"/s/school-a/classes/{classroom.c5a.id}/attendance.csv?month=2026-09"
    login(client, classroom.account("head").login)
    response = client.get(path)
    bind_to_school(classroom.session, classroom.school)
    assert response.status_code == 200
    header, *rows = response.data.decode("utf-8-sig").splitlines()
    assert header == (
        "Ученик,Пропущено уроков по уважительной причине,"
        "Пропущено уроков без уважительной причины,"
        '"Пропущено уроков, всего",Опоздания,Ранние уходы'
    )
    assert rows[0].endswith(",0,0,0,0,0")


@pytest.mark.parametrize(
    ("locale", "size"), [("lt", "12,5 kB"), ("ru", "12,5 кБ"), ("pl", "12,5 kB"), ("en", "12.5 kB")]
)
def test_homework_file_size_in_the_readers_language(client, classroom, school_day, locale, size):
    school_day(TODAY)
    session = classroom.session
    ensure_lessons(session, MONDAY, MONDAY, group_ids=[classroom.maths.id])
    lesson = session.query(Lesson).filter_by(group_id=classroom.maths.id, on_day=MONDAY).one()
    save_homework(
        session, classroom.account("teacher"), classroom.school, lesson, text="Pratimai",
        due_on="", uploads=[Upload("lentelė.txt", b"1" * 12_800)],
    )  # fmt: skip
    classroom.account("teacher").locale = locale
    session.commit()
    path = f"/s/school-a/lessons/{lesson.id}"
    login(client, classroom.account("teacher").login)
    response = client.get(path)
    bind_to_school(session, classroom.school)
    assert response.status_code == 200
    page = _plain_spaces(response.get_data(as_text=True))
    assert f"({size})" in page
