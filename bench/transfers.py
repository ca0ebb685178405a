"""Benchmark: claiming students from the pool while many claimers race for each of them.

On a throw-away database of its own (never the development or test data):

1. a leaving school is seeded as ``bench/diary.py`` does (classes of 30 students with guardian
   accounts and four weeks of grades, attendance, homework and remarks), and ``--students``
   of its students leave (``transfers.services.leave_student``, one transaction each): the
   pool holds them with their history;
2. ``--schools`` receiving schools are provisioned, each with this year, classes 5a and 6a and
   a director;
3. ``--claimers`` claimers race: threads in ``--processes`` spawned processes, each thread with
   its own app context, database session and connection. Every student is given to
   ``--per-student`` claimers of different schools; every claimer goes through its students
   in the same order (pool id), so the claimers of one student reach it at about the same time.
   A claim is what the pool page's claim does: bind the school, ``claim_student``, the
   transfer notifications, one commit; a refusal (the student is taken) rolls back. Its time
   is measured around all of that;
4. the result is checked in the database: every student is either in the pool or a student of
   exactly one receiving school (``duplicates``: extra copies; ``lost``: in neither).

Targets: duplicates 0, lost 0, claim p95 ≤ 200 ms (50 claimers on the 2-core machine).

The database is ``dienynas_bench_transfers`` on the server of ``BENCH_DATABASE_URL`` (whose
database name must start with ``dienynas_bench``: it is dropped), else of ``DATABASE_URL``, else
the embedded PostgreSQL. Redis: ``BENCH_REDIS_URL``, ``REDIS_URL`` or the embedded one (the
claims' notifications enqueue dispatch jobs there; nothing runs them).

Progress goes to stderr; the last line on stdout is one JSON object::

    {"students": 200, "claims_ok": …, "claims_refused": …, "duplicates": 0, "lost": 0,
     "claim_p50_ms": …, "claim_p95_ms": …, "claimers": 50, "errors": 0}

Usage: ``.venv/bin/python bench/transfers.py [--quick] [--students N] [--claimers N]
[--processes N] [--per-student K] [--schools N] [--keep]``
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
os.environ.setdefault("DIENYNAS_INSTANCE", str(REPO / "instance"))
# This script is named like the ``transfers`` package it measures: keep the bench folder (for
# diary.py and provision.py) behind the installed packages on the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]

BENCH_DATABASE = "dienynas_bench_transfers"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percentile_ms(latencies: list[float], share: float) -> float:
    ordered = sorted(latencies)
    if not ordered:
        return 0.0
    return round(ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)] * 1000, 1)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the machine since boot, all cores (``/proc/stat``; zeros
    where there is none): the race's share of the machine is the difference of two readings."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # without guest time (already in user)
    return (total - idle) / tick, total / tick


# --- the schools --------------------------------------------------------------------------------


def seed_leaving(students: int, today: date) -> list[int]:
    """The leaving school (bench/diary.py's seed) and ``students`` of its students in the pool.
    Returns the pool ids."""
    from sqlalchemy import select

    from accounts.services import command_line_actor
    from diary import seed
    from dienynas.extensions import db
    from school.people.models import Student
    from tenants.binding import unbind_session
    from tenants.models import School
    from tenants.services import bind_to_school
    from transfers import services

    seeded = seed(math.ceil(students / 30), 30, today)
    session = db.session
    school = session.scalar(select(School).where(School.slug == seeded.slug))
    actor = command_line_actor(school)
    bind_to_school(session, school)
    ids = list(session.scalars(select(Student.person_id).order_by(Student.person_id)))
    session.commit()
    pool_ids = []
    started = time.perf_counter()
    for person_id in ids[:students]:
        entry = services.leave_student(
            session, actor, school, student_id=person_id, left_on=today, reason="bench",
            destination_kind="elsewhere", to_school_id=None, today=today,
        )  # fmt: skip
        pool_ids.append(entry.id)
        session.commit()
    took = time.perf_counter() - started
    log(
        f"{len(pool_ids)} students left in {took:.1f} s ({took / len(pool_ids) * 1000:.0f} ms each)"
    )
    unbind_session(session)
    session.commit()
    return pool_ids


def seed_receivers(count: int, today: date) -> list[dict[str, int]]:
    """``count`` receiving schools with this year, classes 5a and 6a and a director each.
    Returns [{"school_id", "director_id", "class_5", "class_6"}]."""
    from sqlalchemy import insert

    from accounts.models import Account, Role, SchoolGrant
    from dienynas.extensions import db
    from school.calendar import services as calendar
    from school.classes.models import SchoolClass
    from school.people.models import Person
    from tenants.binding import unbind_session
    from tenants.services import bind_to_school, create_school

    session = db.session
    year_start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    schools = []
    for n in range(count):
        school = create_school(session, slug=f"bench-to-{n}", name=f"Bench school {n}")
        session.commit()
        director_id = session.scalar(
            insert(Account).returning(Account.id),
            [{"login": f"director.to{n}", "name": f"Director {n}", "locale": "lt",
              "password_hash": "!", "must_change_password": False}],
        )  # fmt: skip
        session.execute(
            insert(SchoolGrant),
            [{"account_id": director_id, "school_id": school.id, "role": Role.DIRECTOR.value}],
        )
        session.commit()
        bind_to_school(session, school)
        year = calendar.create_year(
            session, name=f"{year_start.year}–{year_start.year + 1}", starts_on=year_start,
            ends_on=date(year_start.year + 1, 8, 31),
        )  # fmt: skip
        calendar.set_terms(
            session, year, "semester",
            calendar.propose_terms("semester", year_start, date(year_start.year + 1, 6, 19)),
        )  # fmt: skip
        session.execute(
            insert(Person),
            [{"first_name": "Director", "last_name": str(n), "document_kind": "other",
              "account_id": director_id}],
        )  # fmt: skip
        classes = {}
        for level in (5, 6):
            school_class = SchoolClass(year_id=year.id, grade_level=level, letter="a")
            session.add(school_class)
            session.flush()
            classes[level] = school_class.id
        unbind_session(session)
        session.commit()
        schools.append({"school_id": school.id, "director_id": director_id,
                        "class_5": classes[5], "class_6": classes[6]})  # fmt: skip
    return schools


# --- the claimers (in spawned processes) --------------------------------------------------------


def claimer_process(task: dict[str, Any]) -> dict[str, Any]:
    """Run this process's claimers (threads) from ``task["start_at"]``: {"results": one per
    claim attempt, {"claimer", "pool_id", "outcome": ok|refused|error, "seconds", "error",
    "statements", "attempt"}, "cpu_seconds" and "system_seconds": the process's user and
    system CPU time during the race}."""
    from dienynas.app import create_app

    threads = len(task["claimers"])
    app = create_app(
        {
            "DATABASE_URL": task["database_url"],
            "REDIS_URL": task["redis_url"],
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_size": threads + 1,
                "max_overflow": 0,
                "pool_use_lifo": True,
            },
        }
    )
    results: list[dict[str, Any]] = []
    late: list[float] = []  # seconds each claimer was ready after the start (< 0: before)
    lock = threading.Lock()
    today = date.fromisoformat(task["today"])
    counted = threading.local()  # SQL statements of the claim in hand, per thread

    def count(*_args: Any) -> None:
        counted.n = getattr(counted, "n", 0) + 1

    from sqlalchemy import event

    from dienynas.extensions import db

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)

    def run(claimer: dict[str, Any]) -> None:
        from sqlalchemy import select

        from accounts import identity
        from dienynas.errors import ServiceError
        from dienynas.extensions import db
        from tenants.models import School
        from tenants.services import find_and_bind_school, find_and_bind_statement
        from transfers import services

        school_and_account = find_and_bind_statement(identity.SIGNED_IN)

        def attempt(pool_id: int, class_id: int, *, commit: bool = True) -> tuple[str, Any]:
            """What the pool page's claim does in one request: find the school, bind the
            transaction and read the signed-in account (one statement, as a school page's
            resolution, tenants.routing), ``claim_student`` (which writes the transfer's
            notifications), one commit (a refusal rolls back), and the request's end (the
            session closed, its connection back in the pool)."""
            session = db.session
            try:
                row = find_and_bind_school(
                    session, slug, school_and_account, signed_in_id=claimer["director_id"]
                )
                school, director = row[0], identity.from_json(row[-1])
                services.claim_student(
                    session, director, school, pool_id=pool_id, class_id=class_id, today=today
                )
                if commit:
                    session.commit()
                else:
                    session.rollback()
                return "ok", None
            except ServiceError as exc:
                session.rollback()
                return "refused", exc.message
            except Exception as exc:  # counted and reported (errors), not hidden
                session.rollback()
                return "error", f"{type(exc).__name__}: {exc}"[:300]
            finally:
                db.session.remove()

        mine = []
        with app.app_context():
            session = db.session
            slug = session.get(School, claimer["school_id"]).slug
            levels = {5: claimer["class_5"], 6: claimer["class_6"]}
            grade_levels = dict(
                session.execute(
                    select(services.PoolEntry.id, services.PoolEntry.grade_level).where(
                        services.PoolEntry.id.in_(claimer["pool_ids"])
                    )
                ).all()
            )
            db.session.remove()
            if task["warm_up"] and claimer["pool_ids"]:
                # What a running server has done long before: compile the claim's statements,
                # load the translations. One claim of this claimer's first student, rolled
                # back: nothing is claimed, nothing is measured.
                attempt(claimer["pool_ids"][0], levels[5], commit=False)
            late.append(time.time() - task["start_at"])
            time.sleep(max(0.0, task["start_at"] - time.time()))
            for pool_id in claimer["pool_ids"]:
                started = time.perf_counter()
                counted.n = 0
                outcome, error = attempt(pool_id, levels.get(grade_levels[pool_id], levels[5]))
                mine.append({"claimer": claimer["index"], "pool_id": pool_id, "outcome": outcome,
                             "seconds": time.perf_counter() - started, "error": error,
                             "statements": counted.n, "attempt": len(mine)})  # fmt: skip
        with lock:
            results.extend(mine)

    workers = [threading.Thread(target=run, args=(c,)) for c in task["claimers"]]
    for worker in workers:
        worker.start()
    time.sleep(max(0.0, task["start_at"] - time.time()))
    before = os.times()
    for worker in workers:
        worker.join()
    after = os.times()
    return {"results": results, "cpu_seconds": after.user - before.user,
            "system_seconds": after.system - before.system, "late": max(late)}  # fmt: skip


def assignments(
    pool_ids: list[int], claimers: int, per_student: int, schools: list[dict[str, int]]
) -> list[dict[str, Any]]:
    """Claimer i works for school i mod len(schools); student k goes to ``per_student``
    claimers of different schools, spread evenly over all claimers."""
    plan: list[dict[str, Any]] = [
        {"index": i, **schools[i % len(schools)], "pool_ids": []} for i in range(claimers)
    ]
    offset = max(1, claimers // per_student)
    for k, pool_id in enumerate(pool_ids):
        chosen: list[int] = []
        candidate = k % claimers
        while len(chosen) < per_student:
            if all(plan[c]["school_id"] != plan[candidate]["school_id"] for c in chosen):
                chosen.append(candidate)
                candidate = (candidate + offset) % claimers
            else:
                candidate = (candidate + 1) % claimers
        for c in chosen:
            plan[c]["pool_ids"].append(pool_id)
    return plan


# --- the check ----------------------------------------------------------------------------------


def check(pool_ids: list[int], schools: list[dict[str, int]]) -> tuple[int, int, int]:
    """(claimed entries, duplicates, lost): each pool entry's student must be in the pool or an
    active student of exactly one receiving school (matched by the claimed person's name, which
    the seed makes unique)."""
    from sqlalchemy import select

    from dienynas.extensions import db
    from school.people.models import Person, Student
    from tenants.binding import unbind_session
    from tenants.models import School
    from tenants.services import bind_to_school
    from transfers.models import PoolEntry

    session = db.session
    entries = list(session.scalars(select(PoolEntry).where(PoolEntry.id.in_(pool_ids))))
    copies: Counter[tuple[str, str]] = Counter()
    for info in schools:
        bind_to_school(session, session.get(School, info["school_id"]))
        copies.update(
            session.execute(
                select(Person.first_name, Person.last_name)
                .join(Student, Student.person_id == Person.id)
                .where(Student.status == "active")
            ).all()
        )
        unbind_session(session)
        session.commit()
    duplicates = sum(max(0, n - 1) for n in copies.values())
    lost = 0
    for entry in entries:
        present = copies[(entry.first_name, entry.last_name)]
        if entry.status == "in_pool":
            lost += present != 0  # back in the pool but still enrolled somewhere
        else:
            lost += present == 0
    claimed = sum(e.status == "claimed" for e in entries)
    return claimed, duplicates, lost


# --- main ---------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    from dienynas.app import create_app
    from dienynas.extensions import db
    from provision import bench_redis_url, drop_database, named_database_url
    from tenants import migrations

    url = named_database_url(BENCH_DATABASE)
    redis_url = bench_redis_url()
    where = url.host or url.query.get("host") or "localhost"
    log(f"database {url.database} on {where}")
    drop_database(url, recreate=True)
    rendered_url = url.render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": rendered_url, "REDIS_URL": redis_url})
    today = date.today()
    try:
        with app.app_context():
            with db.engine.begin() as connection:
                migrations.upgrade_public(connection)
            started = time.perf_counter()
            pool_ids = seed_leaving(args.students, today)
            schools = seed_receivers(args.schools, today)
            log(f"seeded in {time.perf_counter() - started:.1f} s")
            db.session.remove()
            db.engine.dispose()

        plan = assignments(pool_ids, args.claimers, args.per_student, schools)
        per_process = math.ceil(args.claimers / args.processes)
        start_at = time.time() + 20 + 2 * args.processes  # for the processes to start, warm up
        tasks = [
            {"database_url": rendered_url, "redis_url": redis_url, "today": today.isoformat(),
             "start_at": start_at, "claimers": plan[p : p + per_process],
             "warm_up": not args.cold}
            for p in range(0, args.claimers, per_process)
        ]  # fmt: skip
        log(f"{args.claimers} claimers in {len(tasks)} processes, {args.per_student} per student")
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(len(tasks), mp_context=context) as pool:
            running = [pool.submit(claimer_process, task) for task in tasks]
            time.sleep(max(0.0, start_at - time.time()))
            busy_before = machine_cpu()
            done = [future.result() for future in running]
            busy = [
                after - before for after, before in zip(machine_cpu(), busy_before, strict=True)
            ]
            race_took = time.time() - start_at
        results = [r for chunk in done for r in chunk["results"]]
        claimers_cpu = sum(chunk["cpu_seconds"] for chunk in done)
        claimers_system = sum(chunk["system_seconds"] for chunk in done)
        latest = max(chunk["late"] for chunk in done)
        if latest > 0:
            log(f"warning: a claimer was ready {latest:.1f} s after the start (slow machine?)")
        race_s = max(r["seconds"] for r in results)
        log(f"the race took {race_took:.1f} s")
        outcomes = Counter(r["outcome"] for r in results)
        log(f"race: {dict(outcomes)}; slowest claim {race_s * 1000:.0f} ms")
        if busy[1]:
            log(f"CPU during the race: the claimer processes {claimers_cpu:.1f} s (user) + "
                f"{claimers_system:.1f} s (system); the machine "
                f"{busy[0]:.1f} s of {busy[1]:.1f} s (all cores: the database, the claimers, "
                f"anything else running)")  # fmt: skip
        for outcome in ("ok", "refused"):
            times = [r["seconds"] for r in results if r["outcome"] == outcome]
            statements = sorted(r["statements"] for r in results if r["outcome"] == outcome)
            median = statements[len(statements) // 2] if statements else 0
            p50, p95 = percentile_ms(times, 0.5), percentile_ms(times, 0.95)
            log(f"{outcome}: p50 {p50} ms, p95 {p95} ms, median {median} SQL statements")
        for label, chosen in (
            ("first attempts", [r for r in results if r["attempt"] == 0]),
            ("later attempts", [r for r in results if r["attempt"] > 0]),
        ):
            times = [r["seconds"] for r in chosen]
            log(f"{label} ({len(times)}): p50 {percentile_ms(times, 0.5)} ms, "
                f"p95 {percentile_ms(times, 0.95)} ms")  # fmt: skip
        for failure in [r for r in results if r["outcome"] == "error"][:5]:
            log(f"error: {failure['error']}")

        with app.app_context():
            claimed, duplicates, lost = check(pool_ids, schools)
            db.session.remove()
            db.engine.dispose()
    finally:
        if args.keep:
            log(f"kept the database {url.database} (--keep)")
        else:
            drop_database(url, recreate=False)
    wins = Counter(r["pool_id"] for r in results if r["outcome"] == "ok")
    if claimed != len(wins) or any(n != 1 for n in wins.values()):
        log(f"claims reported ok: {len(wins)} students, {sum(wins.values())} claims; "
            f"claimed in the pool: {claimed}")  # fmt: skip
        duplicates = max(duplicates, sum(wins.values()) - len(wins))
    latencies = [r["seconds"] for r in results if r["outcome"] != "error"]
    return {
        "students": len(pool_ids),
        "claims_ok": outcomes["ok"],
        "claims_refused": outcomes["refused"],
        "duplicates": duplicates,
        "lost": lost,
        "claim_p50_ms": percentile_ms(latencies, 0.50),
        "claim_p95_ms": percentile_ms(latencies, 0.95),
        "claimers": args.claimers,
        "errors": outcomes["error"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="40 students, 10 claimers")
    parser.add_argument("--students", type=int, help="students in the pool (200; quick 40)")
    parser.add_argument("--claimers", type=int, help="concurrent claimers (50; quick 10)")
    parser.add_argument("--processes", type=int, help="processes the claimers run in (5; quick 2)")
    parser.add_argument("--per-student", type=int, default=3, help="claimers per student (3)")
    parser.add_argument("--schools", type=int, default=10, help="receiving schools (10)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="no warm-up: each process's first claims also compile the statements",
    )
    args = parser.parse_args(argv)
    args.students = args.students or (40 if args.quick else 200)
    args.claimers = args.claimers or (10 if args.quick else 50)
    args.processes = args.processes or (2 if args.quick else 5)
    if min(args.students, args.claimers, args.processes, args.per_student, args.schools) < 1:
        parser.error("every number must be positive")
    if args.per_student > min(args.schools, args.claimers):
        parser.error("--per-student cannot exceed --schools or --claimers")
    result = run(args)
    print(json.dumps(result), flush=True)
    return 0 if result["duplicates"] == 0 and result["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
