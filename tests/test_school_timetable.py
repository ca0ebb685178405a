"""The timetable: entry rules, clashes, history, and the pages (grids, editing, permissions).

Classes, groups, rooms, bell schedules and people are created directly through their models.
"""

from __future__ import annotations

import html
from datetime import date, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import World, login, post_form
from dienynas.errors import ServiceError
from dienynas.i18n import in_locale
from gradebook.settings.models import GradebookSettings
from school.calendar.models import BellPeriod, BellSchedule, Room, SchoolYear
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.curriculum.models import GradeScale, Subject
from school.people.models import Person, StaffRight, Student
from school.timetable import services
from school.timetable.models import TimetableEntry
from tenants.services import bind_to_school

MONDAY = date(2026, 9, 7)  # the first Monday of school A's year 2026-09-01 … 2027-08-31
BASE = "/s/school-a/timetable"


@pytest.fixture(autouse=True)
def english(app):
    """Service messages in English (the staff accounts of school A read English too)."""
    with in_locale("en"):
        yield


class School:
    """A small school A: class 5a (whole-class maths, two English halves), class 6b, teachers,
    rooms and a default bell schedule of lessons 1–7 (built by the ``school`` fixture)."""

    c5a: SchoolClass
    c6b: SchoolClass
    ruta: Person
    jonas: Person
    maths_5a: Group
    english_5a_1: Group
    english_5a_2: Group
    maths_6b: Group
    students_5a: list[Person]
    room_101: Room
    room_102: Room

    def __init__(self, session: Session, world: World, year: SchoolYear) -> None:
        self.session, self.world, self.year = session, world, year

    def person(self, first: str, last: str, account_id: int | None = None) -> Person:
        person = Person(
            first_name=first, last_name=last, document_kind="other", account_id=account_id
        )
        self.session.add(person)
        self.session.flush()
        return person

    def student(self, first: str, last: str, school_class: SchoolClass) -> Person:
        person = self.person(first, last)
        self.session.add(Student(person_id=person.id, class_id=school_class.id))
        self.session.flush()
        return person

    def school_class(self, grade_level: int, letter: str) -> SchoolClass:
        school_class = SchoolClass(year_id=self.year.id, grade_level=grade_level, letter=letter)
        self.session.add(school_class)
        self.session.flush()
        return school_class

    def subject(self, code: str, name: str) -> Subject:
        scale = self.session.scalar(select(GradeScale).where(GradeScale.code == "ten_point"))
        subject = Subject(code=code, name=name, scale_id=scale.id, name_translations={})
        self.session.add(subject)
        self.session.flush()
        return subject

    def group(
        self,
        name: str,
        *,
        subject: Subject | None = None,
        kind: str = "class",
        school_class: SchoolClass | None = None,
        teachers: tuple[Person, ...] = (),
        students: tuple[Person, ...] = (),
    ) -> Group:
        subject = subject or self.subject(name[:20], name)
        group = Group(
            year_id=self.year.id,
            subject_id=subject.id,
            name=name,
            kind=kind,
            class_id=school_class.id if school_class else None,
        )
        self.session.add(group)
        self.session.flush()
        self.session.add_all(GroupTeacher(group_id=group.id, teacher_id=t.id) for t in teachers)
        self.session.add_all(GroupStudent(group_id=group.id, student_id=s.id) for s in students)
        self.session.flush()
        return group

    def room(self, code: str, active: bool = True) -> Room:
        room = Room(code=code, is_active=active)
        self.session.add(room)
        self.session.flush()
        return room

    def add(self, group: Group, weekday: int = 1, lesson_no: int = 3, **kwargs) -> TimetableEntry:
        kwargs.setdefault("room_id", None)
        return services.add_entry(
            self.session, group_id=group.id, weekday=weekday, lesson_no=lesson_no, **kwargs
        )

    def six_day_weeks(self) -> None:
        """Turn on the gradebook setting "Lessons on Saturdays"."""
        self.session.add(GradebookSettings(id=1, saturday_lessons=True))
        self.session.flush()

    def entries(self) -> int:
        return self.session.scalar(select(func.count()).select_from(TimetableEntry))

    def rebind(self) -> None:
        """Requests bind the shared test connection themselves; bind it back to school A."""
        bind_to_school(self.session, self.world.school_a)


def _schedule(session: Session, name: str, lessons, **kwargs) -> BellSchedule:
    schedule = BellSchedule(name=name, **kwargs)
    schedule.periods = [
        BellPeriod(lesson_no=n, starts_at=time(7 + n, 0), ends_at=time(7 + n, 45)) for n in lessons
    ]
    session.add(schedule)
    session.flush()
    return schedule


