"""``dienynas transfers leave | pool | claim``: transfers from the command line.

The commands act as the command-line actor (an administrator of the school named, never
stored: ``accounts.services.command_line_actor``); each runs in one transaction.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from accounts.services import command_line_actor
from dienynas import clock
from dienynas.clitools import committing, echo_json
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_date
from tenants.models import School, SchoolStatus
from tenants.services import bind_to_school, get_school
from transfers import services
from transfers.models import DESTINATION_KINDS
from transfers.tasks import enqueue_extract

transfers_cli = click.Group("transfers", help="Leaving, the unassigned pool and claiming.")


def _active_school(slug: str) -> School:
    school = get_school(db.session, slug)
    if school.status != SchoolStatus.ACTIVE:
        raise ServiceError(_("The school “%(slug)s” is not active.", slug=school.slug))
    return school


@transfers_cli.command("leave")
@click.option("--school", "slug", required=True, help="The leaving school's address name.")
@click.option("--student", "student_id", required=True, type=int, help="The student's id.")
@click.option("--date", "day", required=True, help="The leaving date, YYYY-MM-DD.")
@click.option("--reason", default=None, help="Why the student leaves.")
@click.option("--to", "to_slug", default=None, help="The destination school's address name.")
@click.option(
    "--destination",
    type=click.Choice(DESTINATION_KINDS),
    default="elsewhere",
    show_default=True,
    help="Where the student goes when no school of the municipality is named.",
)
@with_appcontext
def leave_command(
    slug: str, student_id: int, day: str, reason: str | None, to_slug: str | None,
    destination: str,
) -> None:  # fmt: skip
    """Mark a student as leaving: they enter the pool (the extract PDF job is enqueued);
    prints {"pool_id": …}."""
    with committing():
        school = _active_school(slug)
        target = get_school(db.session, to_slug) if to_slug else None
        left_on = parse_date(day, "date")
        bind_to_school(db.session, school)
        entry = services.leave_student(
            db.session,
            command_line_actor(school),
            school,
            student_id=student_id,
            left_on=left_on,
            reason=reason,
            destination_kind=destination,
            to_school_id=target.id if target else None,
            today=clock.today(),
        )
        pool_id = entry.id
    enqueue_extract(pool_id)  # as the leaving page does (without Redis: the sweep renders it)
    echo_json({"pool_id": pool_id})


@transfers_cli.command("pool")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def pool_command(as_json: bool) -> None:
    """The students waiting in the pool (minimal fields), the longest waiting first."""
    rows = services.search_pool(db.session, today=clock.today(), limit=10_000)
    db.session.rollback()
    if as_json:
        echo_json(
            [
                {
                    "pool_id": r.id,
                    "first_name": r.first_name,
                    "last_name": r.last_name,
                    "birth_year": r.birth_year,
                    "from_school": r.from_school_name,
                    "grade_level": r.grade_level,
                    "days_in_pool": r.days_in_pool,
                }
                for r in rows
            ]
        )
        return
    for r in rows:
        click.echo(
            f"{r.id:>8}  {r.last_name} {r.first_name}  {r.birth_year or '-'}  "
            f"{r.grade_level or '-'}  {r.from_school_name}  {r.days_in_pool}"
        )


@transfers_cli.command("claim")
@click.option("--school", "slug", required=True, help="The receiving school's address name.")
@click.option("--pool-id", "pool_id", required=True, type=int, help="The pool entry's id.")
@click.option("--class", "class_name", required=True, help="The class, e.g. 5a.")
@click.option(
    "--year",
    "year_name",
    default=None,
    help="The class's school year, e.g. 2027–2028 (default: this one, else the next).",
)
@with_appcontext
def claim_command(slug: str, pool_id: int, class_name: str, year_name: str | None) -> None:
    """Take a student from the pool into a class; prints a JSON summary of what was carried.
    Exits non-zero when another school claimed the student first."""
    with committing():
        school = _active_school(slug)
        bind_to_school(db.session, school)
        summary = services.claim_by_class_name(
            db.session,
            command_line_actor(school),
            school,
            pool_id=pool_id,
            class_name=class_name,
            today=clock.today(),
            year_name=year_name,
        )
    echo_json(summary.as_dict())
