"""The student's and guardian's diary: the week (lessons, homework, grades, attendance,
timetable for days without lessons), tests, remarks, latest grades, the term summary; who may
read it; the query budget; a guardian's children in two schools; the kept page.

Gradebook rows are inserted directly through the models (the services that write them are
tested on their own).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import redis
from flask_babel import gettext
from sqlalchemy import create_engine, select, text

from accounts.models import Role
from classroom import MONDAY, Classroom, new_account
from conftest import login
from dienynas import clock
from dienynas.cli import cli
from dienynas.database import SchoolModel
from dienynas.errors import NotFound, PermissionDenied
from dienynas.i18n import in_locale
from gradebook.access import diary_student_ids, require_diary_reader
from gradebook.attendance.models import Attendance, Excuse
from gradebook.attendance.services import MARK_LABELS
from gradebook.diary import cache, services
from gradebook.diary.models import REVISION_SQL, UNRELATED_TABLES
from gradebook.grades.models import Grade, TermGrade
from gradebook.lessons.models import Homework, HomeworkFile, Lesson
from gradebook.planning.models import PlannedTest
from gradebook.remarks.models import Remark
from gradebook.settings.models import GradebookSettings
from school.calendar.models import SchoolYear
from school.calendar.services import set_terms
from school.classes.models import Group, GroupStudent, SchoolClass
from school.curriculum.models import AssessmentKind, GradeScale, Subject
from school.people.models import Guardianship, Person, Student
from tenants.binding import bind_connection
from tenants.services import bind_to_school, binding_for

TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = (MONDAY + timedelta(days=n) for n in range(1, 5))
BASE = "/s/school-a/diary"


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


def kind(session, code: str) -> AssessmentKind:
    return session.scalar(select(AssessmentKind).where(AssessmentKind.code == code))


def lesson(c: Classroom, group: Group, day: date, no: int, topic: str | None = None) -> Lesson:
    row = Lesson(
        group_id=group.id, on_day=day, lesson_no=no, term_id=c.terms[0].id, topic=topic,
        teacher_id=c.teacher.id, source="timetable",
    )  # fmt: skip
    c.session.add(row)
    c.session.flush()
    return row


def grade(c: Classroom, student: Person, group: Group, day: date, value: str, **extra) -> Grade:
    row = Grade(
        student_id=student.id, group_id=group.id, on_day=day, term_id=c.terms[0].id,
        value=value, created_by=c.account("teacher").id, **extra,
    )  # fmt: skip
    c.session.add(row)
    c.session.flush()
    return row


@pytest.fixture
def week(classroom: Classroom):
    """School A's first full week: maths on Monday with homework (a file), a grade and the
    class's attendance; English on Tuesday with an excused absence; nothing on Wednesday to
    Friday yet (the timetable shows); a test on Wednesday, a remark on Thursday."""
    c = classroom
    agne = c.students[0]
    monday = lesson(c, c.maths, MONDAY, 1, "Fractions")
    homework = Homework(lesson_id=monday.id, text="Exercises 1–5", due_on=WEDNESDAY)
    c.session.add(homework)
    c.session.flush()
    c.session.add(
        HomeworkFile(homework_id=homework.id, file_name="fractions.pdf",
                     content_type="application/pdf", size=4, content=b"%PDF")
    )  # fmt: skip
    grade(c, agne, c.maths, MONDAY, "9", lesson_id=monday.id,
          kind_id=kind(c.session, "test").id, comment="Well done")  # fmt: skip
    grade(c, c.students[1], c.maths, MONDAY, "4", lesson_id=monday.id)
    tuesday = lesson(c, c.english, TUESDAY, 1, "Present simple")
    excuse = Excuse(
        student_id=agne.id, from_day=TUESDAY, to_day=TUESDAY, reason="illness",
        source="guardian", status="approved", school_days=1,
        submitted_by=c.account("guardian").id,
    )  # fmt: skip
    c.session.add(excuse)
    c.session.flush()
    c.session.add_all(
        [
            Attendance(lesson_id=tuesday.id, student_id=agne.id, mark="absent",
                       excuse_id=excuse.id, marked_by=c.account("other_teacher").id),
            Attendance(lesson_id=monday.id, student_id=c.students[1].id, mark="late",
                       marked_by=c.account("teacher").id),
            PlannedTest(group_id=c.maths.id, on_day=WEDNESDAY, lesson_no=2,
                        kind_id=kind(c.session, "test").id, topic="Fractions test",
                        announced_by=c.account("teacher").id),
            Remark(student_id=agne.id, group_id=c.english.id, kind="praise",
                   text="Helped a classmate", on_day=THURSDAY,
                   written_by=c.account("other_teacher").id),
        ]
    )  # fmt: skip
    c.session.flush()
    return c


def test_the_week_of_a_student(week):
    agne = week.students[0]
    diary = services.diary_week(week.session, [agne.id], WEDNESDAY, "en")
    assert diary.monday == MONDAY and diary.days == [MONDAY + timedelta(n) for n in range(5)]
    (student,) = diary.students
    assert (student.full_name, student.class_name) == ("Agnė Ambrazaitė", "5a")
    monday, tuesday, wednesday = student.days[:3]

    (maths,) = monday.lessons
    assert (maths.lesson_no, maths.subject, maths.topic) == (1, "Mathematics", "Fractions")
    assert (maths.starts_at, maths.ends_at) == (time(8, 0), time(8, 45))
    assert maths.homework.text == "Exercises 1–5" and maths.homework.due_on == WEDNESDAY
    assert [f.file_name for f in maths.homework.files] == ["fractions.pdf"]
    # only the student's own grade, with its kind and comment; a classmate's is not there
    assert [(g.value, g.kind, g.comment) for g in maths.grades] == [("9", "Test", "Well done")]
    assert maths.attendance is None  # a classmate was late, not Agnė

    (english,) = tuesday.lessons
    assert english.subject == "English"
    assert (english.attendance.mark, english.attendance.excused) == ("absent", True)

    # no lessons on Wednesday yet: the timetable's slot (maths, 2nd lesson)
    assert wednesday.lessons == [] and wednesday.school_day
    assert [(s.lesson_no, s.subject, s.starts_at) for s in wednesday.slots] == [
        (2, "Mathematics", time(8, 55))
    ]
    assert [(t.on_day, t.subject, t.topic, t.kind) for t in student.tests] == [
        (WEDNESDAY, "Mathematics", "Fractions test", "Test")
    ]
    assert [(r.on_day, r.kind, r.subject, r.text) for r in student.remarks] == [
        (THURSDAY, "praise", "English", "Helped a classmate")
    ]
    assert [g.value for g in student.latest_grades] == ["9"]
    assert student.absences == [(TUESDAY, english)]


def test_subject_names_and_kinds_in_the_readers_language(week):
    agne = week.students[0]
    (student,) = services.diary_week(week.session, [agne.id], MONDAY, "ru").students
    maths = student.days[0].lessons[0]
    assert maths.subject == "Математика"
    assert maths.grades[0].kind == "Контрольная работа"
    # no Russian name for English: the school's own name
    assert student.days[1].lessons[0].subject == "Anglų kalba"


def test_timetable_history_decides_the_slots(classroom):
    """A timetable entry that ended (valid_to) shows until that day, not after."""
    from school.timetable.models import TimetableEntry

    c = classroom
    entry = c.session.scalar(
        select(TimetableEntry).where(
            TimetableEntry.group_id == c.english.id, TimetableEntry.weekday == 4
        )
    )
    entry.valid_to = WEDNESDAY
    c.session.add(
        TimetableEntry(group_id=c.english.id, weekday=4, lesson_no=5, valid_from=THURSDAY)
    )
    c.session.flush()
    (student,) = services.diary_week(c.session, [c.students[0].id], MONDAY, "en").students
    assert [(s.lesson_no, s.subject) for s in student.days[3].slots] == [(5, "English")]


def test_holidays_weekends_and_six_day_weeks(classroom):
    c = classroom
    autumn = date(2026, 10, 26)
    diary = services.diary_week(c.session, [c.students[0].id], autumn, "en")
    days = diary.students[0].days
    assert all(d.holiday == "Rudens atostogos" and not d.school_day and not d.slots for d in days)

    c.session.add(GradebookSettings(id=1, saturday_lessons=True))
    c.session.flush()
    diary = services.diary_week(c.session, [c.students[0].id], MONDAY, "en")
    assert diary.days[-1] == MONDAY + timedelta(days=5)


def test_term_summary_mean_and_confirmed_term_grade(classroom):
    c = classroom
    agne = c.students[0]
    for day, value in ((MONDAY, "9"), (WEDNESDAY, "8"), (FRIDAY, "8")):
        grade(c, agne, c.maths, day, value)
    # a grade of the second term does not count in the first
    c.session.add(
        Grade(student_id=agne.id, group_id=c.maths.id, on_day=date(2027, 2, 3),
              term_id=c.terms[1].id, value="2", created_by=c.account("teacher").id)
    )  # fmt: skip
    c.session.add_all(
        [
            TermGrade(student_id=agne.id, group_id=c.maths.id, year_id=c.year.id,
                      term_id=c.terms[0].id, suggested="8", value="8",
                      confirmed_by=c.account("teacher").id, confirmed_at=datetime.now(UTC)),
            # suggested only, not confirmed: not shown
            TermGrade(student_id=agne.id, group_id=c.english.id, year_id=c.year.id,
                      term_id=c.terms[0].id, suggested="7"),
        ]
    )  # fmt: skip
    c.session.flush()
    (en,) = services.diary_week(c.session, [agne.id], MONDAY, "en").students
    assert en.term == "Semester 1"
    summary = {row.subject: row for row in en.term_summary}
    maths = summary["Mathematics"]
    assert (maths.grades_count, maths.mean, maths.mean_text) == (3, Decimal("8.33"), "8.33")
    assert maths.term_grade == "8"
    english = summary["English"]
    assert (english.grades_count, english.mean_text, english.term_grade) == (0, "", None)
    (lt,) = services.diary_week(c.session, [agne.id], MONDAY, "lt").students
    assert {row.subject: row.mean_text for row in lt.term_summary}["Matematika"] == "8,33"
    # the latest grades: newest first, at most ten
    for n in range(12):
        grade(c, agne, c.english, MONDAY + timedelta(days=7 + n), "7")
    (en,) = services.diary_week(c.session, [agne.id], MONDAY, "en").students
    assert len(en.latest_grades) == services.LATEST_GRADES
    assert en.latest_grades[0].on_day == date(2027, 2, 3)


def test_pass_fail_grades_are_shown_in_the_readers_language(classroom):
    c = classroom
    scale = c.session.scalar(select(GradeScale).where(GradeScale.code == "pass_fail"))
    subject = Subject(code="DOR", name="Dorinis ugdymas", scale_id=scale.id,
                      name_translations={"en": "Ethics"})  # fmt: skip
    c.session.add(subject)
    c.session.flush()
    ethics = Group(year_id=c.year.id, subject_id=subject.id, name="5a dorinis", kind="class",
                   class_id=c.c5a.id)  # fmt: skip
    c.session.add(ethics)
    c.session.flush()
    c.session.add(GroupStudent(group_id=ethics.id, student_id=c.students[0].id))
    grade(c, c.students[0], ethics, MONDAY, "passed")
    (student,) = services.diary_week(c.session, [c.students[0].id], MONDAY, "en").students
    assert [(g.value, g.label) for g in student.days[0].other_grades] == [("passed", "passed")]
    ethics_row = next(r for r in student.term_summary if r.subject == "Ethics")
    assert (ethics_row.grades_count, ethics_row.mean) == (1, None)


# --- who reads whom ---------------------------------------------------------------------------


def test_diary_students_follows_the_access_rules(classroom, world):
    """The one-query check gives the answers of gradebook.access for every kind of reader."""
    c = classroom
    school = world.school_a
    readers = ["guardian", "student", "head", "director", "admin", "teacher", "other_teacher"]
    for key in readers:
        account = c.account(key)
        own = services.diary_students(c.session, account, school).own
        assert sorted(s.id for s in own) == diary_student_ids(c.session, account), key
        for student in (c.students[0], c.students[1], c.outsider):
            try:
                require_diary_reader(c.session, account, school, student.id)
                expected = True
            except PermissionDenied:
                expected = False
            try:
                services.diary_students(c.session, account, school, student.id)
                allowed = True
            except PermissionDenied:
                allowed = False
            assert allowed == expected, (key, student.first_name)
    with pytest.raises(NotFound):
        services.diary_students(c.session, c.account("guardian"), school, c.teacher.id)


# --- the page ---------------------------------------------------------------------------------


def test_guardian_reads_the_week(client, week):
    week.session.commit()
    login(client, "guardian.both")
    response = client.get(f"{BASE}?week={WEDNESDAY.isoformat()}")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    # the guardian reads Polish: weekday names, subjects without a Polish name in Lithuanian
    assert "poniedziałek" in page and "7 września 2026" in page
    assert "Matematika" in page and "Fractions" in page and "Exercises 1–5" in page
    assert "fractions.pdf" in page and "Well done" in page and "Helped a classmate" in page
    assert "Fractions test" in page
    assert f"week={(MONDAY - timedelta(days=7)).isoformat()}" in page
    assert f"week={(MONDAY + timedelta(days=7)).isoformat()}" in page


def test_student_reads_own_diary_and_the_menu_shows_it(client, week):
    week.session.commit()
    login(client, "student.a")
    home = client.get("/s/school-a/").get_data(as_text=True)
    assert BASE in home
    response = client.get(f"{BASE}?week={MONDAY.isoformat()}")
    assert response.status_code == 200
    assert "Agnė Ambrazaitė" in html.unescape(response.get_data(as_text=True))


def test_class_head_opens_a_students_diary_teacher_does_not(app, client, week):
    agne = week.students[0].id
    week.session.commit()
    login(client, "head.a")
    assert client.get(f"{BASE}?student={agne}&week={MONDAY.isoformat()}").status_code == 200
    client = app.test_client()
    login(client, "teacher2.a")
    response = client.get(f"{BASE}?student={agne}")
    assert response.status_code == 403
    assert "You do not have access to this student's diary." in html.unescape(
        response.get_data(as_text=True)
    )


def test_a_lessons_cells_name_their_columns_for_a_phone(app, client, week):
    """On a narrow screen a day's rows stack (the table's class "stack"); each cell shows the
    name of its column, in the reader's language, from its data-label."""
    agne = week.students[0].id
    week.session.commit()
    columns = {}
    for who, path in (("head.a", f"{BASE}?student={agne}&week={MONDAY.isoformat()}"),
                      ("guardian.both", f"{BASE}?week={MONDAY.isoformat()}")):  # fmt: skip
        reader = app.test_client()
        login(reader, who)
        page = html.unescape(reader.get(path).get_data(as_text=True))
        day = page[page.index("diary-day") : page.index("</table>")]
        assert '<table class="stack">' in day
        columns[who] = re.findall(r"<th>([^<]+)</th>", day)
        monday = day[day.index("<tbody>") :]
        cells = dict(re.findall(r'<td data-label="([^"]+)"[^>]*>([^<]*)', monday))
        assert list(cells) == columns[who], who
        assert cells[columns[who][2]] == "Fractions" and cells[columns[who][3]] == "Exercises 1–5"
    english = ["Lesson", "Subject", "Topic", "Homework", "Grades", "Attendance"]
    assert columns["head.a"] == english and columns["guardian.both"] != english  # Polish


