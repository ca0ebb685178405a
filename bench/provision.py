"""Benchmark: provisioning schools and migrating every school schema.

Measured, on a throw-away database of its own (never the development or test data):

- ``create_p50_s`` / ``create_p95_s``: the median and 95th percentile of the time to create one
  school with ``tenants.services.create_school`` and commit (registry row, role, schema, tables,
  migration stamp), over N schools created one after another.
- ``upgrade_noop_s``: ``tenants.migrations.upgrade_schools`` when every school is at the head
  (it must read the registry only and open no school schema).
- ``upgrade_additive_s``: ``upgrade_schools`` applying one throw-away additive revision
  (``ALTER TABLE school_years ADD COLUMN bench_note text``) to all N schools, in the worker
  processes the command uses. The result is verified (registry and catalog), then rolled back
  to the previous head with ``upgrade_schools(revision=<old head>)`` and verified again.

The database is ``dienynas_bench`` on the embedded PostgreSQL, or ``BENCH_DATABASE_URL`` when
set (its database name must start with ``dienynas_bench``: it is dropped). It is dropped and
created at the start, together with the school roles a previous run left behind (role names are
derived from the database name, ``tenants/roles.py``), and dropped at the end (unless
``--keep``). Redis is the embedded one, or ``BENCH_REDIS_URL``.

Progress goes to stderr; the last line on stdout is one JSON object::

    {"schools": N, "create_p50_s": …, "create_p95_s": …,
     "upgrade_noop_s": …, "upgrade_additive_s": …}

Targets at N=1000: create p95 ≤ 1 s, no-op upgrade ≤ 2 s, additive upgrade ≤ 60 s.

``--filler-revisions K`` first chains K empty school revisions (schools are provisioned at
their end), to see how the migration code scales with a longer history.

Usage: ``.venv/bin/python bench/provision.py [--schools N] [--processes P]
[--filler-revisions K] [--keep]``
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# The embedded servers live in the repository's instance folder, wherever this is run from.
os.environ.setdefault("DIENYNAS_INSTANCE", str(REPO / "instance"))

import psycopg  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import URL, Connection, Engine  # noqa: E402

from dienynas import config, embedded  # noqa: E402
from dienynas.app import create_app  # noqa: E402
from dienynas.extensions import db  # noqa: E402
from tenants import migrations  # noqa: E402
from tenants.services import create_school  # noqa: E402

BENCH_DATABASE = "dienynas_bench"
BENCH_COLUMN = "bench_note"
SCHOOL_SCHEMA_RE = re.compile(r"\bschool_\d+\b")

REVISION_TEMPLATE = '''"""Throw-away revision written by bench/provision.py.

Revision ID: {revision}
Revises: {down_revision}
"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("school_years", sa.Column("{column}", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("school_years", "{column}")
'''


FILLER_TEMPLATE = '''"""Empty revision written by bench/provision.py --filler-revisions."""

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


class BenchFailure(Exception):
    """The benchmark found something wrong (reported, exit status 1)."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile with linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- the throw-away database ----------------------------------------------------------------


def bench_database_url() -> URL:
    if url := os.environ.get("BENCH_DATABASE_URL"):
        parsed = config.sqlalchemy_url(url)
        if not (parsed.database or "").startswith(BENCH_DATABASE):
            raise BenchFailure(
                f"BENCH_DATABASE_URL names the database {parsed.database!r}; it is dropped, "
                f"so its name must start with {BENCH_DATABASE!r}."
            )
        return parsed
    return config.sqlalchemy_url(embedded.postgres_url(config.instance_path(), BENCH_DATABASE))


def named_database_url(name: str) -> URL:
    """The throw-away database of diary.py, notify.py and transfers.py: ``BENCH_DATABASE_URL``
    (its name must start with ``dienynas_bench``: it is dropped), else ``name`` on the server
    of ``DATABASE_URL``, else ``name`` on the embedded server."""
    if url := os.environ.get("BENCH_DATABASE_URL"):
        parsed = config.sqlalchemy_url(url)
        if not (parsed.database or "").startswith(BENCH_DATABASE):
            raise SystemExit(
                f"BENCH_DATABASE_URL names the database {parsed.database!r}; it is dropped, "
                f"so its name must start with {BENCH_DATABASE!r}."
            )
        return parsed
    if url := os.environ.get("DATABASE_URL"):
        return config.sqlalchemy_url(url).set(database=name)
    return config.sqlalchemy_url(embedded.postgres_url(config.instance_path(), name))


def bench_redis_url() -> str:
    """``BENCH_REDIS_URL``, else ``REDIS_URL``, else the embedded Redis."""
    return (
        os.environ.get("BENCH_REDIS_URL")
        or os.environ.get("REDIS_URL")
        or embedded.redis_url(config.instance_path())
    )


def role_prefix(url: URL) -> str:
    """The prefix of the school roles of ``url``'s database (as ``tenants.roles.role_prefix``)."""
    assert url.database
    return url.database[:40].lower() + "_"


