"""Transfers: leaving into the pool, searching it, claiming with the history carried over,
returning a mistaken claim, and the refusals of each (nothing saved)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from accounts.models import Account, Role, SchoolGrant
from accounts.services import roles_in_school
from classroom import FIRST_TERM, SECOND_TERM, Classroom, new_account
from dienynas.database import SchoolModel
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from gradebook.attendance import services as attendance
from gradebook.attendance.models import Attendance
from gradebook.grades import services as grades
from gradebook.grades.models import Grade, GradeChange, TermGrade
from gradebook.lessons.models import Lesson
from gradebook.overview.services import recent_grades_by_teacher
from gradebook.remarks.models import Remark
from school.calendar.models import SchoolYear
from school.calendar.services import create_year, set_terms
from school.classes import services as classes
from school.classes.models import Group, GroupStudent, SchoolClass
from school.curriculum.models import AssessmentKind, GradeScale, Subject
from school.people.models import Guardianship, Person, Student
from school.people.services import open_classes
from tenants.binding import session_binding
from tenants.models import School
from tenants.services import bind_to_school
from transfers import services
from transfers.models import CarriedRecord, PoolEntry, TransferLog

TODAY = date(2026, 10, 15)
CODE = "50909151234"  # a valid-looking code (not checked here: the pool stores what was kept)


def switch(session: Session, school: School) -> None:
    """Bind the test's one session to ``school``. Rows of two schools share primary keys
    (class 1 of school A, class 1 of school B) but not an identity map slot: the previous
    school's rows leave the session first (a view or command only ever sees one school)."""
    current = session_binding(session)
    if current is not None and current.school_id == school.id:
        return
    session.flush()
    for instance in list(session.identity_map.values()):
        if isinstance(instance, SchoolModel) and instance in session:
            session.expunge(instance)
    bind_to_school(session, school)


@dataclass
class Receiving:
    school: School
    c5a: SchoolClass
    maths: Group
    director: Account
    teacher: Account


def build_receiving(session: Session, school: School, slug_prefix: str = "b") -> Receiving:
    """The receiving school (bound to it): its year's semesters, class 5a with a maths group
    (same code, another name) and a physics group; no English; a director and a teacher."""
    switch(session, school)
    year = session.scalar(select(SchoolYear).order_by(SchoolYear.starts_on).limit(1))
    set_terms(session, year, "semester", [FIRST_TERM, SECOND_TERM])
    c5a = SchoolClass(year_id=year.id, grade_level=5, letter="a")
    session.add(c5a)
    scale = session.scalar(select(GradeScale).where(GradeScale.code == "ten_point"))
    maths_subject = Subject(code="MAT", name="Математика", scale_id=scale.id)
    physics = Subject(code="FIZ", name="Физика", scale_id=scale.id)
    session.add_all([maths_subject, physics])
    session.flush()
    maths = Group(year_id=year.id, subject_id=maths_subject.id, name="5а математика",
                  kind="class", class_id=c5a.id)  # fmt: skip
    session.add_all(
        [
            maths,
            Group(year_id=year.id, subject_id=physics.id, name="5а физика", kind="class",
                  class_id=c5a.id),
        ]
    )  # fmt: skip
    session.flush()
    director = new_account(
        session, school, f"director.{slug_prefix}", "Директор", Role.DIRECTOR, locale="en"
    )
    teacher = new_account(
        session, school, f"teacher.{slug_prefix}", "Учитель", Role.TEACHER, locale="en"
    )
    return Receiving(school, c5a, maths, director, teacher)


def write_history(session: Session, room: Classroom) -> dict[str, int]:
    """Grades (maths ×2, English ×1), a maths term grade, three attendance marks and a remark
    for students[0] in school A (bound to it)."""
    pupil = room.students[0].id
    term = room.terms[0]
    test_kind = session.scalar(select(AssessmentKind.id).where(AssessmentKind.code == "test"))
    teacher = room.account("teacher").id
    session.add_all(
        [
            Grade(student_id=pupil, group_id=room.maths.id, on_day=date(2026, 9, 7),
                  term_id=term.id, value="9", kind_id=test_kind, comment="Gerai",
                  created_by=teacher),
            Grade(student_id=pupil, group_id=room.maths.id, on_day=date(2026, 9, 9),
                  term_id=term.id, value="7", created_by=teacher),
            Grade(student_id=pupil, group_id=room.english.id, on_day=date(2026, 9, 8),
                  term_id=term.id, value="10", created_by=teacher),
            TermGrade(student_id=pupil, group_id=room.maths.id, year_id=room.year.id,
                      term_id=term.id, value="8", suggested="8"),
        ]
    )  # fmt: skip
    lessons = [
        Lesson(group_id=room.maths.id, on_day=date(2026, 9, 7), lesson_no=1, term_id=term.id),
        Lesson(group_id=room.maths.id, on_day=date(2026, 9, 9), lesson_no=2, term_id=term.id),
        Lesson(group_id=room.english.id, on_day=date(2026, 9, 8), lesson_no=1, term_id=term.id),
    ]
    session.add_all(lessons)
    session.flush()
    session.add_all(
        Attendance(lesson_id=lesson.id, student_id=pupil, mark=mark, marked_by=teacher)
        for lesson, mark in zip(lessons, ["absent", "late", "absent"], strict=True)
    )
    session.add(
        Remark(student_id=pupil, group_id=room.maths.id, kind="praise", text="Puikiai dirbo",
               on_day=date(2026, 9, 9), written_by=teacher)
    )  # fmt: skip
    person = session.get(Person, pupil)
    person.personal_code, person.document_kind = CODE, "personal_code"
    person.birth_date = date(2009, 9, 15)
    for student in session.scalars(select(Student)):
        student.enrolled_on = date(2026, 9, 1)
    session.flush()
    return {"grades": 3, "term_grades": 1, "attendance": 3, "remarks": 1}