def test_guardian_asking_for_another_child_is_refused(client, week):
    other, outsider = week.students[1].id, week.outsider.id
    week.session.commit()
    login(client, "guardian.both")
    assert client.get(f"{BASE}?student={other}").status_code == 403
    assert client.get(f"{BASE}?student={outsider}").status_code == 403
    assert client.get(f"{BASE}?student=999999").status_code == 404
    assert client.get(f"{BASE}?student=abc").status_code == 404


def test_guardian_of_two_switches_between_them(client, classroom):
    c = classroom
    c.session.add(Guardianship(guardian_id=c.guardian.id, student_id=c.students[2].id))
    first, second = c.students[0].id, c.students[2].id
    c.session.commit()
    login(client, "guardian.both")
    with in_locale("pl"):  # the guardian's language
        shown = {
            n: gettext("Student: %(name)s", name=n) for n in ("Agnė Ambrazaitė", "Cezaris Čepas")
        }
    page = html.unescape(client.get(BASE).get_data(as_text=True))
    # both in the switcher; the first by name is shown
    assert f"student={first}&week" in page and f"student={second}&week" in page
    assert shown["Agnė Ambrazaitė"] in page and shown["Cezaris Čepas"] not in page
    page = html.unescape(client.get(f"{BASE}?student={second}").get_data(as_text=True))
    assert shown["Cezaris Čepas"] in page


