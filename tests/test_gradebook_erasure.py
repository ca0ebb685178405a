"""Erasing a former student's records (seed 000, 5.23): everything of theirs goes in one
transaction, nothing of anyone else's; refusals change nothing; only the administrator erases,
and the record of the erasure keeps no name."""

from __future__ import annotations

import html
import json
from datetime import date

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.orm import Session

from accounts.models import Account, Role
from classroom import new_account
from conftest import login, post_form, waits_for_commit
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from gradebook.attendance.models import Attendance, Excuse
from gradebook.erasure import services
from gradebook.erasure.models import Erasure
from gradebook.grades.models import Grade, GradeChange, TermGrade
from gradebook.remarks.models import Remark
from notifications.outbox import record_event
from school.classes.models import GroupStudent
from school.health.models import HealthRecommendation
from school.people.models import Guardianship, Person, Student
from school.people.services import remove_student
from tenants.models import School
from tenants.services import bind_to_school
from test_gradebook_attendance import committed_lesson, drop_committed_lesson
from test_gradebook_overview import Journal
from transfers.models import PoolEntry

BASE = "/s/school-a"
LEFT_ON = date(2026, 10, 2)


@pytest.fixture
def records(classroom):
    """Grades, their history, a term grade, marks, an excuse, a remark, a health
    recommendation and a notification for students[0] and students[1]; students[0] has then
    left the school."""
    c, j = classroom, Journal(classroom)
    lesson = j.lesson(c.maths, date(2026, 9, 7))
    for student in c.students[:2]:
        grade = j.grade(student, c.maths, "8", date(2026, 9, 7), lesson_id=lesson.id)
        c.session.add(
            GradeChange(grade_id=grade.id, student_id=student.id, group_id=c.maths.id,
                        on_day=grade.on_day, action="create", new_value="8",
                        changed_by=j.by)
        )  # fmt: skip
        j.term_grade(student, c.maths, "8")
        j.mark(lesson, student, excuse=j.excuse(student, date(2026, 9, 7)))
        c.session.add(Remark(student_id=student.id, kind="praise", text="Puikiai",
                             on_day=date(2026, 9, 7), written_by=j.by))  # fmt: skip
        c.session.add(HealthRecommendation(student_id=student.id, text="Pirmas suolas",
                                           written_by=j.by))  # fmt: skip
        record_event(c.session, "remark", actor_id=j.by, student_id=student.id)
    c.session.flush()
    leaving = c.session.get(Student, c.students[0].id)
    leaving.enrolled_on = date(2026, 9, 1)
    remove_student(c.session, c.account("admin"), c.school, leaving, LEFT_ON)
    c.session.flush()
    return c


def rows_of(session, model, student_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(model).where(model.student_id == student_id)
    )


RECORD_TABLES = (Grade, GradeChange, TermGrade, Attendance, Excuse, Remark, GroupStudent,
                 Guardianship, HealthRecommendation)  # fmt: skip


def erase(c, student_id: int, **form):
    student = services.former_student(c.session, c.account("admin"), c.school, student_id)
    fields = {"reason": "period", "basis": "Dokumentacijos planas 2031, 5.12",
              "typed_name": student.person.full_name} | form  # fmt: skip
    return services.erase_student(c.session, c.account("admin"), c.school, student, **fields)


def test_erasing_removes_every_record_of_the_student_and_nothing_else(records):
    c = records
    gone, kept = c.students[0].id, c.students[1].id
    guardian_id, guardian_account_id = c.guardian.id, c.guardian.account_id
    counts_before = {model: rows_of(c.session, model, kept) for model in RECORD_TABLES}
    preview = services.preview(c.session, c.school, c.session.get(Student, gone))
    assert preview.counts == {
        "grades": 1, "grade_changes": 1, "term_grades": 1, "attendance": 1, "excuses": 1,
        "remarks": 1, "carried_records": 0, "health_recommendations": 1, "group_places": 2,
        "guardian_links": 1, "notifications": 1, "guardians": 1,
    }  # fmt: skip

    erasure = erase(c, gone)
    c.session.expire_all()

    for model in RECORD_TABLES:
        assert rows_of(c.session, model, gone) == 0, model.__tablename__
        assert rows_of(c.session, model, kept) == counts_before[model], model.__tablename__
    assert c.session.get(Person, gone) is None
    # the guardian had no other child here and no role: gone from the school, account kept
    assert c.session.get(Person, guardian_id) is None
    assert c.session.get(Account, guardian_account_id) is not None
    events = c.session.execute(
        text("SELECT payload->>'student_id' FROM notification_events WHERE kind = 'remark'")
    ).scalars()
    assert sorted(events) == [str(kept)]
    assert erasure.counts == preview.counts
    assert erasure.person_id == gone and erasure.left_on == LEFT_ON
    assert erasure.erased_by == c.account("admin").id
    # the record of the erasure keeps no name
    stored = json.dumps({"basis": erasure.basis, "counts": erasure.counts})
    assert c.students[0].first_name not in stored and c.students[0].last_name not in stored


