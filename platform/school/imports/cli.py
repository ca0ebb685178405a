"""``dienynas import KIND --school SLUG FILE [--commit]`` and ``dienynas export …``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from accounts.services import command_line_actor
from dienynas.clitools import echo_json
from dienynas.errors import DienynasError
from dienynas.extensions import db
from school.imports.services import KINDS, export_table, run_import
from tenants.services import bind_to_school, get_school

KIND = click.Choice(KINDS)


@click.command("import")
@click.argument("kind", type=KIND)
@click.option("--school", "slug", required=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--commit", is_flag=True, help="Save when every row is valid (else only check).")
@with_appcontext
def import_command(kind: str, slug: str, file: Path, commit: bool) -> None:
    """Check (and with --commit save) a CSV or XLSX list; print a JSON summary.

    Exits non-zero when a row is bad; then nothing is saved."""
    try:
        school = get_school(db.session, slug)
        bind_to_school(db.session, school)
        actor = command_line_actor(school)
        report = run_import(db.session, school, actor, kind, file.name, file.read_bytes())
    except DienynasError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    if commit and not report.errors:
        db.session.commit()
        report.committed = True
    else:
        db.session.rollback()
    echo_json(report.as_dict())
    if report.errors:
        raise SystemExit(1)


@click.command("export")
@click.argument("kind", type=KIND)
@click.option("--school", "slug", required=True)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_command(kind: str, slug: str, file: Path) -> None:
    """Write a list as CSV or XLSX (by the file's extension), in the import's columns."""
    try:
        school = get_school(db.session, slug)
        bind_to_school(db.session, school)
        content = export_table(db.session, school, kind, file.name)
    except DienynasError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        db.session.rollback()
    file.write_bytes(content)
    click.echo(f"{kind}: {file}")
