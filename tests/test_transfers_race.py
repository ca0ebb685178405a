"""Transfers with really committed data: three schools made for this module (and dropped
after it), a leaving school and two that race to claim the same student.

Proves the guarantees of the transfer issue: exactly one of two simultaneous claims wins and
the other is told so; a failure between any two steps of leaving or claiming leaves the
student in the pool or in exactly one school; what arrives equals what left; the CLI
contract."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from accounts.services import command_line_actor, create_account
from dienynas import clock
from dienynas.cli import cli
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.i18n import in_locale
from dienynas.jobs import queue
from gradebook.attendance.models import Attendance
from gradebook.grades.models import Grade, TermGrade
from gradebook.lessons.models import Lesson
from school.calendar.models import SchoolYear
from school.calendar.services import create_year, set_terms
from school.classes.models import Group, GroupStudent, SchoolClass
from school.curriculum.models import GradeScale, Subject
from school.people.models import Guardianship, Person, Student
from tenants import roles
from tenants.binding import unbind_session
from tenants.models import School
from tenants.services import bind_to_school, create_school
from transfers import services

DIENYNAS = str(Path(sys.executable).parent / "dienynas")
TERMS = [(date(2026, 9, 1), date(2027, 1, 31)), (date(2027, 2, 1), date(2027, 6, 30))]
_codes = itertools.count(1)
CLAIMED_ELSEWHERE = "This student has already been claimed by another school."
BEING_CLAIMED = (
    "Another school or user is claiming this student right now. If that claim does not go "
    "through, the student stays in the pool."
)


@dataclass
class RaceWorld:
    leaving: School
    first: School
    second: School
    url: str
    redis_url: str


def _database_url(app) -> str:
    return (
        app.config["SQLALCHEMY_DATABASE_URI"]
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def _set_up_school(session: Session, school: School, subject_name: str) -> None:
    """A year with two semesters, class 5a with a maths group."""
    bind_to_school(session, school)
    year = create_year(
        session, name="2026–2027", starts_on=date(2026, 9, 1), ends_on=date(2027, 8, 31)
    )
    set_terms(session, year, "semester", TERMS)
    c5a = SchoolClass(year_id=year.id, grade_level=5, letter="a")
    session.add(c5a)
    scale = session.scalar(select(GradeScale).where(GradeScale.code == "ten_point"))
    subject = Subject(code="MAT", name=subject_name, scale_id=scale.id)
    session.add(subject)
    session.flush()
    session.add(Group(year_id=year.id, subject_id=subject.id, name="5a MAT", kind="class",
                      class_id=c5a.id))  # fmt: skip
    session.flush()
    unbind_session(session)


@pytest.fixture(scope="module")
def race(app) -> RaceWorld:
    engine = db.engine
    with Session(engine) as session:
        made = [
            create_school(session, slug=slug, name=name, locale=locale)
            for slug, name, locale in (
                ("race-leaving", "Lenktynių progimnazija", "lt"),
                ("race-first", "Первая гимназия", "ru"),
                ("race-second", "Szkoła druga", "pl"),
            )
        ]
        session.commit()
        for school, subject in zip(made, ("Matematika", "Математика", "Matematyka"), strict=True):
            _set_up_school(session, school, subject)
            session.commit()
        for school in made:
            session.refresh(school)
        session.expunge_all()
    yield RaceWorld(*made, url=_database_url(app), redis_url=app.config["REDIS_URL"])
    ids = [school.id for school in made]
    with engine.begin() as connection:
        params = {"ids": ids}
        connection.execute(
            text(
                "DELETE FROM public.transfer_pool WHERE from_school_id = ANY(:ids) "
                "OR claimed_school_id = ANY(:ids)"
            ),
            params,
        )
        connection.execute(
            text("DELETE FROM public.school_grants WHERE school_id = ANY(:ids)"), params
        )
        connection.execute(text("DELETE FROM public.accounts WHERE login LIKE 'race-%'"))
        for school in made:
            roles.drop_school_role_and_schema(
                connection, role=school.role_name, schema=school.schema_name
            )
        connection.execute(text("DELETE FROM public.schools WHERE id = ANY(:ids)"), params)


def _student_with_history(race: RaceWorld) -> tuple[int, str]:
    """A committed student of the leaving school with a guardian, two maths grades, a term
    grade and two absences; returns (person id, personal code)."""
    number = next(_codes)
    code = f"5090915{number:04d}"
    with Session(db.engine) as session:
        student_account, _ = create_account(
            session, login=f"race-student-{number}-{os.getpid()}", name="Race Student",
            issue_password=False,
        )  # fmt: skip
        guardian_account, _ = create_account(
            session, login=f"race-guardian-{number}-{os.getpid()}", name="Race Guardian",
            issue_password=False,
        )  # fmt: skip
        bind_to_school(session, race.leaving)
        c5a = session.scalars(select(SchoolClass)).one()
        group = session.scalars(select(Group)).one()
        terms = session.scalars(select(SchoolYear)).one().terms
        person = Person(
            first_name="Rūta", last_name=f"Lenktynė{number}", document_kind="personal_code",
            personal_code=code, birth_date=date(2009, 9, 15), account_id=student_account.id,
        )  # fmt: skip
        guardian = Person(first_name="Rasa", last_name="Globėja", document_kind="other",
                          account_id=guardian_account.id)  # fmt: skip
        session.add_all([person, guardian])
        session.flush()
        session.add(Student(person_id=person.id, class_id=c5a.id, enrolled_on=date(2026, 9, 1)))
        session.flush()
        session.add_all(
            [
                GroupStudent(group_id=group.id, student_id=person.id),
                Guardianship(guardian_id=guardian.id, student_id=person.id, relation="mother"),
                Grade(student_id=person.id, group_id=group.id, on_day=date(2026, 9, 7),
                      term_id=terms[0].id, value="9", created_by=student_account.id),
                Grade(student_id=person.id, group_id=group.id, on_day=date(2026, 9, 9),
                      term_id=terms[0].id, value="6", created_by=student_account.id),
                TermGrade(student_id=person.id, group_id=group.id, year_id=terms[0].year_id,
                          term_id=terms[0].id, value="8"),
            ]
        )  # fmt: skip
        lessons = []
        for day in (date(2026, 9, 7), date(2026, 9, 9)):
            lesson = session.scalar(select(Lesson).where(Lesson.on_day == day))
            if lesson is None:
                lesson = Lesson(group_id=group.id, on_day=day, lesson_no=1, term_id=terms[0].id)
                session.add(lesson)
            lessons.append(lesson)
        session.flush()
        session.add_all(
            Attendance(lesson_id=lesson.id, student_id=person.id, mark="absent",
                       marked_by=student_account.id)
            for lesson in lessons
        )  # fmt: skip
        session.commit()
        return person.id, code


def _leave(race: RaceWorld, student_id: int) -> int:
    with Session(db.engine) as session:
        bind_to_school(session, race.leaving)
        school = session.merge(race.leaving)
        entry = services.leave_student(
            session, command_line_actor(school), school, student_id=student_id,
            left_on=clock.today(), reason=None, destination_kind="elsewhere",
            to_school_id=None, today=clock.today(),
        )  # fmt: skip
        session.commit()
        return entry.id


def _claim(session: Session, school: School, pool_id: int) -> None:
    services.claim_by_class_name(
        session, command_line_actor(school), school, pool_id=pool_id, class_name="5a",
        today=clock.today(),
    )  # fmt: skip
    session.commit()


def _sql(statement: str, **params):
    """As the login role, which may read every school's schema (the tests' referee)."""
    with db.engine.connect() as connection:
        return connection.execute(text(statement), params).all()


def _where_is(race: RaceWorld, code: str) -> dict[str, str]:
    """School slug → the student's status there, for every school holding the code."""
    found = {}
    for school in (race.leaving, race.first, race.second):
        rows = _sql(
            f"SELECT s.status FROM {school.schema_name}.people p "
            f"JOIN {school.schema_name}.students s ON s.person_id = p.id "
            "WHERE p.personal_code = :code",
            code=code,
        )
        if rows:
            found[school.slug] = rows[0][0]
    return found


