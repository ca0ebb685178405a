"""The class head's class overview and the director's school overview."""

from __future__ import annotations

import csv
import html
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from classroom import _student
from conftest import csrf_token, login
from dienynas import clock
from dienynas.errors import NotFound, PermissionDenied
from dienynas.i18n import in_locale
from gradebook.attendance import services as attendance
from gradebook.attendance.models import Attendance, Excuse
from gradebook.grades.models import Grade, TermGrade
from gradebook.lessons.models import Lesson
from gradebook.overview import services
from gradebook.remarks.models import Remark
from school.calendar.services import create_year
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.classes.services import promote_classes
from school.curriculum.models import GradeScale, Subject
from school.people.models import Guardianship, Person, Student
from tenants.services import bind_to_school

BASE = "/s/school-a"
TODAY = date(2026, 9, 30)


@pytest.fixture(autouse=True)
def english():
    with in_locale("en"):
        yield


class Journal:
    """Writes gradebook rows straight into the tables (the services are tested elsewhere)."""

    def __init__(self, classroom):
        self.c = classroom
        self.session = classroom.session
        self.by = classroom.account("teacher").id

    def lesson(self, group: Group, day: date, lesson_no: int = 1, topic: str | None = "T"):
        term = self.c.terms[0] if day <= self.c.terms[0].ends_on else self.c.terms[1]
        lesson = Lesson(
            group_id=group.id, on_day=day, lesson_no=lesson_no, term_id=term.id, topic=topic
        )
        self.session.add(lesson)
        self.session.flush()
        return lesson

    def grade(self, student, group: Group, value: str, day: date, **extra) -> Grade:
        term = self.c.terms[0] if day <= self.c.terms[0].ends_on else self.c.terms[1]
        grade = Grade(
            student_id=student.id, group_id=group.id, on_day=day, term_id=term.id,
            value=value, created_by=extra.pop("created_by", self.by), **extra,
        )  # fmt: skip
        self.session.add(grade)
        self.session.flush()
        return grade

    def mark(self, lesson: Lesson, student, mark: str = "absent", excuse: Excuse | None = None):
        self.session.add(
            Attendance(
                lesson_id=lesson.id,
                student_id=student.id,
                mark=mark,
                excuse_id=excuse.id if excuse else None,
                marked_by=self.by,
            )
        )
        self.session.flush()

    def excuse(self, student, day: date) -> Excuse:
        excuse = Excuse(
            student_id=student.id, from_day=day, to_day=day, reason="illness",
            source="class_head", status="approved", school_days=1,
            submitted_by=self.c.account("head").id,
        )  # fmt: skip
        self.session.add(excuse)
        self.session.flush()
        return excuse

    def term_grade(self, student, group: Group, value: str, confirmed: bool = True) -> None:
        self.session.add(
            TermGrade(
                student_id=student.id,
                group_id=group.id,
                year_id=self.c.year.id,
                term_id=self.c.terms[0].id,
                suggested=value,
                value=value,
                confirmed_by=self.by if confirmed else None,
                confirmed_at=datetime.now(UTC) if confirmed else None,
            )
        )
        self.session.flush()


@pytest.fixture
def journal(classroom) -> Journal:
    """Hand-made data for class 5a in semester 1 (the figures the tests expect)."""
    j = Journal(classroom)
    c = classroom
    s0, s1, s2 = c.students[:3]
    maths1 = j.lesson(c.maths, date(2026, 9, 7), 1)
    maths2 = j.lesson(c.maths, date(2026, 9, 9), 2, topic=None)
    english1 = j.lesson(c.english, date(2026, 9, 8), 1)
    j.grade(s0, c.maths, "10", date(2026, 9, 7), lesson_id=maths1.id)
    j.grade(s0, c.maths, "7", date(2026, 9, 9), lesson_id=maths2.id)
    j.grade(s0, c.english, "9", date(2026, 9, 8))
    j.grade(s1, c.maths, "6", date(2026, 9, 7))
    j.grade(s0, c.maths, "1", date(2027, 2, 3))  # semester 2: not counted in semester 1
    j.term_grade(s0, c.maths, "9")
    j.term_grade(s1, c.english, "4", confirmed=False)  # only suggested: not shown
    j.mark(maths1, s1)
    j.mark(english1, s1, excuse=j.excuse(s1, date(2026, 9, 8)))
    j.mark(maths2, s1, "late")
    j.mark(maths1, s2, excuse=j.excuse(s2, date(2026, 9, 7)))
    return j


def overview(classroom, who: str = "head", **kwargs):
    return services.class_overview(
        classroom.session, classroom.account(who), classroom.school, classroom.c5a.id,
        term_id=kwargs.pop("term_id", classroom.terms[0].id), today=TODAY, locale="en",
    )  # fmt: skip


# --- the class overview: figures ------------------------------------------------------------


def test_class_overview_means_counts_and_term_grades(classroom, journal):
    result = overview(classroom)
    c = classroom
    maths, english = c.maths.subject_id, c.english.subject_id
    assert [s.name_in("en") for s in result.subjects] == ["English", "Mathematics"]
    rows = {row.student.id: row for row in result.rows}
    s0, s1, s2 = (rows[p.id] for p in c.students[:3])
    assert (s0.cells[maths].mean, s0.cells[maths].count) == (Decimal("8.50"), 2)
    assert s0.cells[maths].term_grade == "9"
    assert (s0.cells[english].mean, s0.cells[english].count) == (Decimal("9.00"), 1)
    assert s0.mean == Decimal("8.75")  # the mean of the subject means
    assert s0.grade_count == 3
    assert (s1.cells[maths].mean, s1.cells[english].mean) == (Decimal("6.00"), None)
    assert s1.cells[english].term_grade is None  # suggested, not confirmed
    assert s1.mean == Decimal("6.00")
    assert s2.mean is None and s2.grade_count == 0
    assert result.subject_means[maths] == Decimal("7.67")  # (10 + 7 + 6) / 3
    assert result.subject_counts == {maths: 3, english: 1}
    assert result.mean == Decimal("7.38")  # (8.75 + 6) / 2, rounded half up