@pytest.fixture
def transfer(classroom: Classroom, world, db_session):
    """School A with history written for students[0]; school B ready to receive."""
    write_history(db_session, classroom)
    receiving = build_receiving(db_session, world.school_b)
    switch(db_session, world.school_a)
    return classroom, receiving


def leave(session, room: Classroom, school: School, **kwargs) -> PoolEntry:
    args = {
        "student_id": room.students[0].id, "left_on": TODAY, "reason": "Moved to Vilnius",
        "destination_kind": "municipality", "to_school_id": None, "today": TODAY,
    }  # fmt: skip
    args.update(kwargs)
    switch(session, school)
    return services.leave_student(session, room.account(kwargs.pop("actor", "head")), school,
                                  **{k: v for k, v in args.items() if k != "actor"})  # fmt: skip


def claim(session, receiving: Receiving, entry_id: int, actor: Account | None = None):
    switch(session, receiving.school)
    return services.claim_student(
        session, actor or receiving.director, receiving.school, pool_id=entry_id,
        class_id=receiving.c5a.id, today=TODAY,
    )  # fmt: skip


def pool_count(session) -> int:
    return session.scalar(select(func.count(PoolEntry.id)))


# --- leaving --------------------------------------------------------------------------------


def test_leaving_marks_the_student_left_and_puts_the_record_in_the_pool(
    transfer, db_session, world
):
    room, _receiving = transfer
    entry = leave(db_session, room, world.school_a, to_school_id=world.school_b.id)
    student = db_session.get(Student, room.students[0].id)
    assert (student.status, student.left_on) == ("left", TODAY)
    assert Role.STUDENT not in roles_in_school(room.account("student"), world.school_a)
    assert (entry.status, entry.from_school_id, entry.to_school_id) == (
        "in_pool",
        world.school_a.id,
        world.school_b.id,
    )
    assert (entry.first_name, entry.grade_level, entry.personal_code) == ("Agnė", 5, CODE)
    record = entry.record
    assert len(record["grades"]) == 3 and len(record["term_grades"]) == 1
    assert len(record["attendance"]) == 3 and len(record["remarks"]) == 1
    graded = {(g["subject_code"], g["value"], g["kind_code"]) for g in record["grades"]}
    assert ("MAT", "9", "test") in graded and ("ANG", "10", None) in graded
    assert record["guardians"] == [
        {
            "account_id": world.guardian_both.id, "first_name": "Irena", "last_name": "Globėja",
            "relation": "mother", "email": None, "phone": None, "locale": None,
            "document_kind": "other", "personal_code": None, "document_number": None,
        }
    ]  # fmt: skip
    assert record["student"]["account_id"] == room.account("student").id
    log = db_session.scalars(select(TransferLog).where(TransferLog.pool_id == entry.id)).one()
    assert (log.action, log.from_school_id, log.to_school_id) == (
        "left",
        world.school_a.id,
        world.school_b.id,
    )
    assert log.actor_id == room.account("head").id


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"left_on": date(2020, 1, 1)}, "cannot leave before they were enrolled"),
        ({"left_on": TODAY + timedelta(days=1)}, "cannot be in the future"),
        ({"to_school_id": "own"}, "cannot move to the school they are leaving"),
        ({"to_school_id": 10**12}, "no such school in the municipality"),
        ({"destination_kind": "moon"}, "Choose where the student is going"),
        ({"reason": "x" * 501}, "at most 500 characters"),
    ],
)
def test_leaving_bad_input_is_refused_and_nothing_saved(
    transfer, db_session, world, kwargs, message
):
    room, _receiving = transfer
    if kwargs.get("to_school_id") == "own":
        kwargs["to_school_id"] = world.school_a.id
    student = db_session.get(Student, room.students[0].id)
    student.enrolled_on = date(2026, 9, 1)
    db_session.flush()
    with pytest.raises(ServiceError, match=message):
        leave(db_session, room, world.school_a, **kwargs)
    assert db_session.get(Student, room.students[0].id).status == "active"
    assert pool_count(db_session) == 0


