"""Benchmark: the guardian diary page under concurrent clients, against a bare baseline.

On a throw-away database of its own (never the development or test data):

1. one school is seeded: several classes of 30 students with a guardian account each, eight
   subjects, a timetable, and four weeks of lessons, grades, attendance, homework, tests and
   remarks (``gradebook.sample.fill_month``);
2. requests in this process record, for a handful of (child, week) pages, the SQL the page
   runs when it is rendered (the kept pages forgotten first: the SQL that builds the
   page, with its parameters) and when it is kept (``queries_per_page``);
3. the application is served by gunicorn on loopback (gthread workers, as ``deploy/``) and
   32 client threads, each logged in as up to three guardians (keeping the cookies a browser
   keeps), read ``/s/<slug>/diary?student=<id>&week=<monday>`` for their children and
   the four weeks: ``diary_rps`` and ``diary_p95_ms`` (pages kept in Redis, as served, from
   empty), the same again with every page kept (``diary_warm_*``), then the same with
   ``DIARY_CACHE=0``: ``diary_cold_rps`` and ``diary_cold_p95_ms`` (every page rendered);
4. a bare Flask + psycopg app (``baseline_app`` below), served by gunicorn the same way,
   replays the statements that build one of those pages per request in one transaction and
   fetches every row: ``baseline_rps``. ``ratio`` = diary_rps / baseline_rps, ``ratio_cold``
   = diary_cold_rps / baseline_rps.

Targets at 32 clients on a 2-core machine: ratio ≥ 0.5, diary p95 ≤ 100 ms.

The database is ``dienynas_bench_diary`` on the server of ``BENCH_DATABASE_URL`` (whose
database name must start with ``dienynas_bench``: it is dropped), else of ``DATABASE_URL``,
else the embedded PostgreSQL. Redis: ``BENCH_REDIS_URL``, ``REDIS_URL`` or the embedded one.

Progress goes to stderr; the last line on stdout is one JSON object::

    {"diary_rps": …, "baseline_rps": …, "ratio": …, "diary_p95_ms": …, "queries_per_page": …,
     "queries_per_page_rendering": …, "diary_warm_rps": …, "diary_warm_p95_ms": …,
     "diary_cold_rps": …, "diary_cold_p95_ms": …, "ratio_cold": …, "pages_rendered": …,
     "baseline_p95_ms": …, "clients": 32, "students": …, "requests": …}

Usage: ``.venv/bin/python bench/diary.py [--quick] [--clients N] [--requests N]
[--classes N] [--keep]``
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import pickle
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
os.environ.setdefault("DIENYNAS_INSTANCE", str(REPO / "instance"))
# bench/transfers.py is named like the ``transfers`` package the application imports: keep the
# bench folder (for provision.py) behind the installed packages on the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]

BENCH_DATABASE = "dienynas_bench_diary"
PASSWORD = "bench-Dienynas-2026"
SLUG = "bench-diary"
CAPTURE_ENV = "BENCH_DIARY_CAPTURE"
DATABASE_ENV = "BENCH_DIARY_DATABASE"
WEEKS = 4
GUARDIANS_PER_CLIENT = 3
#: code, weekly lessons (21 a week, as in the demo), pass/fail scale
SUBJECTS = (("MAT", 4, False), ("LIT", 4, False), ("GIM", 3, False), ("ANG", 3, False),
            ("IST", 2, False), ("GAM", 2, False), ("KK", 2, True), ("DAI", 1, False))  # fmt: skip
FIRST_NAMES = ("Jonas", "Ugnė", "Matas", "Austėja", "Lukas", "Emilija", "Nojus", "Gabija")
LAST_NAMES = ("Kazlauskas", "Petrauskaitė", "Jankauskas", "Stankevičiūtė", "Butkus", "Urbonaitė")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- the baseline app (served by gunicorn: ``diary:baseline_app()``) --------------------------


def baseline_app():
    """A bare Flask app: ``GET /baseline?page=K`` runs the recorded statements of diary page K
    with psycopg in one transaction (one connection per server thread) and fetches every row."""
    import psycopg
    from flask import Flask, request

    with open(os.environ[CAPTURE_ENV], "rb") as handle:
        pages: list[list[tuple[str, Any]]] = pickle.load(handle)
    dsn = os.environ[DATABASE_ENV]
    local = threading.local()
    app = Flask("baseline")

    @app.get("/baseline")
    def baseline():
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = psycopg.connect(dsn)
        rows = 0
        with conn.transaction(), conn.cursor() as cursor:
            for statement, parameters in pages[int(request.args["page"]) % len(pages)]:
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    rows += len(cursor.fetchall())
        return f"<p>{rows} rows</p>"

    return app


# --- the database and the school --------------------------------------------------------------


def period(today: date) -> tuple[date, date, list[date]]:
    """Four weeks of the current school year ending this week (the first four weeks of the
    year before it has run that long, the last four in the summer): first day, last day and
    the Mondays."""
    year_start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    end = min(today, date(year_start.year + 1, 6, 19))
    end = max(end, year_start + timedelta(days=7 * WEEKS))
    last_monday = end - timedelta(days=end.weekday())
    mondays = [last_monday - timedelta(days=7 * k) for k in reversed(range(WEEKS))]
    return mondays[0], end, mondays


@dataclass
class Seeded:
    slug: str
    #: guardian login → the children's person ids
    guardians: dict[str, list[int]] = field(default_factory=dict)
    mondays: list[date] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def seed(classes: int, students_per_class: int, today: date) -> Seeded:
    """One school with ``classes`` classes, a month of gradebook data; guardian accounts that
    log in with :data:`PASSWORD`. Rows are written in bulk (the services are not under test)."""
    from sqlalchemy import insert, select

    from accounts.models import Account, SchoolGrant
    from accounts.services import hash_password
    from dienynas.extensions import db
    from gradebook.sample import fill_month
    from school.calendar import services as calendar
    from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
    from school.curriculum.models import GradeScale, Subject
    from school.people.models import Guardianship, Person, Student
    from school.timetable.models import TimetableEntry
    from tenants.binding import unbind_session
    from tenants.services import bind_to_school, create_school

    session = db.session
    rng = random.Random(2026)
    school = create_school(session, slug=SLUG, name="Bench progimnazija", locale="lt")
    session.commit()
    school_id = school.id
    password_hash = hash_password(PASSWORD)

    def accounts(logins: list[tuple[str, str]], role: str) -> list[int]:
        ids = session.scalars(
            insert(Account).returning(Account.id, sort_by_parameter_order=True),
            [{"login": login, "name": name, "locale": "lt", "password_hash": password_hash,
              "must_change_password": False} for login, name in logins],
        ).all()  # fmt: skip
        session.execute(
            insert(SchoolGrant),
            [{"account_id": i, "school_id": school_id, "role": role} for i in ids],
        )
        return list(ids)

    def people(names: list[str], account_ids: list[int | None]) -> list[int]:
        return list(
            session.scalars(
                insert(Person).returning(Person.id, sort_by_parameter_order=True),
                [{"first_name": n.split()[0], "last_name": n.split()[1], "document_kind": "other",
                  "account_id": a} for n, a in zip(names, account_ids, strict=True)],
            ).all()
        )  # fmt: skip

    def name(n: int) -> str:
        return f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[n // 8 % len(LAST_NAMES)]}{n}"

    teacher_logins = [(f"teacher{n}.bench", name(n)) for n in range(len(SUBJECTS))]
    guardian_count = classes * students_per_class
    guardian_logins = [(f"guardian{n}.bench", name(n)) for n in range(guardian_count)]
    teacher_accounts = accounts(teacher_logins, "teacher")
    guardian_accounts = accounts(guardian_logins, "guardian")
    session.commit()

    bind_to_school(session, school)
    year_start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    year = calendar.create_year(
        session, name=f"{year_start.year}–{year_start.year + 1}", starts_on=year_start,
        ends_on=date(year_start.year + 1, 8, 31),
    )  # fmt: skip
    calendar.set_terms(
        session, year, "semester",
        calendar.propose_terms("semester", year_start, date(year_start.year + 1, 6, 19)),
    )  # fmt: skip
    bells = calendar.add_schedule(session, name="Pagrindinis", is_default=True)
    calendar.fill_periods(
        session, bells, first_starts_at=clock(8, 0), lessons=7, lesson_minutes=45,
        break_minutes=10,
    )  # fmt: skip
    scales = dict(session.execute(select(GradeScale.code, GradeScale.id)).all())
    subjects = []
    for code, weekly, pass_fail in SUBJECTS:
        subject = Subject(code=code, name=code.title(),
                          scale_id=scales["pass_fail" if pass_fail else "ten_point"])  # fmt: skip
        session.add(subject)
        subjects.append((subject, weekly))
    session.flush()
    teachers = people([n for _login, n in teacher_logins], teacher_accounts)

    student_count = 0
    result = Seeded(slug=SLUG)
    for c in range(classes):
        school_class = SchoolClass(
            year_id=year.id, grade_level=5 + c // 4, letter="abcd"[c % 4], head_id=teachers[c % 8]
        )
        session.add(school_class)
        session.flush()
        numbers = range(student_count, student_count + students_per_class)
        student_count += students_per_class
        students = people([name(100 + n) for n in numbers], [None] * len(numbers))
        session.execute(
            insert(Student), [{"person_id": p, "class_id": school_class.id} for p in students]
        )
        guardians = people(
            [guardian_logins[n][1] for n in numbers], [guardian_accounts[n] for n in numbers]
        )
        session.execute(
            insert(Guardianship),
            [{"guardian_id": g, "student_id": s, "relation": "mother"}
             for g, s in zip(guardians, students, strict=True)],
        )  # fmt: skip
        for n, student in zip(numbers, students, strict=True):
            result.guardians[guardian_logins[n][0]] = [student]
        slots = iter([(day, lesson) for lesson in range(1, 6) for day in range(1, 6)])
        for index, (subject, weekly) in enumerate(subjects):
            group = Group(
                year_id=year.id, subject_id=subject.id, kind="class",
                name=f"{school_class.name} {subject.code}", class_id=school_class.id,
            )  # fmt: skip
            session.add(group)
            session.flush()
            session.add(GroupTeacher(group_id=group.id, teacher_id=teachers[index]))
            session.execute(
                insert(GroupStudent), [{"group_id": group.id, "student_id": s} for s in students]
            )
            for _lesson in range(weekly):
                day, lesson = next(slots)
                session.add(TimetableEntry(group_id=group.id, weekday=day, lesson_no=lesson,
                                           valid_from=year_start))  # fmt: skip
    session.flush()
    start, end, result.mondays = period(today)
    started = time.perf_counter()
    result.counts = fill_month(session, start=start, days=(end - start).days + 1, rng=rng)
    log(f"fill_month {start}…{end}: {result.counts} in {time.perf_counter() - started:.1f} s")
    unbind_session(session)
    session.commit()
    return result


# --- recording the page's SQL -----------------------------------------------------------------


def diary_path(slug: str, student: int, monday: date) -> str:
    return f"/s/{slug}/diary?student={student}&week={monday.isoformat()}"


def record_pages(app, seeded: Seeded, count: int) -> tuple[list[list[tuple[str, Any]]], int, int]:
    """The statements (with parameters) of ``count`` diary pages rendered (each
    the second request of a logged-in guardian, the kept pages forgotten before it), and the
    number of statements of a rendered page and of a kept one."""
    from sqlalchemy import event

    from dienynas.extensions import db
    from gradebook.diary import cache

    pages: list[list[tuple[str, Any]]] = []
    kept_sizes: set[int] = set()
    logins = list(seeded.guardians)
    with app.app_context():
        engine = db.engine
    for n in range(count):
        login = logins[n * 7 % len(logins)]
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post(
            "/login", data={"login": login, "password": PASSWORD, "csrf_token": token}
        )
        if response.status_code != 302:
            raise SystemExit(f"in-process login as {login} failed ({response.status_code})")
        path = diary_path(seeded.slug, seeded.guardians[login][0], seeded.mondays[n % WEEKS])
        if client.get(path).status_code != 200:
            raise SystemExit(f"the diary page {path} failed in-process")
        with app.app_context():
            cache.forget_all()
        statements: list[tuple[str, Any]] = []
        kept: list[tuple[str, Any]] = []

        def record(conn, cursor, statement, parameters, context, executemany, *, sink):
            sink.append((statement, parameters))

        for sink in (statements, kept):
            listener = functools.partial(record, sink=sink)
            event.listen(engine, "before_cursor_execute", listener)
            try:
                response = client.get(path)
            finally:
                event.remove(engine, "before_cursor_execute", listener)
            if response.status_code != 200:
                raise SystemExit(f"the diary page {path} failed in-process")
        pages.append(statements)
        kept_sizes.add(len(kept))
    sizes = {len(p) for p in pages}
    if len(sizes) != 1 or len(kept_sizes) != 1:
        log(f"note: pages ran different numbers of statements: {sorted(sizes | kept_sizes)}")
    return pages, max(sizes), max(kept_sizes)


# --- serving and driving ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn process on loopback with the production settings (deploy/gunicorn.conf.py)."""

    def __init__(
        self, app_spec: str, env: dict[str, str], workers: int, threads: int, chdir: Path = REPO
    ) -> None:
        self.port = free_port()
        # kept open while the server runs (closed, so deleted, by stop())
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log")  # noqa: SIM115
        # the production settings (deploy/gunicorn.conf.py: gthread, a connection per thread,
        # no keep-alive); the address of this run, and its workers and threads through the
        # variables the settings read (its connections a worker follow its threads)
        command = [
            str(Path(sys.executable).with_name("gunicorn")), app_spec,
            "--config", str(REPO / "deploy" / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{self.port}",
            "--chdir", str(chdir), "--log-level", "warning",
        ]  # fmt: skip
        sizes = {"DIENYNAS_WORKERS": str(workers), "DIENYNAS_THREADS": str(threads)}
        self.process = subprocess.Popen(
            command, env={**os.environ, **env, **sizes}, stdout=self.log, stderr=self.log
        )

    def wait(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path)
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.log.seek(0)
        raise SystemExit(f"gunicorn did not answer {path}: {self.log.read().decode()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class Client:
    """One keep-alive connection and the cookies of the guardians it is logged in as."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(
        self, method: str, path: str, cookie: str = "", body: str | None = None
    ) -> tuple[int, str, list[str]]:
        headers = {"Cookie": cookie} if cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return response.status, text, response.msg.get_all("Set-Cookie") or []

    def login(self, login: str, landing: str) -> str:
        """Sign in and open ``landing``, keeping the cookies a browser would keep: the session
        cookie that comes back with the page holds its CSRF token, so later pages do not change
        the session (a client that sent the first cookie forever would make the server sign a
        new session cookie on every page)."""
        status, page, cookies = self.request("GET", "/login")
        cookie = _cookies("", cookies)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"login": login, "password": PASSWORD, "csrf_token": token})
        status, _page, cookies = self.request("POST", "/login", cookie, body)
        if status != 302:
            raise SystemExit(f"login as {login} failed over HTTP ({status})")
        cookie = _cookies(cookie, cookies)
        status, _page, cookies = self.request("GET", landing, cookie)
        if status != 200:
            raise SystemExit(f"{landing} answered {status} to {login}")
        return _cookies(cookie, cookies)


def _cookies(cookie: str, headers: list[str]) -> str:
    """The ``Cookie`` header ``cookie`` with the ``Set-Cookie`` headers applied."""
    jar = dict(pair.split("=", 1) for pair in cookie.split("; ") if pair)
    jar.update(header.split(";", 1)[0].split("=", 1) for header in headers)
    return "; ".join(f"{name}={value}" for name, value in jar.items())


@dataclass
class Drive:
    """What one drive measured: answered requests, wall time, latency percentiles (ms)."""

    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def drive(port: int, jobs: list[list[tuple[str, str]]], label: str, expect: str) -> Drive:
    """Each client (a thread with its own connection, reopened when the server closes it)
    sends its list of (cookie, path) requests, all clients at once; each answer must be 200
    and contain ``expect``."""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(jobs) + 1)

    def run(requests: list[tuple[str, str]]) -> None:
        client = Client(port)
        mine = []
        barrier.wait()
        for cookie, path in requests:
            started = time.perf_counter()
            status, text, _cookies = client.request("GET", path, cookie)
            mine.append(time.perf_counter() - started)
            if status != 200 or expect not in text:
                raise SystemExit(f"{label}: {path} answered {status}")
        with lock:
            latencies.extend(mine)

    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [pool.submit(run, requests) for requests in jobs]
        barrier.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return Drive(len(ordered), elapsed, _percentile_ms(ordered, 0.5), _percentile_ms(ordered, 0.95))


def _percentile_ms(ordered: list[float], share: float) -> float:
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 1)


# --- main -------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    from dienynas.app import create_app
    from dienynas.extensions import db
    from gradebook.diary import cache
    from provision import bench_redis_url, drop_database, named_database_url
    from tenants import migrations

    url = named_database_url(BENCH_DATABASE)
    redis_url = bench_redis_url()
    where = url.host or url.query.get("host") or "localhost"
    log(f"database {url.database} on {where}; {args.classes} classes of 30 students")
    drop_database(url, recreate=True)
    database_url = url.render_as_string(hide_password=False)
    secret = secrets.token_hex(16)
    app_config = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": secret,
                  "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}  # fmt: skip
    app = create_app(app_config)
    # read by the baseline server; deleted in the finally below
    capture = tempfile.NamedTemporaryFile(prefix="bench-diary-", suffix=".pickle")  # noqa: SIM115
    servers: list[Server] = []
    try:
        with app.app_context():
            with db.engine.begin() as connection:
                migrations.upgrade_public(connection)
            started = time.perf_counter()
            seeded = seed(args.classes, 30, date.today())
            log(f"seeded in {time.perf_counter() - started:.1f} s")
        pages, rendering_queries, queries = record_pages(app, seeded, 16)
        log(f"the diary page runs {rendering_queries} statements, {queries} when it is kept")
        pickle.dump(pages, capture)
        capture.flush()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

        workers, threads = args.workers, args.threads
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": secret,
               "SESSION_COOKIE_SECURE": "false"}  # fmt: skip
        rng = random.Random(1)

        log(f"diary: gunicorn {workers} workers × {threads} threads, {args.clients} clients")
        server = Server("dienynas.wsgi:app", env, workers, threads)
        servers.append(server)
        server.wait("/healthz")
        logins = list(seeded.guardians)
        # each client is logged in as up to GUARDIANS_PER_CLIENT guardians (Argon2 is slow)
        per_client = [logins[i :: args.clients][:GUARDIANS_PER_CLIENT] for i in range(args.clients)]
        per_client = [mine or [logins[i % len(logins)]] for i, mine in enumerate(per_client)]

        def log_in(mine: list[str]) -> list[tuple[str, int]]:
            client = Client(server.port)
            landing = f"/s/{seeded.slug}/diary"
            return [(client.login(login, landing), seeded.guardians[login][0]) for login in mine]

        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            sessions = list(pool.map(log_in, per_client))
        took = time.perf_counter() - started
        log(f"logged in {sum(map(len, sessions))} guardians in {took:.1f} s")
        share = max(1, args.requests // args.clients)

        def diary_jobs(count: int) -> list[list[tuple[str, str]]]:
            return [
                [(cookie, diary_path(seeded.slug, student, rng.choice(seeded.mondays)))
                 for cookie, student in (rng.choice(mine) for _ in range(count))]
                for mine in sessions
            ]  # fmt: skip

        with app.app_context():
            cache.forget_all()
        jobs = diary_jobs(share)
        drive(server.port, diary_jobs(3), "diary warm-up", "</html>")
        diary = drive(server.port, jobs, "diary", "</html>")
        # the same requests again: every page is kept now, none rendered
        warm = drive(server.port, jobs, "diary, pages kept", "</html>")
        server.stop()
        servers.remove(server)
        with app.app_context():
            pages_rendered = cache.forget_all()
        log(f"diary: {diary.rps:.1f} req/s, p50 {diary.p50_ms} ms, p95 {diary.p95_ms} ms, "
            f"{pages_rendered} pages rendered and kept; again with every page kept: "
            f"{warm.rps:.1f} req/s, p50 {warm.p50_ms} ms, p95 {warm.p95_ms} ms")  # fmt: skip

        log("diary with DIARY_CACHE=0: every page rendered")
        server = Server("dienynas.wsgi:app", {**env, "DIARY_CACHE": "0"}, workers, threads)
        servers.append(server)
        server.wait("/healthz")
        drive(server.port, diary_jobs(3), "cold diary warm-up", "</html>")
        cold = drive(server.port, jobs, "cold diary", "</html>")
        server.stop()
        servers.remove(server)
        log(f"cold diary: {cold.rps:.1f} req/s, p50 {cold.p50_ms} ms, p95 {cold.p95_ms} ms")

        from dienynas import config

        baseline_env = {CAPTURE_ENV: capture.name, DATABASE_ENV: config.libpq_url(url)}
        server = Server("diary:baseline_app()", baseline_env, workers, threads, chdir=BENCH)
        servers.append(server)
        server.wait("/baseline?page=0")

        def baseline_jobs(count: int) -> list[list[tuple[str, str]]]:
            return [
                [("", f"/baseline?page={rng.randrange(len(pages))}") for _ in range(count)]
                for _client in range(args.clients)
            ]

        drive(server.port, baseline_jobs(3), "baseline warm-up", "rows")
        baseline = drive(server.port, baseline_jobs(share), "baseline", "rows")
        log(f"baseline: {baseline.rps:.1f} req/s, p50 {baseline.p50_ms} ms, "
            f"p95 {baseline.p95_ms} ms")  # fmt: skip
    finally:
        for server in servers:
            server.stop()
        capture.close()
        if args.keep:
            log(f"kept the database {url.database} (--keep)")
        else:
            drop_database(url, recreate=False)
    return {
        "diary_rps": round(diary.rps, 1),
        "baseline_rps": round(baseline.rps, 1),
        "ratio": round(diary.rps / baseline.rps, 3),
        "diary_p95_ms": diary.p95_ms,
        "queries_per_page": queries,
        "queries_per_page_rendering": rendering_queries,
        "diary_warm_rps": round(warm.rps, 1),
        "diary_warm_p95_ms": warm.p95_ms,
        "diary_cold_rps": round(cold.rps, 1),
        "diary_cold_p95_ms": cold.p95_ms,
        "ratio_cold": round(cold.rps / baseline.rps, 3),
        "pages_rendered": pages_rendered,
        "baseline_p95_ms": baseline.p95_ms,
        "clients": args.clients,
        "workers": workers,
        "threads": threads,
        "students": sum(len(s) for s in seeded.guardians.values()),
        "requests": diary.requests,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, two classes")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--requests", type=int, help="requests per app (4000; quick 640)")
    parser.add_argument("--classes", type=int, help="classes of 30 students (6; quick 2)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    cpus = os.cpu_count() or 2
    parser.add_argument(
        "--workers",
        type=int,
        default=cpus * 2,
        help="gunicorn workers (deploy/gunicorn.conf.py: 2 × CPUs)",
    )
    parser.add_argument("--threads", type=int, default=4,
                        help="threads per worker (deploy/gunicorn.conf.py: 4)")  # fmt: skip
    args = parser.parse_args(argv)
    args.requests = args.requests or (640 if args.quick else 4000)
    args.classes = args.classes or (2 if args.quick else 6)
    if min(args.clients, args.requests, args.classes, args.workers, args.threads) < 1:
        parser.error("--clients, --requests, --classes, --workers and --threads must be positive")
    print(json.dumps(run(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
