"""Reading values typed into forms: each parser returns the value or raises a ServiceError
naming the field, with a message the user can act on."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from flask_babel import gettext as _

from dienynas.errors import ServiceError

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_date(value: str | None, field: str) -> date:
    """A date from a form (``YYYY-MM-DD``, what ``<input type="date">`` sends)."""
    value = (value or "").strip()
    if not value:
        raise ServiceError(_("Enter a date."), field=field)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ServiceError(
            _("“%(value)s” is not a date; use the form YYYY-MM-DD.", value=value), field=field
        ) from None


def parse_time(value: str | None, field: str) -> time:
    """A time of day from a form (``HH:MM``, what ``<input type="time">`` sends)."""
    value = (value or "").strip()
    if not value:
        raise ServiceError(_("Enter a time."), field=field)
    try:
        return datetime.strptime(value, "%H:%M").time()
    except ValueError:
        try:
            return time.fromisoformat(value).replace(second=0, microsecond=0)
        except ValueError:
            raise ServiceError(
                _("“%(value)s” is not a time; use the form HH:MM, e.g. 08:00.", value=value),
                field=field,
            ) from None


def parse_int(value: str | None, field: str, low: int, high: int) -> int:
    value = (value or "").strip()
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ServiceError(
            _("Enter a whole number from %(low)d to %(high)d.", low=low, high=high), field=field
        )
    return number


def parse_optional_int(value: str | None, field: str, low: int, high: int) -> int | None:
    return None if not (value or "").strip() else parse_int(value, field, low, high)


def parse_optional_date(value: str | None, field: str) -> date | None:
    """Like :func:`parse_date`, but an empty field is None."""
    return None if not (value or "").strip() else parse_date(value, field)


def check_email(email: str | None, field: str = "email") -> None:
    """ServiceError unless ``email`` is empty or looks like an e-mail address."""
    if email and (len(email) > 254 or not EMAIL_RE.match(email)):
        raise ServiceError(_("“%(email)s” is not an e-mail address.", email=email), field=field)


def parse_id(value: object) -> int | None:
    """A database id from a form or a query string; None for anything else (also for numbers
    beyond PostgreSQL's bigint, which would otherwise be a database error)."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number < 2**63 else None