def test_leaving_twice_is_refused(transfer, db_session, world):
    room, _receiving = transfer
    leave(db_session, room, world.school_a)
    with pytest.raises(ServiceError, match="already in the pool"):
        leave(db_session, room, world.school_a)
    assert pool_count(db_session) == 1


def test_only_the_administrator_and_the_class_head_mark_a_student_leaving(
    transfer, db_session, world
):
    room, _receiving = transfer
    for actor in ("teacher", "director", "student"):
        with pytest.raises(PermissionDenied):
            leave(db_session, room, world.school_a, actor=actor)
    assert pool_count(db_session) == 0
    entry = leave(db_session, room, world.school_a, actor="admin")
    assert entry.status == "in_pool"


def test_the_records_of_a_student_who_left_are_read_only(transfer, db_session, world):
    room, _receiving = transfer
    teacher = room.account("teacher")
    grade = db_session.scalars(select(Grade).where(Grade.value == "7")).one()
    leave(db_session, room, world.school_a)
    maths = db_session.get(Group, room.maths.id)
    with pytest.raises(ServiceError, match="has left the school"):
        grades.add_grade(
            db_session, teacher, world.school_a, group=maths,
            student_id=room.students[0].id, value="8", on_day=date(2026, 10, 14), today=TODAY,
        )  # fmt: skip
    with pytest.raises(ServiceError, match="has left the school"):
        grades.change_grade(
            db_session, teacher, world.school_a, grade, value="8", kind_id=None, comment=None,
            today=TODAY,
        )  # fmt: skip
    with pytest.raises(ServiceError, match="has left the school"):
        grades.delete_grade(db_session, teacher, world.school_a, grade, today=TODAY)
    # the other students are graded as before
    grades.add_grade(
        db_session, teacher, world.school_a, group=maths, student_id=room.students[1].id,
        value="8", on_day=date(2026, 10, 14), today=TODAY,
    )  # fmt: skip
    assert db_session.get(Grade, grade.id).value == "7"


def test_attendance_of_a_student_who_left_is_read_only(transfer, db_session, world):
    room, _receiving = transfer
    teacher = room.account("teacher")
    leaver, other = room.students[0].id, room.students[1].id
    leave(db_session, room, world.school_a)
    lesson = db_session.scalars(
        select(Lesson).where(Lesson.group_id == room.maths.id, Lesson.on_day == date(2026, 9, 7))
    ).one()
    with pytest.raises(ServiceError, match="has left the school"):
        attendance.mark_attendance(db_session, teacher, world.school_a, lesson, leaver, "late",
                                   today=TODAY)  # fmt: skip
    with pytest.raises(ServiceError, match="has left the school"):
        attendance.mark_lesson(db_session, teacher, world.school_a, lesson,
                               {leaver: "", other: "late"}, today=TODAY)  # fmt: skip
    # the whole sheet sent back with the leaver's mark unchanged saves the others
    marks = attendance.mark_lesson(db_session, teacher, world.school_a, lesson,
                                   {leaver: "absent", other: "late"}, today=TODAY)  # fmt: skip
    assert {k: v.mark for k, v in marks.items()} == {leaver: "absent", other: "late"}


# --- the pool -------------------------------------------------------------------------------


def test_the_pool_shows_minimal_fields_and_finds_by_exact_personal_code(
    transfer, db_session, world
):
    room, _receiving = transfer
    entry = leave(db_session, room, world.school_a, to_school_id=world.school_b.id)
    entry.entered_at = datetime(2026, 10, 15, 9, 0, tzinfo=UTC)
    later = TODAY + timedelta(days=3)
    rows = services.search_pool(db_session, school=world.school_b, today=later)
    assert rows == [
        services.PoolRow(
            id=entry.id, first_name="Agnė", last_name="Ambrazaitė", birth_year=2009,
            from_school_id=world.school_a.id, from_school_name="Alpha progimnazija",
            grade_level=5, days_in_pool=3,
            heading_here=True,
        )
    ]  # fmt: skip
    assert set(vars(rows[0])) == {
        "id", "first_name", "last_name", "birth_year", "from_school_id", "from_school_name",
        "grade_level", "days_in_pool", "heading_here",
    }  # fmt: skip
    search = lambda **kw: [r.id for r in services.search_pool(db_session, today=TODAY, **kw)]  # noqa: E731
    assert search(personal_code=CODE) == [entry.id]
    assert search(personal_code=CODE[:6]) == []
    assert search(text="agn") == [entry.id] and search(text="ambr agn") == [entry.id]
    assert search(text="agn butk") == []
    assert search(birth_date=date(2009, 9, 15)) == [entry.id]
    assert search(birth_date=date(2009, 9, 16)) == []
    assert search(grade_level=5, from_school_id=world.school_a.id) == [entry.id]
    assert search(grade_level=6) == [] and search(from_school_id=world.school_b.id) == []
    assert search(min_days=30) == []
    heading = services.search_pool(db_session, school=world.school_a, today=TODAY)
    assert heading[0].heading_here is False


