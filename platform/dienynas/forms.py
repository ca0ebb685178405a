"""Reading values typed into forms: each parser returns the value or raises a ServiceError
naming the field, with a message the user can act on."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import TypeVar

from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from dienynas.errors import ServiceError

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ()\-]{6,24}$")

View = TypeVar("View", bound=Callable)

#: What a form carries besides its files (fields, multipart boundaries).
_FORM_ALLOWANCE = 1024 * 1024


def accepts_files(count: int, each_bytes: int) -> Callable[[View], View]:
    """Mark a view whose form may carry ``count`` files of ``each_bytes`` at once: its request
    may be that large, above ``MAX_CONTENT_LENGTH`` (every other request's cap).
    :func:`apply_body_limit` applies it before anything reads the body (the CSRF check does)."""

    def mark(view: View) -> View:
        view.max_body_bytes = count * each_bytes + _FORM_ALLOWANCE
        return view

    return mark


def apply_body_limit() -> None:
    """``before_request``, registered before the CSRF check: the limit of an :func:`accepts_files`
    view for this request."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "max_body_bytes", None)
    if limit is not None:
        request.max_content_length = limit


class UnsavableCharacter(BadRequest):
    """A form or address holding a NUL character, which PostgreSQL cannot store in text (text
    copied from some documents carries one)."""


def refuse_nul_characters() -> None:
    """``before_request``: a request whose query string or form holds a NUL character is
    refused with a page that says so, before any view saves or searches for it."""
    values = [*request.args.values()]
    if request.method == "POST" and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        values += request.form.values()
    if any("\x00" in value for value in values):
        raise UnsavableCharacter()


#: The years a date from a form may fall in: birth dates to plans, and far enough from the
#: ends of the calendar that a page adding days or months to it never leaves it.
FIRST_YEAR, LAST_YEAR = 1900, 2199


def _in_range(day: date, value: str, field: str) -> date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ServiceError(
            _(
                "“%(value)s” is too far in the past or the future: choose a year from %(first)d "
                "to %(last)d.",
                value=value, first=FIRST_YEAR, last=LAST_YEAR,
            ),
            field=field,
        )  # fmt: skip
    return day


def parse_date(value: str | None, field: str) -> date:
    """A date from a form (``YYYY-MM-DD``, what ``<input type="date">`` sends), of a year
    from :data:`FIRST_YEAR` to :data:`LAST_YEAR`."""
    value = (value or "").strip()
    if not value:
        raise ServiceError(_("Enter a date."), field=field)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ServiceError(
            _("“%(value)s” is not a date; use the form YYYY-MM-DD.", value=value), field=field
        ) from None
    return _in_range(day, value, field)


def parse_month(value: str | None, today: date, field: str = "month") -> date:
    """The first day of the month ``YYYY-MM`` (what ``<input type="month">`` sends), of a
    year from :data:`FIRST_YEAR` to :data:`LAST_YEAR`; ``today``'s month when empty."""
    value = (value or "").strip()
    if not value:
        return today.replace(day=1)
    try:
        month = datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise ServiceError(
            _("“%(value)s” is not a month; use the form YYYY-MM.", value=value), field=field
        ) from None
    return _in_range(month, value, field)


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


def check_phone(phone: str | None, field: str = "phone") -> None:
    """ServiceError unless ``phone`` is empty or looks like a phone number (digits, spaces,
    brackets and dashes, a leading +, at least six digits)."""
    if phone and (not PHONE_RE.match(phone) or sum(c.isdigit() for c in phone) < 6):
        raise ServiceError(
            _("“%(phone)s” is not a phone number, e.g. +370 612 34567.", phone=phone),
            field=field,
        )


def parse_id(value: object) -> int | None:
    """A database id from a form or a query string; None for anything else (also for numbers
    beyond PostgreSQL's bigint, which would otherwise be a database error)."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number < 2**63 else None