def test_bad_week_is_a_clear_400(client, week):
    week.session.commit()
    login(client, "guardian.both")
    response = client.get(f"{BASE}?week=2026-13-45")
    assert response.status_code == 400
    assert "2026-13-45" in html.unescape(response.get_data(as_text=True))
    # the far past and future are refused before dates overflow
    for far in ("0001-01-01", "9999-12-31"):
        assert client.get(f"{BASE}?week={far}").status_code == 400


def test_homework_file_for_the_child_not_for_outsiders(app, client, week, world):
    file_id = week.session.scalar(select(HomeworkFile.id))
    outsider_account = new_account(
        week.session, world.school_a, "outsider.a", "Ignas Išorinis", Role.STUDENT
    )
    week.outsider.account_id = outsider_account.id
    week.session.commit()
    login(client, "guardian.both")
    page = client.get(f"{BASE}?week={MONDAY.isoformat()}").get_data(as_text=True)
    assert f"/s/school-a/lessons/files/{file_id}" in page
    response = client.get(f"/s/school-a/lessons/files/{file_id}")
    assert response.status_code == 200 and response.data == b"%PDF"
    assert "fractions.pdf" in response.headers["Content-Disposition"]
    client = app.test_client()
    login(client, "outsider.a")
    assert client.get(f"/s/school-a/lessons/files/{file_id}").status_code == 403
    assert client.get("/s/school-a/lessons/files/999999").status_code == 404


