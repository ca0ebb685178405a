"""The municipality's calendar day.

Schools live in local time (``BABEL_DEFAULT_TIMEZONE``, Europe/Vilnius): at 00:30 in Vilnius it
is already the next school day while a server clock in UTC still says the day before. Every
"today" of the views, jobs and commands comes from :func:`today`; services take ``today`` as a
parameter, and tests freeze the day by patching this one function (the ``school_day`` fixture).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Europe/Vilnius"


def zone() -> ZoneInfo:
    """The municipality's time zone (local times such as the digest's hour are read in it)."""
    return ZoneInfo(
        current_app.config.get("BABEL_DEFAULT_TIMEZONE", DEFAULT_TIMEZONE)
        if has_app_context()
        else DEFAULT_TIMEZONE
    )


def today() -> date:
    """Today's date in the municipality's time zone."""
    return datetime.now(zone()).date()


def local_date(moment: datetime) -> date:
    """The municipality's calendar day of a stored moment (a claim made at 00:30 in Vilnius
    belongs to that day, though it is still the day before in UTC)."""
    return moment.astimezone(zone()).date()
