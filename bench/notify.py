"""Benchmark: notification delivery by `dienynas worker` processes, against raw RQ throughput.

On a throw-away database of its own (never the development or test data):

1. one school is seeded with N students (no class needed), each with two guardian accounts in
   mixed languages (lt, ru, pl, en) with e-mail addresses, and one remark per student with its
   outbox event (as the gradebook writes them): N events fanning out to 2N guardians;
2. one dispatch job is enqueued for the school (as the after-commit hook does) and W
   ``dienynas worker --burst`` processes dispatch the events and send the deliveries
   (in the e-diary and by e-mail) to an SMTP sink on loopback (aiosmtpd, in this process);
   ``seconds`` runs from the enqueue until no event is undispatched and no delivery pending
   (the workers are started and registered before);
3. the same number of deliveries as no-op jobs (``os.getpid``) is enqueued and run by W
   workers the same way: ``rq_noop_jobs_per_s``.

``ratio`` = deliveries_per_s / rq_noop_jobs_per_s. Targets: duplicates 0, missing 0,
ratio ≥ 0.5. ``duplicates`` counts e-mails received more than once for one guardian,
``missing`` guardians who got no e-mail (or deliveries not sent).

The database is ``dienynas_bench_notify`` on the server of ``BENCH_DATABASE_URL`` (whose
database name must start with ``dienynas_bench``: it is dropped), else of ``DATABASE_URL``,
else the embedded PostgreSQL. Redis: ``BENCH_REDIS_URL``, ``REDIS_URL`` or the embedded one;
its job queue must be empty (the benchmark refuses to run otherwise).

Progress goes to stderr; the last line on stdout is one JSON object::

    {"events", "deliveries", "duplicates", "missing", "seconds", "deliveries_per_s",
     "rq_noop_jobs_per_s", "ratio"}

Usage: ``.venv/bin/python bench/notify.py [--events N] [--workers W] [--keep]``
(``BENCH_WORKER_LOG=<file>`` keeps the workers' log.)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
os.environ.setdefault("DIENYNAS_INSTANCE", str(REPO / "instance"))
# bench/transfers.py is named like the ``transfers`` package the application imports: keep the
# bench folder (for provision.py) behind the installed packages on the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]
DIENYNAS = str(Path(sys.executable).parent / "dienynas")
BENCH_DATABASE = "dienynas_bench_notify"
LOCALES = ("lt", "ru", "pl", "en")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class Sink:
    """The loopback SMTP server's handler: counts e-mails per recipient."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()

    async def handle_DATA(self, server, session, envelope):
        for address in envelope.rcpt_tos:
            self.received[address] += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(students: int) -> tuple[int, int]:
    """The school, its guardians and one remark event per student. Returns (school id,
    guardians)."""
    from sqlalchemy import insert, select

    from accounts.models import Account, Role, SchoolGrant
    from dienynas.extensions import db
    from gradebook.remarks.models import Remark
    from notifications.models import NotificationEvent
    from school.people.models import Guardianship, Person, Student
    from tenants.services import bind_to_school, create_school

    session = db.session
    school = create_school(session, slug="bench-notify", name="Pranešimų mokykla")
    session.commit()
    guardians = [
        {
            "login": f"guardian{i}",
            "name": f"Globėjas {i}",
            "email": f"guardian{i}@bench.example",
            "locale": LOCALES[i % len(LOCALES)],
            "password_hash": "!",
            "must_change_password": False,
        }
        for i in range(2 * students)
    ]
    session.execute(insert(Account), guardians)
    account_ids = dict(session.execute(select(Account.login, Account.id)).all())
    teacher_id = session.scalar(
        insert(Account)
        .values(login="teacher", name="Mokytojas", password_hash="!", locale="en")
        .returning(Account.id)
    )
    session.execute(
        insert(SchoolGrant),
        [
            {"account_id": account_ids[g["login"]], "school_id": school.id, "role": Role.GUARDIAN}
            for g in guardians
        ],
    )
    session.commit()
    bind_to_school(session, school)
    student_ids = session.scalars(
        insert(Person).returning(Person.id),
        [
            {"first_name": "Mokinys", "last_name": str(i), "document_kind": "other"}
            for i in range(students)
        ],
    ).all()
    guardian_ids = session.scalars(
        insert(Person).returning(Person.id),
        [
            {
                "first_name": "Globėjas",
                "last_name": str(i),
                "document_kind": "other",
                "account_id": account_ids[f"guardian{i}"],
            }
            for i in range(2 * students)
        ],
    ).all()
    session.execute(insert(Student), [{"person_id": s} for s in student_ids])
    session.execute(
        insert(Guardianship),
        [
            {"guardian_id": guardian_ids[2 * n + k], "student_id": s}
            for n, s in enumerate(student_ids)
            for k in (0, 1)
        ],
    )
    remark_ids = session.scalars(
        insert(Remark).returning(Remark.id),
        [
            {
                "student_id": s,
                "kind": "praise",
                "text": "Puikiai!",
                "on_day": date(2026, 9, 7),
                "written_by": teacher_id,
            }
            for s in student_ids
        ],
    ).all()
    session.execute(
        insert(NotificationEvent),
        [
            {
                "kind": "remark",
                "payload": {"remark_id": r, "student_id": s},
                "actor_id": teacher_id,
            }
            for r, s in zip(remark_ids, student_ids, strict=True)
        ],
    )
    session.commit()
    return school.id, len(guardians)