def _counts(school: School, code: str) -> dict[str, int]:
    """Grades, term grades, attendance and carried records of the student in ``school``."""
    schema = school.schema_name
    person = f"(SELECT id FROM {schema}.people WHERE personal_code = :code)"
    return {
        name: _sql(f"SELECT count(*) FROM {schema}.{table} WHERE student_id = {person}",
                   code=code)[0][0]
        for name, table in (("grades", "grades"), ("term_grades", "term_grades"),
                            ("attendance", "attendance"), ("carried", "carried_records"))
    }  # fmt: skip


def _pool_status(pool_id: int) -> str:
    return _sql("SELECT status FROM public.transfer_pool WHERE id = :id", id=pool_id)[0][0]


# --- two claimers at the same moment ------------------------------------------------------------


def _claim_in_process(url, redis_url, slug, pool_id, barrier, results) -> None:
    """A claimer in its own process: waits for the other at the barrier, claims, keeps its
    transaction open for a moment (so the two overlap), commits."""
    from dienynas.app import create_app
    from dienynas.errors import ServiceError
    from dienynas.i18n import in_locale

    app = create_app({"DATABASE_URL": url, "REDIS_URL": redis_url})
    with app.app_context(), in_locale("en"):
        school = db.session.scalars(select(School).where(School.slug == slug)).one()
        bind_to_school(db.session, school)
        barrier.wait(timeout=60)
        try:
            summary = services.claim_by_class_name(
                db.session, command_line_actor(school), school, pool_id=pool_id,
                class_name="5a", today=date.today(),
            )  # fmt: skip
            time.sleep(0.5)
            db.session.commit()
            results.put((slug, "ok", summary.as_dict()))
        except ServiceError as exc:
            db.session.rollback()
            results.put((slug, "refused", exc.message))


