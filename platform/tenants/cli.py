"""``dienynas schools …`` and ``dienynas db …``."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from dienynas.clitools import committing, echo_json
from dienynas.extensions import db
from tenants import migrations, services
from tenants.models import SchoolStatus

schools_cli = click.Group("schools", help="The school registry.")
db_cli = click.Group("db", help="Database migrations for public and every school.")


@schools_cli.command("create")
@click.option("--slug", required=True, help="Address name: /s/SLUG/ (lowercase, digits, hyphens).")
@click.option("--name", required=True, help="The school's full name.")
@click.option("--locale", default="lt", show_default=True, help="Default language: lt, ru, pl, en.")
@with_appcontext
def create_school(slug: str, name: str, locale: str) -> None:
    """Register a school and build its schema."""
    with committing():
        school = services.create_school(db.session, slug=slug, name=name, locale=locale)
    click.echo(f"created {school.slug} ({school.schema_name}, {school.schema_version})")


@schools_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def list_schools(as_json: bool) -> None:
    schools = services.list_schools(db.session)
    if as_json:
        echo_json(
            [
                {
                    "id": s.id,
                    "slug": s.slug,
                    "name": s.name,
                    "locale": s.default_locale,
                    "status": s.status,
                    "schema": s.schema_name,
                    "schema_version": s.schema_version,
                }
                for s in schools
            ]
        )
        return
    for s in schools:
        click.echo(f"{s.slug:<30} {s.status:<13} {s.default_locale}  {s.name}")


@schools_cli.command("suspend")
@click.argument("slug")
@with_appcontext
def suspend_school(slug: str) -> None:
    """Close a school's pages (data kept)."""
    with committing():
        services.set_status(db.session, slug, SchoolStatus.SUSPENDED)
    click.echo(f"suspended {slug}")


@schools_cli.command("resume")
@click.argument("slug")
@with_appcontext
def resume_school(slug: str) -> None:
    """Open a suspended school again."""
    with committing():
        services.set_status(db.session, slug, SchoolStatus.ACTIVE)
    click.echo(f"resumed {slug}")


@db_cli.command("upgrade")
@click.option("--processes", type=int, default=None, help="Parallel worker processes.")
@click.option("--lock-timeout", default=migrations.DEFAULT_LOCK_TIMEOUT, show_default=True)
@click.option("--public-only", is_flag=True, help="Migrate only the shared public schema.")
@with_appcontext
def upgrade(processes: int | None, lock_timeout: str, public_only: bool) -> None:
    """Migrate public, then every school schema that is behind (resumable)."""
    engine = db.engine
    with engine.begin() as connection:
        migrations.upgrade_public(connection)
    click.echo("public: at head")
    if public_only:
        return
    bar: dict = {}

    def start(total: int) -> None:
        if total:
            bar["bar"] = click.progressbar(length=total, label="schools", file=sys.stderr)
            bar["bar"].__enter__()

    def done(school, error: str | None) -> None:
        bar["bar"].update(1)
        if error:
            click.echo(f"\n{school.slug}: {error}", err=True)

    try:
        report = migrations.upgrade_schools(
            engine,
            processes=processes,
            lock_timeout=lock_timeout,
            on_start=start,
            on_school_done=done,
        )
    finally:
        if "bar" in bar:
            bar["bar"].__exit__(None, None, None)
    if report.pending:
        click.echo(
            f"schools: {len(report.migrated)} migrated to {report.revision}, "
            f"{len(report.failed)} failed"
        )
    else:
        click.echo(f"schools: all at {report.revision}")
    if report.failed:
        raise click.ClickException(
            f"{len(report.failed)} school(s) not migrated: "
            + ", ".join(sorted(report.failed))
            + ". Run `dienynas db upgrade` again to resume."
        )


@db_cli.command("revision")
@click.option("--chain", type=click.Choice(["public", "school"]), required=True)
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True, help="Compare the models with the migrated schema.")
@with_appcontext
def revision(chain: str, message: str, autogenerate: bool) -> None:
    """Create a migration revision (for developers)."""
    migrations.new_revision(db.engine, chain, message, autogenerate=autogenerate)


@db_cli.command("current")
@with_appcontext
def current() -> None:
    """Show each school's schema version against the code's head."""
    head = migrations.school_head()
    for s in services.list_schools(db.session):
        mark = "" if s.schema_version == head else "  (behind)"
        click.echo(f"{s.slug:<30} {s.schema_version}{mark}")
    click.echo(f"head: {head}; database: {current_app.config['SQLALCHEMY_DATABASE_URI'].database}")