@pytest.fixture
def school(db_session: Session, world: World) -> School:
    bind_to_school(db_session, world.school_a)
    year = db_session.scalar(select(SchoolYear))
    s = School(db_session, world, year)
    s.c5a, s.c6b = s.school_class(5, "a"), s.school_class(6, "b")
    s.ruta, s.jonas = s.person("Rūta", "Vaitkienė"), s.person("Jonas", "Petraitis")
    s.students_5a = [s.student(f"Mokinys{i}", "Penktokas", s.c5a) for i in range(4)]
    maths = s.subject("MAT", "matematika")
    english = s.subject("ANG", "anglų kalba")
    s.maths_5a = s.group(
        "5a matematika", subject=maths, school_class=s.c5a, teachers=(s.ruta,),
        students=tuple(s.students_5a),
    )  # fmt: skip
    s.english_5a_1 = s.group(
        "5a anglų k. (1 gr.)", subject=english, kind="part", school_class=s.c5a,
        teachers=(s.jonas,), students=tuple(s.students_5a[:2]),
    )  # fmt: skip
    s.english_5a_2 = s.group(
        "5a anglų k. (2 gr.)", subject=english, kind="part", school_class=s.c5a,
        students=tuple(s.students_5a[2:]),
    )  # fmt: skip
    s.maths_6b = s.group("6b matematika", subject=maths, school_class=s.c6b)
    s.room_101, s.room_102 = s.room("101"), s.room("102")
    _schedule(db_session, "Pagrindinis", range(1, 8), is_default=True)
    return s


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def refused(call, field: str | None = None) -> str:
    with pytest.raises(ServiceError) as excinfo:
        call()
    assert excinfo.value.field == field, excinfo.value.message
    return excinfo.value.message


# --- adding entries ------------------------------------------------------------------------------


def test_an_entry_defaults_to_the_whole_school_year(school):
    entry = school.add(school.maths_5a, room_id=school.room_101.id)
    assert (entry.valid_from, entry.valid_to) == (date(2026, 9, 1), date(2027, 8, 31))
    assert entry.room_id == school.room_101.id


def test_sunday_is_refused_saturday_only_in_six_day_weeks(school):
    message = refused(lambda: school.add(school.maths_5a, weekday=7), "weekday")
    assert message == "There are no lessons on Sunday."
    assert "Monday to Saturday" in refused(
        lambda: school.add(school.maths_5a, weekday=0), "weekday"
    )
    # a five-day school: no lesson would ever be generated on Saturday
    assert refused(lambda: school.add(school.maths_5a, weekday=6), "weekday") == (
        "This school has no lessons on Saturdays: the gradebook setting “Lessons on Saturdays "
        "(six-day weeks)” is off. The e-diary administrator can turn it on in the gradebook "
        "settings."
    )
    entry = school.add(school.maths_5a, weekday=5)
    moving = lambda: services.move_entry(  # noqa: E731
        school.session, entry.id, weekday=6, lesson_no=3, room_id=None,
        from_date=date(2026, 10, 5),
    )  # fmt: skip
    assert "“Lessons on Saturdays (six-day weeks)” is off" in refused(moving, "weekday")
    assert school.entries() == 1
    school.six_day_weeks()
    assert school.add(school.maths_5a, weekday=6, lesson_no=4).weekday == 6
    assert moving().weekday == 6


def test_lesson_number_must_be_in_the_bell_schedule_of_the_groups_grade(school):
    message = refused(lambda: school.add(school.maths_5a, lesson_no=8), "lesson_no")
    assert message == (
        "There is no lesson 8 in the bell schedule “Pagrindinis” (lessons: 1, 2, 3, 4, 5, 6, 7)."
    )
    # a narrower schedule for grade 5 applies instead of the default one
    _schedule(school.session, "Penktokai", range(0, 5), min_grade=5, max_grade=5)
    assert "“Penktokai”" in refused(lambda: school.add(school.maths_5a, lesson_no=6), "lesson_no")
    assert school.add(school.maths_5a, lesson_no=0).lesson_no == 0
    assert school.add(school.maths_6b, lesson_no=6).lesson_no == 6  # grade 6: the default
    assert "from 0 to 15" in refused(lambda: school.add(school.maths_6b, lesson_no=16), "lesson_no")
    assert school.entries() == 2


def test_a_group_of_several_classes_follows_the_schedules_of_its_students_grades(school):
    first_grader = school.student("Pirmokas", "Mažasis", school.school_class(1, "a"))
    _schedule(school.session, "Pirmokai", range(1, 5), min_grade=1, max_grade=1)
    dance = school.group("Šokiai 1–5", kind="mixed", students=(first_grader,))
    assert "“Pirmokai”" in refused(lambda: school.add(dance, lesson_no=5), "lesson_no")
    empty = school.group("Būrelis", kind="mixed")  # no students yet: the default schedule
    assert "“Pagrindinis”" in refused(lambda: school.add(empty, lesson_no=8), "lesson_no")
    assert school.add(empty, lesson_no=7).lesson_no == 7


def test_without_a_bell_schedule_any_lesson_number_0_to_15_is_accepted(school):
    for schedule in school.session.scalars(select(BellSchedule)):
        school.session.delete(schedule)
    school.session.flush()
    assert school.add(school.maths_5a, lesson_no=12).lesson_no == 12


def test_entry_outside_the_school_year_is_refused(school):
    message = refused(
        lambda: school.add(school.maths_5a, valid_from=date(2026, 8, 31)), "valid_from"
    )
    assert message == (
        "The dates must be inside the school year 2026–2027 A (Sep 1, 2026 – Aug 31, 2027)."
    )
    refused(lambda: school.add(school.maths_5a, valid_to=date(2027, 9, 1)), "valid_to")
    refused(
        lambda: school.add(
            school.maths_5a, valid_from=date(2026, 10, 1), valid_to=date(2026, 9, 30)
        ),
        "valid_to",
    )
    assert school.entries() == 0