def test_days_in_the_pool_count_the_municipalitys_days(transfer, db_session, world):
    """Left at 00:30 in Vilnius (21:30 UTC the day before): 0 days that day, not 1."""
    room, _receiving = transfer
    entry = leave(db_session, room, world.school_a)
    entry.entered_at = datetime(2026, 10, 14, 21, 30, tzinfo=UTC)  # 00:30 on 15 October, EEST
    db_session.flush()
    [row] = services.search_pool(db_session, today=TODAY)
    assert row.days_in_pool == 0
    assert services.search_pool(db_session, today=TODAY, min_days=1) == []
    [row] = services.search_pool(db_session, today=TODAY + timedelta(days=1), min_days=1)
    assert row.days_in_pool == 1


def test_who_sees_the_pool_and_the_full_record(transfer, db_session, world):
    room, receiving = transfer
    entry = leave(db_session, room, world.school_a)
    assert services.may_see_pool(receiving.director, world.school_b)
    assert not services.may_see_pool(receiving.teacher, world.school_b)
    assert not services.may_see_pool(room.account("teacher"), world.school_a)
    assert services.may_read_record(room.account("head"), world.school_a, entry)
    assert not services.may_read_record(receiving.director, world.school_b, entry)
    claim(db_session, receiving, entry.id)
    assert services.may_read_record(receiving.director, world.school_b, entry)
    assert not services.may_read_record(receiving.teacher, world.school_b, entry)


# --- claiming -------------------------------------------------------------------------------


def test_claim_creates_the_student_with_guardians_and_carries_the_history(
    transfer, db_session, world
):
    room, receiving = transfer
    left = write_counts = {"grades": 3, "term_grades": 1, "attendance": 3, "remarks": 1}
    entry = leave(db_session, room, world.school_a)
    summary = claim(db_session, receiving, entry.id)
    assert summary.as_dict() == {
        "pool_id": entry.id, "school": "school-b", "student_id": summary.student_id,
        "class_name": "5a", "grades": 3, "term_grades": 1, "attendance": 3, "remarks": 1,
        "grades_mapped": 2, "term_grades_mapped": 1, "carried": 5,
    }  # fmt: skip
    session = db_session
    student = session.get(Student, summary.student_id)
    assert (student.status, student.class_id, student.enrolled_on) == (
        "active",
        receiving.c5a.id,
        TODAY,
    )
    person = student.person
    assert (person.first_name, person.personal_code, person.account_id) == (
        "Agnė",
        CODE,
        room.account("student").id,
    )
    groups = set(session.scalars(select(GroupStudent.group_id).where(
        GroupStudent.student_id == person.id)))  # fmt: skip
    assert receiving.maths.id in groups and len(groups) == 2
    # the guardian: the same account, the guardian role here
    guardian = session.scalars(
        select(Person).join(Guardianship, Guardianship.guardian_id == Person.id)
        .where(Guardianship.student_id == person.id)
    ).one()  # fmt: skip
    assert guardian.account_id == world.guardian_both.id
    student_account = session.get(Account, room.account("student").id)
    guardian_account = session.get(Account, world.guardian_both.id)
    session.refresh(student_account), session.refresh(guardian_account)
    assert Role.STUDENT in roles_in_school(student_account, world.school_b)
    assert Role.GUARDIAN in roles_in_school(guardian_account, world.school_b)
    # maths mapped by code into this school's group, with its date, kind and term
    mapped = session.scalars(
        select(Grade).where(Grade.student_id == person.id).order_by(Grade.on_day)
    ).all()
    assert [(g.group_id, g.on_day, g.value, g.comment) for g in mapped] == [
        (receiving.maths.id, date(2026, 9, 7), "9", "Gerai"),
        (receiving.maths.id, date(2026, 9, 9), "7", None),
    ]
    assert mapped[0].kind.code == "test" and mapped[1].kind_id is None
    # entered here by the claimer, given in the leaving school: shown so in the journal and
    # the diary, and not counted as the claimer's grades in the director's overview
    assert {(g.created_by, g.origin) for g in mapped} == {
        (receiving.director.id, "Alpha progimnazija")
    }
    year = session.get(SchoolYear, receiving.c5a.year_id)
    director_name = session.get(Account, receiving.director.id).name
    assert director_name not in {
        row.name for row in recent_grades_by_teacher(session, year, TODAY) if row.grades
    }
    changes = session.scalars(select(GradeChange).where(GradeChange.student_id == person.id))
    assert sorted((c.action, c.new_value) for c in changes) == [("create", "7"), ("create", "9")]
    history = grades.grade_history(
        session, session.get(Account, receiving.director.id), world.school_b, student_id=person.id
    )
    assert {(row.change.new_value, row.origin) for row in history} == {
        ("7", "Alpha progimnazija"), ("9", "Alpha progimnazija")
    }  # fmt: skip
    term_grade = session.scalars(select(TermGrade).where(TermGrade.student_id == person.id)).one()
    assert (term_grade.group_id, term_grade.value) == (receiving.maths.id, "8")
    carried = session.scalars(
        select(CarriedRecord).where(CarriedRecord.student_id == person.id)
    ).all()
    by_kind = {}
    for row in carried:
        by_kind.setdefault(row.kind, []).append(row)
    assert [(r.subject_code, r.value) for r in by_kind["grade"]] == [("ANG", "10")]
    assert sorted(r.value for r in by_kind["attendance"]) == ["absent", "absent", "late"]
    assert by_kind["remark"][0].details == {"text": "Puikiai dirbo"}
    assert {r.from_school_name for r in carried} == {"Alpha progimnazija"}
    assert {r.pool_id for r in carried} == {entry.id}
    # counts that arrived (mapped + carried) equal those that left
    arrived = {
        "grades": len(mapped) + len(by_kind["grade"]),
        "term_grades": 1 + len(by_kind.get("term_grade", [])),
        "attendance": len(by_kind["attendance"]),
        "remarks": len(by_kind["remark"]),
    }
    assert arrived == left == write_counts
    session.refresh(entry)
    assert (entry.status, entry.claimed_school_id, entry.claimed_person_id) == (
        "claimed",
        world.school_b.id,
        person.id,
    )
    assert entry.claimed_by == receiving.director.id
    log = session.scalars(
        select(TransferLog).where(TransferLog.pool_id == entry.id, TransferLog.action == "claimed")
    ).one()
    assert (log.from_school_id, log.to_school_id) == (world.school_a.id, world.school_b.id)
    assert services.search_pool(session, today=TODAY) == []