def test_class_overview_attendance_totals(classroom, journal):
    result = overview(classroom)
    rows = {row.student.id: row.attendance for row in result.rows}
    s1, s2, s3 = (rows[p.id] for p in classroom.students[1:4])
    assert (s1.absent, s1.excused, s1.unexcused, s1.late) == (2, 1, 1, 1)
    assert (s2.absent, s2.excused, s2.unexcused, s2.late) == (1, 1, 0, 0)
    assert (s3.absent, s3.unexcused) == (0, 0)
    assert (result.attendance.absent, result.attendance.unexcused) == (3, 1)


def test_the_other_term_has_only_its_own_grades(classroom, journal):
    result = overview(classroom, term_id=classroom.terms[1].id)
    s0 = next(row for row in result.rows if row.student.id == classroom.students[0].id)
    assert s0.cells[classroom.maths.subject_id].mean == Decimal("1.00")
    assert s0.cells[classroom.maths.subject_id].term_grade is None
    assert result.attendance.absent == 0


def test_the_term_defaults_to_the_term_of_today(classroom, journal):
    result = services.class_overview(
        classroom.session, classroom.account("head"), classroom.school, classroom.c5a.id,
        term_id=None, today=date(2027, 3, 1), locale="en",
    )  # fmt: skip
    assert result.term.id == classroom.terms[1].id


def test_a_term_of_another_year_or_a_missing_class_is_not_found(classroom):
    with pytest.raises(NotFound):
        overview(classroom, term_id=10**9)
    with pytest.raises(NotFound):
        services.class_overview(
            classroom.session, classroom.account("head"), classroom.school, 10**9,
            term_id=None, today=TODAY, locale="en",
        )  # fmt: skip


def test_pass_fail_grades_are_counted_not_averaged(classroom, journal):
    session = classroom.session
    scale = session.scalar(select(GradeScale).where(GradeScale.code == "pass_fail"))
    sport = Subject(code="KK", name="Kūno kultūra", scale_id=scale.id)
    session.add(sport)
    session.flush()
    group = Group(year_id=classroom.year.id, subject_id=sport.id, name="5a kk", kind="class",
                  class_id=classroom.c5a.id)  # fmt: skip
    session.add(group)
    session.flush()
    session.add(GroupStudent(group_id=group.id, student_id=classroom.students[0].id))
    journal.grade(classroom.students[0], group, "passed", date(2026, 9, 10))
    journal.term_grade(classroom.students[0], group, "passed")
    result = overview(classroom)
    s0 = next(row for row in result.rows if row.student.id == classroom.students[0].id)
    cell = s0.cells[sport.id]
    assert (cell.count, cell.mean, cell.term_grade) == (1, None, "passed")
    assert s0.mean == Decimal("8.75")  # unchanged
    # students not in the group have no cell for it
    assert sport.id not in result.rows[1].cells


# --- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["teacher", "other_teacher", "guardian", "student"])
def test_only_the_head_director_and_admin_see_the_class_overview(classroom, who):
    with pytest.raises(PermissionDenied):
        overview(classroom, who)
    for allowed in ("head", "director", "admin"):
        assert overview(classroom, allowed).school_class.id == classroom.c5a.id


def logged_in(app, login_name: str):
    client = app.test_client()
    login(client, login_name)
    return client


def test_class_overview_page_refusals(app, db_session, classroom):
    classroom.session.commit()
    url = f"{BASE}/classes/{classroom.c5a.id}/overview"
    other_class = f"{BASE}/classes/{classroom.c6b.id}/overview"
    for login_name in ("teacher.a", "guardian.both"):
        assert logged_in(app, login_name).get(url).status_code == 403
    client = logged_in(app, "head.a")
    assert client.get(f"{BASE}/classes/{10**9}/overview").status_code == 404
    # the head of 5a does not head 6b
    assert client.get(other_class).status_code == 403


def test_school_overview_refusals(app, db_session, classroom):
    classroom.session.commit()
    for login_name in ("teacher.a", "head.a", "guardian.both", "student.a"):
        assert logged_in(app, login_name).get(f"{BASE}/overview").status_code == 403, login_name
    assert logged_in(app, "admin.a").get(f"{BASE}/overview").status_code == 200


# --- the pages ------------------------------------------------------------------------------


def test_class_overview_page_in_lithuanian_with_decimal_commas(client, classroom, journal):
    classroom.account("head").locale = "lt"
    classroom.session.commit()
    login(client, "head.a")
    page = client.get(
        f"{BASE}/classes/{classroom.c5a.id}/overview?term={classroom.terms[0].id}"
    ).get_data(as_text=True)
    assert "Matematika" in page and "8,50" in page and "8,75" in page and "7,67" in page
    assert 'class="status status-suspended unexcused">1<' in page
    # the month's figures are a click away
    assert f"/classes/{classroom.c5a.id}/attendance" in page