def test_inactive_or_unknown_room_is_refused(school):
    old = school.room("Senoji salė", active=False)
    message = refused(lambda: school.add(school.maths_5a, room_id=old.id), "room")
    assert message == "Room Senoji salė is no longer in use; choose another."
    refused(lambda: school.add(school.maths_5a, room_id=old.id + 1000), "room")
    assert school.entries() == 0


# --- clashes -------------------------------------------------------------------------------------


def test_same_teacher_in_two_groups_at_once_is_refused(school):
    school.add(school.maths_5a)
    school.session.add(GroupTeacher(group_id=school.maths_6b.id, teacher_id=school.ruta.id))
    school.session.flush()
    message = refused(lambda: school.add(school.maths_6b))
    assert message == ("Teacher Rūta Vaitkienė already teaches 5a matematika on Monday, lesson 3.")
    assert school.entries() == 1
    assert school.add(school.maths_6b, lesson_no=4).lesson_no == 4  # another lesson is fine


def test_double_booked_room_is_refused(school):
    school.add(school.maths_5a, room_id=school.room_101.id)
    message = refused(lambda: school.add(school.maths_6b, room_id=school.room_101.id), "room")
    assert message == "Room 101 is already taken by 5a matematika on Monday, lesson 3."
    assert school.entries() == 1
    assert school.add(school.maths_6b, room_id=school.room_102.id).room_id == school.room_102.id


def test_same_group_twice_in_one_slot_is_refused(school):
    school.add(school.maths_5a)
    message = refused(lambda: school.add(school.maths_5a))
    assert message == "5a matematika already has a lesson on Monday, lesson 3."
    assert school.entries() == 1


def test_parallel_part_groups_with_disjoint_students_are_allowed(school):
    first = school.add(school.english_5a_1, room_id=school.room_101.id)
    second = school.add(school.english_5a_2, room_id=school.room_102.id)
    assert (first.weekday, first.lesson_no) == (second.weekday, second.lesson_no)
    assert school.entries() == 2


def test_part_groups_sharing_a_student_clash_naming_the_student(school):
    school.add(school.english_5a_1)
    school.session.add(
        GroupStudent(group_id=school.english_5a_2.id, student_id=school.students_5a[0].id)
    )
    school.session.flush()
    message = refused(lambda: school.add(school.english_5a_2))
    assert message == (
        "Student Mokinys0 Penktokas already has 5a anglų k. (1 gr.) on Monday, lesson 3."
    )
    assert school.entries() == 1


def test_several_shared_students_are_named_a_few_at_most(school):
    school.add(school.english_5a_1)
    both = school.group("Dailės būrelis", kind="mixed", students=tuple(school.students_5a[:2]))
    assert refused(lambda: school.add(both)) == (
        "Students Mokinys0 Penktokas and Mokinys1 Penktokas already have 5a anglų k. (1 gr.) "
        "on Monday, lesson 3."
    )
    # a group of all 5a meets the whole-class maths: five students in common, three named
    fifth = school.student("Mokinys4", "Penktokas", school.c5a)  # in maths by being in 5a
    everyone = school.group("Choras", kind="mixed", students=(*school.students_5a, fifth))
    school.add(school.maths_5a, weekday=2)
    assert refused(lambda: school.add(everyone, weekday=2)) == (
        "Students Mokinys0 Penktokas, Mokinys1 Penktokas, Mokinys2 Penktokas, and 2 more "
        "students already have 5a matematika on Tuesday, lesson 3."
    )


def test_whole_class_group_clashes_with_anything_of_its_class(school):
    school.add(school.english_5a_1)
    message = refused(lambda: school.add(school.maths_5a))
    assert message == "Class 5a already has 5a anglų k. (1 gr.) on Monday, lesson 3."
    # also while the class list is still empty (groups without students yet)
    empty = school.school_class(7, "c")
    whole = school.group("7c lietuvių k.", school_class=empty)
    part = school.group("7c informatika (1 gr.)", kind="part", school_class=empty)
    school.add(part, lesson_no=5)
    assert refused(lambda: school.add(whole, lesson_no=5)) == (
        "Class 7c already has 7c informatika (1 gr.) on Monday, lesson 5."
    )
    assert school.entries() == 2


def test_a_group_of_several_classes_clashes_through_its_students(school):
    student_6b = school.student("Ona", "Šeštokė", school.c6b)
    choir = school.group("Choras 5–6", kind="mixed", students=(school.students_5a[3], student_6b))
    school.add(school.maths_6b, lesson_no=2)
    assert refused(lambda: school.add(choir, lesson_no=2)) == (
        "Student Ona Šeštokė already has 6b matematika on Monday, lesson 2."
    )
    school.add(school.english_5a_1, lesson_no=4)  # students 0 and 1: not in the choir
    assert school.add(choir, lesson_no=4).group_id == choir.id


