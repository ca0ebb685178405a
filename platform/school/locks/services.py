"""When may a term's closing functions be used: deleting lesson dates, entering term grades.

Automatic mode follows the school's unlock window: term grades may be entered from
``days_before_end`` days before the term ends until ``working_days_after_end`` working days
after it; lesson dates may be deleted until that same closing point. The administrator may
open or lock a function for a term by hand; the gradebook asks :func:`is_open` /
:func:`require_open` before acting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import format_date, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.identity import Principal
from dienynas.errors import NotFound, ServiceError
from dienynas.forms import parse_int
from school.calendar.models import SchoolYear, Term
from school.calendar.services import holiday_days_between
from school.locks.models import LockWindow, TermLock
from school.permissions import require_admin
from tenants.models import School

DELETE_LESSON_DATES = "delete_lesson_dates"
TERM_GRADES = "term_grades"
FUNCTION_LABELS = {
    DELETE_LESSON_DATES: _l("Deleting lesson dates"),
    TERM_GRADES: _l("Entering term grades"),
}
MODES = ("auto", "open", "locked")


def mode_labels() -> dict[str, str]:
    """The modes' names in the current language (``lock`` context: "open" is not a school's)."""
    return {
        "auto": _("automatic"),
        "open": pgettext("lock", "open"),
        "locked": pgettext("lock", "locked"),
    }


@dataclass(frozen=True)
class LockState:
    term: Term
    function: str
    mode: str
    window_start: date
    window_end: date
    is_open: bool


def lock_window(session: Session) -> LockWindow:
    """The school's window (the defaults until the administrator changes them)."""
    return session.get(LockWindow, 1) or LockWindow(
        id=1, days_before_end=14, working_days_after_end=5
    )


def set_lock_window(session: Session, account: Principal, school: School, *, days_before_end: str,
                    working_days_after_end: str) -> LockWindow:  # fmt: skip
    require_admin(account, school)
    before = parse_int(days_before_end, "days_before_end", 0, 60)
    after = parse_int(working_days_after_end, "working_days_after_end", 0, 30)
    window = session.get(LockWindow, 1)
    if window is None:
        window = LockWindow(id=1)
        session.add(window)
    window.days_before_end, window.working_days_after_end = before, after
    session.flush()
    return window


def working_days_after(day: date, count: int, holidays: set[date]) -> date:
    """The ``count``-th working day (Monday–Friday, not in ``holidays``) after ``day``."""
    current, found = day, 0
    while found < count:
        current += timedelta(days=1)
        if current.isoweekday() <= 5 and current not in holidays:
            found += 1
    return current


#: How far after a term's end its closing point may fall (30 working days and long holidays).
_HORIZON = timedelta(days=120)


def unlock_window(
    session: Session,
    term: Term,
    window: LockWindow | None = None,
    holidays: set[date] | None = None,
) -> tuple[date, date]:
    """From ``days_before_end`` days before the term's end to ``working_days_after_end``
    working days after it."""
    window = window or lock_window(session)
    if holidays is None:
        holidays = holiday_days_between(session, term.ends_on, term.ends_on + _HORIZON)
    start = term.ends_on - timedelta(days=window.days_before_end)
    end = working_days_after(term.ends_on, window.working_days_after_end, holidays)
    return start, end


def _state(term: Term, function: str, mode: str, start: date, end: date, today: date) -> LockState:
    if mode == "open":
        is_open = True
    elif mode == "locked":
        is_open = False
    elif function == TERM_GRADES:
        is_open = start <= today <= end
    else:  # lesson dates may be deleted until the term closes
        is_open = today <= end
    return LockState(term, function, mode, start, end, is_open)


def lock_state(session: Session, term: Term, function: str, today: date) -> LockState:
    if function not in FUNCTION_LABELS:
        raise ValueError(f"unknown lockable function {function!r}")
    mode = session.scalar(
        select(TermLock.mode).where(TermLock.term_id == term.id, TermLock.function == function)
    )
    start, end = unlock_window(session, term)
    return _state(term, function, mode or "auto", start, end, today)


def is_open(session: Session, term: Term, function: str, today: date) -> bool:
    return lock_state(session, term, function, today).is_open


def require_open(session: Session, term: Term, function: str, today: date) -> None:
    """ServiceError naming the term and the dates when ``function`` is locked ``today``."""
    state = lock_state(session, term, function, today)
    if state.is_open:
        return
    if state.mode == "locked":
        message = _(
            "%(function)s is locked for this term by the e-diary administrator.",
            function=FUNCTION_LABELS[function],
        )
    elif today < state.window_start:
        message = _(
            "%(function)s opens on %(date)s.",
            function=FUNCTION_LABELS[function],
            date=format_date(state.window_start, "long"),
        )
    else:
        message = _(
            "%(function)s closed on %(date)s; ask the e-diary administrator.",
            function=FUNCTION_LABELS[function],
            date=format_date(state.window_end, "long"),
        )
    raise ServiceError(message)


def states_for_year(
    session: Session, year: SchoolYear, today: date, window: LockWindow | None = None
) -> list[LockState]:
    """Every term × function of the year with its effective state (at most four queries)."""
    terms = session.scalars(select(Term).where(Term.year_id == year.id).order_by(Term.number)).all()
    modes = {
        (lock.term_id, lock.function): lock.mode
        for lock in session.scalars(
            select(TermLock).where(TermLock.term_id.in_([t.id for t in terms]))
        )
    }
    window = window or lock_window(session)
    holidays = (
        holiday_days_between(session, terms[0].starts_on, terms[-1].ends_on + _HORIZON)
        if terms
        else set()
    )
    states = []
    for term in terms:
        start, end = unlock_window(session, term, window, holidays)
        for function in FUNCTION_LABELS:
            mode = modes.get((term.id, function), "auto")
            states.append(_state(term, function, mode, start, end, today))
    return states


def set_mode(session: Session, account: Principal, school: School, *, term_id: int, function: str,
             mode: str) -> TermLock:  # fmt: skip
    """The administrator opens, locks or returns a function of a term to automatic."""
    require_admin(account, school)
    if function not in FUNCTION_LABELS or mode not in MODES:
        raise ServiceError(_("Unknown lock setting."))
    term = session.get(Term, term_id)
    if term is None:
        raise NotFound(_("No such term."))
    lock = session.scalar(
        select(TermLock).where(TermLock.term_id == term_id, TermLock.function == function)
    )
    if lock is None:
        lock = TermLock(term_id=term_id, function=function)
        session.add(lock)
    lock.mode = mode
    lock.changed_by = account.id
    lock.changed_at = datetime.now(UTC)
    session.flush()
    return lock