def test_the_safety_instructions_are_linked_only_to_those_their_page_admits(app, classroom):
    from accounts.models import Role
    from classroom import new_account

    new_account(classroom.session, classroom.school, "pedagogue.a", "Rasa Socialinė",
                Role.SOCIAL_PEDAGOGUE)  # fmt: skip
    classroom.session.commit()
    url = f"{BASE}/classes/{classroom.c5a.id}/overview"
    briefings = f"{BASE}/classes/{classroom.c5a.id}/briefings"
    for login_name, admitted in (
        ("pedagogue.a", False), ("head.a", True), ("director.a", True), ("admin.a", True),
    ):  # fmt: skip
        client = logged_in(app, login_name)
        page = client.get(url)
        assert page.status_code == 200, login_name
        assert (f'href="{briefings}"' in page.get_data(as_text=True)) is admitted, login_name
        assert client.get(briefings).status_code == (200 if admitted else 403), login_name


def test_the_class_heads_menu_leads_to_their_class(client, classroom):
    classroom.session.commit()
    login(client, "head.a")
    home = client.get(f"{BASE}/").get_data(as_text=True)
    assert f"{BASE}/classes/overview" in home
    response = client.get(f"{BASE}/classes/overview")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/classes/{classroom.c5a.id}/overview")


def test_a_head_of_two_classes_chooses_from_a_list(client, classroom):
    classroom.c6b.head_id = classroom.head.id
    classroom.session.commit()
    login(client, "head.a")
    page = client.get(f"{BASE}/classes/overview").get_data(as_text=True)
    assert f"/classes/{classroom.c5a.id}/overview" in page
    assert f"/classes/{classroom.c6b.id}/overview" in page


def test_the_directors_menu_has_the_school_overview(client, classroom):
    classroom.session.commit()
    login(client, "director.a")
    home = client.get(f"{BASE}/").get_data(as_text=True)
    assert f'href="{BASE}/overview"' in home


def _add_students(classroom, journal: Journal, count: int, start: int) -> None:
    """More students in 5a, in both groups, each with grades and an absence."""
    session = classroom.session
    lesson = session.scalar(select(Lesson).where(Lesson.group_id == classroom.maths.id).limit(1))
    for n in range(start, start + count):
        person = _student(session, "Papildomas", f"Mokinys{n:02d}", classroom.c5a)
        for group in (classroom.maths, classroom.english):
            session.add(GroupStudent(group_id=group.id, student_id=person.id))
        session.flush()
        journal.grade(person, classroom.maths, str(1 + n % 10), date(2026, 9, 7))
        journal.grade(person, classroom.english, str(1 + (n * 3) % 10), date(2026, 9, 8))
        journal.term_grade(person, classroom.maths, "8")
        journal.mark(lesson, person)


def queries_for_5_and_30_students(client, classroom, journal, count_queries, url: str):
    """The statements the class head's page ``url`` runs with 5 students in 5a, then 30."""
    classroom.session.commit()
    login(client, "head.a")
    counts = []
    for extra in (0, 25):
        bind_to_school(classroom.session, classroom.school)
        _add_students(classroom, journal, extra, 100)
        classroom.session.commit()
        with count_queries() as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(queries))
        assert response.get_data(as_text=True).count("<tr>") >= 5 + extra
    return counts


def test_class_overview_runs_the_same_queries_for_5_and_30_students(
    client, classroom, journal, count_queries
):
    url = f"{BASE}/classes/{classroom.c5a.id}/overview?term={classroom.terms[0].id}"
    counts = queries_for_5_and_30_students(client, classroom, journal, count_queries, url)
    assert counts[0] == counts[1] <= 14, counts


# --- the school overview --------------------------------------------------------------------


def test_a_saved_attendance_mark_takes_the_lessons_roll(classroom, journal):
    """The school overview counts the lessons held without attendance taken; a mark saved
    through the gradebook (here: a student marked present, i.e. nothing recorded) takes it."""
    c = classroom

    def without_roll() -> int:
        result = services.school_overview(c.session, c.account("director"), c.school, today=TODAY)
        return next(f for f in result.classes if f.school_class.id == c.c5a.id).lessons_without_roll

    assert without_roll() == 3
    lesson = c.session.scalar(
        select(Lesson).where(Lesson.group_id == c.maths.id).order_by(Lesson.on_day).limit(1)
    )
    attendance.mark_attendance(c.session, c.account("teacher"), c.school, lesson,
                               c.students[2].id, None, today=TODAY)  # fmt: skip
    assert without_roll() == 2
    c.session.refresh(lesson)
    assert lesson.attendance_taken_by == c.account("teacher").id
    attendance.mark_attendance(c.session, c.account("admin"), c.school, lesson,
                               c.students[2].id, "late", today=TODAY)  # fmt: skip
    c.session.refresh(lesson)
    assert lesson.attendance_taken_by == c.account("teacher").id  # who first took it