def drop_database(url: URL, *, recreate: bool) -> None:
    """Drop the bench database and the roles derived from its name; create it again if asked."""
    maintenance = config.libpq_url(url.set(database="postgres"))
    pattern = role_prefix(url).replace("_", r"\_") + "%"
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        roles = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (pattern,)
        ).fetchall()
        for (role,) in roles:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        if roles:
            log(f"dropped {len(roles)} role(s) named {role_prefix(url)}*")
        if recreate:
            conn.execute(f'CREATE DATABASE "{url.database}"')


# --- checks ---------------------------------------------------------------------------------


@contextmanager
def recorded_statements(engine: Engine) -> Iterator[list[str]]:
    """Collect the SQL statements ``engine`` runs in this process while the block runs."""
    statements: list[str] = []

    def record(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def registry_versions(engine: Engine) -> dict[str | None, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT schema_version, count(*) FROM public.schools GROUP BY schema_version")
        ).all()
    return {version: count for version, count in rows}


def schemas_with_column(engine: Engine, column: str) -> int:
    """How many school schemas have ``school_years.<column>`` (from the catalog, which is not
    filtered by privileges as information_schema is)."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relname = 'school_years' AND n.nspname LIKE 'school\\_%' "
                "AND a.attname = :column AND NOT a.attisdropped"
            ),
            {"column": column},
        ).scalar_one()


def stamped_version(engine: Engine, schema: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(text(f'SELECT version_num FROM "{schema}".alembic_version')).scalar()


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise BenchFailure(message)


def check_report(report: migrations.UpgradeReport, expected: int, what: str) -> None:
    if report.failed:
        sample = "; ".join(f"{slug}: {error}" for slug, error in list(report.failed.items())[:5])
        raise BenchFailure(f"{what}: {len(report.failed)} school(s) failed ({sample})")
    expect(
        report.pending == expected and len(report.migrated) == expected,
        f"{what}: expected {expected} schools migrated, got pending={report.pending} "
        f"migrated={len(report.migrated)}",
    )


# --- the steps ------------------------------------------------------------------------------


def create_schools(count: int) -> tuple[list[float], list[str]]:
    """Create ``count`` schools one by one; return each one's time and the schema names."""
    times: list[float] = []
    schemas: list[str] = []
    step = max(1, count // 10)
    for i in range(1, count + 1):
        started = time.perf_counter()
        try:
            school = create_school(
                db.session, slug=f"bench-{i:05d}", name=f"Bench school {i}", locale="lt"
            )
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        times.append(time.perf_counter() - started)
        schemas.append(school.schema_name)
        if i % step == 0 or i == count:
            recent = times[-step:]
            log(
                f"created {i}/{count} schools "
                f"(last {len(recent)}: mean {sum(recent) / len(recent) * 1000:.1f} ms, "
                f"max {max(recent) * 1000:.1f} ms)"
            )
    db.session.remove()
    return times, schemas


def time_noop_upgrade(engine: Engine, processes: int | None) -> float:
    with recorded_statements(engine) as statements:
        started = time.perf_counter()
        report = migrations.upgrade_schools(engine, processes=processes)
        elapsed = time.perf_counter() - started
    expect(
        report.pending == 0 and not report.migrated and not report.failed,
        f"no-op upgrade: expected nothing to do, got pending={report.pending} "
        f"migrated={len(report.migrated)} failed={len(report.failed)}",
    )
    # a school is opened by binding a transaction to it (set_config) or naming its schema
    opened = [s for s in statements if "set_config" in s or SCHOOL_SCHEMA_RE.search(s)]
    expect(not opened, f"no-op upgrade opened a school schema: {opened[:3]}")
    log(f"no-op upgrade: {elapsed:.3f} s, {len(statements)} statement(s)")
    return elapsed


def write_revision(folder: Path, down_revision: str) -> str:
    revision = f"bench_{secrets.token_hex(4)}"
    source = REVISION_TEMPLATE.format(
        revision=revision, down_revision=down_revision, column=BENCH_COLUMN
    )
    (folder / f"{revision}_bench_note.py").write_text(source)
    return revision


def write_filler_revisions(folder: Path, count: int) -> None:
    """Chain ``count`` empty revisions on the school head, to measure the migration code with a
    longer chain (as after years of development). Schools are then provisioned at their end."""
    down_revision = migrations.school_head()
    for i in range(1, count + 1):
        revision = f"bench_filler_{i:04d}"
        (folder / f"{revision}.py").write_text(
            FILLER_TEMPLATE.format(revision=revision, down_revision=down_revision)
        )
        down_revision = revision


def time_additive_upgrade(engine: Engine, schemas: list[str], processes: int | None) -> float:
    """Apply a throw-away revision to every school, verify, roll it back, verify."""
    count = len(schemas)
    old_head = migrations.school_head()
    expect(
        registry_versions(engine) == {old_head: count},
        f"before the additive upgrade, not every school is at {old_head}",
    )
    folder = Path(tempfile.mkdtemp(prefix="dienynas-bench-migrations-"))
    previous_env = os.environ.get(migrations.EXTRA_SCHOOL_VERSIONS_ENV)
    try:
        revision = write_revision(folder, old_head)
        os.environ[migrations.EXTRA_SCHOOL_VERSIONS_ENV] = os.pathsep.join(
            p for p in (previous_env, str(folder)) if p
        )
        new_head = migrations.school_head()
        expect(new_head == revision, f"the school head is {new_head}, not the bench {revision}")

        log(f"additive upgrade {old_head} -> {revision} on {count} schools …")
        started = time.perf_counter()
        report = migrations.upgrade_schools(
            engine, processes=processes, on_school_done=progress(count, "additive upgrade")
        )
        elapsed = time.perf_counter() - started
        check_report(report, count, "additive upgrade")
        expect(
            registry_versions(engine) == {revision: count},
            f"after the additive upgrade the registry says {registry_versions(engine)}",
        )
        with_column = schemas_with_column(engine, BENCH_COLUMN)
        expect(with_column == count, f"{with_column} of {count} schemas have the new column")
        for schema in {schemas[0], schemas[len(schemas) // 2], schemas[-1]}:
            stamped = stamped_version(engine, schema)
            expect(stamped == revision, f"{schema}.alembic_version is {stamped}, not {revision}")
        log(f"additive upgrade: {elapsed:.3f} s; verified registry, column and stamps")

        started = time.perf_counter()
        report = migrations.upgrade_schools(
            engine,
            revision=old_head,
            processes=processes,
            on_school_done=progress(count, "rollback"),
        )
        downgrade_s = time.perf_counter() - started
        check_report(report, count, "rollback")
        expect(
            registry_versions(engine) == {old_head: count},
            f"after the rollback the registry says {registry_versions(engine)}",
        )
        with_column = schemas_with_column(engine, BENCH_COLUMN)
        expect(with_column == 0, f"after the rollback {with_column} schemas still have the column")
        for schema in {schemas[0], schemas[-1]}:
            stamped = stamped_version(engine, schema)
            expect(stamped == old_head, f"{schema}.alembic_version is {stamped}, not {old_head}")
        log(f"rollback to {old_head}: {downgrade_s:.3f} s; verified registry, column and stamps")
    finally:
        if previous_env is None:
            os.environ.pop(migrations.EXTRA_SCHOOL_VERSIONS_ENV, None)
        else:
            os.environ[migrations.EXTRA_SCHOOL_VERSIONS_ENV] = previous_env
        shutil.rmtree(folder, ignore_errors=True)
    expect(migrations.school_head() == old_head, "the school head did not come back")
    return elapsed


def progress(total: int, verb: str) -> Callable[[migrations.SchoolToMigrate, str | None], None]:
    """An ``on_school_done`` callback logging every tenth of the way."""
    step = max(1, total // 10)
    done = {"n": 0, "failed": 0}

    def on_school_done(school: migrations.SchoolToMigrate, error: str | None) -> None:
        done["n"] += 1
        if error:
            done["failed"] += 1
            log(f"{school.slug}: {error}")
        if done["n"] % step == 0 or done["n"] == total:
            failed = f" ({done['failed']} failed)" if done["failed"] else ""
            log(f"{verb}: {done['n']}/{total} schools done{failed}")

    return on_school_done


# --- main -----------------------------------------------------------------------------------


def run(count: int, processes: int | None, keep: bool, fillers: int) -> dict[str, Any]:
    url = bench_database_url()
    where = url.host or url.query.get("host") or "localhost"
    log(f"database {url.database} on {where}; {count} schools")
    drop_database(url, recreate=True)
    redis_url = os.environ.get("BENCH_REDIS_URL") or embedded.redis_url(config.instance_path())
    app = create_app(
        {"DATABASE_URL": url.render_as_string(hide_password=False), "REDIS_URL": redis_url}
    )
    # alembic logs every revision it runs, for every school: keep the progress readable
    logging.getLogger("alembic").setLevel(logging.WARNING)
    cleanup: list[Path] = []
    try:
        with app.app_context():
            engine = db.engine
            with engine.begin() as connection:
                migrations.upgrade_public(connection)
            if fillers:
                filler_folder = Path(tempfile.mkdtemp(prefix="dienynas-bench-fillers-"))
                cleanup.append(filler_folder)
                write_filler_revisions(filler_folder, fillers)
                os.environ[migrations.EXTRA_SCHOOL_VERSIONS_ENV] = str(filler_folder)
            log(f"public at head; school head {migrations.school_head()}")

            times, schemas = create_schools(count)
            create_p50, create_p95 = percentile(times, 0.50), percentile(times, 0.95)
            log(f"create: p50 {create_p50:.4f} s, p95 {create_p95:.4f} s, max {max(times):.4f} s")

            noop_s = time_noop_upgrade(engine, processes)
            additive_s = time_additive_upgrade(engine, schemas, processes)
            db.session.remove()
            engine.dispose()
    finally:
        if cleanup:
            os.environ.pop(migrations.EXTRA_SCHOOL_VERSIONS_ENV, None)
        for folder in cleanup:
            shutil.rmtree(folder, ignore_errors=True)
        if keep:
            log(f"kept the database {url.database} (--keep)")
        else:
            drop_database(url, recreate=False)
            log(f"dropped the database {url.database}")
    result: dict[str, Any] = {
        "schools": count,
        "create_p50_s": round(create_p50, 4),
        "create_p95_s": round(create_p95, 4),
        "upgrade_noop_s": round(noop_s, 4),
        "upgrade_additive_s": round(additive_s, 3),
    }
    if fillers:
        result["filler_revisions"] = fillers
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=200, help="schools to create (default 200)")
    parser.add_argument(
        "--processes", type=int, default=None, help="worker processes for upgrade_schools"
    )
    parser.add_argument(
        "--filler-revisions",
        type=int,
        default=0,
        metavar="K",
        help="chain K empty school revisions first (simulates a longer migration history)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if args.schools < 1:
        parser.error("--schools must be at least 1")
    if args.filler_revisions < 0:
        parser.error("--filler-revisions must not be negative")
    try:
        result = run(args.schools, args.processes, args.keep, args.filler_revisions)
    except BenchFailure as exc:
        log(f"FAILED: {exc}")
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
