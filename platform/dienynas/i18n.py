"""Languages: the locale chain and the language switcher.

The chain (DESIGN.md 6): the account's preference, then the choice made in this session, then
the school's default language, then the browser's Accept-Language, then Lithuanian.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

import flask_babel
from babel.lists import format_list
from babel.units import format_unit
from flask import g, has_request_context, request, session
from flask_babel import force_locale, get_locale
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from dienynas.config import DEFAULT_LOCALE, SUPPORTED_LOCALES

SESSION_KEY = "locale"

#: Each language named in itself, for the switcher.
LANGUAGE_NAMES = {"lt": "Lietuvių", "ru": "Русский", "pl": "Polski", "en": "English"}


def select_locale() -> str:
    if not has_request_context():
        return terminal_locale()
    account_locale = getattr(current_user, "locale", None) if current_user else None
    if account_locale in SUPPORTED_LOCALES:
        return account_locale
    if session.get(SESSION_KEY) in SUPPORTED_LOCALES:
        return session[SESSION_KEY]
    school = g.get("school")
    if school is not None and school.default_locale in SUPPORTED_LOCALES:
        return school.default_locale
    if school is None and getattr(current_user, "is_authenticated", False):
        # outside a school's pages (the account's password, contacts, an error page): the
        # language of the account's schools when they share one
        schools = {grant.school.default_locale for grant in current_user.grants}
        if len(schools) == 1 and (only := schools.pop()) in SUPPORTED_LOCALES:
            return only
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or DEFAULT_LOCALE


def terminal_locale() -> str:
    """For CLI commands and logs: the terminal's language when supported, else English.
    (Jobs that write to people use :func:`in_locale` with the recipient's language.)"""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            language = value.split("_")[0].split(".")[0].lower()
            return language if language in SUPPORTED_LOCALES else "en"
    return "en"


def in_locale(locale: str | None):
    """Render in someone else's language (a recipient's), e.g. ``with in_locale("ru"): ...``."""
    return force_locale(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)


def joined(items: Iterable[str], *, style: str = "standard") -> str:
    """Items as a sentence lists them in the reader's language (Babel's ``format_list``):
    "a, b ir c", "a, b и c", "a, b, and c"; ``style="or"`` for choices ("a, b arba c")."""
    return format_list([str(item) for item in items], style=style, locale=str(get_locale()))


def format_file_size(size: int) -> str:
    """A file's size in kilobytes as the reader writes it, unit included (12,3 kB; 12,3 кБ;
    12.3 kB): the template filter ``file_size``."""
    return format_unit(
        size / 1024, "digital-kilobyte", length="short", format="#,##0.#", locale=get_locale()
    )


#: CLDR's English is American ("12/8/26, 1:12 AM"). English readers get the day before the
#: month's name and the 24-hour clock the other languages use (docs/known-gaps.md) in the
#: formats the templates use; the others ("Dec 8, 2026") are unambiguous as CLDR writes them.
_ENGLISH_DATES = {"short": "d MMM y"}
_ENGLISH_DATETIMES = {"short": "d MMM y, HH:mm", "medium": "d MMM y, HH:mm:ss"}


def format_day(value: date, format: str = "medium") -> str:
    """The ``date`` template filter: Flask-Babel's ``format_date`` in the reader's language,
    remembered for plain dates (a diary week formats the same few days for every reader)."""
    locale = str(get_locale())
    if locale == "en":
        format = _ENGLISH_DATES.get(format, format)
    if type(value) is not date:  # a datetime is first moved into the reader's time zone
        return flask_babel.format_date(value, format)
    return _format_day(value, format, locale)


@functools.lru_cache(maxsize=4096)
def _format_day(value: date, format: str, locale: str) -> str:
    # ``locale`` is the current one (the caller read it): it is part of the key only.
    return flask_babel.format_date(value, format)


def format_timestamp(value: datetime, format: str = "medium") -> str:
    """The ``datetime`` template filter: Flask-Babel's ``format_datetime`` (in the reader's
    time zone and language), English as ``format_day`` writes it ("8 Dec 2026, 01:12")."""
    if str(get_locale()) == "en":
        format = _ENGLISH_DATETIMES.get(format, format)
    return flask_babel.format_datetime(value, format)


def template_translations() -> dict[str, Callable[..., str]]:
    """The gettext family for one template render, bound to the catalogue of the locale in
    force once.

    Flask-Babel installs callables that look the catalogue up again for every string (the
    locale, the domain and the cache behind several context proxies: about 35 µs a string, a
    tenth of a kept diary page's CPU). These shadow them in the render's context (the i18n
    extension resolves ``gettext`` there first) with Jinja's "newstyle" behaviour. A render
    inside ``in_locale`` binds that locale's catalogue, as the context processor runs there.
    """
    catalogue = flask_babel.get_translations()
    return {
        "gettext": _newstyle(catalogue.ugettext),
        "ngettext": _newstyle(catalogue.ungettext, counted=True),
        "pgettext": _newstyle(catalogue.upgettext),
        "npgettext": _newstyle(catalogue.unpgettext, counted=True),
    }


def _newstyle(translate: Callable[..., str], *, counted: bool = False) -> Callable[..., str]:
    """Jinja's newstyle gettext (jinja2.ext): the translation is escaped like any markup and
    is always a format string; the plural forms also get ``num`` (their last argument)."""

    @pass_context
    def translated(context: Context, *args: Any, **variables: Any) -> str:
        if counted:
            variables.setdefault("num", args[-1])
        text = translate(*args)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return translated