def test_student_without_a_class_is_named(school):
    loner = school.person("Pavel", "Be-klasės")
    school.session.add(Student(person_id=loner.id, class_id=None))
    school.session.flush()
    chess = school.group("Šachmatai", kind="mixed", students=(loner,))
    art = school.group("Dailė", kind="mixed", students=(loner,))
    school.add(chess, weekday=2)
    assert refused(lambda: school.add(art, weekday=2)) == (
        "Student Pavel Be-klasės already has Šachmatai on Tuesday, lesson 3."
    )


def test_students_who_left_do_not_cause_clashes(school):
    leaver = school.students_5a[0]
    school.session.get(Student, leaver.id).status = "left"
    chess = school.group("Šachmatai", kind="mixed", students=(leaver,))
    school.add(school.english_5a_1)
    assert school.add(chess).group_id == chess.id


def test_no_clash_when_the_dates_do_not_overlap(school):
    school.add(school.maths_5a, room_id=school.room_101.id, valid_to=date(2026, 12, 31))
    later = school.add(school.maths_6b, room_id=school.room_101.id, valid_from=date(2027, 1, 1))
    assert later.valid_from == date(2027, 1, 1)
    art = school.group("Dailės būrelis", kind="mixed")
    overlapping = lambda: school.add(  # noqa: E731
        art, room_id=school.room_101.id, valid_from=date(2026, 12, 31)
    )
    assert refused(overlapping, "room") == (
        "Room 101 is already taken by 5a matematika on Monday, lesson 3. "
        "Room 101 is already taken by 6b matematika on Monday, lesson 3."
    )
    assert school.entries() == 2


def test_every_clash_is_named(school):
    school.add(school.maths_5a, room_id=school.room_101.id)
    school.session.add(GroupTeacher(group_id=school.maths_6b.id, teacher_id=school.ruta.id))
    school.add(school.english_5a_1, weekday=2, room_id=school.room_102.id)
    school.session.flush()
    other = school.group("6b fizika", school_class=school.c6b, teachers=(school.ruta,))
    school.add(other, weekday=2, room_id=school.room_101.id)
    message = refused(lambda: school.add(school.maths_6b, weekday=2, room_id=school.room_102.id))
    assert "Class 6b already has 6b fizika on Tuesday, lesson 3." not in message  # teacher first
    assert "Teacher Rūta Vaitkienė already teaches 6b fizika on Tuesday, lesson 3." in message
    assert "Room 102 is already taken by 5a anglų k. (1 gr.) on Tuesday, lesson 3." in message


def test_clash_detection_is_one_statement_whatever_the_number_of_students(school, count_queries):
    school.add(school.maths_5a)
    for i in range(25):
        school.student(f"Naujas{i}", "Mokinys", school.c5a)
    big = school.group(
        "Didelė grupė", kind="mixed", students=tuple(school.students_5a),
    )  # fmt: skip
    with count_queries() as queries:
        clashes = services.find_clashes(
            school.session, big, weekday=1, lesson_no=3, room_id=None,
            valid_from=school.year.starts_on, valid_to=school.year.ends_on,
        )  # fmt: skip
    assert [c.kind for c in clashes] == ["class"]
    assert len(queries) == 1, queries


def test_a_new_teacher_or_student_of_a_group_is_checked_against_its_lessons(school):
    school.add(school.maths_5a)
    school.add(school.maths_6b)
    services.refuse_group_clashes(school.session, school.maths_6b)  # no clash yet
    school.session.add(GroupTeacher(group_id=school.maths_6b.id, teacher_id=school.ruta.id))
    school.session.flush()
    message = refused(
        lambda: services.refuse_group_clashes(school.session, school.maths_6b, "teachers"),
        "teachers",
    )
    assert message == "Teacher Rūta Vaitkienė already teaches 5a matematika on Monday, lesson 3."
    assert refused(lambda: services.refuse_group_clashes(school.session, school.maths_6b)) == (
        message
    )


# --- changing and removing entries ----------------------------------------------------------------


def test_moving_from_a_date_keeps_the_history(school):
    entry = school.add(school.maths_5a, room_id=school.room_101.id)
    moved = services.move_entry(
        school.session, entry.id, weekday=3, lesson_no=5, room_id=school.room_102.id,
        from_date=date(2027, 1, 11),
    )  # fmt: skip
    assert moved.id != entry.id
    assert (entry.weekday, entry.lesson_no, entry.valid_to) == (1, 3, date(2027, 1, 10))
    assert (moved.weekday, moved.lesson_no, moved.room_id) == (3, 5, school.room_102.id)
    assert (moved.valid_from, moved.valid_to) == (date(2027, 1, 11), date(2027, 8, 31))
    assert school.entries() == 2


def test_moving_from_the_first_day_changes_the_entry_itself(school):
    entry = school.add(school.maths_5a)
    moved = services.move_entry(
        school.session, entry.id, weekday=1, lesson_no=3, room_id=school.room_101.id,
        from_date=entry.valid_from,
    )  # fmt: skip
    assert moved.id == entry.id and moved.room_id == school.room_101.id
    assert school.entries() == 1