# --- query budget -----------------------------------------------------------------------------


def _more_students(c: Classroom, count: int) -> list[Person]:
    people = []
    for n in range(count):
        person = Person(first_name="Extra", last_name=f"Student{n:02d}", document_kind="other")
        c.session.add(person)
        c.session.flush()
        c.session.add(Student(person_id=person.id, class_id=c.c5a.id))
        c.session.flush()
        c.session.add_all(
            GroupStudent(group_id=g.id, student_id=person.id) for g in (c.maths, c.english)
        )
        people.append(person)
    c.session.flush()
    return people


def _month_of_lessons(c: Classroom, students: list[Person]) -> None:
    """Four weeks of the timetable's lessons with homework, grades and absences for everyone."""
    for week_no in range(4):
        monday = MONDAY + timedelta(weeks=week_no)
        for group, offset, no in ((c.maths, 0, 1), (c.english, 1, 1), (c.maths, 2, 2),
                                  (c.english, 3, 2), (c.maths, 4, 3)):  # fmt: skip
            row = lesson(c, group, monday + timedelta(days=offset), no, "Topic")
            c.session.add(Homework(lesson_id=row.id, text="Read", due_on=row.on_day))
            for person in students:
                grade(c, person, group, row.on_day, "8", lesson_id=row.id)
                c.session.add(
                    Attendance(lesson_id=row.id, student_id=person.id, mark="late",
                               marked_by=c.account("teacher").id)
                )  # fmt: skip
    c.session.flush()