def test_school_overview_figures(classroom, journal):
    c, j = classroom, journal
    session = c.session
    s_out = c.outsider
    # 6b: one lesson of its own group this month, without a topic, and an unexcused absence
    scale_group = Group(year_id=c.year.id, subject_id=c.maths.subject_id, name="6b matematika",
                        kind="class", class_id=c.c6b.id)  # fmt: skip
    session.add(scale_group)
    session.flush()
    session.add(GroupStudent(group_id=scale_group.id, student_id=s_out.id))
    session.add(GroupTeacher(group_id=scale_group.id, teacher_id=c.teacher.id))
    session.flush()
    lesson = j.lesson(scale_group, date(2026, 9, 21), 4, topic="  ")
    j.mark(lesson, s_out)
    j.grade(s_out, scale_group, "5", date(2026, 9, 21))
    j.grade(s_out, scale_group, "3", date(2026, 9, 22))  # unsatisfactory (below 4)
    j.lesson(c.maths, date(2026, 8, 31), 1)  # last month: not counted (before the term too)
    j.grade(c.students[0], c.english, "8", date(2026, 9, 22),
            created_by=c.account("other_teacher").id)  # fmt: skip
    result = services.school_overview(session, c.account("director"), c.school, today=TODAY)
    assert result.term.id == c.terms[0].id
    by_class = {f.school_class.name: f for f in result.classes}
    a5, b6 = by_class["5a"], by_class["6b"]
    assert (a5.students, b6.students) == (5, 1)
    assert a5.mean == Decimal("8.00")  # (10 + 7 + 9 + 6 + 8) / 5
    assert b6.mean == Decimal("4.00")
    assert (a5.unsatisfactory, b6.unsatisfactory, result.totals.unsatisfactory) == (0, 1, 1)
    assert (a5.lessons, a5.lessons_without_topic) == (3, 1)
    assert (b6.lessons, b6.lessons_without_topic) == (1, 1)
    # no mark was saved through the gradebook (the rows were written directly): no roll taken
    assert (a5.lessons_without_roll, b6.lessons_without_roll) == (3, 1)
    assert (a5.absences, a5.unexcused) == (3, 1)
    assert (b6.absences, b6.unexcused) == (1, 1)
    # 5 students × 2 groups expected; one confirmed (the other only suggested)
    assert (a5.term_grades_confirmed, a5.term_grades_expected) == (1, 10)
    assert (b6.term_grades_confirmed, b6.term_grades_expected) == (0, 1)
    t = result.totals
    assert (t.students, t.lessons, t.absences, t.unexcused) == (6, 4, 4, 2)
    assert t.mean == Decimal("6.86")  # (10 + 7 + 9 + 6 + 8 + 5 + 3) / 7
    assert (t.term_grades_confirmed, t.term_grades_expected) == (1, 11)
    # grades entered in the last 7 days (all were entered just now)
    result = services.school_overview(session, c.account("director"), c.school, today=clock.today())
    grades = {t.name: t.grades for t in result.teachers}
    assert grades == {"Tomas Mokytojas": 7, "Jonas Anglas": 1}


def test_old_grades_are_not_recent(classroom, journal):
    c = classroom
    later = clock.today() + timedelta(days=services.RECENT_DAYS)
    result = services.school_overview(c.session, c.account("director"), c.school, today=later)
    assert {t.name: t.grades for t in result.teachers} == {"Tomas Mokytojas": 0, "Jonas Anglas": 0}


def test_school_overview_runs_the_same_queries_for_few_and_many_classes(
    client, classroom, journal, count_queries
):
    classroom.session.commit()
    login(client, "director.a")
    counts = []
    for letter_base in (None, "bcdef"):
        bind_to_school(classroom.session, classroom.school)
        for n, letter in enumerate(letter_base or ""):
            school_class = SchoolClass(year_id=classroom.year.id, grade_level=7, letter=letter)
            classroom.session.add(school_class)
            classroom.session.flush()
            for k in range(6):
                _student(classroom.session, "Septintokas", f"{letter}{k}{n}", school_class)
        classroom.session.commit()
        with count_queries() as queries:
            response = client.get(f"{BASE}/overview")
        assert response.status_code == 200
        counts.append(len(queries))
    assert "7f" in response.get_data(as_text=True)
    assert counts[0] == counts[1] <= 14, counts


# --- the year's achievement summary ---------------------------------------------------------


def summary_of(classroom, who: str = "head"):
    return services.achievement_summary(
        classroom.session, classroom.account(who), classroom.school, classroom.c5a.id,
        locale="en",
    )  # fmt: skip


def test_achievement_summary_has_confirmed_term_and_year_grades_and_missed_lessons(
    classroom, journal
):
    c, j = classroom, journal
    s0, s1, s2 = c.students[:3]
    c.session.add(TermGrade(student_id=s0.id, group_id=c.maths.id, year_id=c.year.id,
                            term_id=None, suggested="9", value="9", confirmed_by=j.by,
                            confirmed_at=datetime.now(UTC)))  # fmt: skip
    c.session.flush()
    result = summary_of(classroom)
    rows = {row.student.id: row for row in result.rows}
    maths, english = c.maths.subject_id, c.english.subject_id
    # semester 1, semester 2, the year
    assert rows[s0.id].grades[maths] == ["9", None, "9"]
    assert rows[s1.id].grades[english] == [None, None, None]  # only suggested: not printed
    assert (rows[s1.id].attendance.absent, rows[s1.id].attendance.unexcused) == (2, 1)
    assert (rows[s2.id].attendance.absent, rows[s2.id].attendance.unexcused) == (1, 0)
    assert c.outsider.id not in rows  # 6b
    assert result.attendance.absent == 3


def test_achievement_summary_keeps_students_who_left_or_moved_up(classroom, journal):
    """The finished year's summary still lists the class after its students moved on: those
    its groups had; one who left the school is marked."""
    c = classroom
    s0, s1 = c.students[:2]
    later = SchoolClass(year_id=c.year.id, grade_level=6, letter="z")
    c.session.add(later)
    c.session.flush()
    student_of = {s.person_id: s for s in c.session.scalars(
        select(Student).where(Student.person_id.in_([s0.id, s1.id])))}  # fmt: skip
    student_of[s0.id].class_id = later.id  # moved: still in 5a's groups of the year
    student_of[s1.id].status, student_of[s1.id].left_on = "left", date(2027, 3, 1)
    c.session.flush()
    rows = {row.student.id: row for row in summary_of(classroom).rows}
    assert {s.id for s in c.students} <= set(rows)
    assert rows[s1.id].left_on == date(2027, 3, 1) and rows[s0.id].left_on is None