def test_grades_from_a_hospital_school_keep_where_they_were_given(transfer, db_session, world):
    """Carried as data: mapped into this school's group or kept as a carried record, the
    grade still says which school gave it."""
    room, receiving = transfer
    pupil, term = room.students[0].id, room.terms[0]
    db_session.add_all(
        [
            Grade(student_id=pupil, group_id=group.id, on_day=date(2026, 9, 10),
                  term_id=term.id, value="8", origin="Vaikų ligoninės mokykla",
                  created_by=room.account("head").id)
            for group in (room.maths, room.english)
        ]
    )  # fmt: skip
    db_session.flush()
    entry = leave(db_session, room, world.school_a)
    summary = claim(db_session, receiving, entry.id)
    mapped = db_session.scalar(
        select(Grade).where(
            Grade.student_id == summary.student_id, Grade.on_day == date(2026, 9, 10)
        )
    )
    assert (mapped.group_id, mapped.origin) == (receiving.maths.id, "Vaikų ligoninės mokykla")
    carried = db_session.scalars(
        select(CarriedRecord).where(
            CarriedRecord.student_id == summary.student_id, CarriedRecord.kind == "grade",
            CarriedRecord.on_day == date(2026, 9, 10),
        )
    ).one()  # fmt: skip
    assert carried.details["origin"] == "Vaikų ligoninės mokykla"


def test_a_second_claim_is_refused_with_a_clear_message(transfer, db_session, world):
    room, receiving = transfer
    entry = leave(db_session, room, world.school_a)
    claim(db_session, receiving, entry.id)
    with pytest.raises(ServiceError, match="already claimed this student"):
        claim(db_session, receiving, entry.id)
    switch(db_session, world.school_a)
    with pytest.raises(ServiceError, match="already been claimed by another school"):
        services.claim_by_class_name(
            db_session, room.account("admin"), world.school_a, pool_id=entry.id,
            class_name="5a", today=TODAY,
        )  # fmt: skip


def test_claim_refusals_save_nothing(transfer, db_session, world):
    room, receiving = transfer
    entry = leave(db_session, room, world.school_a)
    db_session.commit()
    switch(db_session, world.school_b)
    people = db_session.scalar(select(func.count(Person.id)))
    with pytest.raises(PermissionDenied):
        claim(db_session, receiving, entry.id, actor=receiving.teacher)
    with pytest.raises(NotFound):
        claim(db_session, receiving, 10**12)
    with pytest.raises(ServiceError, match="Choose a class of this school year or of the next"):
        services.claim_student(db_session, receiving.director, world.school_b,
                               pool_id=entry.id, class_id=10**12, today=TODAY)  # fmt: skip
    with pytest.raises(ServiceError, match="no class “9z”"):
        services.claim_by_class_name(db_session, receiving.director, world.school_b,
                                     pool_id=entry.id, class_name="9z", today=TODAY)  # fmt: skip
    db_session.rollback()
    switch(db_session, world.school_b)
    assert db_session.scalar(select(func.count(Person.id))) == people
    assert db_session.get(PoolEntry, entry.id).status == "in_pool"