def _page_queries(client, count_queries, path: str) -> int:
    with count_queries() as queries:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return len(queries)


def test_page_queries_are_constant(client, classroom, world, count_queries):
    """1 child with 5 classmates and an empty week vs 2 children with 30 classmates and a month
    of lessons: the same number of queries, at most 8 with the school, binding and account."""
    c = classroom
    c.session.commit()
    login(client, "guardian.both")
    small = _page_queries(client, count_queries, f"{BASE}?week={MONDAY.isoformat()}")

    bind_to_school(c.session, world.school_a)
    extra = _more_students(c, 25)
    c.session.add(Guardianship(guardian_id=c.guardian.id, student_id=extra[0].id))
    _month_of_lessons(c, [*c.students, *extra])
    c.session.commit()
    big = _page_queries(client, count_queries, f"{BASE}?week={(MONDAY + timedelta(weeks=2))}")
    # the school with the binding and the account with its grants, who reads whom, the week
    # (with the statement that sets how PostgreSQL plans it, diary.services._PLAN_ONCE)
    assert small == big == 4


def test_the_week_statement_is_planned_once_per_connection(classroom):
    """PostgreSQL plans the week statement once (a generic plan) instead of for each student
    and week, and plans the statements after it as usual again."""
    c = classroom
    for n, student in enumerate(c.students * 2):  # psycopg prepares it at its 5th execution
        services.diary_week(c.session, [student.id], MONDAY + timedelta(weeks=n % 3), "en")
    generic, custom = c.session.execute(
        text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE '%WITH st AS%'"
        )
    ).one()
    assert generic >= 5 and custom == 0
    assert c.session.scalar(text("SELECT current_setting('plan_cache_mode')")) == "auto"


def test_service_queries_do_not_grow_with_children_and_days(classroom, count_queries):
    c = classroom
    with count_queries() as empty:
        services.diary_week(c.session, [c.students[0].id], MONDAY, "en")
    _month_of_lessons(c, c.students)
    with count_queries() as full:
        diary = services.diary_week(c.session, [s.id for s in c.students], MONDAY, "en")
    assert len(empty) == len(full) == 2  # the week, and how PostgreSQL plans it
    assert all(len(day.lessons) == 1 for s in diary.students for day in s.days)


# --- all schools ------------------------------------------------------------------------------


def child_in_school_b(db_session, world) -> int:
    """guardian.both's child Boris in school B (with a grade and an absence this week); his
    id. The session's objects of school A are let go first (ids repeat across schools)."""
    db_session.expunge_all()
    bind_to_school(db_session, world.school_b)
    year = db_session.scalar(select(SchoolYear))
    (term, _) = set_terms(db_session, year, "semester",
                          [(date(2026, 9, 1), date(2027, 1, 31)), (date(2027, 2, 1),
                                                                   date(2027, 6, 30))])  # fmt: skip
    scale = db_session.scalar(select(GradeScale).where(GradeScale.code == "ten_point"))
    subject = Subject(code="RUS", name="Русский язык", scale_id=scale.id)
    klass = SchoolClass(year_id=year.id, grade_level=3, letter="b")
    db_session.add_all([subject, klass])
    db_session.flush()
    group = Group(year_id=year.id, subject_id=subject.id, name="3b русский", kind="class",
                  class_id=klass.id)  # fmt: skip
    boris = Person(first_name="Boris", last_name="Borisov", document_kind="other")
    mother = Person(first_name="Irena", last_name="Globėja", document_kind="other",
                    account_id=world.guardian_both.id)  # fmt: skip
    db_session.add_all([group, boris, mother])
    db_session.flush()
    db_session.add(Student(person_id=boris.id, class_id=klass.id))
    db_session.flush()
    db_session.add(GroupStudent(group_id=group.id, student_id=boris.id))
    db_session.flush()
    db_session.add(Guardianship(guardian_id=mother.id, student_id=boris.id))
    monday = services.week_of(clock.today())
    row = Lesson(group_id=group.id, on_day=monday, lesson_no=2, term_id=term.id)
    db_session.add(row)
    db_session.flush()
    db_session.add_all(
        [
            Attendance(lesson_id=row.id, student_id=boris.id, mark="absent", marked_by=1),
            Grade(student_id=boris.id, group_id=group.id, on_day=monday, term_id=term.id,
                  value="10", lesson_id=row.id, created_by=1),
        ]
    )  # fmt: skip
    db_session.flush()
    return boris.id