@pytest.mark.parametrize("who", ["teacher", "guardian", "student"])
def test_only_the_head_director_and_admin_print_the_summary(classroom, who):
    with pytest.raises(PermissionDenied):
        summary_of(classroom, who)


def test_achievement_summary_pdf_in_the_schools_language(client, classroom, journal):
    last_name, class_id = classroom.students[0].last_name, classroom.c5a.id
    classroom.session.commit()
    url = f"{BASE}/classes/{class_id}/achievements.pdf"
    login(client, "teacher.a")
    assert client.get(url).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, f"{BASE}/")})
    login(client, "head.a")
    overview_page = client.get(f"{BASE}/classes/{class_id}/overview")
    assert "achievements.pdf" in overview_page.get_data(as_text=True)
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)
    assert "pasiekimų suvestinė" in text  # school A's language is Lithuanian
    assert last_name in text
    assert client.get(f"{BASE}/classes/{10**9}/achievements.pdf").status_code == 404


# --- the monthly reports for families without the diary ------------------------------------


def reports_of(
    classroom, who: str = "head", only_offline: bool = False, month: date = date(2026, 9, 1)
):
    return services.monthly_reports(
        classroom.session, classroom.account(who), classroom.school, classroom.c5a.id,
        month=month, only_offline=only_offline,
    )  # fmt: skip


def test_monthly_reports_have_the_months_grades_attendance_and_remarks(classroom, journal):
    c = classroom
    s0, s1 = c.students[:2]
    c.session.add(Remark(student_id=s0.id, kind="praise", text="Puikus projektas",
                         on_day=date(2026, 9, 10), written_by=journal.by))  # fmt: skip
    c.session.add(Remark(student_id=s0.id, kind="remark", text="Kitą mėnesį",
                         on_day=date(2026, 10, 1), written_by=journal.by))  # fmt: skip
    c.session.flush()
    found = reports_of(classroom)
    reports = {r.student.id: r for r in found.reports}
    maths, english = c.maths.subject_id, c.english.subject_id
    # September only: the February grade is not in it
    assert [(g.on_day, g.value) for g in reports[s0.id].grades[maths]] == [
        (date(2026, 9, 7), "10"), (date(2026, 9, 9), "7"),
    ]  # fmt: skip
    assert [g.value for g in reports[s0.id].grades[english]] == ["9"]
    assert (reports[s1.id].attendance.absent, reports[s1.id].attendance.unexcused,
            reports[s1.id].attendance.late) == (2, 1, 1)  # fmt: skip
    assert [r.text for r in reports[s0.id].remarks] == ["Puikus projektas"]
    assert c.outsider.id not in reports


def test_monthly_reports_only_for_families_who_do_not_log_in_in_their_language(classroom, journal):
    """A student whose guardian logs in gets no paper report unless every student is asked
    for; a page is in the first guardian's language that has one, else the student's, else
    the school's (Lithuanian)."""
    c = classroom
    s0, s1, s2, s3 = c.students[:4]
    c.account("guardian").last_login_at = datetime.now(UTC)  # students[0]'s guardian
    polish = Person(first_name="Anna", last_name="Nowak", document_kind="other", locale="pl")
    c.session.add(polish)
    c.session.flush()
    c.session.add(Guardianship(guardian_id=polish.id, student_id=s1.id, relation="mother"))
    s2.locale = "ru"
    c.session.flush()
    everyone = {r.student.id: r.locale for r in reports_of(classroom).reports}
    offline = {r.student.id for r in reports_of(classroom, only_offline=True).reports}
    assert set(everyone) == {s.id for s in c.students}
    assert offline == set(everyone) - {s0.id}
    assert (everyone[s1.id], everyone[s2.id], everyone[s3.id]) == ("pl", "ru", "lt")
    c.account("guardian").last_login_at = None
    c.session.flush()
    assert s0.id in {r.student.id for r in reports_of(classroom, only_offline=True).reports}


@pytest.mark.parametrize("who", ["teacher", "guardian", "student"])
def test_only_the_head_director_and_admin_print_monthly_reports(classroom, who):
    with pytest.raises(PermissionDenied):
        reports_of(classroom, who)


def test_monthly_reports_pdf(client, classroom, journal):
    c = classroom
    s0 = c.students[0]
    last_name, class_id = s0.last_name, c.c5a.id
    guardian = c.session.scalar(
        select(Person).join(Guardianship, Guardianship.guardian_id == Person.id)
        .where(Guardianship.student_id == s0.id).limit(1)
    )  # fmt: skip
    guardian.locale = "ru"
    c.account("guardian").locale = "ru"  # the language the guardian chose (as notifications)
    c.session.commit()
    url = f"{BASE}/classes/{class_id}/monthly-reports.pdf?month=2026-09&all=1"
    login(client, "head.a")
    assert "monthly-reports.pdf" in client.get(f"{BASE}/classes/{class_id}/overview").get_data(
        as_text=True
    )
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = [page.extract_text() for page in PdfReader(BytesIO(response.data)).pages]
    first = next(p for p in pages if last_name in p)
    assert "Ежемесячный отчёт" in first and "сентябрь 2026" in first  # the guardian's language
    assert "10" in first and "7" in first
    bad = client.get(f"{BASE}/classes/{class_id}/monthly-reports.pdf?month=september")
    assert bad.status_code == 302
    assert client.get(f"{BASE}/classes/{10**9}/monthly-reports.pdf").status_code == 404