def test_moving_into_a_clash_or_outside_the_entry_is_refused_and_changes_nothing(school):
    school.add(school.maths_6b, weekday=2, lesson_no=1, room_id=school.room_101.id)
    entry = school.add(school.maths_5a, room_id=school.room_101.id)
    move = lambda **kw: services.move_entry(  # noqa: E731
        school.session, entry.id, **{"weekday": 2, "lesson_no": 1,
                                     "room_id": school.room_101.id, **kw}
    )  # fmt: skip
    assert refused(lambda: move(from_date=date(2026, 10, 5)), "room") == (
        "Room 101 is already taken by 6b matematika on Tuesday, lesson 1."
    )
    assert "between Sep 1, 2026 and Aug 31, 2027" in refused(
        lambda: move(from_date=date(2027, 9, 1)), "from_date"
    )
    assert "Nothing would change" in refused(
        lambda: move(weekday=1, lesson_no=3, from_date=date(2026, 10, 5))
    )
    school.session.expire_all()
    assert (entry.weekday, entry.lesson_no, entry.valid_to) == (1, 3, date(2027, 8, 31))
    assert school.entries() == 2


def test_ending_an_entry_from_a_date_or_deleting_it(school):
    entry = school.add(school.maths_5a)
    assert services.end_entry(school.session, entry.id, date(2027, 2, 1)) is False
    assert entry.valid_to == date(2027, 1, 31)
    assert "already ends on Jan 31, 2027" in refused(
        lambda: services.end_entry(school.session, entry.id, date(2027, 3, 1)), "from_date"
    )
    refused(lambda: services.end_entry(school.session, entry.id, None), "from_date")
    assert services.end_entry(school.session, entry.id, None, delete=True) is True
    assert school.entries() == 0


# --- the week grid -------------------------------------------------------------------------------


def test_week_shows_each_day_the_entries_valid_that_day(school):
    entry = school.add(school.maths_5a, room_id=school.room_101.id)
    services.move_entry(
        school.session, entry.id, weekday=3, lesson_no=3, room_id=school.room_101.id,
        from_date=date(2026, 9, 9),  # the Wednesday of the first full week
    )  # fmt: skip
    schedule = school.session.scalar(select(BellSchedule))
    week = services.week(school.session, services.class_filter(school.c5a.id), MONDAY, schedule)
    assert [d.date for d in week.days] == [date(2026, 9, 7 + i) for i in range(5)]
    assert [r.lesson_no for r in week.rows] == list(range(1, 8))
    lesson_3 = week.rows[2].cells
    assert [len(c) for c in lesson_3] == [1, 0, 1, 0, 0]  # Monday still, Wednesday already
    later = services.week(
        school.session, services.class_filter(school.c5a.id), date(2026, 9, 16), schedule
    )
    assert [len(c) for c in later.rows[2].cells] == [0, 0, 1, 0, 0]


# --- pages ---------------------------------------------------------------------------------------


def as_teacher_with_person(school: School, *, may_edit: bool = False) -> Person:
    """teacher.a's person record in school A, optionally granted ``edit_timetable``."""
    person = school.person("Tomas", "Mokytojas", account_id=school.world.teacher_a.id)
    if may_edit:
        school.session.add(StaffRight(person_id=person.id, right_code="edit_timetable"))
        school.session.flush()
    return person


def test_staff_see_a_class_week_with_subject_teacher_and_room(client, school):
    school.add(school.maths_5a, room_id=school.room_101.id)
    school.add(school.english_5a_1, weekday=2, lesson_no=1, room_id=school.room_101.id)
    school.add(school.english_5a_2, weekday=2, lesson_no=1, room_id=school.room_102.id)
    school.add(school.maths_6b, weekday=4, lesson_no=1)
    login(client, "teacher.a")
    response = client.get(f"{BASE}/class/{school.c5a.id}?date=2026-09-09")
    page = text_of(response)
    assert response.status_code == 200
    assert "Timetable of class 5a" in page
    assert "matematika" in page and "Rūta Vaitkienė" in page and ">101<" in page
    assert "5a anglų k. (1 gr.)" in page and "5a anglų k. (2 gr.)" in page  # parallel halves
    assert "Jonas Petraitis" in page and ">102<" in page
    assert "6b matematika" not in page
    assert "Monday" in page and "Friday" in page and "Saturday" not in page
    assert "Edit this timetable" not in page  # a teacher without the right
    assert "08:00–08:45" in page  # lesson 1 of the bell schedule


def test_teacher_and_room_weeks(client, school):
    school.six_day_weeks()
    school.add(school.maths_5a, room_id=school.room_101.id)
    school.add(school.maths_6b, weekday=6, lesson_no=2, room_id=school.room_101.id)
    login(client, "teacher.a")
    teacher_page = text_of(client.get(f"{BASE}/teacher/{school.ruta.id}?date=2026-09-07"))
    assert "Timetable of Rūta Vaitkienė" in teacher_page
    assert "5a matematika" in teacher_page and "6b matematika" not in teacher_page
    room_page = text_of(client.get(f"{BASE}/room/{school.room_101.id}?date=2026-09-07"))
    assert "Timetable of room 101" in room_page
    assert "5a matematika" in room_page and "6b matematika" in room_page
    assert "Saturday" in room_page  # shown when a lesson is on Saturday
    assert client.get(f"{BASE}/room/{school.room_101.id + 999}").status_code == 404
    assert client.get(f"{BASE}/room/{10**30}").status_code == 404


