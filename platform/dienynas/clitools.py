"""Helpers for CLI commands: one transaction per command, errors as clear messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from dienynas.errors import DienynasError
from dienynas.extensions import db


@contextmanager
def committing() -> Iterator[None]:
    """Commit once when the block succeeds; when a service refuses, roll back (nothing is
    created) and exit non-zero with the message."""
    try:
        yield
    except DienynasError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    except BaseException:
        db.session.rollback()
        raise
    else:
        db.session.commit()


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