def test_two_schools_claiming_at_once_exactly_one_wins(race):
    student_id, code = _student_with_history(race)
    pool_id = _leave(race, student_id)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(
            target=_claim_in_process,
            args=(race.url, race.redis_url, school.slug, pool_id, barrier, results),
        )
        for school in (race.first, race.second)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _worker in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(kind for _slug, kind, _detail in outcomes) == ["ok", "refused"]
    ((winner, _ok, summary),) = [o for o in outcomes if o[1] == "ok"]
    ((_loser, _refused, message),) = [o for o in outcomes if o[1] == "refused"]
    # the winner holds its transaction open for half a second: the loser is told at once that
    # the student is being claimed (or, had it come later, that the student was claimed)
    assert message in (BEING_CLAIMED, CLAIMED_ELSEWHERE)
    assert _where_is(race, code) == {"race-leaving": "left", winner: "active"}
    assert _pool_status(pool_id) == "claimed"
    assert (summary["grades"], summary["term_grades"], summary["attendance"]) == (2, 1, 2)


def test_a_claim_while_another_is_under_way_is_refused_without_waiting(race):
    """The second claimer does not queue behind the first one's open transaction: it is told
    at once that the student is being claimed (a lock wait would hit the statement timeout),
    and once the first has committed, that the student was claimed."""
    student_id, code = _student_with_history(race)
    pool_id = _leave(race, student_id)
    with Session(db.engine) as first, Session(db.engine) as second, in_locale("en"):
        first_school = first.merge(race.first)
        bind_to_school(first, first_school)
        # the first claim is made and its transaction left open
        services.claim_by_class_name(
            first, command_line_actor(first_school), first_school, pool_id=pool_id,
            class_name="5a", today=clock.today(),
        )  # fmt: skip
        second_school = second.merge(race.second)
        bind_to_school(second, second_school)
        second.execute(text("SET LOCAL statement_timeout = '5s'"))
        with pytest.raises(ServiceError) as refused:
            _claim(second, second_school, pool_id)
        assert refused.value.message == BEING_CLAIMED
        second.rollback()
        first.commit()
        bind_to_school(second, second_school)
        with pytest.raises(ServiceError) as refused:
            _claim(second, second_school, pool_id)
        assert refused.value.message == CLAIMED_ELSEWHERE
        second.rollback()
    assert _where_is(race, code) == {"race-leaving": "left", "race-first": "active"}
    assert _pool_status(pool_id) == "claimed"


