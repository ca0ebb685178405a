"""``dienynas gradebook lessons --school SLUG [--from DAY] [--to DAY]``."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from dienynas import clock
from dienynas.clitools import committing, echo_json
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_optional_date
from gradebook.lessons import services
from tenants.models import SchoolStatus
from tenants.services import bind_to_school, get_school


@click.command("lessons")
@click.option("--school", "slug", required=True, help="The school's address name.")
@click.option("--from", "start", default=None, help="First day, YYYY-MM-DD (default: today).")
@click.option("--to", "end", default=None, help="Last day, YYYY-MM-DD (default: 13 days on).")
@with_appcontext
def lessons_command(slug: str, start: str | None, end: str | None) -> None:
    """Generate a school's lessons from the timetable and remove the timetable's empty lessons
    that no longer match it; print a JSON summary."""
    with committing():
        school = get_school(db.session, slug)
        if school.status != SchoolStatus.ACTIVE:
            raise ServiceError(_("The school “%(slug)s” is not active.", slug=school.slug))
        first = parse_optional_date(start, "from") or clock.today()
        last = parse_optional_date(end, "to") or first + timedelta(
            days=services.GENERATION_DAYS - 1
        )
        bind_to_school(db.session, school)
        report = services.generate_school_lessons(db.session, first, last)
    echo_json({"school": school.slug, **report.as_dict()})