# --- the term and year reports for families without the diary ------------------------------


def term_reports_of(classroom, term_id, who: str = "head", only_offline: bool = False):
    return services.term_reports(
        classroom.session, classroom.account(who), classroom.school, classroom.c5a.id,
        term_id=term_id, only_offline=only_offline,
    )  # fmt: skip


def test_term_reports_have_the_terms_grades_means_and_confirmed_term_grades(classroom, journal):
    c = classroom
    s0, s1 = c.students[:2]
    maths, english = c.maths.subject_id, c.english.subject_id
    found = term_reports_of(classroom, c.terms[0].id)
    reports = {r.student.id: r for r in found.reports}
    # semester 1 only: the February grade is semester 2's
    assert [g.value for g in reports[s0.id].grades[maths]] == ["10", "7"]
    assert (reports[s0.id].mean(maths), reports[s0.id].mean(english)) == (
        Decimal("8.50"), Decimal("9.00"),
    )  # fmt: skip
    assert found.final_grades == {(s0.id, maths): "9"}  # s1's English: suggested only
    assert found.subject_ids(reports[s0.id]) == [english, maths]  # by name
    assert (reports[s1.id].attendance.absent, reports[s1.id].attendance.late) == (2, 1)
    second = {r.student.id: r for r in term_reports_of(classroom, c.terms[1].id).reports}
    assert [g.value for g in second[s0.id].grades[maths]] == ["1"]
    assert second[s1.id].attendance.absent == 0


def test_the_year_report_has_every_terms_grades_and_the_year_grade(classroom, journal):
    c = classroom
    s0 = c.students[0]
    maths = c.maths.subject_id
    c.session.add(TermGrade(student_id=s0.id, group_id=c.maths.id, year_id=c.year.id,
                            term_id=None, suggested="6", value="6", confirmed_by=journal.by,
                            confirmed_at=datetime.now(UTC)))  # fmt: skip
    c.session.flush()
    found = term_reports_of(classroom, None)
    report = next(r for r in found.reports if r.student.id == s0.id)
    assert [g.value for g in report.grades[maths]] == ["10", "7", "1"]
    assert report.mean(maths) == Decimal("6.00")
    assert found.final_grades == {(s0.id, maths): "6"}  # the year grade, not semester 1's


def test_term_reports_refuse_others_and_an_unknown_term(classroom, journal, world):
    for who in ("teacher", "guardian", "student"):
        with pytest.raises(PermissionDenied):
            term_reports_of(classroom, classroom.terms[0].id, who)
    with pytest.raises(NotFound):
        term_reports_of(classroom, 10**9)


def test_term_reports_run_the_same_queries_for_a_class_of_any_size(
    classroom, journal, count_queries
):
    c = classroom
    c.session.expire_all()
    with count_queries() as few:
        term_reports_of(classroom, c.terms[0].id)
    for student in c.students:
        for day in (date(2026, 9, 14), date(2026, 9, 15)):
            journal.grade(student, c.english, "8", day)
    c.session.expire_all()
    with count_queries() as many:
        term_reports_of(classroom, c.terms[0].id)
    assert len(many) == len(few), "\n\n".join(many)


def test_term_reports_pdf(client, classroom, journal):
    c = classroom
    s0 = c.students[0]
    last_name, class_id, term_id = s0.last_name, c.c5a.id, c.terms[0].id
    c.account("guardian").locale = "ru"
    c.session.commit()
    login(client, "head.a")
    page = client.get(f"{BASE}/classes/{class_id}/overview").get_data(as_text=True)
    assert "term-reports.pdf" in page
    response = client.get(f"{BASE}/classes/{class_id}/term-reports.pdf?term={term_id}&all=1")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = [page.extract_text() for page in PdfReader(BytesIO(response.data)).pages]
    first = next(p for p in pages if last_name in p)
    assert "Отчёт об успеваемости и посещаемости" in first  # the guardian's language
    assert "8,50" in first and "9" in first
    year = client.get(f"{BASE}/classes/{class_id}/term-reports.pdf?term=year&all=1")
    assert year.status_code == 200
    assert client.get(f"{BASE}/classes/{class_id}/term-reports.pdf?term=x").status_code == 404
    assert client.get(f"{BASE}/classes/{class_id}/term-reports.pdf?term=999999").status_code == 404


# --- the month's statistics -----------------------------------------------------------------


def _group_on_scale(classroom, code: str, scale_code: str) -> Group:
    """A whole-class group of 5a in a new subject graded on ``scale_code``, with 5a's students."""
    session = classroom.session
    scale = session.scalar(select(GradeScale).where(GradeScale.code == scale_code))
    subject = Subject(code=code, name=code, scale_id=scale.id)
    session.add(subject)
    session.flush()
    group = Group(year_id=classroom.year.id, subject_id=subject.id, name=f"5a {code}",
                  kind="class", class_id=classroom.c5a.id)  # fmt: skip
    session.add(group)
    session.flush()
    session.add_all(GroupStudent(group_id=group.id, student_id=s.id) for s in classroom.students)
    session.flush()
    return group


def statistics_of(classroom, who: str = "head", month: date = date(2026, 9, 1)):
    return services.month_statistics(
        classroom.session, classroom.account(who), classroom.school, classroom.c5a.id,
        month=month,
    )  # fmt: skip