def test_week_outside_the_year_and_a_bad_date(client, school):
    school.add(school.maths_5a)
    login(client, "admin.a")
    page = text_of(client.get(f"{BASE}/class/{school.c5a.id}?date=2027-09-06"))
    assert "This week is outside the school year 2026–2027 A" in page
    assert "5a matematika" not in page
    for bad in ("not-a-date", "0001-01-01", "9999-12-31"):
        response = client.get(f"{BASE}/class/{school.c5a.id}?date={bad}")
        assert response.status_code == 200  # the default week instead


def test_class_week_runs_the_same_few_queries_for_2_and_30_lessons(client, school, count_queries):
    small, big = school.school_class(8, "a"), school.school_class(8, "b")
    for n in range(2):
        teacher = school.person("Mokytoja", f"Mažoji{n}")
        group = school.group(f"8a dalykas {n}", school_class=small, teachers=(teacher,))
        school.add(group, weekday=1, lesson_no=n + 1, room_id=school.room(f"S{n}").id)
    for n in range(30):
        teacher = school.person("Mokytoja", f"Didžioji{n}")
        group = school.group(f"8b dalykas {n}", school_class=big, teachers=(teacher,))
        room = school.room(f"B{n}")
        school.add(group, weekday=n // 6 + 1, lesson_no=n % 6 + 1, room_id=room.id)
    login(client, "teacher.a")
    counts = []
    for school_class, expected in ((small, "8a dalykas 1"), (big, "8b dalykas 29")):
        with count_queries() as queries:
            response = client.get(f"{BASE}/class/{school_class.id}?date=2026-09-07")
        assert response.status_code == 200 and expected in text_of(response)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 12, counts


def test_index_lists_classes_teachers_and_rooms_with_few_queries(client, school, count_queries):
    school.add(school.maths_5a)
    login(client, "admin.a")
    with count_queries() as queries:
        page = text_of(client.get(f"{BASE}/"))
    assert "5a" in page and "6b" in page and "Vaitkienė Rūta" in page and ">101<" in page
    assert "Edit" in page
    assert len(queries) <= 10, queries


def test_index_offers_the_next_school_year_while_it_is_set_up(client, school):
    next_year = SchoolYear(
        name="2027–2028 A", starts_on=date(2027, 9, 1), ends_on=date(2028, 8, 31)
    )
    school.session.add(next_year)
    school.session.flush()
    later_class = SchoolClass(year_id=next_year.id, grade_level=11, letter="x")
    school.session.add(later_class)
    school.session.flush()
    login(client, "admin.a")
    page = text_of(client.get(f"{BASE}/"))
    assert "2027–2028 A" in page and "11x" not in page and ">5a<" in page
    page = text_of(client.get(f"{BASE}/?year={next_year.id}"))
    assert ">11x<" in page and ">5a<" not in page


def test_index_empty_states(client, world):
    login(client, "admin.a")
    page = text_of(client.get(f"{BASE}/"))
    assert "There are no classes in this school year yet." in page
    assert "No teacher is assigned to a group yet." in page
    assert "No rooms have been entered yet." in page


def test_students_and_guardians_do_not_see_the_set_up_pages(client, school):
    login(client, "guardian.both")
    assert client.get(f"{BASE}/").status_code == 403
    assert client.get(f"{BASE}/class/{school.c5a.id}").status_code == 403
    assert client.get(f"{BASE}/teacher/{school.ruta.id}").status_code == 403


def test_teacher_without_the_right_gets_403_on_editing_and_nothing_changes(client, school):
    entry = school.add(school.maths_5a)
    as_teacher_with_person(school)
    login(client, "teacher.a")
    assert client.get(f"{BASE}/class/{school.c5a.id}/edit").status_code == 403
    index = f"{BASE}/"
    form = {"group": school.maths_6b.id, "weekday": "2", "lesson_no": "1", "room": ""}
    add = post_form(client, f"{BASE}/class/{school.c5a.id}/edit", form, form_page=index)
    assert add.status_code == 403
    assert client.get(f"{BASE}/entries/{entry.id}/move").status_code == 403
    end = post_form(client, f"{BASE}/entries/{entry.id}/end", {"delete": "1"}, form_page=index)
    assert end.status_code == 403
    school.rebind()
    assert school.entries() == 1


def test_staff_granted_edit_timetable_may_edit(client, school):
    as_teacher_with_person(school, may_edit=True)
    login(client, "teacher.a")
    edit = f"{BASE}/class/{school.c5a.id}/edit"
    assert client.get(edit).status_code == 200
    form = {"group": school.maths_5a.id, "weekday": "2", "lesson_no": "4", "room": ""}
    response = post_form(client, edit, form)
    assert response.status_code == 302
    assert "Edit this timetable" in text_of(client.get(f"{BASE}/class/{school.c5a.id}"))
    school.rebind()
    entry = school.session.scalar(select(TimetableEntry))
    assert (entry.group_id, entry.weekday, entry.lesson_no) == (school.maths_5a.id, 2, 4)


def test_admin_adds_a_lesson_and_sees_it_listed(client, school):
    login(client, "admin.a")
    edit = f"{BASE}/class/{school.c5a.id}/edit"
    page = text_of(client.get(edit))
    assert "has no lessons in the timetable yet" in page
    assert "5a anglų k. (1 gr.)" in page  # offered in the group list
    form = {
        "group": school.maths_5a.id, "weekday": "1", "lesson_no": "3",
        "room": school.room_101.id, "valid_from": "", "valid_to": "",
    }  # fmt: skip
    response = post_form(client, edit, form, follow_redirects=True)
    page = text_of(response)
    assert "Added: 5a matematika on Monday, lesson 3." in page
    assert "Rūta Vaitkienė" in page and "Sep 1, 2026 – Aug 31, 2027" in page


def test_a_clash_in_the_form_is_shown_with_the_values_kept_and_nothing_saved(client, school):
    school.add(school.maths_5a, room_id=school.room_101.id)
    login(client, "admin.a")
    edit = f"{BASE}/class/{school.c6b.id}/edit"
    form = {
        "group": school.maths_6b.id, "weekday": "1", "lesson_no": "3",
        "room": school.room_101.id, "valid_from": "2026-09-01", "valid_to": "2027-08-31",
    }  # fmt: skip
    response = post_form(client, edit, form)
    page = text_of(response)
    assert response.status_code == 400
    assert 'id="room-error"' in page
    assert "Room 101 is already taken by 5a matematika on Monday, lesson 3." in page
    assert f'<option value="{school.maths_6b.id}" selected>' in page
    school.rebind()
    assert school.entries() == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"weekday": "7"}, "weekday", "There are no lessons on Sunday."),
        ({"weekday": "6"}, "weekday", "setting “Lessons on Saturdays (six-day weeks)” is off"),
        ({"lesson_no": "9"}, "lesson_no", "There is no lesson 9 in the bell schedule"),
        ({"lesson_no": "x"}, "lesson_no", "Enter the lesson number."),
        ({"group": ""}, "group", "Choose a group."),
        ({"group": str(10**30)}, "group", "Choose a group."),
        ({"valid_from": "2026-08-01"}, "valid_from", "inside the school year 2026–2027 A"),
        ({"valid_to": "31.12.2026"}, "valid_to", "is not a date"),
    ],
)
def test_bad_input_in_the_form_is_refused_and_nothing_saved(client, school, change, field, message):
    login(client, "admin.a")
    edit = f"{BASE}/class/{school.c5a.id}/edit"
    form = {"group": school.maths_5a.id, "weekday": "1", "lesson_no": "3", "room": "", **change}
    response = post_form(client, edit, form)
    page = text_of(response)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and message in page
    school.rebind()
    assert school.entries() == 0