def test_a_guardian_with_another_child_here_stays(records):
    c = records
    sibling = c.students[1].id
    c.session.add(Guardianship(guardian_id=c.guardian.id, student_id=sibling, relation="mother"))
    c.session.flush()
    erase(c, c.students[0].id)
    c.session.expire_all()
    assert c.session.get(Person, c.guardian.id) is not None
    assert rows_of(c.session, Guardianship, sibling) == 1


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"typed_name": "Someone Else"}, "confirm", "full name exactly"),
        ({"basis": "   "}, "basis", "Write down the basis"),
        ({"basis": "x" * 501}, "basis", "at most 500"),
        ({"reason": "whim"}, "reason", "Choose why"),
    ],
)
def test_a_refused_erasure_changes_nothing(records, form, field, message):
    c = records
    gone = c.students[0].id
    before = {model: rows_of(c.session, model, gone) for model in RECORD_TABLES}
    with pytest.raises(ServiceError) as refused:
        erase(c, gone, **form)
    assert refused.value.field == field and message in refused.value.message
    c.session.expire_all()
    assert {model: rows_of(c.session, model, gone) for model in RECORD_TABLES} == before
    assert c.session.scalar(select(func.count()).select_from(Erasure)) == 0


def test_the_name_is_compared_without_case_or_extra_spaces(records):
    c = records
    person = c.students[0]
    erase(c, person.id, typed_name=f"  {person.first_name.upper()}   {person.last_name} ")
    assert c.session.get(Person, person.id) is None


def test_a_student_who_studies_here_cannot_be_erased(records):
    c = records
    with pytest.raises(ServiceError, match="has left the school"):
        erase(c, c.students[1].id)
    assert rows_of(c.session, Grade, c.students[1].id) == 1


def test_a_student_whose_leaving_date_is_still_ahead_cannot_be_erased(records):
    """A leaving marked ahead of its day (before such dates were refused) keeps the records
    until that day: "the keeping period has ended" cannot be true of a student still here."""
    c = records
    person = c.students[1]
    ahead = c.session.get(Student, person.id)
    ahead.status, ahead.left_on = "left", date(2027, 1, 10)
    c.session.flush()
    with pytest.raises(ServiceError) as refused:
        erase(c, person.id, today=date(2026, 12, 8))
    assert "leaves the school only on Jan 10, 2027" in refused.value.message
    assert rows_of(c.session, Grade, person.id) == 1
    listed = services.former_students(
        c.session, c.account("admin"), c.school, date(2027, 2, 1), today=date(2026, 12, 8)
    )
    assert [(f.student_id, f.blocked) for f in listed] == [
        (c.students[0].id, None),
        (person.id, "leaves only on Jan 10, 2027"),
    ]
    erase(c, person.id, today=date(2027, 1, 10))
    assert c.session.get(Person, person.id) is None


def test_a_student_waiting_in_the_transfer_pool_cannot_be_erased(records):
    c = records
    person = c.students[0]
    c.session.add(
        PoolEntry(first_name=person.first_name, last_name=person.last_name,
                  from_school_id=c.school.id, student_person_id=person.id,
                  destination_kind="elsewhere", left_on=LEFT_ON, record={})
    )  # fmt: skip
    c.session.flush()
    with pytest.raises(ServiceError, match="transfer pool"):
        erase(c, person.id)
    assert rows_of(c.session, Grade, person.id) == 1


def test_a_former_student_who_is_also_a_guardian_here_cannot_be_erased(records):
    c = records
    c.session.add(
        Guardianship(guardian_id=c.students[0].id, student_id=c.outsider.id, relation="other")
    )
    c.session.flush()
    with pytest.raises(ServiceError, match="also a guardian or a member of staff"):
        erase(c, c.students[0].id)
    assert rows_of(c.session, Grade, c.students[0].id) == 1
    assert rows_of(c.session, Guardianship, c.outsider.id) == 1


def test_only_the_administrator_erases(records):
    c = records
    student = c.session.get(Student, c.students[0].id)
    for key in ("director", "head", "teacher"):
        with pytest.raises(PermissionDenied):
            services.former_student(c.session, c.account(key), c.school, student.person_id)
        with pytest.raises(PermissionDenied):
            services.erase_student(
                c.session, c.account(key), c.school, student, reason="period", basis="5.12",
                typed_name=student.person.full_name,
            )  # fmt: skip
    with pytest.raises(NotFound):
        services.former_student(c.session, c.account("admin"), c.school, 10**9)