@pytest.fixture
def month_data(classroom, journal):
    """September on top of ``journal``: unsatisfactory grades on each scale, remarks."""
    c, j = classroom, journal
    s0, s1, s2 = c.students[:3]
    j.grade(s1, c.maths, "3", date(2026, 9, 10))  # below 4: unsatisfactory
    pass_fail = _group_on_scale(c, "KK", "pass_fail")
    j.grade(s2, pass_fail, "passed", date(2026, 9, 10))
    j.grade(s2, pass_fail, "failed", date(2026, 9, 11))
    five = _group_on_scale(c, "RUS", "five_point")
    j.grade(s2, five, "3", date(2026, 9, 14))  # the lowest satisfactory on the 5-point scale
    j.grade(s2, five, "2", date(2026, 9, 15))
    j.grade(c.outsider, c.maths, "1", date(2026, 9, 10))  # 6b: not in 5a's statistics
    for kind, day in (("praise", 10), ("reprimand", 11), ("remark", 40)):
        c.session.add(Remark(student_id=s0.id, kind=kind, text=kind, written_by=j.by,
                             on_day=date(2026, 9, 1) + timedelta(days=day - 1)))  # fmt: skip
    c.session.flush()
    return j


def test_month_statistics_count_progress_attendance_and_behaviour(classroom, month_data):
    c = classroom
    s0, s1, s2, s3 = c.students[:4]
    found = statistics_of(classroom)
    rows = {row.student.id: row.figures for row in found.rows}
    assert [row.student.id for row in found.rows] == [s.id for s in c.students]
    # September only: the February grade and the October remark are not in it
    assert (rows[s0.id].grades, rows[s0.id].mean, rows[s0.id].unsatisfactory) == (
        3, Decimal("8.67"), 0,
    )  # fmt: skip
    assert rows[s0.id].remarks == {"praise": 1, "reprimand": 1}
    assert (rows[s1.id].grades, rows[s1.id].mean, rows[s1.id].unsatisfactory) == (
        2, Decimal("4.50"), 1,
    )  # fmt: skip
    attendance = rows[s1.id].attendance
    assert (attendance.absent, attendance.excused, attendance.unexcused, attendance.late) == (
        2, 1, 1, 1,
    )  # fmt: skip
    # pass/fail grades are counted, not averaged; "failed" and a 2 of 5 are unsatisfactory
    assert (rows[s2.id].grades, rows[s2.id].mean, rows[s2.id].unsatisfactory) == (
        4, Decimal("2.50"), 2,
    )  # fmt: skip
    assert (rows[s3.id].grades, rows[s3.id].mean, rows[s3.id].remarks) == (0, None, {})
    total = found.total
    assert (total.grades, total.mean, total.unsatisfactory) == (9, Decimal("5.71"), 3)
    assert (total.attendance.absent, total.attendance.unexcused) == (3, 1)
    assert total.remarks == {"praise": 1, "reprimand": 1}
    october = statistics_of(classroom, month=date(2026, 10, 1))
    assert october.total.grades == 0 and october.total.remarks == {"remark": 1}


@pytest.mark.parametrize("who", ["teacher", "guardian", "student"])
def test_only_the_head_director_and_admin_see_the_months_statistics(classroom, who):
    with pytest.raises(PermissionDenied):
        statistics_of(classroom, who)
    for allowed in ("head", "director", "admin"):
        assert statistics_of(classroom, allowed).school_class.id == classroom.c5a.id


def test_month_statistics_page_in_lithuanian_and_its_refusals(app, client, classroom, month_data):
    c = classroom
    c.account("head").locale = "lt"
    class_id, other_class = c.c5a.id, c.c6b.id
    c.session.commit()
    login(client, "head.a")
    overview_page = client.get(f"{BASE}/classes/{class_id}/overview").get_data(as_text=True)
    assert f"/classes/{class_id}/statistics" in overview_page
    page = client.get(f"{BASE}/classes/{class_id}/statistics?month=2026-09").get_data(as_text=True)
    assert "Mėnesio statistika" in page and "rugsėjis 2026" in page.lower()
    assert "8,67" in page and "5,71" in page  # decimal commas
    assert 'class="status status-suspended unsatisfactory">2<' in page  # students[2]
    bad = client.get(f"{BASE}/classes/{class_id}/statistics?month=rugsėjis")
    assert bad.status_code == 302 and bad.headers["Location"].endswith(
        f"/classes/{class_id}/statistics"
    )
    assert "nėra mėnuo" in client.get(bad.headers["Location"]).get_data(as_text=True)
    assert client.get(f"{BASE}/classes/{10**9}/statistics").status_code == 404
    assert client.get(f"{BASE}/classes/{other_class}/statistics").status_code == 403
    teacher = logged_in(app, "teacher.a")
    assert teacher.get(f"{BASE}/classes/{class_id}/statistics").status_code == 403
    assert teacher.get(f"{BASE}/classes/{class_id}/statistics.csv").status_code == 403