def test_moving_a_lesson_through_the_form_keeps_history(client, school):
    entry = school.add(school.maths_5a, room_id=school.room_101.id)
    login(client, "admin.a")
    move = f"{BASE}/entries/{entry.id}/move"
    page = text_of(client.get(f"{move}?back={school.c5a.id}"))
    assert "5a matematika" in page and "Monday, lesson 3" in page
    form = {"weekday": "3", "lesson_no": "5", "room": school.room_102.id,
            "from_date": "2027-01-11", "back": school.c5a.id}  # fmt: skip
    response = post_form(client, move, form, form_page=move)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/timetable/class/{school.c5a.id}/edit")
    school.rebind()
    school.session.expire_all()
    rows = school.session.execute(
        select(TimetableEntry.weekday, TimetableEntry.lesson_no, TimetableEntry.valid_from,
               TimetableEntry.valid_to).order_by(TimetableEntry.valid_from)
    ).all()  # fmt: skip
    assert rows == [
        (1, 3, date(2026, 9, 1), date(2027, 1, 10)),
        (3, 5, date(2027, 1, 11), date(2027, 8, 31)),
    ]


def test_moving_into_a_clash_through_the_form_shows_it_and_saves_nothing(client, school):
    school.add(school.english_5a_1, weekday=2, lesson_no=1)
    entry = school.add(school.maths_5a)
    login(client, "admin.a")
    move = f"{BASE}/entries/{entry.id}/move"
    form = {"weekday": "2", "lesson_no": "1", "room": "", "from_date": "2026-09-01"}
    response = post_form(client, move, form)
    assert response.status_code == 400
    assert "Class 5a already has 5a anglų k. (1 gr.) on Tuesday, lesson 1." in text_of(response)
    school.rebind()
    school.session.expire_all()
    assert (entry.weekday, entry.lesson_no) == (1, 3)