def test_a_student_coming_back_to_a_school_they_left_returns_on_their_own_record(
    transfer, db_session, world
):
    room, _receiving = transfer
    entry = leave(db_session, room, world.school_a)
    switch(db_session, world.school_a)
    people = db_session.scalar(select(func.count(Person.id)))
    summary = services.claim_student(
        db_session, room.account("admin"), world.school_a, pool_id=entry.id,
        class_id=room.c5a.id, today=TODAY + timedelta(days=1),
    )  # fmt: skip
    assert summary.student_id == room.students[0].id
    assert db_session.scalar(select(func.count(Person.id))) == people
    student = db_session.get(Student, room.students[0].id)
    assert (student.status, student.left_on) == ("active", None)
    # the grades it still had are not doubled: the carried ones went to carried records
    # where the term grade already exists, and grades are added next to the old ones
    assert db_session.scalar(
        select(func.count(TermGrade.id)).where(TermGrade.student_id == student.person_id)
    ) == 1  # fmt: skip
    # returning the claim restores the leaving state
    services.return_to_pool(db_session, room.account("admin"), world.school_a,
                            pool_id=entry.id, today=TODAY + timedelta(days=2))  # fmt: skip
    student = db_session.get(Student, room.students[0].id)
    assert (student.status, student.left_on) == ("left", TODAY)
    assert db_session.scalar(
        select(func.count(Grade.id)).where(Grade.student_id == student.person_id)
    ) == 3  # fmt: skip


# --- across the summer -------------------------------------------------------------------------

NEXT_YEAR = ("2027–2028", date(2027, 9, 1), date(2028, 8, 31))
NEXT_TERMS = [(date(2027, 9, 1), date(2028, 1, 31)), (date(2028, 2, 1), date(2028, 6, 30))]


def next_year_class(session: Session, school: School, grade_level: int) -> SchoolClass:
    """Next school year (with its semesters) and a class of it in ``school`` (bound to it),
    with its maths group, as the year's end leaves them once the classes were moved up."""
    switch(session, school)
    name, starts_on, ends_on = NEXT_YEAR
    year = create_year(session, name=name, starts_on=starts_on, ends_on=ends_on)
    set_terms(session, year, "semester", NEXT_TERMS)
    school_class = SchoolClass(year_id=year.id, grade_level=grade_level, letter="a")
    session.add(school_class)
    session.flush()
    maths = session.scalar(select(Subject.id).where(Subject.code == "MAT"))
    session.add(Group(year_id=year.id, subject_id=maths, name=f"{grade_level}a MAT",
                      kind="class", class_id=school_class.id))  # fmt: skip
    session.flush()
    return school_class


def test_a_student_leaving_after_the_classes_moved_up_takes_the_finished_years_history(
    transfer, db_session, world
):
    """Moved up into 6a for September, the student leaves in August: the record holds the
    year they studied in (its grades, term grade, attendance and remark), not the empty one
    to come; the grade level is the one they go into."""
    room, _receiving = transfer
    c6a = next_year_class(db_session, world.school_a, 6)
    db_session.get(Student, room.students[0].id).class_id = c6a.id
    summer = date(2027, 8, 10)
    entry = leave(db_session, room, world.school_a, left_on=summer, today=summer, actor="admin")
    record = entry.record
    assert record["year"]["name"] == "2026–2027 A"
    assert (len(record["grades"]), len(record["term_grades"]), len(record["attendance"]),
            len(record["remarks"])) == (3, 1, 3, 1)  # fmt: skip
    assert (record["student"]["class_name"], entry.grade_level) == ("6a", 6)


def test_a_claim_in_the_summer_joins_next_years_class_and_carries_last_years_results(
    transfer, db_session, world
):
    """Claimed in August into next year's 6a, last year's term grade is not this year's: it
    is carried with the grades (no term of the new year holds their days), nothing dropped."""
    room, receiving = transfer
    summer = date(2027, 8, 20)
    entry = leave(db_session, room, world.school_a, left_on=date(2027, 6, 20), today=summer)
    c6a = next_year_class(db_session, world.school_b, 6)
    summary = services.claim_student(
        db_session, receiving.director, world.school_b, pool_id=entry.id, class_id=c6a.id,
        today=summer,
    )  # fmt: skip
    assert (summary.class_name, summary.grades_mapped, summary.term_grades_mapped) == ("6a", 0, 0)
    assert summary.carried == 3 + 1 + 3 + 1
    person_id = summary.student_id
    assert db_session.get(Student, person_id).class_id == c6a.id
    assert db_session.scalar(select(func.count()).where(TermGrade.student_id == person_id)) == 0
    carried = db_session.scalars(
        select(CarriedRecord.value).where(
            CarriedRecord.student_id == person_id, CarriedRecord.kind == "term_grade"
        )
    ).all()
    assert carried == ["8"]


def test_a_claim_is_refused_into_a_class_of_a_year_that_has_ended(transfer, db_session, world):
    room, receiving = transfer
    autumn = date(2027, 9, 6)
    entry = leave(db_session, room, world.school_a, left_on=autumn, today=autumn)
    c6a = next_year_class(db_session, world.school_b, 6)
    db_session.commit()
    with pytest.raises(ServiceError, match="Choose a class of this school year or of the next"):
        services.claim_student(
            db_session, receiving.director, world.school_b, pool_id=entry.id,
            class_id=receiving.c5a.id, today=autumn,
        )  # fmt: skip
    db_session.rollback()
    switch(db_session, world.school_b)
    summary = services.claim_student(
        db_session, receiving.director, world.school_b, pool_id=entry.id, class_id=c6a.id,
        today=autumn,
    )  # fmt: skip
    assert summary.class_name == "6a"