def test_guardian_sees_children_in_both_schools(client, classroom, world, count_queries):
    grade(classroom, classroom.students[0], classroom.maths, MONDAY, "9")
    agne_id = classroom.students[0].id
    boris_id = child_in_school_b(classroom.session, world)
    classroom.session.commit()
    login(client, "guardian.both")
    with count_queries() as queries:
        response = client.get("/diary")
    page = html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))
    assert response.status_code == 200
    assert "Alpha progimnazija" in page and "Бета гимназия" in page
    assert "Agnė Ambrazaitė" in page and "Boris Borisov" in page
    assert "Русский язык: 10" in page  # Boris's latest grade
    assert "Matematika: 9" in page  # Agnė's (the guardian reads Polish: no Polish name)
    with in_locale("pl"):
        absent = str(MARK_LABELS["absent"])
    assert f"Русский язык: {absent}" in page  # Boris's absence this week
    links = response.get_data(as_text=True)
    assert f"/s/school-b/diary?student={boris_id}" in links
    assert f"/s/school-a/diary?student={agne_id}" in links
    # the account with its grants, then per school: binding, students, the week (two: it and
    # how PostgreSQL plans it)
    assert len(queries) == 1 + 2 * 4, len(queries)
    # the week page of school A links to this page
    assert "/diary" in client.get(BASE).get_data(as_text=True)


def test_all_schools_page_needs_login(client):
    response = client.get("/diary")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the kept page (gradebook/diary/cache.py) -------------------------------------------------
# Read again without the week's query; rendered again after any committed change a diary
# shows; never across readers, languages, schools or rolled-back changes; the page's forms carry
# the reader's own CSRF token; the page answers without Redis.

PAGE = f"{BASE}?week={WEDNESDAY.isoformat()}"


def without_tokens(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


def token(session) -> str:
    """The school's diary revision."""
    return session.scalar(text(f"SELECT {REVISION_SQL}"))


def read(client, count_queries, path: str = PAGE) -> tuple[str, int]:
    with count_queries() as queries:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True)), len(queries)


def add_grade(c, comment: str) -> None:
    c.session.add(
        Grade(
            student_id=c.students[0].id, group_id=c.maths.id, on_day=WEDNESDAY,
            term_id=c.terms[0].id, value="7", comment=comment,
            created_by=c.account("teacher").id,
        )
    )  # fmt: skip
    c.session.commit()


def test_every_school_table_is_watched_or_declared_unrelated(db_session, world):
    """A new school table must either carry the change trigger or be declared unrelated:
    otherwise a change there would leave parents reading an old week."""
    watched = set(
        db_session.scalars(
            text(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :schema AND t.tgname = 'diary_changed'"
            ),
            {"schema": world.school_a.schema_name},
        )
    )
    tables = set(SchoolModel.metadata.tables)
    assert tables >= UNRELATED_TABLES, UNRELATED_TABLES - tables
    assert watched == tables - UNRELATED_TABLES


def test_second_reading_is_served_without_the_weeks_query(client, week, count_queries):
    week.session.commit()
    login(client, "guardian.both")
    first, first_queries = read(client, count_queries)
    again, again_queries = read(client, count_queries)
    assert "Fractions" in first and "Well done" in first
    # the same page but for the forms' CSRF tokens (they carry the time)
    assert without_tokens(again) == without_tokens(first)
    assert again_queries == first_queries - 2 == 2


def test_a_committed_grade_shows_at_the_next_reading(client, week, count_queries, world):
    c = week
    c.session.commit()
    login(client, "guardian.both")
    before, _ = read(client, count_queries)
    assert "Fresh after dinner" not in before

    bind_to_school(c.session, world.school_a)
    old = token(c.session)
    add_grade(c, "Fresh after dinner")
    assert token(c.session) != old
    after, queries = read(client, count_queries)
    assert "Fresh after dinner" in after
    assert queries == 4  # rendered again: the week was read