def test_the_command_line_leaves_lists_and_claims_and_refuses_a_second_claim(race):
    student_id, code = _student_with_history(race)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(LANG="en_US.UTF-8", DATABASE_URL=race.url, REDIS_URL=race.redis_url)

    def dienynas(*args: str) -> subprocess.Popen:
        return subprocess.Popen([DIENYNAS, "transfers", *args], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip

    leaving = dienynas("leave", "--school", "race-leaving", "--student", str(student_id),
                       "--date", clock.today().isoformat(), "--reason", "Moved",
                       "--to", "race-first")  # fmt: skip
    out, err = leaving.communicate(timeout=120)
    assert leaving.returncode == 0, err
    pool_id = json.loads(out)["pool_id"]
    # the extract PDF job is enqueued, as by the leaving page
    assert queue().fetch_job(f"transfer-extract-{pool_id}") is not None
    listing = dienynas("pool", "--json")
    out, err = listing.communicate(timeout=120)
    listed = [row for row in json.loads(out) if row["pool_id"] == pool_id]
    assert listed == [
        {"pool_id": pool_id, "first_name": "Rūta", "last_name": listed[0]["last_name"],
         "birth_year": 2009, "from_school": "Lenktynių progimnazija", "grade_level": 5,
         "days_in_pool": 0}
    ]  # fmt: skip
    assert code not in out
    # two claims started together: one exits 0 with the summary, the other non-zero
    claims = {
        slug: dienynas("claim", "--school", slug, "--pool-id", str(pool_id), "--class", "5a")
        for slug in ("race-first", "race-second")
    }
    finished = {slug: (p.wait(timeout=120), *p.communicate()) for slug, p in claims.items()}
    codes = sorted(rc for rc, _out, _err in finished.values())
    assert codes[0] == 0 and codes[1] != 0, finished
    winner = next(slug for slug, (rc, _o, _e) in finished.items() if rc == 0)
    _rc, _out, loser_err = next(v for v in finished.values() if v[0] != 0)
    assert BEING_CLAIMED in loser_err or CLAIMED_ELSEWHERE in loser_err, loser_err
    assert "Traceback" not in loser_err
    summary = json.loads(finished[winner][1])
    assert {k: summary[k] for k in ("grades", "term_grades", "attendance")} == {
        "grades": 2, "term_grades": 1, "attendance": 2,
    }  # fmt: skip
    assert _where_is(race, code) == {"race-leaving": "left", winner: "active"}


def test_what_arrives_equals_what_left(race):
    student_id, code = _student_with_history(race)
    left = _counts(race.leaving, code)
    pool_id = _leave(race, student_id)
    with Session(db.engine) as session:
        school = session.merge(race.second)
        bind_to_school(session, school)
        _claim(session, school, pool_id)
    arrived = _counts(race.second, code)
    carried = dict(
        _sql(
            f"SELECT kind, count(*) FROM {race.second.schema_name}.carried_records "
            f"WHERE pool_id = :id GROUP BY kind",
            id=pool_id,
        )
    )
    assert arrived["grades"] + carried.get("grade", 0) == left["grades"] == 2
    assert arrived["term_grades"] + carried.get("term_grade", 0) == left["term_grades"] == 1
    assert arrived["attendance"] + carried.get("attendance", 0) == left["attendance"] == 2
    assert arrived["attendance"] == 0  # the other school's lessons do not exist here
    # the leaving school keeps its records (archive), read-only
    assert _counts(race.leaving, code) == left


# --- failures between the steps -----------------------------------------------------------------


class Injected(RuntimeError):
    pass


def _fail(*args, **kwargs):
    raise Injected("a failure injected between two steps")


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        result = runner.invoke(cli, ["transfers", *args], env={"LANG": "en_US.UTF-8"})
        db.session.remove()
        return result

    return invoke


@pytest.mark.parametrize("step", ["build_record", "_log"])
def test_a_failure_while_leaving_leaves_the_student_in_their_school(race, run, monkeypatch, step):
    student_id, code = _student_with_history(race)
    monkeypatch.setattr(services, step, _fail)
    result = run("leave", "--school", "race-leaving", "--student", str(student_id),
                 "--date", clock.today().isoformat())  # fmt: skip
    assert isinstance(result.exception, Injected)
    assert _where_is(race, code) == {"race-leaving": "active"}
    assert not _sql("SELECT 1 FROM public.transfer_pool WHERE personal_code = :c", c=code)
    student_account = _sql(
        f"SELECT account_id FROM {race.leaving.schema_name}.people WHERE personal_code = :c",
        c=code,
    )[0][0]
    roles_held = _sql(
        "SELECT role FROM public.school_grants WHERE account_id = :a", a=student_account
    )
    assert roles_held == []  # the test's student never had grants: nothing was revoked or added
    monkeypatch.undo()
    result = run("leave", "--school", "race-leaving", "--student", str(student_id),
                 "--date", clock.today().isoformat())  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _where_is(race, code) == {"race-leaving": "left"}


@pytest.mark.parametrize(
    "step", ["_enrol", "_link_guardians", "_grant_roles", "_carry_history", "_mark_claimed", "_log"]
)
def test_a_failure_while_claiming_leaves_the_student_in_the_pool(race, run, monkeypatch, step):
    student_id, code = _student_with_history(race)
    pool_id = _leave(race, student_id)
    before = _sql("SELECT count(*) FROM public.school_grants")[0][0]
    monkeypatch.setattr(services, step, _fail)
    result = run("claim", "--school", "race-first", "--pool-id", str(pool_id), "--class", "5a")
    assert isinstance(result.exception, Injected)
    assert _pool_status(pool_id) == "in_pool"
    assert _where_is(race, code) == {"race-leaving": "left"}
    schema = race.first.schema_name
    for table in ("people", "grades", "term_grades", "carried_records", "guardianships"):
        assert not _sql(
            f"SELECT 1 FROM {schema}.{table} WHERE "
            + ("personal_code = :c" if table == "people" else
               f"student_id IN (SELECT id FROM {schema}.people WHERE personal_code = :c)"),
            c=code,
        )  # fmt: skip
    assert _sql("SELECT count(*) FROM public.school_grants")[0][0] == before
    assert not _sql(
        "SELECT 1 FROM public.transfer_log WHERE pool_id = :id AND action = 'claimed'", id=pool_id
    )
    monkeypatch.undo()
    result = run("claim", "--school", "race-first", "--pool-id", str(pool_id), "--class", "5a")
    assert result.exit_code == 0, result.output
    assert _where_is(race, code) == {"race-leaving": "left", "race-first": "active"}
    assert _sql("SELECT count(*) FROM public.school_grants")[0][0] == before + 2


def test_the_leaving_school_cannot_read_the_receiving_schools_records_and_vice_versa(race):
    student_id, _code = _student_with_history(race)
    pool_id = _leave(race, student_id)
    with Session(db.engine) as session:
        school = session.merge(race.first)
        bind_to_school(session, school)
        _claim(session, school, pool_id)
    for bound, other in ((race.leaving, race.first), (race.first, race.leaving)):
        with Session(db.engine) as session:
            bind_to_school(session, bound)
            for table in ("people", "grades", "attendance"):
                nested = session.begin_nested()
                with pytest.raises(Exception, match="permission denied"):
                    session.execute(text(f"SELECT * FROM {other.schema_name}.{table}"))
                nested.rollback()
            # its own tables it reads, and the pool
            assert session.execute(text("SELECT count(*) FROM people")).scalar() >= 1
            assert session.execute(
                text("SELECT status FROM public.transfer_pool WHERE id = :id"), {"id": pool_id}
            ).scalar() == "claimed"  # fmt: skip