def test_the_classes_to_claim_into_are_this_years_and_next_years(transfer, db_session, world):
    room, receiving = transfer
    summer = date(2027, 8, 20)
    entry = leave(db_session, room, world.school_a, left_on=summer, today=summer)
    next_year_class(db_session, world.school_b, 6)
    this_year = db_session.get(SchoolYear, receiving.c5a.year_id).name
    listed = [
        (year.name, [c.name for c in classes]) for year, classes in open_classes(db_session, summer)
    ]
    assert listed == [(this_year, ["5a"]), ("2027–2028", ["6a"])]
    assert [y.name for y, _c in open_classes(db_session, date(2027, 9, 1))] == ["2027–2028"]
    with pytest.raises(ServiceError, match=f"no class “6a” in the school year {this_year}"):
        services.claim_by_class_name(
            db_session, receiving.director, world.school_b, pool_id=entry.id,
            class_name="6a", today=summer, year_name=this_year,
        )  # fmt: skip
    summary = services.claim_by_class_name(
        db_session, receiving.director, world.school_b, pool_id=entry.id, class_name="6A",
        today=summer, year_name="2027-2028",  # a hyphen typed for the dash
    )  # fmt: skip
    assert summary.class_name == "6a"


# --- returning a claim ----------------------------------------------------------------------


def _snapshot(session) -> dict[str, int]:
    return {
        name: session.scalar(select(func.count()).select_from(model))
        for name, model in (
            ("people", Person), ("students", Student), ("guardianships", Guardianship),
            ("grades", Grade), ("grade_changes", GradeChange), ("term_grades", TermGrade),
            ("carried", CarriedRecord), ("group_students", GroupStudent),
            ("grants", SchoolGrant),
        )
    }  # fmt: skip


def test_a_mistaken_claim_is_returned_to_the_pool(transfer, db_session, world):
    room, receiving = transfer
    entry = leave(db_session, room, world.school_a)
    switch(db_session, world.school_b)
    before = _snapshot(db_session)
    summary = claim(db_session, receiving, entry.id)
    returned = services.return_to_pool(
        db_session, receiving.director, world.school_b, pool_id=entry.id,
        today=TODAY + timedelta(days=14),
    )  # fmt: skip
    assert returned.status == "in_pool" and returned.claimed_school_id is None
    assert _snapshot(db_session) == before
    assert db_session.get(Person, summary.student_id) is None
    guardian_account = db_session.get(Account, world.guardian_both.id)
    db_session.refresh(guardian_account)
    # the guardian had the role in school B before the claim: it stays
    assert Role.GUARDIAN in roles_in_school(guardian_account, world.school_b)
    actions = db_session.scalars(
        select(TransferLog.action).where(TransferLog.pool_id == entry.id).order_by(TransferLog.id)
    ).all()
    assert actions == ["left", "claimed", "returned"]
    # and another school may claim the student now
    assert claim(db_session, receiving, entry.id).grades == 3


def test_carried_grades_become_grades_when_the_student_joins_a_group_of_their_subject(
    transfer, db_session, world
):
    """School B had no English group at the claim: the English grade was carried. The class
    head puts the student into the English half formed later: the grade is the group's now,
    given at school A, in the grade history; the carried record is gone, and the claim is no
    longer returned (records were written)."""
    room, receiving = transfer
    entry = leave(db_session, room, world.school_a)
    summary = claim(db_session, receiving, entry.id)
    scale = db_session.scalar(select(GradeScale.id).where(GradeScale.code == "ten_point"))
    english = Subject(code="ANG", name="Английский язык", scale_id=scale)
    db_session.add(english)
    db_session.flush()
    half = Group(year_id=receiving.c5a.year_id, subject_id=english.id, name="5а англ. 1",
                 kind="part", class_id=receiving.c5a.id)  # fmt: skip
    db_session.add(half)
    db_session.flush()
    assert classes.add_students(db_session, half, [summary.student_id]) == 1
    grade = db_session.scalars(select(Grade).where(Grade.group_id == half.id)).one()
    assert (grade.student_id, grade.on_day, grade.value, grade.origin, grade.created_by) == (
        summary.student_id, date(2026, 9, 8), "10", "Alpha progimnazija", receiving.director.id
    )  # fmt: skip
    assert (
        db_session.scalar(select(GradeChange.action).where(GradeChange.grade_id == grade.id))
        == "create"
    )
    carried = db_session.scalars(
        select(CarriedRecord.kind).where(CarriedRecord.student_id == summary.student_id)
    ).all()
    assert "grade" not in carried and "attendance" in carried
    with pytest.raises(ServiceError, match="already has records written in this school"):
        services.return_to_pool(db_session, receiving.director, world.school_b,
                                pool_id=entry.id, today=TODAY)  # fmt: skip


