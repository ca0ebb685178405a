"""Alembic across the municipality: the ``public`` chain, then every school schema.

``migrations/public`` and ``migrations/school`` are two Alembic environments. The registry
(``public.schools.schema_version``) knows each school schema's revision, so

- a deploy with no new school migration reads one row count and touches no schema;
- a run that stops half-way (crash, lock timeout) is resumed by running it again: each school
  is migrated and its registry row updated in one transaction of its own.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import URL, Connection, Engine

from tenants.binding import SchoolBinding, bind_connection
from tenants.models import School, SchoolStatus
from tenants.roles import reset_role

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
#: Extra folders of ``school`` revisions (os.pathsep-separated), used by bench/provision.py to
#: apply a throw-away migration to every school.
EXTRA_SCHOOL_VERSIONS_ENV = "DIENYNAS_EXTRA_SCHOOL_MIGRATIONS"
DEFAULT_LOCK_TIMEOUT = "5s"


def alembic_config(chain: str) -> Config:
    if chain not in {"public", "school"}:
        raise ValueError(f"unknown migration chain {chain!r}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR / chain))
    locations = [str(MIGRATIONS_DIR / chain / "versions")]
    if chain == "school" and (extra := os.environ.get(EXTRA_SCHOOL_VERSIONS_ENV)):
        locations.extend(p for p in extra.split(os.pathsep) if p)
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    return config


@cache
def _script(chain: str, extra: str | None) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(chain))


def script_directory(chain: str) -> ScriptDirectory:
    return _script(chain, os.environ.get(EXTRA_SCHOOL_VERSIONS_ENV))


def school_head() -> str:
    """The revision a school schema built now is at."""
    head = script_directory("school").get_current_head()
    assert head is not None, "the school migration chain is empty"
    return head


def upgrade_public(connection: Connection, revision: str = "head") -> None:
    config = alembic_config("public")
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def migrate_school_connection(
    connection: Connection, binding: SchoolBinding, revision: str = "head"
) -> str:
    """Run the school chain to ``revision`` inside the connection's transaction, as the school's
    role. Returns the revision the schema is at afterwards."""
    config = alembic_config("school")
    config.attributes["connection"] = connection
    config.attributes["schema"] = binding.schema
    bind_connection(connection, binding)
    version_table = f'"{binding.schema}".alembic_version'
    has_version_table = connection.execute(
        text("SELECT to_regclass(:t) IS NOT NULL"), {"t": version_table}
    ).scalar()
    current = (
        connection.execute(text(f"SELECT version_num FROM {version_table}")).scalar()
        if has_version_table
        else None
    )
    script = script_directory("school")
    target = script.get_current_head() if revision == "head" else revision
    if current != target:
        if script.get_revision(target) is None:
            raise ValueError(f"unknown school revision {target!r}")
        if current is not None and _known_revision(script, current) is False:
            raise ValueError(
                f"schema {binding.schema} is at revision {current!r}, which this code does not "
                "know (was a newer release rolled back?); deploy that release's migrations first"
            )
        is_ancestor = current is None or any(
            r.revision == current for r in script.iterate_revisions(target, "base")
        )
        _run_school_env(config, script, target, upgrade=is_ancestor)
    reset_role(connection)
    return target


def _known_revision(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for unknown or malformed ids
        return False


def _run_school_env(config: Config, script: ScriptDirectory, target: str, *, upgrade: bool) -> None:
    """``command.upgrade`` / ``command.downgrade`` to ``target``, but with the cached script
    directory: the commands build a new one each time, importing every revision file again,
    i.e. once per school (bench/provision.py --filler-revisions shows the cost)."""

    def steps(rev: Any, context: Any) -> Any:
        return script._upgrade_revs(target, rev) if upgrade else script._downgrade_revs(target, rev)

    with EnvironmentContext(config, script, fn=steps, destination_rev=target):
        script.run_env()


@dataclass(frozen=True)
class SchoolToMigrate:
    id: int
    slug: str
    schema: str
    role: str


def schools_behind(connection: Connection, revision: str) -> list[SchoolToMigrate]:
    """Schools whose schema is not at ``revision`` (one query; no schema is opened)."""
    rows = connection.execute(
        select(School.id, School.slug, School.schema_name, School.role_name)
        .where(School.status != SchoolStatus.PROVISIONING)
        .where(School.schema_version.is_distinct_from(revision))
        .order_by(School.id)
    )
    return [SchoolToMigrate(*row) for row in rows]


def migrate_one_school(
    engine: Engine, school: SchoolToMigrate, revision: str, lock_timeout: str
) -> str:
    """Migrate one school in its own transaction and record its version in the registry."""
    with engine.begin() as connection:
        connection.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": lock_timeout})
        recorded = connection.execute(
            select(School.schema_version).where(School.id == school.id).with_for_update()
        ).scalar()
        target = script_directory("school").get_current_head() if revision == "head" else revision
        if recorded == target:
            return target  # another run got here first
        binding = SchoolBinding(school.id, school.schema, school.role)
        version = migrate_school_connection(connection, binding, target)
        connection.execute(
            School.__table__.update().where(School.id == school.id).values(schema_version=version)
        )
        return version


_worker_engine: Engine | None = None


def _init_worker(url: URL) -> None:
    global _worker_engine
    _worker_engine = create_engine(url, pool_size=1, max_overflow=0)


def _migrate_in_worker(school: SchoolToMigrate, revision: str, lock_timeout: str) -> str:
    assert _worker_engine is not None
    return migrate_one_school(_worker_engine, school, revision, lock_timeout)


@dataclass
class UpgradeReport:
    revision: str
    pending: int
    migrated: list[str]
    failed: dict[str, str]


def upgrade_schools(
    engine: Engine,
    *,
    revision: str = "head",
    processes: int | None = None,
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT,
    on_start: Callable[[int], None] | None = None,
    on_school_done: Callable[[SchoolToMigrate, str | None], None] | None = None,
) -> UpgradeReport:
    """Bring every school schema to ``revision`` in parallel worker processes.

    Each school is one transaction; a school that fails (lock timeout, error) is reported and
    the others go on. Running it again resumes where it stopped. ``on_start`` gets the number of
    schools to migrate; ``on_school_done`` gets each school and its error (None when migrated).
    """
    target = school_head() if revision == "head" else revision
    with engine.connect() as connection:
        todo = schools_behind(connection, target)
    report = UpgradeReport(revision=target, pending=len(todo), migrated=[], failed={})
    if on_start:
        on_start(len(todo))
    if not todo:
        return report

    def record(school: SchoolToMigrate, error: Exception | None) -> None:
        if error is None:
            report.migrated.append(school.slug)
        else:
            report.failed[school.slug] = str(error).strip().splitlines()[0]
        if on_school_done:
            on_school_done(school, report.failed.get(school.slug))

    processes = processes or min(len(todo), os.cpu_count() or 2, 8)
    if processes <= 1:
        for school in todo:
            try:
                migrate_one_school(engine, school, target, lock_timeout)
            except Exception as exc:  # reported; the run goes on with the other schools
                record(school, exc)
            else:
                record(school, None)
        return report
    # "spawn": a worker must not inherit the parent's open database connections.
    with ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(engine.url,),
    ) as pool:
        futures = {
            pool.submit(_migrate_in_worker, school, target, lock_timeout): school for school in todo
        }
        for future in as_completed(futures):
            error = future.exception()
            record(futures[future], error)  # type: ignore[arg-type]
    return report


SCRATCH_SCHEMA = "school_revision_scratch"


def new_revision(engine: Engine, chain: str, message: str, *, autogenerate: bool) -> None:
    """Write a new revision file for ``chain``. With ``autogenerate`` the models are compared
    with a schema built by the chain's migrations (for ``school``: a scratch schema, built and
    thrown away in one rolled-back transaction)."""
    from tenants.roles import create_school_role_and_schema, role_prefix

    config = alembic_config(chain)
    with engine.connect() as connection, connection.begin() as transaction:
        config.attributes["connection"] = connection
        if chain == "school":
            role = role_prefix(connection) + SCRATCH_SCHEMA
            binding = SchoolBinding(0, SCRATCH_SCHEMA, role)
            create_school_role_and_schema(
                connection, role=role, schema=SCRATCH_SCHEMA, can_login=False
            )
            migrate_school_connection(connection, binding)
            bind_connection(connection, binding)
            config.attributes["schema"] = SCRATCH_SCHEMA
        command.revision(config, message=message, autogenerate=autogenerate)
        transaction.rollback()