def test_month_statistics_csv(client, classroom, month_data):
    class_id = classroom.c5a.id
    first = classroom.students[0]
    name = f"{first.last_name} {first.first_name}"
    classroom.session.commit()
    login(client, "head.a")
    response = client.get(f"{BASE}/classes/{class_id}/statistics.csv?month=2026-09")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    # not the attendance CSV's name (5a-attendance-2026-09.csv): both are saved in one folder
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=5a-statistics-2026-09.csv"
    )
    rows = list(csv.reader(StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Student", "Grades", "Mean", "Unsatisfactory grades"]
    assert rows[0][-3:] == ["Praise", "Remark", "Reprimand"]
    assert rows[1] == [name, "3", "8.67", "0", "0", "0", "0", "0", "0", "1", "0", "1"]
    assert rows[-1][:4] == ["Class in all", "9", "5.71", "3"]
    assert len(rows) == 1 + len(classroom.students) + 1


def test_month_statistics_run_the_same_queries_for_5_and_30_students(
    client, classroom, journal, count_queries
):
    url = f"{BASE}/classes/{classroom.c5a.id}/statistics?month=2026-09"
    counts = queries_for_5_and_30_students(client, classroom, journal, count_queries, url)
    assert counts[0] == counts[1] <= 10, counts


# --- a finished year's class, after its students moved up ---------------------------------


@pytest.fixture
def moved_up(classroom, journal) -> Group:
    """The classroom's year is over and its classes moved up into 2027–2028
    (docs/curriculum-and-classes.md): 5a's students are 6a's now, still in 5a's groups of the
    finished year; students[4] left the school in January. The new 6a's maths group."""
    c = classroom
    leaver = c.session.get(Student, c.students[4].id)
    leaver.status, leaver.left_on = "left", date(2027, 1, 15)
    following = create_year(
        c.session, name="2027–2028 A", starts_on=date(2027, 9, 1), ends_on=date(2028, 8, 31)
    )
    promote_classes(c.session, c.account("admin"), c.school, following, {}, date(2027, 8, 25))
    c.session.expire_all()
    return c.session.scalar(
        select(Group).where(Group.year_id == following.id, Group.name == "6a matematika")
    )


def test_a_finished_years_class_keeps_its_students_in_every_report(classroom, moved_up):
    c = classroom
    ids = [s.id for s in c.students]
    assert c.session.get(Student, ids[0]).class_id != c.c5a.id  # next year's class now
    first_term = overview(classroom)
    assert [row.student.id for row in first_term.rows] == ids
    assert first_term.mean == Decimal("7.38")  # as before the move
    assert [row.left_on for row in first_term.rows][-2:] == [None, date(2027, 1, 15)]
    # the student who left in January is not in the second term's lists
    second_term = overview(classroom, term_id=c.terms[1].id)
    assert [row.student.id for row in second_term.rows] == ids[:4]
    september = statistics_of(classroom)
    assert [row.student.id for row in september.rows] == ids
    assert (september.total.grades, september.total.attendance.absent) == (4, 3)
    assert [r.student.id for r in reports_of(classroom, only_offline=True).reports] == ids
    for term_id, listed in ((c.terms[0].id, ids), (c.terms[1].id, ids[:4]), (None, ids)):
        found = term_reports_of(classroom, term_id, only_offline=True)
        assert [r.student.id for r in found.reports] == listed
    assert [row.student.id for row in summary_of(classroom).rows] == ids


def test_a_month_after_the_finished_year_has_none_of_the_next_years_records(
    classroom, journal, moved_up
):
    """5a's September 2027 is not its students' first month in 6a."""
    journal.grade(classroom.students[0], moved_up, "2", date(2027, 9, 6))
    found = statistics_of(classroom, month=date(2027, 9, 1))
    assert [row.student.id for row in found.rows] == [s.id for s in classroom.students[:4]]
    assert found.total.grades == 0
    assert all(not r.grades for r in reports_of(classroom, month=date(2027, 9, 1)).reports)


def test_a_finished_years_class_pages_and_family_reports(client, classroom, moved_up):
    c = classroom
    class_id, term_id = c.c5a.id, c.terms[0].id
    last_name, leaver = c.students[1].last_name, c.students[4].last_name
    c.session.commit()
    login(client, "head.a")
    page = client.get(f"{BASE}/classes/{class_id}/overview?term={term_id}").get_data(as_text=True)
    assert last_name in page and "The class has no students" not in page
    assert "left on" in page.split(leaver, 1)[1].split("</th>", 1)[0]
    statistics = client.get(f"{BASE}/classes/{class_id}/statistics?month=2026-09")
    assert last_name in statistics.get_data(as_text=True)
    for term in (term_id, "year"):
        response = client.get(f"{BASE}/classes/{class_id}/term-reports.pdf?term={term}")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        text = " ".join(p.extract_text() for p in PdfReader(BytesIO(response.data)).pages)
        assert last_name in text


def test_no_family_report_says_why(client, classroom, journal):
    """Nothing to print: the class had no students in the month, or each of its students has a
    guardian who logs in to the diary (not the other way round)."""
    c = classroom
    empty = SchoolClass(year_id=c.year.id, grade_level=7, letter="c", head_id=c.head.id)
    c.session.add(empty)
    for student in c.students[1:]:
        c.session.add(Guardianship(guardian_id=c.guardian.id, student_id=student.id))
    c.account("guardian").last_login_at = datetime.now(UTC)
    c.session.flush()
    empty_id, class_id = empty.id, c.c5a.id
    c.session.commit()
    login(client, "head.a")

    def note(class_id: int) -> str:
        response = client.get(f"{BASE}/classes/{class_id}/monthly-reports.pdf?month=2026-09")
        assert response.status_code == 302
        return html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))

    empty_note, class_note = note(empty_id), note(class_id)
    assert "The class had no students in this period: there is no report to print." in empty_note
    assert "Every family" not in empty_note
    assert "Every family of the class uses the diary: there is no report to print." in class_note