# --- the pages ---------------------------------------------------------------------------------


def test_the_administrator_erases_from_the_pages(client, records):
    c = records
    c.session.commit()
    person = c.students[0]
    path = f"{BASE}/people/students/{person.id}/erase"
    login(client, "admin.a")
    person_page = client.get(f"{BASE}/people/{person.id}").get_data(as_text=True)
    assert path in person_page
    page = html.unescape(client.get(path).get_data(as_text=True))
    assert "Erase a former student's records" in page
    assert "Grade history entries" in page

    wrong = post_form(client, path, {"reason": "period", "basis": "5.12", "confirm": "Nobody"})
    assert wrong.status_code == 400
    assert "Type the student's full name exactly" in html.unescape(wrong.get_data(as_text=True))
    bind_to_school(c.session, c.school)  # the request bound the shared connection to itself
    assert rows_of(c.session, Grade, person.id) == 1

    done = post_form(
        client, path, {"reason": "forgotten", "basis": "Prašymas Nr. 17, 2031-05-04",
                       "confirm": person.full_name}
    )  # fmt: skip
    assert done.status_code == 302 and done.headers["Location"].endswith("/people/erasures")
    log = client.get(f"{BASE}/people/erasures").get_data(as_text=True)
    assert "A request to be forgotten" in log and "Prašymas Nr. 17" in log
    assert "Aldona Administratorė" in log
    assert person.last_name not in log
    assert client.get(path).status_code == 404


def test_other_roles_cannot_open_the_erasure_page(app, client, records):
    c = records
    c.session.commit()
    path = f"{BASE}/people/students/{c.students[0].id}/erase"
    login(client, "director.a")
    assert client.get(path).status_code == 403
    assert client.get(f"{BASE}/people/erasures").status_code == 200
    teacher = app.test_client()
    login(teacher, "teacher.a")
    assert teacher.get(f"{BASE}/people/erasures").status_code == 403


def test_another_schools_student_is_not_found(client, records, world):
    c = records
    new_account(c.session, world.school_b, "admin.b", "Boris Administrator", Role.ADMIN)
    c.session.commit()
    login(client, "admin.b")
    assert client.get(f"/s/school-b/people/students/{c.students[0].id}/erase").status_code == 404


def test_two_administrators_erasing_at_once_take_turns(app, engine_url):
    """Real connections, committed data (a school made for this test and dropped after it):
    the second administrator waits for the first's transaction on the student's row, then
    finds no student; the erasure is recorded once."""
    engine = create_engine(engine_url)
    first, second = Session(engine), Session(engine)
    outcome: dict[str, str] = {}
    try:
        ids = committed_lesson(engine)
        with Session(engine) as setup:
            bind_to_school(setup, setup.get(School, ids["school"]))
            setup.execute(
                update(Student)
                .where(Student.person_id == ids["child"])
                .values(status="left", left_on=date(2026, 9, 30))
            )
            setup.commit()

        def erase_in(session: Session) -> None:
            school = session.get(School, ids["school"])
            bind_to_school(session, school)
            admin = session.get(Account, ids["admin"])
            student = services.former_student(session, admin, school, ids["child"])
            services.erase_student(
                session, admin, school, student, reason="period", basis="5.12",
                typed_name="Ona Onaitė",
            )  # fmt: skip

        def second_administrator() -> None:
            try:
                erase_in(second)
                second.commit()
                outcome["second"] = "erased"
            except NotFound:
                second.rollback()
                outcome["second"] = "no such student"
            except Exception as exc:  # reported below: the race must not fail otherwise
                second.rollback()
                outcome["second"] = repr(exc)

        erase_in(first)
        waits_for_commit(first, second_administrator)
        assert outcome == {"second": "no such student"}
        with Session(engine) as check:
            bind_to_school(check, check.get(School, ids["school"]))
            assert check.scalar(select(func.count()).select_from(Erasure)) == 1
            assert check.get(Person, ids["child"]) is None
    finally:
        first.close()
        second.close()
        drop_committed_lesson(engine)
        engine.dispose()


# --- several former students at once -----------------------------------------------------------


def leave(c, person, left_on: date) -> None:
    student = c.session.get(Student, person.id)
    student.enrolled_on = date(2026, 9, 1)
    remove_student(c.session, c.account("admin"), c.school, student, left_on)
    c.session.flush()