def test_removing_a_lesson_from_a_date_and_deleting_one(client, school):
    kept = school.add(school.maths_5a)
    mistake = school.add(school.maths_6b)
    login(client, "admin.a")
    end = f"{BASE}/entries/{kept.id}/end"
    assert "First day without this lesson" in text_of(client.get(end))
    response = post_form(client, end, {"from_date": "2027-02-01"}, follow_redirects=True)
    assert "the last lesson is on Jan 31, 2027" in text_of(response)
    bad = post_form(client, end, {"from_date": "2028-01-01"}, form_page=end)
    assert bad.status_code == 400 and "already ends on Jan 31, 2027" in text_of(bad)
    delete = f"{BASE}/entries/{mistake.id}/end"
    response = post_form(client, delete, {"delete": "1"}, follow_redirects=True)
    assert "Deleted: 6b matematika on Monday, lesson 3." in text_of(response)
    school.rebind()
    school.session.expire_all()
    assert school.session.scalars(select(TimetableEntry.valid_to)).all() == [date(2027, 1, 31)]
    assert client.get(delete).status_code == 404


def test_my_timetable_for_a_teacher(client, school):
    login(client, "teacher.a")
    response = client.get(f"{BASE}/my", follow_redirects=True)
    assert "not linked to a person of this school" in text_of(response)
    school.rebind()
    person = as_teacher_with_person(school)
    school.session.add(GroupTeacher(group_id=school.maths_6b.id, teacher_id=person.id))
    school.add(school.maths_6b)
    response = client.get(f"{BASE}/my?date=2026-09-07&person_id=1")
    assert response.headers["Location"].endswith(f"/timetable/teacher/{person.id}?date=2026-09-07")
    assert "6b matematika" in text_of(client.get(response.headers["Location"]))


def test_school_b_is_never_visible(client, db_session, world, school):
    school.add(school.maths_5a)
    bind_to_school(db_session, world.school_b)
    b = School(db_session, world, db_session.scalar(select(SchoolYear)))
    b_class = b.school_class(9, "z")
    b_teacher = b.person("Бета", "Учительница")
    b_group = b.group("9z Бета-физика", school_class=b_class, teachers=(b_teacher,))
    b.add(b_group, room_id=b.room("Бета-зал").id)
    ids = (b_class.id, b_teacher.id)
    school.rebind()

    login(client, "admin.a")
    for path in ("/", f"/class/{school.c5a.id}?date=2026-09-07", f"/teacher/{school.ruta.id}"):
        page = text_of(client.get(BASE + path))
        assert "Бета" not in page and "9z" not in page
    if ids[0] not in (school.c5a.id, school.c6b.id):
        assert client.get(f"{BASE}/class/{ids[0]}").status_code == 404
    assert client.get(f"/s/school-b/timetable/class/{b_class.id}").status_code == 403

    login(client2 := client.application.test_client(), "guardian.both")
    assert client2.get(f"/s/school-b/timetable/class/{b_class.id}").status_code == 403


def test_adding_students_to_a_group_refuses_a_clash_with_their_lessons(school, english):
    from school.classes import services as classes

    school.add(school.maths_5a, weekday=1, lesson_no=3)
    club = school.group("Dailės būrelis", kind="mixed")
    school.add(club, weekday=1, lesson_no=3)
    request = school.session.begin_nested()  # what a request rolls back on the refusal
    message = refused(
        lambda: classes.add_students(school.session, club, [school.students_5a[0].id]), "students"
    )
    request.rollback()
    # the student added is named, not their class (the club is no group of class 5a)
    assert message == "Student Mokinys0 Penktokas already has 5a matematika on Monday, lesson 3."
    count = school.session.scalar(
        select(func.count()).select_from(GroupStudent).where(GroupStudent.group_id == club.id)
    )
    assert count == 0


def test_adding_a_teacher_to_a_group_refuses_a_clash_with_their_lessons(school, english):
    from school.classes import services as classes

    teacher = school.person("Tomas", "Mokytojas", account_id=school.world.teacher_a.id)
    school.session.add(GroupTeacher(group_id=school.maths_5a.id, teacher_id=teacher.id))
    school.session.flush()
    school.add(school.maths_5a, weekday=2, lesson_no=4)
    school.add(school.maths_6b, weekday=2, lesson_no=4)
    update = lambda: classes.update_group(  # noqa: E731
        school.session, school.world.school_a, school.maths_6b,
        name=school.maths_6b.name, subject_id=school.maths_6b.subject_id, teacher_ids=[teacher.id],
    )  # fmt: skip
    message = refused(update, "teachers")
    assert "Tomas Mokytojas" in message and "5a matematika" in message


def test_moving_a_student_to_another_class_moves_their_groups(school, english):
    from datetime import date as day

    from accounts.models import Account
    from school.people import services as people

    student = school.session.get(Student, school.students_5a[0].id)
    club = school.group("Dailės būrelis", kind="mixed", students=(school.students_5a[0],))
    admin = school.session.scalar(select(Account).where(Account.login == "admin.a"))
    details = people.PersonDetails.of(student.person)
    details.document_kind, details.document_number = "other", "P-1"
    details.birth_date = day(2015, 1, 1)
    people.update_student(
        school.session, admin, school.world.school_a, student, details, school.c6b.id
    )
    groups = set(
        school.session.scalars(
            select(GroupStudent.group_id).where(GroupStudent.student_id == student.person_id)
        )
    )
    assert groups == {school.maths_6b.id, club.id}  # not 5a's groups any more; the club stays
