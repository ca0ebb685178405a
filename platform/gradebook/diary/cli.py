"""``dienynas gradebook forget-diary-cache``: drop every rendered diary week."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from dienynas.clitools import echo_json
from gradebook.diary import cache


@click.command("forget-diary-cache")
@with_appcontext
def forget_diary_cache_command() -> None:
    """Forget the rendered diary weeks kept in Redis (after data was changed outside the
    application, e.g. a restored backup); print how many were dropped."""
    echo_json({"forgotten": cache.forget_all()})