def test_a_name_change_shows_too(client, week, count_queries, world):
    c = week
    c.session.commit()
    login(client, "guardian.both")
    read(client, count_queries)
    bind_to_school(c.session, world.school_a)
    c.students[0].first_name = "Agnieszka"
    c.session.commit()
    page, _ = read(client, count_queries)
    assert "Agnieszka" in page


def test_changes_no_diary_shows_keep_the_kept_week(client, week, count_queries, world):
    c = week
    c.session.commit()
    login(client, "guardian.both")
    read(client, count_queries)
    bind_to_school(c.session, world.school_a)
    old = token(c.session)
    c.session.execute(
        text("INSERT INTO message_threads (subject, started_by) VALUES ('Trip', :account)"),
        {"account": c.account("teacher").id},
    )
    c.session.commit()
    assert token(c.session) == old
    _page, queries = read(client, count_queries)
    assert queries == 2


def test_a_statement_that_changes_no_row_keeps_the_token(week, world):
    """The journal's lesson generation (INSERT … ON CONFLICT DO NOTHING) runs on every visit:
    when it adds nothing, the kept weeks stay."""
    c = week
    c.session.commit()
    bind_to_school(c.session, world.school_a)
    old = token(c.session)
    c.session.execute(text("UPDATE people SET first_name = 'X' WHERE false"))
    c.session.execute(
        text(
            "INSERT INTO lessons (group_id, on_day, lesson_no, term_id, source) "
            "SELECT group_id, on_day, lesson_no, term_id, source FROM lessons "
            "ON CONFLICT DO NOTHING"
        )
    )
    c.session.commit()
    assert token(c.session) == old


def test_a_rolled_back_change_keeps_the_token(week, world):
    c = week
    c.session.commit()
    bind_to_school(c.session, world.school_a)
    old = token(c.session)
    nested = c.session.begin_nested()
    c.session.add(
        Grade(
            student_id=c.students[0].id, group_id=c.maths.id, on_day=WEDNESDAY,
            term_id=c.terms[0].id, value="3", created_by=c.account("teacher").id,
        )
    )  # fmt: skip
    c.session.flush()
    nested.rollback()
    c.session.commit()
    assert token(c.session) == old


def test_writers_of_one_school_commit_without_waiting_for_each_other(engine_url, world):
    """Two transactions that changed the school's diary renew the revision before their commits
    without queueing for the same row (each takes a row the other does not hold)."""
    engine = create_engine(engine_url, pool_size=3, max_overflow=0)
    binding = binding_for(world.school_a)
    kinds = "assessment_kinds"
    change = f"UPDATE {kinds} SET name = name WHERE id = (SELECT {{}}(id) FROM {kinds})"
    recent = "SELECT count(*) FROM diary_revision WHERE changed_at > now() - interval '1 minute'"
    try:
        with engine.connect() as reader:
            with reader.begin():
                bind_connection(reader, binding)
                before = reader.scalar(text(f"SELECT {REVISION_SQL}"))
            with engine.connect() as first, engine.connect() as second:
                first_tx = first.begin()
                bind_connection(first, binding)
                assert first.execute(text(change.format("min"))).rowcount == 1
                first.execute(text("SELECT public.bump_diary_revision()"))  # holds its row
                second_tx = second.begin()
                bind_connection(second, binding)
                second.execute(text("SET LOCAL lock_timeout = '2s'"))  # a wait would fail
                assert second.execute(text(change.format("max"))).rowcount == 1
                second.execute(text("SELECT public.bump_diary_revision()"))
                second_tx.commit()
                first_tx.commit()
            with reader.begin():
                bind_connection(reader, binding)
                after = reader.scalar(text(f"SELECT {REVISION_SQL}"))
                changed = reader.scalar(text(recent))
    finally:
        engine.dispose()
    assert after != before
    assert changed >= 2


def test_a_change_in_one_school_keeps_the_other_schools_token(db_session, world):
    bind_to_school(db_session, world.school_a)
    token_a = token(db_session)
    db_session.commit()
    bind_to_school(db_session, world.school_b)
    db_session.execute(text("UPDATE people SET first_name = first_name || ''"))
    db_session.commit()
    bind_to_school(db_session, world.school_a)
    assert token(db_session) == token_a