@contextmanager
def running_workers(count: int, env: dict[str, str], connection) -> Iterator[None]:
    """``count`` ``dienynas worker`` processes, started and registered before the block (so
    that start-up is not measured), stopped (warm shutdown) after it."""
    from rq import Worker

    worker_log = open(os.environ.get("BENCH_WORKER_LOG", os.devnull), "a")  # noqa: SIM115
    workers = [
        subprocess.Popen(
            [DIENYNAS, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=worker_log
        )
        for _ in range(count)
    ]
    try:
        deadline = time.monotonic() + 120
        while Worker.count(connection=connection) < count:
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                raise SystemExit("the workers did not start")
            time.sleep(0.1)
        yield
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
        worker_log.close()


def wait_until(done, timeout: float = 1800) -> float:
    """Seconds until ``done()`` is true (polled every 50 ms)."""
    started = time.perf_counter()
    while not done():
        if time.perf_counter() - started > timeout:
            raise SystemExit("timed out")
        time.sleep(0.05)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    from aiosmtpd.controller import Controller
    from rq.registry import FinishedJobRegistry
    from sqlalchemy import func, select

    from dienynas.app import create_app
    from dienynas.extensions import db
    from dienynas.jobs import queue
    from notifications.models import NotificationDelivery, NotificationEvent
    from notifications.tasks import dispatch_events
    from provision import bench_redis_url, drop_database, named_database_url
    from tenants import migrations
    from tenants.models import School
    from tenants.services import bind_to_school

    database_url = named_database_url(BENCH_DATABASE)
    redis_url = bench_redis_url()
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    drop_database(database_url, recreate=True)
    url_text = database_url.render_as_string(hide_password=False)
    smtp_url = f"smtp://127.0.0.1:{port}"
    app = create_app({"DATABASE_URL": url_text, "REDIS_URL": redis_url, "SMTP_URL": smtp_url})
    env = dict(os.environ, DATABASE_URL=url_text, REDIS_URL=redis_url, SMTP_URL=smtp_url)
    try:
        with app.app_context():
            if queue().count:
                raise SystemExit("the Redis job queue is not empty; use BENCH_REDIS_URL")
            with db.engine.begin() as connection:
                migrations.upgrade_public(connection)
            log(f"seeding {args.events} events for {2 * args.events} guardians")
            school_id, guardians = seed(args.events)

            school = db.session.get(School, school_id)
            db.session.commit()

            def delivered() -> bool:
                bind_to_school(db.session, school)
                waiting = db.session.scalar(
                    select(func.count())
                    .select_from(NotificationEvent)
                    .where(NotificationEvent.dispatched_at.is_(None))
                ) + db.session.scalar(
                    select(func.count())
                    .select_from(NotificationDelivery)
                    .where(NotificationDelivery.state == "pending")
                )
                db.session.commit()
                return waiting == 0

            q = queue()
            with running_workers(args.workers, env, q.connection):
                log(f"delivering with {args.workers} workers")
                q.enqueue(dispatch_events, school_id)
                seconds = wait_until(delivered)

            bind_to_school(db.session, school)
            states = dict(
                db.session.execute(
                    select(NotificationDelivery.state, func.count()).group_by(
                        NotificationDelivery.state
                    )
                ).all()
            )
            db.session.commit()
            deliveries = states.get("sent", 0)
            duplicates = sum(n - 1 for n in sink.received.values() if n > 1)
            missing = (guardians - len(sink.received)) + sum(
                n for state, n in states.items() if state != "sent"
            )

            noop_jobs = max(deliveries, 1)
            log(f"{noop_jobs} no-op jobs with {args.workers} workers")
            finished = FinishedJobRegistry(queue=q)
            already = finished.count
            with running_workers(args.workers, env, q.connection):
                started = time.perf_counter()
                for start in range(0, noop_jobs, 500):
                    with q.connection.pipeline() as pipe:
                        for _ in range(start, min(start + 500, noop_jobs)):
                            q.enqueue("os.getpid", pipeline=pipe)
                        pipe.execute()
                wait_until(lambda: finished.count - already >= noop_jobs)
                noop_seconds = time.perf_counter() - started
    finally:
        controller.stop()
        if not args.keep:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            drop_database(database_url, recreate=False)

    deliveries_per_s = deliveries / seconds
    noop_per_s = noop_jobs / noop_seconds
    print(
        json.dumps(
            {
                "events": args.events,
                "deliveries": deliveries,
                "duplicates": duplicates,
                "missing": missing,
                "seconds": round(seconds, 2),
                "deliveries_per_s": round(deliveries_per_s, 1),
                "rq_noop_jobs_per_s": round(noop_per_s, 1),
                "ratio": round(deliveries_per_s / noop_per_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