def test_former_students_are_listed_with_what_stops_erasing_them(records):
    c = records
    leave(c, c.students[1], date(2026, 9, 20))
    leave(c, c.students[2], date(2026, 11, 2))  # after the date asked for
    c.session.add(
        PoolEntry(first_name="X", last_name="Y", from_school_id=c.school.id,
                  student_person_id=c.students[1].id, destination_kind="elsewhere",
                  left_on=date(2026, 9, 20), record={})
    )  # fmt: skip
    c.session.flush()
    listed = services.former_students(c.session, c.account("admin"), c.school, date(2026, 11, 1))
    assert [(f.student_id, f.left_on, f.blocked) for f in listed] == [
        (c.students[1].id, date(2026, 9, 20), "in the transfer pool"),
        (c.students[0].id, LEFT_ON, None),
    ]
    with pytest.raises(PermissionDenied):
        services.former_students(c.session, c.account("director"), c.school, date(2026, 11, 1))


def test_several_former_students_are_erased_at_once(records):
    c = records
    leave(c, c.students[1], date(2026, 9, 20))
    ids = [c.students[0].id, c.students[1].id]
    erased = services.erase_students(
        c.session, c.account("admin"), c.school, ids, reason="period",
        basis="Dokumentacijos planas 5.12", typed_count=" 2 ",
    )  # fmt: skip
    assert sorted(e.person_id for e in erased) == sorted(ids)
    c.session.expire_all()
    for person_id in ids:
        assert c.session.get(Person, person_id) is None
        assert rows_of(c.session, Grade, person_id) == 0
    assert rows_of(c.session, Remark, c.students[2].id) == 0  # had none
    assert c.session.get(Person, c.students[2].id) is not None


def test_erasing_several_is_all_or_nothing(records):
    c = records
    c.session.commit()
    # erased in id order: the one who may be erased goes first, then one who still studies here
    blocker = max([*c.students[1:], c.outsider], key=lambda person: person.id)
    assert blocker.id > c.students[0].id
    ids = [c.students[0].id, blocker.id]
    with pytest.raises(ServiceError) as refused:
        services.erase_students(
            c.session, c.account("admin"), c.school, ids, reason="period", basis="5.12",
            typed_count="2",
        )  # fmt: skip
    assert blocker.full_name in refused.value.message
    c.session.rollback()  # as the page does
    bind_to_school(c.session, c.school)
    assert rows_of(c.session, Grade, c.students[0].id) == 1


@pytest.mark.parametrize(
    ("ids", "count", "field"),
    [([], "0", "students"), (None, "3", "confirm"), (None, "", "confirm")],
)
def test_erasing_several_needs_students_and_their_number(records, ids, count, field):
    c = records
    with pytest.raises(ServiceError) as refused:
        services.erase_students(
            c.session, c.account("admin"), c.school,
            [c.students[0].id] if ids is None else ids, reason="period", basis="5.12",
            typed_count=count,
        )  # fmt: skip
    assert refused.value.field == field
    assert rows_of(c.session, Grade, c.students[0].id) == 1


def test_the_former_students_page(client, records):
    c = records
    leave(c, c.students[1], date(2026, 9, 20))
    c.session.commit()
    login(client, "admin.a")
    assert "/people/erasures/former" in client.get(f"{BASE}/people/erasures").get_data(as_text=True)
    path = f"{BASE}/people/erasures/former"
    listed = client.get(f"{path}?left_before=2026-11-01").get_data(as_text=True)
    assert c.students[0].full_name in listed and c.students[1].full_name in listed
    assert c.students[2].full_name not in listed
    bad = client.get(f"{path}?left_before=someday")
    assert bad.status_code == 400
    form = {"left_before": "2026-11-01", "students": [c.students[0].id, c.students[1].id],
            "reason": "period", "basis": "5.12"}  # fmt: skip
    wrong = post_form(
        client, path, form | {"confirm": "1"}, form_page=f"{path}?left_before=2026-11-01"
    )
    assert wrong.status_code == 400
    assert "Type the number of students chosen (2)" in html.unescape(wrong.get_data(as_text=True))
    done = post_form(
        client, path, form | {"confirm": "2"}, form_page=f"{path}?left_before=2026-11-01"
    )
    assert done.status_code == 302
    log_page = client.get(f"{BASE}/people/erasures").get_data(as_text=True)
    assert log_page.count("The keeping period has ended") == 2
    assert c.students[0].last_name not in log_page


def test_only_the_administrator_opens_the_former_students_page(client, records):
    records.session.commit()
    login(client, "director.a")
    assert client.get(f"{BASE}/people/erasures/former").status_code == 403
    log_page = client.get(f"{BASE}/people/erasures").get_data(as_text=True)
    assert "/people/erasures/former" not in log_page
