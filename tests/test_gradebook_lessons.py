"""Lessons: generation from the timetable (one statement, idempotent, the calendar's days),
the daily job and the command, the lesson page with homework files, ad-hoc lessons,
substitutes, deleting lesson dates, and the bad input of each."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from classroom import AUTUMN_HOLIDAYS, MONDAY
from conftest import csrf_token, login, marked_invalid, post_form
from dienynas.cli import cli
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.i18n import in_locale
from gradebook.attendance import services as attendance
from gradebook.attendance.models import Attendance
from gradebook.grades.models import Grade
from gradebook.lessons import services
from gradebook.lessons.models import Homework, HomeworkFile, Lesson
from gradebook.lessons.services import Upload
from gradebook.settings.models import GradebookSettings
from notifications.models import NotificationEvent
from school.calendar.models import Room
from school.classes.models import Group, GroupTeacher
from school.locks.models import TermLock
from school.locks.services import DELETE_LESSON_DATES
from school.timetable import services as timetable
from school.timetable.models import TimetableEntry
from tenants.services import bind_to_school

SUNDAY = MONDAY + timedelta(days=6)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


def lessons_of(session, group=None) -> list[tuple[date, int, int]]:
    statement = select(Lesson.on_day, Lesson.lesson_no, Lesson.group_id).order_by(
        Lesson.on_day, Lesson.lesson_no
    )
    if group is not None:
        statement = statement.where(Lesson.group_id == group.id)
    return [tuple(row) for row in session.execute(statement)]


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def generate(classroom, start=MONDAY, end=SUNDAY) -> None:
    services.ensure_lessons(
        classroom.session, start, end, group_ids=[classroom.maths.id, classroom.english.id]
    )


def maths_monday(classroom) -> Lesson:
    generate(classroom)
    return classroom.session.scalar(
        select(Lesson).where(Lesson.group_id == classroom.maths.id, Lesson.on_day == MONDAY)
    )


# --- generation -------------------------------------------------------------------------------


def test_a_week_of_lessons_in_one_statement(classroom, count_queries):
    with count_queries() as queries:
        generate(classroom)
    assert len(queries) == 1, queries
    maths, english = classroom.maths.id, classroom.english.id
    assert lessons_of(classroom.session) == [
        (MONDAY, 1, maths),
        (MONDAY + timedelta(days=1), 1, english),
        (MONDAY + timedelta(days=2), 2, maths),
        (MONDAY + timedelta(days=3), 2, english),
        (MONDAY + timedelta(days=4), 3, maths),
    ]
    lesson = classroom.session.scalar(select(Lesson).where(Lesson.on_day == MONDAY))
    assert lesson.source == "timetable"
    assert lesson.term_id == classroom.terms[0].id
    assert lesson.teacher_id == classroom.teacher.id and lesson.substitute_for_id is None


def test_generation_is_idempotent(classroom):
    generate(classroom)
    lesson = classroom.session.scalar(select(Lesson).where(Lesson.on_day == MONDAY))
    lesson.topic = "Trupmenos"
    classroom.session.flush()
    generate(classroom)
    assert count(classroom.session, Lesson) == 5
    classroom.session.refresh(lesson)
    assert lesson.topic == "Trupmenos"


def test_no_lessons_before_the_first_term_in_holidays_or_at_weekends(classroom):
    # The year starts on Tuesday 1 September: nothing on Monday 31 August.
    generate(classroom, date(2026, 8, 31), date(2026, 9, 6))
    assert [day for day, _, _ in lessons_of(classroom.session)] == [
        date(2026, 9, 1),
        date(2026, 9, 2),
        date(2026, 9, 3),
        date(2026, 9, 4),
    ]
    before = count(classroom.session, Lesson)
    generate(classroom, AUTUMN_HOLIDAYS[0], AUTUMN_HOLIDAYS[1] + timedelta(days=2))
    assert count(classroom.session, Lesson) == before


def test_saturday_lessons_only_in_six_day_weeks(classroom):
    session = classroom.session
    session.add(
        TimetableEntry(group_id=classroom.maths.id, weekday=6, lesson_no=4, valid_from=MONDAY)
    )
    session.flush()
    generate(classroom)
    assert MONDAY + timedelta(days=5) not in [day for day, _, _ in lessons_of(session)]
    session.add(GradebookSettings(id=1, saturday_lessons=True))
    session.flush()
    generate(classroom)
    assert (MONDAY + timedelta(days=5), 4, classroom.maths.id) in lessons_of(session)


def test_the_timetable_history_room_and_first_teacher_are_respected(classroom):
    session = classroom.session
    room = Room(code="101")
    session.add(room)
    session.flush()
    wednesday = session.scalar(select(TimetableEntry).where(TimetableEntry.weekday == 3))
    wednesday.valid_to = MONDAY  # from Tuesday on maths has no Wednesday lesson
    monday = session.scalar(select(TimetableEntry).where(TimetableEntry.weekday == 1))
    monday.room_id = room.id
    # A second teacher with a higher id joins maths: the first (lowest id) holds the lessons.
    session.add(GroupTeacher(group_id=classroom.maths.id, teacher_id=classroom.head.id))
    session.flush()
    generate(classroom)
    maths = lessons_of(session, classroom.maths)
    assert [(day.isoweekday(), no) for day, no, _ in maths] == [(1, 1), (5, 3)]
    lesson = session.scalar(select(Lesson).where(Lesson.on_day == MONDAY))
    assert lesson.room_id == room.id
    assert lesson.teacher_id == min(classroom.teacher.id, classroom.head.id)


def test_only_the_given_groups_and_none_for_no_groups(classroom, count_queries):
    services.ensure_lessons(classroom.session, MONDAY, SUNDAY, group_ids=[classroom.english.id])
    assert {g for _, _, g in lessons_of(classroom.session)} == {classroom.english.id}
    with count_queries() as queries:
        services.ensure_lessons(classroom.session, MONDAY, SUNDAY, group_ids=[])
    assert queries == []


def test_stale_generated_lessons_are_removed_unless_something_was_written(classroom):
    session = classroom.session
    generate(classroom)
    by_day = {
        lesson.on_day: lesson
        for lesson in session.scalars(select(Lesson).where(Lesson.group_id == classroom.maths.id))
    }
    wednesday, friday = MONDAY + timedelta(days=2), MONDAY + timedelta(days=4)
    by_day[friday].objectives = "Pakartoti trupmenas"  # written in: stays
    session.add(
        Attendance(
            lesson_id=by_day[MONDAY].id,
            student_id=classroom.students[0].id,
            mark="absent",
            marked_by=classroom.account("teacher").id,
        )
    )
    # Maths moves out of the timetable from Monday on.
    for entry in session.scalars(
        select(TimetableEntry).where(TimetableEntry.group_id == classroom.maths.id)
    ):
        entry.valid_to = MONDAY - timedelta(days=1)
    session.flush()
    only_english = [classroom.english.id]
    assert services.remove_stale_lessons(session, MONDAY, SUNDAY, group_ids=only_english) == 0
    assert services.remove_stale_lessons(session, MONDAY, SUNDAY) == 1
    assert [day for day, _, _ in lessons_of(session, classroom.maths)] == [MONDAY, friday]
    assert wednesday not in [day for day, _, _ in lessons_of(session, classroom.maths)]
    assert len(lessons_of(session, classroom.english)) == 2


def test_holiday_added_later_removes_its_empty_lessons(classroom):
    from school.calendar.services import add_holiday

    session = classroom.session
    generate(classroom)
    add_holiday(session, classroom.year, name="Mokyklos šventė", starts_on=MONDAY, ends_on=MONDAY)
    report = services.generate_school_lessons(session, MONDAY, SUNDAY)
    assert (report.created, report.removed) == (0, 1)
    assert MONDAY not in [day for day, _, _ in lessons_of(session)]


def maths_entry(classroom, weekday: int) -> TimetableEntry:
    return classroom.session.scalar(
        select(TimetableEntry).where(
            TimetableEntry.group_id == classroom.maths.id, TimetableEntry.weekday == weekday
        )
    )


def test_moving_a_timetable_lesson_moves_its_generated_lessons_at_once(client, classroom, world):
    """Maths moves from Wednesday lesson 2 to lesson 7 from the second week; three weeks were
    generated. The teacher's day shows the new lesson only, at once (not after the daily job);
    a lesson whose roll was taken stays (a teacher deletes it)."""
    session = classroom.session
    services.generate_school_lessons(session, MONDAY, MONDAY + timedelta(days=18))
    wednesdays = [MONDAY + timedelta(days=2 + 7 * week) for week in range(3)]
    rolled = session.scalar(
        select(Lesson).where(Lesson.group_id == classroom.maths.id, Lesson.on_day == wednesdays[2])
    )
    rolled.attendance_taken_at = func.now()  # everyone present: no mark, but the roll is taken
    entry_id = maths_entry(classroom, 3).id
    session.commit()
    login(client, "admin.a")
    move = f"/s/school-a/timetable/entries/{entry_id}/move"
    form = {"weekday": "3", "lesson_no": "7", "room": "", "from_date": wednesdays[1].isoformat()}
    assert post_form(client, move, form, form_page=move).status_code == 302

    bind_to_school(session, world.school_a)
    maths = [(day, no) for day, no, _ in lessons_of(session, classroom.maths)]
    on_wednesdays = [(day, no) for day, no in maths if day in wednesdays]
    assert on_wednesdays == [
        (wednesdays[0], 2),  # before the change
        (wednesdays[1], 7),
        (wednesdays[2], 2),  # the roll was taken in it
        (wednesdays[2], 7),
    ]
    assert max(day for day, _ in maths) == MONDAY + timedelta(days=18)  # no day beyond
    session.commit()
    switch_to(client, "teacher.a")
    day = client.get(f"/s/school-a/lessons/mine?day={wednesdays[1].isoformat()}")
    rows = day.get_data(as_text=True).split("<tbody>")[1].split("</tbody>")[0]
    assert rows.count("<tr>") == 1 and "<td>7</td>" in rows and "5a matematika" in rows


def test_ending_deleting_and_adding_timetable_lessons_follow_at_once(classroom):
    session = classroom.session
    friday = MONDAY + timedelta(days=4)
    generate(classroom, MONDAY, MONDAY + timedelta(days=13))
    # Maths has no Monday lesson from the second week on
    timetable.end_entry(session, maths_entry(classroom, 1).id, MONDAY + timedelta(days=7))
    mondays = [day for day, _, _ in lessons_of(session, classroom.maths) if day.isoweekday() == 1]
    assert mondays == [MONDAY]
    # the Friday lesson was a mistake: gone, except the one a teacher wrote a topic in
    written = session.scalar(
        select(Lesson).where(Lesson.group_id == classroom.maths.id, Lesson.on_day == friday)
    )
    written.topic = "Trupmenos"
    session.flush()
    assert timetable.end_entry(session, maths_entry(classroom, 5).id, None, delete=True)
    fridays = [day for day, _, _ in lessons_of(session, classroom.maths) if day.isoweekday() == 5]
    assert fridays == [friday]
    # a new lesson on Thursday from the second week: its generated days are there at once
    timetable.add_entry(
        session, group_id=classroom.maths.id, weekday=4, lesson_no=5, room_id=None,
        valid_from=MONDAY + timedelta(days=7),
    )  # fmt: skip
    assert [
        (day, no) for day, no, _ in lessons_of(session, classroom.maths) if day.isoweekday() == 4
    ] == [(MONDAY + timedelta(days=10), 5)]


def test_daily_job_generates_two_weeks_in_every_school(classroom, world):
    from gradebook.lessons.tasks import generate_lessons

    classroom.session.commit()
    generate_lessons(MONDAY.isoformat())
    generate_lessons(MONDAY.isoformat())  # at-least-once delivery: nothing twice
    bind_to_school(classroom.session, world.school_a)
    days = [day for day, _, _ in lessons_of(classroom.session)]
    assert len(days) == 10 and min(days) == MONDAY and max(days) == MONDAY + timedelta(days=11)


def test_daily_job_is_scheduled():
    from dienynas.jobs import PERIODIC

    job = next(p for p in PERIODIC if p.name == "generate_lessons")
    assert job.every_seconds == 24 * 3600


@pytest.fixture
def run(app, db_session):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), env={"LANG": "en_US.UTF-8"})

    return invoke


def test_command_generates_and_prints_json(run, classroom, world):
    classroom.session.commit()
    result = run(
        "gradebook", "lessons", "--school", "school-a",
        "--from", MONDAY.isoformat(), "--to", SUNDAY.isoformat(),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "school": "school-a",
        "from": MONDAY.isoformat(),
        "to": SUNDAY.isoformat(),
        "created": 5,
        "removed": 0,
    }
    bind_to_school(classroom.session, world.school_a)
    assert count(classroom.session, Lesson) == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--school", "nowhere"), "There is no school with the address name “nowhere”."),
        (("--school", "school-a", "--from", "2026-13-01"), "is not a date"),
        (
            ("--school", "school-a", "--from", "2026-09-10", "--to", "2026-09-07"),
            "The last day must not be before the first day.",
        ),
    ],
)
def test_command_bad_input_creates_nothing(run, classroom, world, args, message):
    classroom.session.commit()
    result = run("gradebook", "lessons", *args)
    assert result.exit_code != 0
    assert message in result.output
    bind_to_school(classroom.session, world.school_a)
    assert count(classroom.session, Lesson) == 0


# --- writing a lesson and its homework ----------------------------------------------------------


def test_teacher_writes_the_topic_and_another_teacher_may_not(classroom):
    lesson = maths_monday(classroom)
    services.update_lesson(
        classroom.session, classroom.account("teacher"), classroom.school, lesson,
        topic=" Trupmenos ", classwork="Uždaviniai 1–5", notes="",
        objectives="Mokės sudėti trupmenas",
    )  # fmt: skip
    assert (lesson.topic, lesson.classwork, lesson.notes) == ("Trupmenos", "Uždaviniai 1–5", None)
    assert lesson.objectives == "Mokės sudėti trupmenas"
    with pytest.raises(PermissionDenied):
        services.update_lesson(
            classroom.session, classroom.account("other_teacher"), classroom.school, lesson,
            topic="Kita", classwork="", notes="",
        )  # fmt: skip
    classroom.session.refresh(lesson)
    assert lesson.topic == "Trupmenos"


def test_topic_too_long_is_refused(classroom):
    lesson = maths_monday(classroom)
    with pytest.raises(ServiceError, match="At most 300 characters") as error:
        services.update_lesson(
            classroom.session, classroom.account("teacher"), classroom.school, lesson,
            topic="x" * 301, classwork="", notes="",
        )  # fmt: skip
    assert error.value.field == "topic"


def homework_events(session) -> int:
    return session.scalar(
        select(func.count())
        .select_from(NotificationEvent)
        .where(NotificationEvent.kind == "homework")
    )


def test_homework_with_files_and_one_event_per_change(classroom):
    session, teacher = classroom.session, classroom.account("teacher")
    lesson = maths_monday(classroom)
    homework = services.save_homework(
        session, teacher, classroom.school, lesson,
        text="Pratimai 3–7", due_on="2026-09-09",
        uploads=[Upload("užduotys.pdf", PDF), Upload("brėžinys.png", PNG)],
    )  # fmt: skip
    assert (homework.text, homework.due_on) == ("Pratimai 3–7", date(2026, 9, 9))
    files = session.scalars(select(HomeworkFile).order_by(HomeworkFile.id)).all()
    assert [(f.file_name, f.content_type, f.size) for f in files] == [
        ("užduotys.pdf", "application/pdf", len(PDF)),
        ("brėžinys.png", "image/png", len(PNG)),
    ]
    event = session.scalar(select(NotificationEvent))
    assert event.kind == "homework" and event.actor_id == teacher.id
    assert event.payload == {
        "homework_id": homework.id,
        "lesson_id": lesson.id,
        "group_id": classroom.maths.id,
    }
    # The same homework again with one more file: no new event.
    services.save_homework(
        session, teacher, classroom.school, lesson,
        text="Pratimai 3–7", due_on="2026-09-09", uploads=[Upload("lentelė.txt", b"1 2 3")],
    )  # fmt: skip
    assert homework_events(session) == 1 and count(session, HomeworkFile) == 3
    # A new due date is news for the guardians.
    services.save_homework(
        session, teacher, classroom.school, lesson, text="Pratimai 3–7", due_on="2026-09-11"
    )
    assert homework_events(session) == 2 and count(session, Homework) == 1


@pytest.mark.parametrize(
    ("text", "due_on", "uploads", "field", "message"),
    [
        ("", "", [], "homework_text", "Write the homework."),
        ("Pratimai", "2026-09-06", [], "due_on", "cannot be due before the lesson"),
        ("Pratimai", "rytoj", [], "due_on", "is not a date"),
        ("Pratimai", "", [Upload("virusas.exe", b"MZ\x90")], "files", "cannot be attached"),
        ("Pratimai", "", [Upload("netikras.pdf", b"not a pdf")], "files", "not the kind of file"),
        (
            "Pratimai",
            "",
            [Upload("didelis.pdf", b"%PDF" + b"0" * services.MAX_FILE_BYTES)],
            "files",
            "larger than 5 MB",
        ),
        ("Pratimai", "", [Upload("tuščias.txt", b"")], "files", "is empty"),
        (
            "Pratimai",
            "",
            [Upload(f"{n}.txt", b"x") for n in range(services.MAX_FILES + 1)],
            "files",
            "at most 10 files",
        ),
    ],
)
def test_bad_homework_is_refused_and_nothing_saved(
    classroom, text, due_on, uploads, field, message
):
    lesson = maths_monday(classroom)
    with pytest.raises(ServiceError, match=message) as error:
        services.save_homework(
            classroom.session, classroom.account("teacher"), classroom.school, lesson,
            text=text, due_on=due_on, uploads=uploads,
        )  # fmt: skip
    assert error.value.field == field
    assert count(classroom.session, Homework) == 0
    assert count(classroom.session, HomeworkFile) == 0
    assert homework_events(classroom.session) == 0


def test_deleting_a_file_and_the_homework(classroom):
    session, teacher = classroom.session, classroom.account("teacher")
    lesson = maths_monday(classroom)
    services.save_homework(
        session, teacher, classroom.school, lesson, text="Skaityti", due_on="",
        uploads=[Upload("a.pdf", PDF), Upload("b.pdf", PDF)],
    )  # fmt: skip
    first = session.scalar(select(HomeworkFile.id).order_by(HomeworkFile.id))
    with pytest.raises(PermissionDenied):
        services.delete_homework_file(
            session, classroom.account("other_teacher"), classroom.school, lesson, first
        )
    services.delete_homework_file(session, teacher, classroom.school, lesson, first)
    assert session.scalars(select(HomeworkFile.file_name)).all() == ["b.pdf"]
    services.delete_homework(session, teacher, classroom.school, lesson)
    assert count(session, Homework) == 0 and count(session, HomeworkFile) == 0


# --- ad-hoc lessons ---------------------------------------------------------------------------


def add(classroom, who="teacher", day="2026-09-08", number="5", group=None):
    return services.add_lesson(
        classroom.session, classroom.account(who), classroom.school,
        group_id=str((group or classroom.maths).id), on_day=day, lesson_no=number,
    )  # fmt: skip


def test_teacher_adds_a_lesson_outside_the_timetable(classroom):
    lesson = add(classroom)
    assert (lesson.on_day, lesson.lesson_no, lesson.source) == (date(2026, 9, 8), 5, "ad_hoc")
    assert lesson.teacher_id == classroom.teacher.id
    assert lesson.term_id == classroom.terms[0].id
    assert lesson.changed_by == classroom.account("teacher").id
    admin_lesson = add(classroom, who="admin", number="6")
    assert admin_lesson.teacher_id == classroom.teacher.id  # the group's teacher holds it


@pytest.mark.parametrize(
    ("day", "number", "field", "message"),
    [
        ("2026-08-31", "5", "on_day", "is outside the school's terms"),
        ("2026-10-27", "5", "on_day", "is a holiday: Rudens atostogos"),
        ("2026-09-12", "5", "on_day", "is not a school day"),
        ("2026-09-07", "1", "lesson_no", "The group already has lesson 1 on Sep 7, 2026."),
        ("2026-09-08", "1", "lesson_no", "Students of this group have lesson 1 of 5a anglų"),
        ("2026-09-08", "16", "lesson_no", "Enter a whole number from 0 to 15."),
        ("", "5", "on_day", "Enter a date."),
    ],
)
def test_bad_ad_hoc_lessons_are_refused(classroom, day, number, field, message):
    generate(classroom)
    before = count(classroom.session, Lesson)
    with pytest.raises(ServiceError, match=message) as error:
        add(classroom, day=day, number=number)
    assert error.value.field == field
    assert count(classroom.session, Lesson) == before


def test_an_ad_hoc_lesson_is_refused_when_its_teacher_holds_another_then(classroom):
    c = classroom
    other = Group(year_id=c.year.id, subject_id=c.maths.subject_id, name="6b matematika",
                  kind="class", class_id=c.c6b.id)  # fmt: skip
    c.session.add(other)
    c.session.flush()
    c.session.add(Lesson(group_id=other.id, on_day=date(2026, 9, 8), lesson_no=5,
                         term_id=c.terms[0].id, teacher_id=c.teacher.id))  # fmt: skip
    c.session.flush()
    with pytest.raises(ServiceError, match="already holds lesson 5 of 6b matematika") as error:
        add(c)
    assert error.value.field == "lesson_no"
    assert add(c, number="6").lesson_no == 6


def test_another_teacher_cannot_add_to_a_group(classroom):
    with pytest.raises(PermissionDenied):
        add(classroom, who="other_teacher")
    with pytest.raises(NotFound):
        services.add_lesson(
            classroom.session, classroom.account("teacher"), classroom.school,
            group_id="999999", on_day="2026-09-08", lesson_no="5",
        )  # fmt: skip
    assert count(classroom.session, Lesson) == 0


# --- substitutes -------------------------------------------------------------------------------


def test_admin_assigns_a_substitute_who_then_writes_the_lesson(classroom):
    session = classroom.session
    lesson = maths_monday(classroom)
    services.assign_substitute(
        session, classroom.account("admin"), classroom.school, lesson,
        teacher_id=str(classroom.other_teacher.id),
    )  # fmt: skip
    assert (lesson.teacher_id, lesson.substitute_for_id) == (
        classroom.other_teacher.id,
        classroom.teacher.id,
    )
    substitute = classroom.account("other_teacher")
    mine = services.my_lessons(session, substitute, MONDAY)
    assert [(m.lesson.id, m.substitute_for) for m in mine] == [(lesson.id, "Tomas Mokytojas")]
    regular = services.my_lessons(session, classroom.account("teacher"), MONDAY)
    assert [(m.lesson.id, m.held_by) for m in regular] == [(lesson.id, "Jonas Anglas")]
    services.update_lesson(
        session, substitute, classroom.school, lesson, topic="Pavadavimas", classwork="", notes=""
    )
    assert lesson.topic == "Pavadavimas"
    # The director may change it too; choosing no one gives the lesson back.
    services.assign_substitute(
        session, classroom.account("director"), classroom.school, lesson, teacher_id=""
    )
    assert (lesson.teacher_id, lesson.substitute_for_id) == (classroom.teacher.id, None)
    with pytest.raises(PermissionDenied):
        services.update_lesson(
            session, substitute, classroom.school, lesson, topic="x", classwork="", notes=""
        )


def test_substitute_must_be_a_teacher_and_teachers_cannot_assign(classroom):
    session = classroom.session
    lesson = maths_monday(classroom)
    with pytest.raises(ServiceError, match=r"Choose a teacher of this school\.") as error:
        services.assign_substitute(
            session, classroom.account("admin"), classroom.school, lesson,
            teacher_id=str(classroom.students[0].id),
        )  # fmt: skip
    assert error.value.field == "teacher"
    with pytest.raises(PermissionDenied):
        services.assign_substitute(
            session, classroom.account("teacher"), classroom.school, lesson,
            teacher_id=str(classroom.other_teacher.id),
        )  # fmt: skip
    session.refresh(lesson)
    assert (lesson.teacher_id, lesson.substitute_for_id) == (classroom.teacher.id, None)


def test_a_substitute_who_holds_another_lesson_then_is_refused(classroom):
    c = classroom
    lesson = maths_monday(c)
    other = Group(year_id=c.year.id, subject_id=c.english.subject_id, name="6b anglų",
                  kind="class", class_id=c.c6b.id)  # fmt: skip
    c.session.add(other)
    c.session.flush()
    c.session.add(Lesson(group_id=other.id, on_day=lesson.on_day, lesson_no=lesson.lesson_no,
                         term_id=lesson.term_id, teacher_id=c.other_teacher.id))  # fmt: skip
    c.session.flush()
    with pytest.raises(ServiceError, match="already holds lesson 1 of 6b anglų") as error:
        services.assign_substitute(
            c.session, c.account("admin"), c.school, lesson,
            teacher_id=str(c.other_teacher.id),
        )  # fmt: skip
    assert error.value.field == "teacher"
    assert (lesson.teacher_id, lesson.substitute_for_id) == (c.teacher.id, None)


# --- deleting lesson dates ---------------------------------------------------------------------

TODAY = date(2026, 10, 1)


def test_teacher_deletes_an_empty_lesson_date(classroom):
    lesson = maths_monday(classroom)
    lesson_id = lesson.id
    services.save_homework(
        classroom.session, classroom.account("teacher"), classroom.school, lesson,
        text="Nieko", due_on="", uploads=[Upload("a.pdf", PDF)],
    )  # fmt: skip
    services.delete_lesson(
        classroom.session, classroom.account("teacher"), classroom.school, lesson, TODAY
    )
    assert classroom.session.get(Lesson, lesson_id) is None
    assert count(classroom.session, Homework) == 0
    # Generation does not bring the deleted date back; an ad-hoc lesson may take its place.
    generate(classroom)
    assert MONDAY not in [day for day, _, _ in lessons_of(classroom.session, classroom.maths)]
    assert count(classroom.session, Lesson) == 4
    again = add(classroom, day=MONDAY.isoformat(), number="1")
    services.delete_lesson(
        classroom.session, classroom.account("teacher"), classroom.school, again, TODAY
    )
    assert count(classroom.session, Lesson) == 4


def test_a_lesson_with_grades_or_attendance_is_not_deleted(classroom):
    session = classroom.session
    lesson = maths_monday(classroom)
    teacher = classroom.account("teacher")
    for student in classroom.students[:2]:
        session.add(
            Grade(
                student_id=student.id, group_id=lesson.group_id, lesson_id=lesson.id,
                on_day=lesson.on_day, term_id=lesson.term_id, value="9", created_by=teacher.id,
            )
        )  # fmt: skip
    session.add(
        Attendance(
            lesson_id=lesson.id, student_id=classroom.students[3].id, mark="late",
            marked_by=teacher.id,
        )
    )  # fmt: skip
    session.flush()
    with pytest.raises(
        ServiceError,
        match=r"The lesson cannot be deleted: it has 2 grades and 1 attendance mark\.",
    ):
        services.delete_lesson(session, teacher, classroom.school, lesson, TODAY)
    assert count(session, Lesson) == 5


def test_deleting_in_a_locked_term_is_refused(classroom):
    session = classroom.session
    lesson = maths_monday(classroom)
    session.add(TermLock(term_id=lesson.term_id, function=DELETE_LESSON_DATES, mode="locked"))
    session.flush()
    with pytest.raises(ServiceError, match="Deleting lesson dates is locked for this term"):
        services.delete_lesson(session, classroom.account("admin"), classroom.school, lesson, TODAY)
    # After the automatic window closed (the term ended on 31 January) too.
    session.execute(TermLock.__table__.delete())
    with pytest.raises(ServiceError, match="closed on"):
        services.delete_lesson(
            session, classroom.account("teacher"), classroom.school, lesson, date(2027, 3, 1)
        )
    assert count(session, Lesson) == 5


def test_only_the_groups_teacher_or_admin_deletes(classroom):
    session = classroom.session
    lesson = maths_monday(classroom)
    services.assign_substitute(
        session, classroom.account("admin"), classroom.school, lesson,
        teacher_id=str(classroom.other_teacher.id),
    )  # fmt: skip
    for who in ("other_teacher", "director"):
        with pytest.raises(PermissionDenied):
            services.delete_lesson(session, classroom.account(who), classroom.school, lesson, TODAY)
    assert count(session, Lesson) == 5


# --- the group and subject rules (known gaps closed) ------------------------------------------


def test_a_group_with_lessons_or_grades_cannot_be_deleted(classroom):
    from school.classes.models import Group
    from school.classes.services import delete_group

    session = classroom.session
    generate(classroom)
    with pytest.raises(ServiceError, match="has 3 lessons in the gradebook"):
        delete_group(session, classroom.maths)
    session.add(
        Grade(
            student_id=classroom.students[0].id, group_id=classroom.english.id,
            on_day=MONDAY, term_id=classroom.terms[0].id, value="8",
            created_by=classroom.account("admin").id,
        )
    )  # fmt: skip
    session.execute(Lesson.__table__.delete().where(Lesson.group_id == classroom.english.id))
    session.flush()
    with pytest.raises(ServiceError, match="has 1 grade in the gradebook"):
        delete_group(session, classroom.english)
    assert count(session, Group) == 2


def test_group_delete_page_shows_the_refusal(client, classroom, world):
    generate(classroom)
    classroom.session.commit()
    login(client, "admin.a")
    group_id = classroom.maths.id
    response = post_form(
        client, f"/s/school-a/groups/{group_id}/delete", {},
        form_page=f"/s/school-a/groups/{group_id}/delete", follow_redirects=True,
    )  # fmt: skip
    assert "has 3 lessons in the gradebook and cannot be deleted" in response.get_data(as_text=True)
    bind_to_school(classroom.session, world.school_a)
    assert classroom.session.get(type(classroom.maths), group_id) is not None


def test_a_subjects_scale_cannot_change_once_graded(classroom):
    from school.curriculum.models import GradeScale
    from school.curriculum.services import update_subject

    session = classroom.session
    subject = classroom.maths.subject
    other = session.scalar(
        select(GradeScale).where(GradeScale.id != subject.scale_id, GradeScale.is_active)
    )
    names = {"lt": subject.name}
    session.add(
        Grade(
            student_id=classroom.students[0].id, group_id=classroom.maths.id, on_day=MONDAY,
            term_id=classroom.terms[0].id, value="8", created_by=classroom.account("admin").id,
        )
    )  # fmt: skip
    session.flush()
    with pytest.raises(ServiceError, match="already has 1 grade") as error:
        update_subject(session, subject, school_locale="lt", code=subject.code, names=names,
                       scale_id=str(other.id))  # fmt: skip
    assert error.value.field == "scale"
    session.refresh(subject)
    assert subject.scale_id != other.id
    # Renaming keeps the scale and is allowed.
    update_subject(session, subject, school_locale="lt", code=subject.code,
                   names={"lt": "Matematika 5"}, scale_id=str(subject.scale_id))  # fmt: skip
    assert subject.name == "Matematika 5"
    # The English subject has no grades: its scale may change.
    english = classroom.english.subject
    update_subject(session, english, school_locale="lt", code=english.code,
                   names={"lt": english.name}, scale_id=str(other.id))  # fmt: skip
    assert english.scale_id == other.id


# --- pages ------------------------------------------------------------------------------------


def switch_to(client, login_name: str) -> None:
    """Log out and in as someone else."""
    client.post("/logout", data={"csrf_token": csrf_token(client, "/s/school-a/")})
    login(client, login_name)


def test_my_lessons_page_generates_the_day_and_links(client, classroom, world, count_queries):
    classroom.session.commit()
    login(client, "teacher.a")
    home = client.get("/s/school-a/").get_data(as_text=True)
    assert "My lessons" in home
    page = client.get(f"/s/school-a/lessons/mine?day={MONDAY.isoformat()}")
    assert page.status_code == 200
    bind_to_school(classroom.session, world.school_a)
    lesson = classroom.session.scalar(select(Lesson).where(Lesson.on_day == MONDAY))
    assert lesson is not None and lesson.group_id == classroom.maths.id
    text = page.get_data(as_text=True)
    assert f"/s/school-a/lessons/{lesson.id}" in text
    assert f"/s/school-a/journal/{classroom.maths.id}?month=2026-09" in text
    # the attendance sheet is reached from the day, from the lesson, and leads back to it
    sheet = f"/s/school-a/lessons/{lesson.id}/attendance"
    assert sheet in text
    assert sheet in client.get(f"/s/school-a/lessons/{lesson.id}").get_data(as_text=True)
    assert f'href="/s/school-a/lessons/{lesson.id}"' in client.get(sheet).get_data(as_text=True)
    with count_queries() as queries:
        assert client.get(f"/s/school-a/lessons/mine?day={MONDAY.isoformat()}").status_code == 200
    assert len(queries) <= 9, "\n\n".join(queries)
    bad = client.get("/s/school-a/lessons/mine?day=yesterday", follow_redirects=True)
    assert "is not a date" in bad.get_data(as_text=True)


def test_lesson_page_saving_topic_and_permissions(client, classroom, world):
    lesson = maths_monday(classroom)
    lesson_id = lesson.id
    classroom.session.commit()
    url = f"/s/school-a/lessons/{lesson_id}"
    login(client, "teacher.a")
    page = client.get(url)
    assert page.status_code == 200 and 'name="topic"' in page.get_data(as_text=True)
    response = post_form(
        client, url, {"topic": "Trupmenos", "objectives": "Sudėti", "classwork": "", "notes": ""}
    )
    assert response.status_code == 302
    too_long = post_form(client, url, {"topic": "x" * 301, "classwork": "", "notes": ""})
    assert too_long.status_code == 400
    assert "At most 300 characters" in too_long.get_data(as_text=True)
    assert marked_invalid(too_long.get_data(as_text=True), "topic", "topic")
    assert not marked_invalid(too_long.get_data(as_text=True), "classwork", "classwork")
    bind_to_school(classroom.session, world.school_a)
    classroom.session.refresh(lesson)
    assert (lesson.topic, lesson.objectives) == ("Trupmenos", "Sudėti")

    switch_to(client, "teacher2.a")
    assert client.get(url).status_code == 403
    response = post_form(
        client, url, {"topic": "Kita", "classwork": "", "notes": ""}, form_page="/s/school-a/"
    )
    assert response.status_code == 403
    bind_to_school(classroom.session, world.school_a)
    classroom.session.refresh(lesson)
    assert lesson.topic == "Trupmenos"

    switch_to(client, "head.a")  # the class head reads, without the form
    page = client.get(url).get_data(as_text=True)
    assert "Trupmenos" in page and 'name="topic"' not in page


def test_several_large_homework_files_in_one_request(client, classroom, world):
    """Three files of 4 MB at once (12 MB, over the 8 MB every other form may send) are taken;
    a lesson's plain form still stops at 8 MB."""
    from io import BytesIO

    lesson = maths_monday(classroom)
    classroom.session.commit()
    login(client, "teacher.a")
    page = f"/s/school-a/lessons/{lesson.id}"
    big = PDF + b"0" * (4 * 1024 * 1024)
    files = [(BytesIO(big), f"skyrius {n}.pdf") for n in (1, 2, 3)]
    response = post_form(
        client, f"{page}/homework",
        {"homework_text": "Skaityti", "due_on": "2026-09-09", "files": files},
        form_page=page, content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 302
    bind_to_school(classroom.session, world.school_a)
    sizes = classroom.session.scalars(
        select(func.length(HomeworkFile.content)).order_by(HomeworkFile.file_name)
    ).all()
    assert sizes == [len(big)] * 3
    too_much = post_form(
        client, page,
        {"topic": "x" * (9 * 1024 * 1024), "classwork": "", "notes": ""},
        form_page=page,
    )  # fmt: skip
    assert too_much.status_code == 413
    assert "too large" in too_much.get_data(as_text=True)


def test_homework_upload_download_and_errors_on_the_page(client, classroom, world):
    lesson = maths_monday(classroom)
    classroom.session.commit()
    url = f"/s/school-a/lessons/{lesson.id}/homework"
    login(client, "teacher.a")
    token_page = f"/s/school-a/lessons/{lesson.id}"
    from io import BytesIO

    response = post_form(
        client, url,
        {"homework_text": "Pratimai", "due_on": "2026-09-09",
         "files": [(BytesIO(PDF), "užduotis 1.pdf"), (BytesIO(PNG), "b.png")]},
        form_page=token_page, content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 302
    bad = post_form(
        client, url,
        {"homework_text": "Pratimai", "due_on": "2026-09-01",
         "files": [(BytesIO(b"MZ"), "programa.exe")]},
        form_page=token_page, content_type="multipart/form-data",
    )  # fmt: skip
    assert bad.status_code == 400
    assert "cannot be due before the lesson" in bad.get_data(as_text=True)
    forbidden = post_form(
        client, url,
        {"homework_text": "Pratimai", "due_on": "", "files": [(BytesIO(b"MZ"), "programa.exe")]},
        form_page=token_page, content_type="multipart/form-data",
    )  # fmt: skip
    assert "cannot be attached" in forbidden.get_data(as_text=True)
    bind_to_school(classroom.session, world.school_a)
    assert count(classroom.session, HomeworkFile) == 2
    assert homework_events(classroom.session) == 1
    file_id = classroom.session.scalar(
        select(HomeworkFile.id).where(HomeworkFile.file_name == "užduotis 1.pdf")
    )
    download = client.get(f"/s/school-a/lessons/files/{file_id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"uzduotis 1.pdf\"; filename*=UTF-8''u%C5%BEduotis%201.pdf"
    )
    # The guardian of a student of the group downloads it too (the diary links here).
    switch_to(client, "guardian.both")
    assert client.get(f"/s/school-a/lessons/files/{file_id}").status_code == 200
    assert client.get(f"/s/school-a/lessons/{lesson.id}").status_code == 403
    switch_to(client, "teacher2.a")
    assert client.get(f"/s/school-a/lessons/files/{file_id}").status_code == 403


def test_ad_hoc_lesson_form_and_duplicate_message(client, classroom, world):
    classroom.session.commit()
    login(client, "teacher.a")
    form = {"group": str(classroom.maths.id), "on_day": "2026-09-08", "lesson_no": "6"}
    page = "/s/school-a/lessons/mine?day=2026-09-08"
    response = post_form(client, "/s/school-a/lessons/add", form, form_page=page)
    assert response.status_code == 302
    again = post_form(client, "/s/school-a/lessons/add", form, form_page=page)
    assert again.status_code == 400
    assert "The group already has lesson 6 on Sep 8, 2026." in again.get_data(as_text=True)
    weekend = post_form(
        client, "/s/school-a/lessons/add", form | {"on_day": "2026-09-13"}, form_page=page
    )
    assert "is not a school day" in weekend.get_data(as_text=True)
    bind_to_school(classroom.session, world.school_a)
    assert (
        classroom.session.scalar(
            select(func.count()).select_from(Lesson).where(Lesson.source == "ad_hoc")
        )
        == 1
    )


def test_substitute_and_delete_on_the_page(client, classroom, world):
    lesson = maths_monday(classroom)
    lesson_id = lesson.id
    classroom.session.commit()
    url = f"/s/school-a/lessons/{lesson_id}"
    login(client, "admin.a")
    page = client.get(url).get_data(as_text=True)
    assert "Jonas Anglas" in page  # offered as a substitute
    response = post_form(client, f"{url}/substitute", {"teacher": str(classroom.other_teacher.id)},
                         form_page=url)  # fmt: skip
    assert response.status_code == 302
    switch_to(client, "teacher2.a")
    mine = client.get(f"/s/school-a/lessons/mine?day={MONDAY.isoformat()}").get_data(as_text=True)
    assert (
        f"/s/school-a/lessons/{lesson_id}" in mine and "Substituting for: Tomas Mokytojas" in mine
    )
    assert client.get(url).status_code == 200
    assert post_form(client, f"{url}/delete", {}, form_page=url).status_code == 403
    switch_to(client, "admin.a")
    bind_to_school(classroom.session, world.school_a)
    classroom.session.add(
        TermLock(term_id=lesson.term_id, function=DELETE_LESSON_DATES, mode="locked")
    )
    classroom.session.commit()
    locked = post_form(client, f"{url}/delete", {}, form_page=url)
    assert locked.status_code == 400
    assert "Deleting lesson dates is locked for this term" in locked.get_data(as_text=True)
    bind_to_school(classroom.session, world.school_a)
    assert classroom.session.get(Lesson, lesson_id) is not None


def test_another_schools_lesson_is_not_found(client, classroom):
    lesson = maths_monday(classroom)
    classroom.session.commit()
    login(client, "guardian.both")  # a member of school B too
    assert client.get(f"/s/school-b/lessons/{lesson.id}").status_code == 404
    switch_to(client, "teacher.a")
    assert client.get("/s/school-a/lessons/999999").status_code == 404


def test_lesson_page_queries_do_not_grow_with_files(client, classroom, world, count_queries):
    lesson = maths_monday(classroom)
    services.save_homework(
        classroom.session, classroom.account("teacher"), classroom.school, lesson,
        text="Skaityti", due_on="", uploads=[Upload("a.pdf", PDF)],
    )  # fmt: skip
    classroom.session.commit()
    url = f"/s/school-a/lessons/{lesson.id}"
    login(client, "admin.a")
    with count_queries() as one_file:
        assert client.get(url).status_code == 200
    bind_to_school(classroom.session, world.school_a)
    services.save_homework(
        classroom.session, classroom.account("teacher"), classroom.school,
        services.get_lesson(classroom.session, lesson.id), text="Skaityti", due_on="",
        uploads=[Upload(f"{n}.pdf", PDF) for n in range(4)],
    )  # fmt: skip
    classroom.session.commit()
    with count_queries() as five_files:
        page = client.get(url)
    assert page.get_data(as_text=True).count("/s/school-a/lessons/files/") == 5
    assert len(one_file) == len(five_files) <= 12, "\n\n".join(five_files)


def test_my_lessons_list_the_past_lessons_left_unfinished(client, classroom, school_day):
    """The teacher's to-do: their held lessons of the last 30 days with no topic or no
    attendance taken, newest first; not one a substitute held (that is the substitute's), not
    today's, not older. Saving the lesson's attendance sheet takes the roll even when nobody
    is absent."""
    c = classroom
    generate(c)  # maths Mon 1st, Wed 2nd, Fri 3rd; English Tue, Thu
    maths = {
        lesson.on_day: lesson
        for lesson in c.session.scalars(select(Lesson).where(Lesson.group_id == c.maths.id))
    }
    wednesday, friday = MONDAY + timedelta(days=2), MONDAY + timedelta(days=4)
    maths[wednesday].topic = "Trupmenos"
    maths[MONDAY].topic = "Skaičiai"
    services.assign_substitute(c.session, c.account("admin"), c.school, maths[friday],
                               teacher_id=c.other_teacher.id)  # fmt: skip
    old = Lesson(group_id=c.maths.id, on_day=MONDAY - timedelta(days=3), lesson_no=1,
                 term_id=c.terms[0].id)  # fmt: skip
    c.session.add(old)
    c.session.flush()
    today = MONDAY + timedelta(days=30)  # the old lesson is 33 days back
    school_day(today)
    # Wednesday's roll: everyone present, the sheet saved as it is
    attendance.mark_lesson(c.session, c.account("teacher"), c.school, maths[wednesday],
                           {s.id: None for s in c.students}, today=today)  # fmt: skip
    ids = {"monday": maths[MONDAY].id, "friday": maths[friday].id}
    mine = services.unfinished_lessons(c.session, c.account("teacher"), today)
    assert [(x.lesson.id, x.no_topic, x.no_roll) for x in mine] == [(ids["monday"], False, True)]
    english = [
        lesson.id
        for lesson in c.session.scalars(
            select(Lesson).where(Lesson.group_id == c.english.id).order_by(Lesson.on_day.desc())
        )
    ]
    # the substitute's maths lesson (not the group's teacher's), then their own English ones
    assert [
        x.lesson.id
        for x in services.unfinished_lessons(c.session, c.account("other_teacher"), today)
    ] == [ids["friday"], *english]
    c.session.commit()
    login(client, "teacher.a")
    page = client.get(f"/s/school-a/lessons/mine?day={today.isoformat()}").get_data(as_text=True)
    todo = page.split("Lessons to complete")[1].split("</section>")[0]
    assert f"/s/school-a/lessons/{ids['monday']}" in todo
    assert f"/s/school-a/lessons/{ids['friday']}" not in todo
    assert "Monday, September 7, 2026, lesson 1: 5a matematika" in todo
    # the tag opens the lesson's attendance sheet
    assert f'href="/s/school-a/lessons/{ids["monday"]}/attendance">no attendance taken</a>' in todo
    assert ">no topic</span>" not in todo


def test_two_teachers_of_one_name_are_told_apart_in_the_substitute_list(client, classroom):
    from accounts.models import Role
    from classroom import _person, new_account

    c = classroom
    lesson = maths_monday(c)
    namesake = new_account(c.session, c.school, "jonas.anglas2", "Jonas Anglas", Role.TEACHER)
    twin = _person(c.session, "Jonas", "Anglas", namesake)
    lesson_id, first_id, twin_id = lesson.id, c.other_teacher.id, twin.id
    c.session.commit()
    login(client, "admin.a")
    page = client.get(f"/s/school-a/lessons/{lesson_id}").get_data(as_text=True)
    assert f"Jonas Anglas (no. {first_id})" in page and f"Jonas Anglas (no. {twin_id})" in page