def test_each_reader_gets_the_week_in_their_own_language(app, client, week, count_queries):
    week.session.commit()
    login(client, "guardian.both")  # Polish
    polish, _ = read(client, count_queries)
    head = app.test_client()
    login(head, "head.a")  # English, the class head
    english, queries = read(head, count_queries, f"{PAGE}&student={week.students[0].id}")
    assert "środa" in polish and "Wednesday" not in polish
    assert "Wednesday" in english and "środa" not in english
    assert queries == 4  # not the Polish rendering


def test_without_redis_the_diary_still_answers(client, week, count_queries, monkeypatch):
    week.session.commit()
    login(client, "guardian.both")
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(cache, "redis_connection", lambda: down)
    page, _ = read(client, count_queries)
    assert "Fractions" in page and "Well done" in page


def test_a_kept_page_carries_the_readers_own_csrf_token(client, week, count_queries):
    week.session.commit()
    login(client, "guardian.both")
    read(client, count_queries)
    kept, queries = read(client, count_queries)
    assert queries == 2
    assert cache.CSRF_PLACEHOLDER not in kept
    form = re.search(
        r'<form class="language" method="post" action="([^"]+)">\s*'
        r'<input type="hidden" name="csrf_token" value="([^"]+)">',
        kept,
    )
    assert form, "the language form is missing"
    action, token = form.groups()
    changed = client.post(action, data={"csrf_token": token, "locale": "en", "next": PAGE})
    assert changed.status_code == 302  # a stale or foreign token would be a 400


def test_each_reader_gets_a_page_of_their_own(app, client, week, count_queries):
    week.session.commit()
    path = f"{PAGE}&student={week.students[0].id}"
    head, admin = client, app.test_client()
    login(head, "head.a")
    login(admin, "admin.a")  # both read English
    heads, head_queries = read(head, count_queries, path)
    admins, admin_queries = read(admin, count_queries, path)
    assert head_queries == admin_queries == 4  # the administrator's page is not the head's
    assert "Kristina Vadovė" in heads and "Kristina Vadovė" not in admins
    assert "Aldona Administratorė" in admins
    _again, queries = read(head, count_queries, path)
    assert queries == 2


def test_a_waiting_message_is_shown_and_not_kept(client, week, count_queries):
    week.session.commit()
    login(client, "guardian.both")
    read(client, count_queries)
    with client.session_transaction() as browser_session:
        browser_session["_flashes"] = [("success", "Saved just now")]
    shown, queries = read(client, count_queries)
    assert "Saved just now" in shown and queries == 4
    again, queries = read(client, count_queries)
    assert "Saved just now" not in again and queries == 2


def test_a_renamed_account_shows_its_new_name(client, week, count_queries, world):
    week.session.commit()
    login(client, "guardian.both")
    before, _ = read(client, count_queries)
    assert "Irena Globėja" in before
    week.session.execute(
        text("UPDATE public.accounts SET name = 'Irena Naujoji' WHERE login = 'guardian.both'")
    )
    week.session.commit()
    after, queries = read(client, count_queries)
    assert "Irena Naujoji" in after and queries == 4


def test_forget_command_drops_the_kept_pages(app, client, week, count_queries):
    week.session.commit()
    login(client, "guardian.both")
    read(client, count_queries)
    result = app.test_cli_runner().invoke(cli, ["gradebook", "forget-diary-cache"])
    assert result.exit_code == 0, result.output
    assert '"forgotten": 1' in result.output
    _page, queries = read(client, count_queries)
    assert queries == 4


def test_a_day_shows_the_timetable_of_groups_whose_lessons_are_not_made_yet(classroom):
    """One group's lessons exist for the day (its teacher opened the month's grid), the other
    group's not yet: the day shows that lesson and the other group's timetable slot, but not
    the slot of a lesson a teacher deleted."""
    from gradebook.lessons.models import DeletedLessonDate
    from school.timetable.models import TimetableEntry

    c = classroom
    # English also on Monday (3rd); its Tuesday lesson deleted by its teacher (an excursion)
    c.session.add_all([
        TimetableEntry(group_id=c.english.id, weekday=1, lesson_no=3, valid_from=MONDAY),
        DeletedLessonDate(group_id=c.english.id, on_day=TUESDAY, lesson_no=1,
                          deleted_by=c.account("other_teacher").id),
    ])  # fmt: skip
    c.session.flush()
    lesson(c, c.maths, MONDAY, 1)
    (student,) = services.diary_week(c.session, [c.students[0].id], MONDAY, "en").students
    monday = student.days[0]
    assert [(lesson.lesson_no, lesson.subject) for lesson in monday.lessons] == [(1, "Mathematics")]
    assert [(slot.lesson_no, slot.subject) for slot in monday.slots] == [(3, "English")]
    assert [(p.lesson_no, p.planned) for p in monday.periods] == [(1, False), (3, True)]
    assert student.days[1].slots == [] and student.days[1].school_day