def test_a_claim_is_not_returned_after_14_days_or_once_records_were_written(
    transfer, db_session, world
):
    room, receiving = transfer
    entry = leave(db_session, room, world.school_a)
    summary = claim(db_session, receiving, entry.id)
    with pytest.raises(ServiceError, match="within 14 days"):
        services.return_to_pool(db_session, receiving.director, world.school_b,
                                pool_id=entry.id, today=TODAY + timedelta(days=15))  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.return_to_pool(db_session, receiving.teacher, world.school_b,
                                pool_id=entry.id, today=TODAY)  # fmt: skip
    grade = db_session.scalars(
        select(Grade).where(Grade.student_id == summary.student_id, Grade.value == "7")
    ).one()
    admin = new_account(db_session, world.school_b, "admin.b", "Админ", Role.ADMIN)
    grades.change_grade(db_session, admin, world.school_b, grade, value="7",
                        kind_id=None, comment="перенесено", today=TODAY)  # fmt: skip
    with pytest.raises(ServiceError, match="already has records written in this school"):
        services.return_to_pool(db_session, receiving.director, world.school_b,
                                pool_id=entry.id, today=TODAY)  # fmt: skip
    assert db_session.get(PoolEntry, entry.id).status == "claimed"
    switch(db_session, world.school_a)
    with pytest.raises(ServiceError, match="Only a student your school claimed"):
        services.return_to_pool(db_session, room.account("admin"), world.school_a,
                                pool_id=entry.id, today=TODAY)  # fmt: skip


# --- oversight and isolation ------------------------------------------------------------------


def test_the_municipality_sees_counts_stale_entries_and_the_log(transfer, db_session, world):
    room, receiving = transfer
    first = leave(db_session, room, world.school_a)
    second = leave(db_session, room, world.school_a, student_id=room.students[1].id)
    second.entered_at = datetime(2026, 10, 15, 9, 0, tzinfo=UTC)
    claim(db_session, receiving, first.id)
    overview = services.pool_overview(db_session, TODAY)
    assert overview.counts == {"in_pool": 1, "claimed": 1} and overview.stale == []
    later = services.pool_overview(db_session, TODAY + timedelta(days=60))
    assert [row.id for row in later.stale] == [second.id]
    rows = services.transfer_log_rows(db_session)
    assert [(r.log.action, r.student_name) for r in rows][:1] == [("claimed", "Agnė Ambrazaitė")]
    assert {(r.log.action, r.from_school_name, r.to_school_name) for r in rows} == {
        ("left", "Alpha progimnazija", None),
        ("claimed", "Alpha progimnazija", "Бета гимназия"),
    }
    assert len(services.transfer_log_rows(db_session, pool_id=second.id)) == 1
    assert rows[-1].actor_name == "Kristina Vadovė"


def test_the_claiming_school_reads_only_the_pool_never_the_leaving_schools_schema(
    transfer, db_session, world
):
    room, receiving = transfer
    entry = leave(db_session, room, world.school_a)
    summary = claim(db_session, receiving, entry.id)
    connection = db_session.connection()
    for bound, other in ((world.school_b, world.school_a), (world.school_a, world.school_b)):
        switch(db_session, bound)
        nested = connection.begin_nested()
        with pytest.raises(ProgrammingError, match="permission denied"):
            connection.execute(text(f"SELECT * FROM {other.schema_name}.grades"))
        nested.rollback()
        nested = connection.begin_nested()
        with pytest.raises(ProgrammingError, match="permission denied"):
            connection.execute(text(f"SELECT * FROM {other.schema_name}.carried_records"))
        nested.rollback()
    switch(db_session, world.school_b)
    assert db_session.get(Student, summary.student_id) is not None


def test_a_claim_runs_a_fixed_number_of_statements_and_a_refusal_one(
    transfer, db_session, world, count_queries
):
    """A won claim's statements do not grow with the history carried (each kind of row is
    one INSERT); a refused claim reads the entry (and tries its lock) once and stops."""
    room, receiving = transfer
    entry = leave(db_session, room, world.school_a)
    switch(db_session, world.school_b)
    assert roles_in_school(receiving.director, world.school_b)  # loaded, as by the login
    with count_queries() as won:
        summary = claim(db_session, receiving, entry.id)
    assert (summary.grades_mapped, summary.term_grades_mapped, summary.carried) == (2, 1, 5)
    # the entry with its lock and the class; accounts; people here; new people; the student;
    # class groups; guardianships; roles; the student's groups, terms, assessment kinds;
    # grades with their history; term grades; carried records; the conditional update; the
    # log row (with the fingerprint); the leaving school's event (its binding, the switch,
    # the event, the switch back). The receiving school's event is flushed at the commit.
    assert len(won) == 20, "\n\n".join(won)
    switch(db_session, world.school_a)
    admin = room.account("admin")
    assert roles_in_school(admin, world.school_a)
    with count_queries() as refused, pytest.raises(ServiceError, match="already been claimed"):
        services.claim_student(db_session, admin, world.school_a, pool_id=entry.id,
                               class_id=room.c5a.id, today=TODAY)  # fmt: skip
    assert len(refused) == 1, "\n\n".join(refused)
