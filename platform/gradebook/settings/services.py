"""The administrator changes the school's gradebook rules (test notice, tests a day, the rule
for breaking them, term-grade rounding, six-day weeks)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from accounts.identity import Principal
from dienynas.errors import ServiceError
from dienynas.forms import parse_int
from gradebook.settings.models import GradebookSettings
from school.permissions import require_admin
from tenants.models import School

TEST_RULES = {
    "refuse": _l("Refuse the test"),
    "warn": _l("Warn and save the test"),
}
ROUNDINGS = {
    "half_up": _l("Halves up (7.5 → 8)"),
    "half_down": _l("Halves down (7.5 → 7)"),
}
#: Checkbox values a browser or a script may send for "on".
_TRUE = {"1", "on", "true", "yes", "y"}


def update_settings(
    session: Session,
    account: Principal,
    school: School,
    *,
    test_notice_days: str,
    tests_per_day: str,
    test_rule: str,
    rounding: str,
    saturday_lessons: str | bool | None,
) -> GradebookSettings:
    """Save the settings (the administrator only); every value is checked before any is set.

    Turning Saturday lessons off leaves the Saturday lessons already written; the daily lesson
    generation removes the empty ones (``lessons.services.remove_stale_lessons``)."""
    require_admin(account, school)
    notice = parse_int(test_notice_days, "test_notice_days", 0, 30)
    per_day = parse_int(tests_per_day, "tests_per_day", 1, 5)
    if test_rule not in TEST_RULES:
        raise ServiceError(
            _("Choose what happens when a test breaks the rules."), field="test_rule"
        )
    if rounding not in ROUNDINGS:
        raise ServiceError(_("Choose how term grades are rounded."), field="rounding")
    saturdays = (
        saturday_lessons
        if isinstance(saturday_lessons, bool)
        else (saturday_lessons or "").strip().lower() in _TRUE
    )
    settings = session.get(GradebookSettings, 1)
    if settings is None:
        settings = GradebookSettings(id=1)
        session.add(settings)
    settings.test_notice_days = notice
    settings.tests_per_day = per_day
    settings.test_rule = test_rule
    settings.rounding = rounding
    settings.saturday_lessons = saturdays
    session.flush()
    return settings
