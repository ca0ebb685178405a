"""Rules of the school calendar: school years, terms, holidays, bell times and rooms.

Run inside a transaction bound to the school. Services validate, raise ``ServiceError`` naming
the form field at fault, and only flush; the request (or command) commits once.

Choices made here:

- A school year lasts at most 366 days (a longer one is a mistyped end date).
- A year's terms are all of one kind (2 semesters, 3 trimesters or 4 quarters), numbered in
  the order of their dates, inside the year, never overlapping. Holidays are inclusive dates
  inside the year and never overlap each other (they may fall anywhere in or between terms).
- A school day is a Monday to Friday inside a school year, outside its holidays, and, once the
  year has terms, inside a term (the summer after the last term needs no holiday entry).
- Changing term dates (one term, or the year's set-up) moves the lessons and grades of every day
  that changes term to the term the day now falls in (``lessons.term_id``, ``grades.term_id``;
  attendance follows its lesson), in the same transaction: schools correct term dates mid-year.
  Generated lessons with nothing written in them on days left outside every term are removed,
  as the daily job would. Refused, naming how many and the days: other lessons or grades would
  be left outside every term; or a term that would lose or gain them already has confirmed term
  grades (given for the old days). A year's dates must keep every day with lessons or grades.
- Nothing is deleted while other records refer to it, found from the foreign keys of every
  school table (so later tables such as lessons or term grades are covered). A year takes its
  own terms and holidays with it; a term its lock settings. A room in use is deactivated
  instead of deleted.
- Bell times: at most one default schedule (it covers every grade no other schedule covers);
  other schedules cover ranges of grades that do not overlap; the lessons of a schedule have
  unique numbers (0 to 15, 0 being an early lesson) and follow one another without overlap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, Table, and_, exists, func, or_, select, union_all, update
from sqlalchemy.orm import Session, aliased, selectinload

import school.models  # noqa: F401  (every school table, for the "is it used?" checks)
from dienynas.database import SchoolModel, take_turns
from dienynas.errors import NotFound, ServiceError
from dienynas.forms import parse_id
from dienynas.i18n import joined
from gradebook.grades.models import Grade, TermGrade
from gradebook.lessons.models import Lesson
from school.calendar.models import (
    BellPeriod,
    BellSchedule,
    Holiday,
    Room,
    SchoolYear,
    Term,
    term_label,
)

#: Term kinds and how many terms of that kind a year has.
TERM_KINDS = {"semester": 2, "trimester": 3, "quarter": 4}
TERM_KIND_LABELS = {
    "semester": _l("semesters (2 a year)"),
    "trimester": _l("trimesters (3 a year)"),
    "quarter": _l("quarters (4 a year)"),
}
#: The longest school year, first and last day counted (a leap year's 1 September to 31 August
#: is 366 days); a longer one is a typo in the end date (2099 for 2027).
MAX_YEAR_DAYS = 366
MIN_GRADE, MAX_GRADE = 1, 12
MAX_LESSON_NO = 15
MAX_ROOM_CAPACITY = 2000

#: What the "is it used?" checks call the tables that refer to a year, a term or a room.
_USER_LABELS = {
    "classes": _l("classes"),
    "groups": _l("subject groups"),
    "timetable_entries": _l("timetable lessons"),
}


def _medium(day: date) -> str:
    return format_date(day, "medium")


def _clock(moment: time) -> str:
    return moment.strftime("%H:%M")


def _used_by(session: Session, table: Table, row_id: int, ignore: Iterable[str] = ()) -> list[str]:
    """Names (localised) of the kinds of records that refer to the row, in one query.

    Found from the foreign keys of every school table, so tables added later (lessons, term
    grades) are covered without changing this module.
    """
    ignore = set(ignore)
    checks = [
        (referrer.name, exists().where(fk.parent == row_id))
        for referrer in SchoolModel.metadata.sorted_tables
        if referrer.name not in ignore
        for fk in referrer.foreign_keys
        if fk.column.table is table
    ]
    if not checks:
        return []
    row = session.execute(select(*(check for _name, check in checks))).one()
    used = dict.fromkeys(name for (name, _check), hit in zip(checks, row, strict=True) if hit)
    return [str(_USER_LABELS.get(name, _l("other records"))) for name in used]


# --- School years -------------------------------------------------------------------------


def current_year(session: Session, today: date) -> SchoolYear | None:
    """The school year that contains ``today``, else the next one to start."""
    return session.scalar(
        select(SchoolYear)
        .where(SchoolYear.ends_on >= today)
        .order_by(SchoolYear.starts_on)
        .limit(1)
    )


def list_years(session: Session) -> list[SchoolYear]:
    """All school years, the latest first."""
    return list(session.scalars(select(SchoolYear).order_by(SchoolYear.starts_on.desc())))


def pick_year(
    years: Sequence[SchoolYear], asked: str | int | None, today: date
) -> SchoolYear | None:
    """The school year a page shows, of ``years`` (the page's list, already loaded): the one
    ``asked`` for (its id, as a ``year`` argument gives it), else the one that contains
    ``today``, else the next to start (what :func:`current_year` answers), else the latest;
    None while the school has none. NotFound for an id that is not one of them."""
    if asked not in (None, ""):
        wanted = parse_id(str(asked))
        year = next((y for y in years if y.id == wanted), None)
        if year is None:
            raise NotFound(_("There is no such school year."))
        return year
    coming = [y for y in years if y.ends_on >= today]
    if coming:
        return min(coming, key=lambda y: y.starts_on)
    return max(years, key=lambda y: y.starts_on, default=None)


def year_before(years: Sequence[SchoolYear], year: SchoolYear) -> SchoolYear | None:
    """Of ``years``, the one that ended last before ``year`` starts (the year its classes
    move up from)."""
    earlier = [y for y in years if y.ends_on < year.starts_on]
    return max(earlier, key=lambda y: y.starts_on, default=None)


def studies_end(session: Session, year: SchoolYear) -> date:
    """The last day of the year's last term (the year's own last day when it has no terms)."""
    last = session.scalar(select(func.max(Term.ends_on)).where(Term.year_id == year.id))
    return last or year.ends_on


def propose_next_year(years: Sequence[SchoolYear], today: date) -> tuple[str, date, date]:
    """Name and dates for the year after the latest one (1 September to 31 August), or for
    the year under way when there is none yet."""
    latest = max(years, key=lambda y: y.starts_on, default=None)
    if latest is None:
        first = today.year if today.month >= 6 else today.year - 1
    else:
        first = latest.starts_on.year + 1
    return f"{first}–{first + 1}", date(first, 9, 1), date(first + 1, 8, 31)


def get_year(session: Session, year_id: int) -> SchoolYear:
    year = session.get(SchoolYear, year_id)
    if year is None:
        raise NotFound(_("There is no such school year."))
    return year


def _lock_year(session: Session, year: SchoolYear) -> None:
    """Serialise changes to one year's terms and holidays (two administrators at once)."""
    session.execute(select(SchoolYear.id).where(SchoolYear.id == year.id).with_for_update())


def _check_year(
    session: Session, name: str, starts_on: date, ends_on: date, year_id: int | None
) -> None:
    if not name:
        raise ServiceError(_("Enter the school year's name, e.g. 2026–2027."), field="name")
    if len(name) > 20:
        raise ServiceError(
            _("The name may be at most %(num)d characters long.", num=20), field="name"
        )
    if ends_on <= starts_on:
        raise ServiceError(_("The school year must end after it starts."), field="ends_on")
    if (ends_on - starts_on).days + 1 > MAX_YEAR_DAYS:
        raise ServiceError(
            ngettext(
                "A school year may last at most %(num)d day: it must end by %(last)s.",
                "A school year may last at most %(num)d days: it must end by %(last)s.",
                MAX_YEAR_DAYS,
                last=_medium(starts_on + timedelta(days=MAX_YEAR_DAYS - 1)),
            ),
            field="ends_on",
        )
    others = select(SchoolYear.name)
    if year_id is not None:
        others = others.where(SchoolYear.id != year_id)
    if session.scalar(others.where(SchoolYear.name == name)) is not None:
        raise ServiceError(_("The school year “%(name)s” already exists.", name=name), field="name")
    overlapping = session.scalar(
        others.where(SchoolYear.starts_on <= ends_on, SchoolYear.ends_on >= starts_on)
    )
    if overlapping:
        raise ServiceError(
            _("The dates overlap the school year “%(name)s”.", name=overlapping), field="starts_on"
        )


def create_year(session: Session, *, name: str, starts_on: date, ends_on: date) -> SchoolYear:
    name = (name or "").strip()
    _check_year(session, name, starts_on, ends_on, None)
    year = SchoolYear(name=name, starts_on=starts_on, ends_on=ends_on)
    session.add(year)
    session.flush()
    return year


def update_year(
    session: Session, year: SchoolYear, *, name: str, starts_on: date, ends_on: date
) -> SchoolYear:
    """Rename or move a year; its terms and holidays must still fit inside the new dates."""
    name = (name or "").strip()
    _lock_year(session, year)
    _check_year(session, name, starts_on, ends_on, year.id)
    for what, first, last in [(t.label, t.starts_on, t.ends_on) for t in year.terms] + [
        (h.name, h.starts_on, h.ends_on) for h in year.holidays
    ]:
        if first < starts_on or last > ends_on:
            raise ServiceError(
                _(
                    "“%(what)s” (%(start)s – %(end)s) would fall outside the school year; "
                    "change or delete it first.",
                    what=what,
                    start=_medium(first),
                    end=_medium(last),
                ),
                field="starts_on" if first < starts_on else "ends_on",
            )
    first, last = _record_days(session, year)
    if first is not None and (first < starts_on or last > ends_on):
        raise ServiceError(
            _(
                "The school year has lessons or grades from %(first)s to %(last)s; its dates "
                "must include those days.",
                first=_medium(first),
                last=_medium(last),
            ),
            field="starts_on" if first < starts_on else "ends_on",
        )
    year.name, year.starts_on, year.ends_on = name, starts_on, ends_on
    session.flush()
    return year


def _record_days(session: Session, year: SchoolYear) -> tuple[date | None, date | None]:
    """The first and the last day with lessons or grades in the year's terms (None, None
    without any)."""
    days = union_all(
        *(
            select(model.on_day).join(Term, Term.id == model.term_id).where(Term.year_id == year.id)
            for model in (Lesson, Grade)
        )
    ).subquery()
    first, last = session.execute(select(func.min(days.c.on_day), func.max(days.c.on_day))).one()
    return first, last


def year_in_use(session: Session, year: SchoolYear) -> list[str]:
    """What keeps the year from being deleted (its own terms and holidays go with it)."""
    return _used_by(session, SchoolYear.__table__, year.id, ignore=("terms", "holidays"))


def delete_year(session: Session, year: SchoolYear) -> None:
    """Delete a year with its terms and holidays, unless anything else refers to it."""
    used = year_in_use(session, year)
    if used:
        raise ServiceError(
            _(
                "The school year “%(name)s” cannot be deleted because it is in use: %(what)s.",
                name=year.name,
                what=joined(used),
            )
        )
    session.delete(year)
    session.flush()


# --- Terms --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    """A term being checked against the others (saved or proposed)."""

    number: int
    starts_on: date
    ends_on: date

    def overlaps(self, other: _Span) -> bool:
        return self.starts_on <= other.ends_on and other.starts_on <= self.ends_on


def _check_kind(kind: str) -> int:
    if kind not in TERM_KINDS:
        raise ServiceError(_("Choose semesters, trimesters or quarters."), field="kind")
    return TERM_KINDS[kind]


def _check_term(
    year: SchoolYear, kind: str, term: _Span, others: Sequence[_Span], suffix: str = ""
) -> None:
    """One term against its year and the year's other terms (all of ``kind``).

    ``suffix`` is appended to the field names (the set-up form has one row per term).
    """
    count = TERM_KINDS[kind]
    if not 1 <= term.number <= count:
        messages = {
            "semester": _("A semester's number must be 1 or 2."),
            "trimester": _("A trimester's number must be 1, 2 or 3."),
            "quarter": _("A quarter's number must be from 1 to 4."),
        }
        raise ServiceError(messages[kind], field="number" + suffix)
    if term.ends_on <= term.starts_on:
        raise ServiceError(_("The term must end after it starts."), field="ends_on" + suffix)
    for field, day in (("starts_on", term.starts_on), ("ends_on", term.ends_on)):
        if not year.starts_on <= day <= year.ends_on:
            raise ServiceError(
                _(
                    "The term must lie within the school year %(name)s (%(start)s – %(end)s).",
                    name=year.name,
                    start=_medium(year.starts_on),
                    end=_medium(year.ends_on),
                ),
                field=field + suffix,
            )
    for other in others:
        other_label = term_label(kind, other.number)
        if other.number == term.number:
            raise ServiceError(
                _("“%(term)s” already exists in this school year.", term=other_label),
                field="number" + suffix,
            )
        if term.overlaps(other):
            raise ServiceError(
                _(
                    "The dates overlap “%(term)s” (%(start)s – %(end)s).",
                    term=other_label,
                    start=_medium(other.starts_on),
                    end=_medium(other.ends_on),
                ),
                field="starts_on" + suffix,
            )
        if (other.number < term.number) != (other.starts_on < term.starts_on):
            earlier, later = sorted((term.number, other.number))
            raise ServiceError(
                _(
                    "“%(later)s” must come after “%(earlier)s”: number the terms in the order "
                    "of their dates.",
                    later=term_label(kind, later),
                    earlier=term_label(kind, earlier),
                ),
                field="number" + suffix,
            )


def _check_one_kind(year: SchoolYear, kind: str, exclude: Term | None = None) -> None:
    other_kinds = {t.kind for t in year.terms if t is not exclude and t.kind != kind}
    if other_kinds:
        messages = {
            "semester": _(
                "The terms of this school year are semesters; all terms of a year must be of "
                "one kind."
            ),
            "trimester": _(
                "The terms of this school year are trimesters; all terms of a year must be of "
                "one kind."
            ),
            "quarter": _(
                "The terms of this school year are quarters; all terms of a year must be of "
                "one kind."
            ),
        }
        raise ServiceError(messages[other_kinds.pop()], field="kind")


def get_term(session: Session, term_id: int) -> Term:
    term = session.get(Term, term_id)
    if term is None:
        raise NotFound(_("There is no such term."))
    return term


def add_term(
    session: Session, year: SchoolYear, *, kind: str, number: int, starts_on: date, ends_on: date
) -> Term:
    _check_kind(kind)
    _lock_year(session, year)
    _check_one_kind(year, kind)
    others = [_Span(t.number, t.starts_on, t.ends_on) for t in year.terms]
    _check_term(year, kind, _Span(number, starts_on, ends_on), others)
    term = Term(year=year, kind=kind, number=number, starts_on=starts_on, ends_on=ends_on)
    session.add(term)
    session.flush()
    return term


def update_term(
    session: Session, term: Term, *, kind: str, number: int, starts_on: date, ends_on: date
) -> Term:
    _check_kind(kind)
    year = term.year
    _lock_year(session, year)
    _check_one_kind(year, kind, exclude=term)
    others = [_Span(t.number, t.starts_on, t.ends_on) for t in year.terms if t is not term]
    _check_term(year, kind, _Span(number, starts_on, ends_on), others)
    before = [(t.starts_on, t.ends_on) for t in year.terms]
    term.kind, term.number, term.starts_on, term.ends_on = kind, number, starts_on, ends_on
    session.flush()
    _follow_term_dates(session, year, before, numbered=False)
    return term


def _misplaced(session: Session, year: SchoolYear, model: type[Lesson | Grade]) -> list[Row]:
    """Rows (``on_day``, ``held``: the term they refer to, ``now``: the term of the day or
    None, ``records``: how many) of the lessons or grades of the year's terms whose day is
    outside the term they refer to (the terms' new dates flushed)."""
    held, now = aliased(Term), aliased(Term)
    return list(
        session.execute(
            select(
                model.on_day,
                held.id.label("held"),
                now.id.label("now"),
                func.count().label("records"),
            )
            .select_from(model)
            .join(held, held.id == model.term_id)
            .outerjoin(
                now,
                and_(now.year_id == year.id, model.on_day.between(now.starts_on, now.ends_on)),
            )
            .where(held.year_id == year.id, ~model.on_day.between(held.starts_on, held.ends_on))
            .group_by(model.on_day, held.id, now.id)
            .order_by(model.on_day)
        )
    )


def _days_named(days: Iterable[date]) -> str:
    """Days for a message: each of a few, else the first and the last."""
    days = sorted(set(days))
    if len(days) <= 5:
        return joined(_medium(day) for day in days)
    return f"{_medium(days[0])} – {_medium(days[-1])}"


def _follow_term_dates(
    session: Session, year: SchoolYear, before: Sequence[tuple[date, date]], *, numbered: bool
) -> None:
    """The year's terms have new dates (flushed; ``before``: their dates until now): move the
    lessons and grades of the days that changed term into the term of their day, or refuse
    (see the module's docstring). ``numbered``: error fields end with the term's number."""
    # imported here: gradebook.lessons.services imports this module (through gradebook.days)
    from gradebook.lessons.services import remove_stale_lessons

    in_terms = {
        t.starts_on + timedelta(days=n)
        for t in year.terms
        for n in range((t.ends_on - t.starts_on).days + 1)
    }
    left_out = sorted(
        {
            first + timedelta(days=n)
            for first, last in before
            for n in range((last - first).days + 1)
        }
        - in_terms
    )
    # every empty generated lesson of a day now outside the terms is stale: removed, run by run
    for _start, run in groupby(enumerate(left_out), lambda pair: pair[1] - timedelta(days=pair[0])):
        days = [day for _n, day in run]
        remove_stale_lessons(session, days[0], days[-1])
    lessons, grades = _misplaced(session, year, Lesson), _misplaced(session, year, Grade)
    rows = lessons + grades
    if not rows:
        return
    stranded = any(row.now is None for row in rows)
    if stranded:
        lessons = [row for row in lessons if row.now is None]
        grades = [row for row in grades if row.now is None]
        rows = lessons + grades
    first = min(rows, key=lambda row: row.on_day)
    held = session.get(Term, first.held)
    field = ("starts_on" if first.on_day < held.starts_on else "ends_on") + (
        f"_{held.number}" if numbered else ""
    )
    counts = {
        "lessons": sum(row.records for row in lessons),
        "grades": sum(row.records for row in grades),
        "days": _days_named(row.on_day for row in rows),
    }
    if stranded:
        message = _(
            "Lessons and grades would be left outside every term (lessons: %(lessons)d, "
            "grades: %(grades)d; days: %(days)s). Keep those days inside a term, or delete "
            "those lessons and grades first.",
            **counts,
        )
        if not numbered:  # one term's form: a boundary moves with both terms at once
            message += " " + _(
                "To move the boundary between two terms, change both under “Set up all terms "
                "at once”."
            )
        raise ServiceError(message, field=field)
    touched = {row.held for row in rows} | {row.now for row in rows}
    confirmed = session.scalars(
        select(Term)
        .where(
            Term.id.in_(touched),
            exists().where(TermGrade.term_id == Term.id, TermGrade.value.is_not(None)),
        )
        .order_by(Term.number)
    ).all()
    if confirmed:
        raise ServiceError(
            _(
                "With these dates, lessons and grades (lessons: %(lessons)d, grades: "
                "%(grades)d; days: %(days)s) would move to another term, but term grades are "
                "already confirmed for: %(terms)s. Keep those days in their term, or clear "
                "those term grades first.",
                terms=joined(t.label for t in confirmed),
                **counts,
            ),
            field=field,
        )
    for model in (Lesson, Grade):
        now = aliased(Term)
        session.execute(
            update(model)
            .where(
                model.term_id.in_(select(Term.id).where(Term.year_id == year.id)),
                ~exists().where(
                    Term.id == model.term_id, model.on_day.between(Term.starts_on, Term.ends_on)
                ),
            )
            .values(
                term_id=select(now.id)
                .where(now.year_id == year.id, model.on_day.between(now.starts_on, now.ends_on))
                .scalar_subquery()
            )
            .execution_options(synchronize_session="fetch")
        )


def term_in_use(session: Session, term: Term) -> list[str]:
    """What keeps the term from being deleted (its lock settings go with it)."""
    return _used_by(session, Term.__table__, term.id, ignore=("term_locks",))


def delete_term(session: Session, term: Term) -> None:
    used = term_in_use(session, term)
    if used:
        raise ServiceError(
            _(
                "“%(term)s” cannot be deleted because it is in use: %(what)s.",
                term=term.label,
                what=joined(used),
            )
        )
    term.year.terms.remove(term)
    session.delete(term)
    session.flush()


def propose_terms(kind: str, first_day: date, last_day: date) -> list[tuple[date, date]]:
    """Split ``first_day`` … ``last_day`` (the days of lessons) evenly into terms of ``kind``.

    Each boundary is moved to the nearest Monday, so a term ends on a Friday and the next one
    starts on the following Monday. A proposal: the administrator edits it before saving.
    """
    count = _check_kind(kind)
    if last_day <= first_day:
        raise ServiceError(_("The last day of lessons must come after the first."), field="to")
    total = (last_day - first_day).days + 1
    starts = [first_day]
    for i in range(1, count):
        boundary = first_day + timedelta(days=round(i * total / count))
        weekday = boundary.weekday()
        boundary += timedelta(days=-weekday if weekday <= 3 else 7 - weekday)
        starts.append(max(boundary, starts[-1] + timedelta(days=2)))
    ends = [start - timedelta(days=3) for start in starts[1:]] + [last_day]
    return [
        (start, max(end, start + timedelta(days=1)))
        for start, end in zip(starts, ends, strict=True)
    ]


def set_terms(
    session: Session, year: SchoolYear, kind: str, spans: Sequence[tuple[date, date]]
) -> list[Term]:
    """Make the year's terms exactly ``spans`` (numbered 1, 2, …) of ``kind``.

    Existing terms keep their rows (what refers to them stays valid) and get the new dates;
    extra ones are deleted when nothing refers to them. Field names of errors end with the
    term's number (``starts_on_2``).
    """
    count = _check_kind(kind)
    if len(spans) != count:
        raise ServiceError(_("Give the dates of every term."), field="kind")
    _lock_year(session, year)
    before = [(t.starts_on, t.ends_on) for t in year.terms]
    checked: list[_Span] = []
    for number, (starts_on, ends_on) in enumerate(spans, start=1):
        span = _Span(number, starts_on, ends_on)
        _check_term(year, kind, span, checked, suffix=f"_{number}")
        checked.append(span)
    by_number = {t.number: t for t in year.terms}
    for number in sorted(set(by_number) - {s.number for s in checked}):
        delete_term(session, by_number.pop(number))
    for span in checked:
        term = by_number.get(span.number)
        if term is None:
            term = Term(year=year, number=span.number)
            session.add(term)
        term.kind, term.starts_on, term.ends_on = kind, span.starts_on, span.ends_on
    session.flush()
    _follow_term_dates(session, year, before, numbered=True)
    year.terms.sort(key=lambda t: t.starts_on)
    return list(year.terms)


def term_for(session: Session, day: date) -> Term | None:
    """The term that contains ``day``, if any."""
    return session.scalar(
        select(Term).where(Term.starts_on <= day, Term.ends_on >= day).order_by(Term.starts_on)
    )


# --- Holidays -----------------------------------------------------------------------------


def get_holiday(session: Session, holiday_id: int) -> Holiday:
    holiday = session.get(Holiday, holiday_id)
    if holiday is None:
        raise NotFound(_("There is no such holiday."))
    return holiday


def _check_holiday(
    year: SchoolYear, name: str, starts_on: date, ends_on: date, exclude: Holiday | None
) -> None:
    if not name:
        raise ServiceError(_("Enter the holiday's name, e.g. Autumn holidays."), field="name")
    if len(name) > 100:
        raise ServiceError(
            _("The name may be at most %(num)d characters long.", num=100), field="name"
        )
    if ends_on < starts_on:
        raise ServiceError(
            _("The last day of the holiday must not come before the first."), field="ends_on"
        )
    for field, day in (("starts_on", starts_on), ("ends_on", ends_on)):
        if not year.starts_on <= day <= year.ends_on:
            raise ServiceError(
                _(
                    "The holiday must lie within the school year %(name)s (%(start)s – %(end)s).",
                    name=year.name,
                    start=_medium(year.starts_on),
                    end=_medium(year.ends_on),
                ),
                field=field,
            )
    for other in year.holidays:
        if other is not exclude and other.starts_on <= ends_on and starts_on <= other.ends_on:
            raise ServiceError(
                _(
                    "The dates overlap the holiday “%(name)s” (%(start)s – %(end)s).",
                    name=other.name,
                    start=_medium(other.starts_on),
                    end=_medium(other.ends_on),
                ),
                field="starts_on",
            )


def add_holiday(
    session: Session, year: SchoolYear, *, name: str, starts_on: date, ends_on: date
) -> Holiday:
    name = (name or "").strip()
    _lock_year(session, year)
    _check_holiday(year, name, starts_on, ends_on, None)
    holiday = Holiday(year=year, name=name, starts_on=starts_on, ends_on=ends_on)
    session.add(holiday)
    session.flush()
    return holiday


def update_holiday(
    session: Session, holiday: Holiday, *, name: str, starts_on: date, ends_on: date
) -> Holiday:
    name = (name or "").strip()
    _lock_year(session, holiday.year)
    _check_holiday(holiday.year, name, starts_on, ends_on, holiday)
    holiday.name, holiday.starts_on, holiday.ends_on = name, starts_on, ends_on
    session.flush()
    return holiday


def delete_holiday(session: Session, holiday: Holiday) -> None:
    holiday.year.holidays.remove(holiday)
    session.delete(holiday)
    session.flush()


# --- School days --------------------------------------------------------------------------


def count_school_days(start: date, end: date, holidays: Iterable[Holiday]) -> int:
    """Weekdays from ``start`` to ``end`` (inclusive) outside ``holidays`` (no query)."""
    off = _holiday_days(holidays)
    return sum(1 for day in _days(start, end) if day.weekday() < 5 and day not in off)


def term_school_days(year: SchoolYear) -> dict[int, int]:
    """School days of each term of the year, by term id (from the loaded holidays)."""
    return {t.id: count_school_days(t.starts_on, t.ends_on, year.holidays) for t in year.terms}


def year_school_days(year: SchoolYear) -> int:
    """School days of the whole year (see :func:`school_days_between`), from what is loaded."""
    if year.terms:
        return sum(term_school_days(year).values())
    return count_school_days(year.starts_on, year.ends_on, year.holidays)


def _days(start: date, end: date) -> Iterable[date]:
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def _holiday_days(holidays: Iterable[Holiday]) -> set[date]:
    return {day for h in holidays for day in _days(h.starts_on, h.ends_on)}


def holiday_days_between(session: Session, start: date, end: date) -> set[date]:
    """The days from ``start`` to ``end`` inclusive that are in a holiday (one query)."""
    holidays = session.scalars(
        select(Holiday).where(Holiday.starts_on <= end, Holiday.ends_on >= start)
    )
    return {day for day in _holiday_days(holidays) if start <= day <= end}


def school_days_between(
    session: Session, start: date, end: date, *, saturdays: bool = False
) -> list[date]:
    """The school days from ``start`` to ``end`` inclusive, in order (three queries).

    A school day is a weekday (Monday to Friday, and Saturday in a school with six-day weeks:
    ``gradebook.days``) inside a school year and outside its holidays; when the year has terms, it
    must also fall within a term (so the summer after the last term, or a gap between terms,
    has no lessons even without a holiday entered).
    """
    if end < start:
        return []
    years = session.scalars(
        select(SchoolYear)
        .where(SchoolYear.starts_on <= end, SchoolYear.ends_on >= start)
        .order_by(SchoolYear.starts_on)
        .options(selectinload(SchoolYear.terms), selectinload(SchoolYear.holidays))
    )
    result: list[date] = []
    for year in years:
        spans = [(t.starts_on, t.ends_on) for t in year.terms] or [(year.starts_on, year.ends_on)]
        off = _holiday_days(year.holidays)
        result.extend(
            day
            for day in _days(max(start, year.starts_on), min(end, year.ends_on))
            if day.weekday() < (6 if saturdays else 5)
            and day not in off
            and any(first <= day <= last for first, last in spans)
        )
    return result


def is_school_day(session: Session, day: date) -> bool:
    """Whether ``day`` has lessons (see :func:`school_days_between`)."""
    return bool(school_days_between(session, day, day))


# --- Bell schedules -----------------------------------------------------------------------


def list_schedules(session: Session) -> list[BellSchedule]:
    """Every bell schedule with its periods: the default first, then by grades."""
    return list(
        session.scalars(
            select(BellSchedule)
            .order_by(BellSchedule.is_default.desc(), BellSchedule.min_grade, BellSchedule.name)
            .options(selectinload(BellSchedule.periods))
        )
    )


def get_schedule(session: Session, schedule_id: int) -> BellSchedule:
    schedule = session.get(BellSchedule, schedule_id)
    if schedule is None:
        raise NotFound(_("There is no such bell schedule."))
    return schedule


def grades_without_schedule(schedules: Iterable[BellSchedule]) -> list[int]:
    """Grade levels that no schedule covers (none when there is a default)."""
    covered: set[int] = set()
    for s in schedules:
        if s.is_default:
            return []
        covered.update(range(s.min_grade, s.max_grade + 1))
    return [g for g in range(MIN_GRADE, MAX_GRADE + 1) if g not in covered]


def _check_schedule(
    session: Session,
    name: str,
    is_default: bool,
    min_grade: int,
    max_grade: int,
    schedule_id: int | None,
) -> None:
    if not name:
        raise ServiceError(_("Enter the schedule's name, e.g. Main or Grade 1."), field="name")
    if len(name) > 100:
        raise ServiceError(
            _("The name may be at most %(num)d characters long.", num=100), field="name"
        )
    # Two administrators saving schedules at once take turns, so the second's checks see the
    # first's schedule (no index guards overlapping grade ranges).
    take_turns(session, "bell_schedules", in_school=True)
    others = select(BellSchedule)
    if schedule_id is not None:
        others = others.where(BellSchedule.id != schedule_id)
    if session.scalar(others.where(func.lower(BellSchedule.name) == name.lower()).limit(1)):
        raise ServiceError(
            _("There already is a bell schedule named “%(name)s”.", name=name), field="name"
        )
    if is_default:
        current = session.scalar(others.where(BellSchedule.is_default).limit(1))
        if current is not None:
            raise ServiceError(
                _(
                    "“%(name)s” is already the default schedule; a school has one default "
                    "schedule. Give this one a range of grades.",
                    name=current.name,
                ),
                field="is_default",
            )
        return
    if min_grade > max_grade:
        raise ServiceError(_("The last grade must not be lower than the first."), field="max_grade")
    clash = session.scalar(
        others.where(
            ~BellSchedule.is_default,
            BellSchedule.min_grade <= max_grade,
            BellSchedule.max_grade >= min_grade,
        ).limit(1)
    )
    if clash is not None:
        raise ServiceError(
            _(
                "Grades %(min)d–%(max)d overlap the schedule “%(name)s” "
                "(grades %(other_min)d–%(other_max)d); a grade has one schedule.",
                min=min_grade,
                max=max_grade,
                name=clash.name,
                other_min=clash.min_grade,
                other_max=clash.max_grade,
            ),
            field="min_grade",
        )


def add_schedule(
    session: Session,
    *,
    name: str,
    is_default: bool,
    min_grade: int = MIN_GRADE,
    max_grade: int = MAX_GRADE,
) -> BellSchedule:
    """A default schedule covers every grade another schedule does not; any other schedule
    covers a range of grades that no other non-default schedule covers."""
    name = (name or "").strip()
    _check_schedule(session, name, is_default, min_grade, max_grade, None)
    if is_default:
        min_grade, max_grade = MIN_GRADE, MAX_GRADE
    schedule = BellSchedule(
        name=name, is_default=is_default, min_grade=min_grade, max_grade=max_grade
    )
    session.add(schedule)
    session.flush()
    return schedule


def update_schedule(
    session: Session,
    schedule: BellSchedule,
    *,
    name: str,
    is_default: bool,
    min_grade: int = MIN_GRADE,
    max_grade: int = MAX_GRADE,
) -> BellSchedule:
    name = (name or "").strip()
    _check_schedule(session, name, is_default, min_grade, max_grade, schedule.id)
    if is_default:
        min_grade, max_grade = MIN_GRADE, MAX_GRADE
    schedule.name, schedule.is_default = name, is_default
    schedule.min_grade, schedule.max_grade = min_grade, max_grade
    session.flush()
    return schedule


def delete_schedule(session: Session, schedule: BellSchedule) -> None:
    session.delete(schedule)
    session.flush()


def schedule_for_grade(session: Session, grade_level: int) -> BellSchedule | None:
    """The schedule of a grade level: the one whose range holds it, else the default."""
    return session.scalar(
        select(BellSchedule)
        .where(
            or_(
                BellSchedule.is_default,
                (BellSchedule.min_grade <= grade_level) & (BellSchedule.max_grade >= grade_level),
            )
        )
        .order_by(BellSchedule.is_default)
        .limit(1)
        .options(selectinload(BellSchedule.periods))
    )


def get_period(session: Session, period_id: int) -> BellPeriod:
    period = session.get(BellPeriod, period_id)
    if period is None:
        raise NotFound(_("There is no such lesson time."))
    return period


def _check_period(
    schedule: BellSchedule,
    lesson_no: int,
    starts_at: time,
    ends_at: time,
    exclude: BellPeriod | None,
) -> None:
    if not 0 <= lesson_no <= MAX_LESSON_NO:
        raise ServiceError(
            _("The lesson number must be from 0 to %(max)d.", max=MAX_LESSON_NO),
            field="lesson_no",
        )
    if ends_at <= starts_at:
        raise ServiceError(_("The lesson must end after it starts."), field="ends_at")
    for other in schedule.periods:
        if other is exclude:
            continue
        if other.lesson_no == lesson_no:
            raise ServiceError(
                _("Lesson %(no)d already has its times in this schedule.", no=lesson_no),
                field="lesson_no",
            )
        if other.starts_at < ends_at and starts_at < other.ends_at:
            raise ServiceError(
                _(
                    "The times overlap lesson %(no)d (%(start)s–%(end)s).",
                    no=other.lesson_no,
                    start=_clock(other.starts_at),
                    end=_clock(other.ends_at),
                ),
                field="starts_at",
            )
        if (other.lesson_no < lesson_no) != (other.starts_at < starts_at):
            raise ServiceError(
                _(
                    "Lesson %(no)d must come after lesson %(other)d (%(start)s–%(end)s).",
                    no=lesson_no,
                    other=other.lesson_no,
                    start=_clock(other.starts_at),
                    end=_clock(other.ends_at),
                )
                if other.lesson_no < lesson_no
                else _(
                    "Lesson %(no)d must come before lesson %(other)d (%(start)s–%(end)s).",
                    no=lesson_no,
                    other=other.lesson_no,
                    start=_clock(other.starts_at),
                    end=_clock(other.ends_at),
                ),
                field="starts_at",
            )


def add_period(
    session: Session, schedule: BellSchedule, *, lesson_no: int, starts_at: time, ends_at: time
) -> BellPeriod:
    _check_period(schedule, lesson_no, starts_at, ends_at, None)
    period = BellPeriod(
        schedule=schedule, lesson_no=lesson_no, starts_at=starts_at, ends_at=ends_at
    )
    session.add(period)
    session.flush()
    schedule.periods.sort(key=lambda p: p.lesson_no)
    return period


def update_period(
    session: Session, period: BellPeriod, *, lesson_no: int, starts_at: time, ends_at: time
) -> BellPeriod:
    _check_period(period.schedule, lesson_no, starts_at, ends_at, period)
    period.lesson_no, period.starts_at, period.ends_at = lesson_no, starts_at, ends_at
    session.flush()
    period.schedule.periods.sort(key=lambda p: p.lesson_no)
    return period


def delete_period(session: Session, period: BellPeriod) -> None:
    period.schedule.periods.remove(period)
    session.delete(period)
    session.flush()


def fill_periods(
    session: Session,
    schedule: BellSchedule,
    *,
    first_starts_at: time,
    lessons: int,
    lesson_minutes: int,
    break_minutes: int,
) -> list[BellPeriod]:
    """Lessons 1 … ``lessons`` one after another, for a schedule that has none yet (the
    administrator then adjusts the long breaks)."""
    if schedule.periods:
        raise ServiceError(
            _("This schedule already has lesson times; edit them one by one."), field="lessons"
        )
    start = datetime.combine(date.min, first_starts_at)
    step = timedelta(minutes=lesson_minutes + break_minutes)
    last_end = start + (lessons - 1) * step + timedelta(minutes=lesson_minutes)
    if last_end.date() != date.min:
        raise ServiceError(_("The lessons would run past midnight."), field="lessons")
    for number in range(1, lessons + 1):
        begin = start + (number - 1) * step
        add_period(
            session,
            schedule,
            lesson_no=number,
            starts_at=begin.time(),
            ends_at=(begin + timedelta(minutes=lesson_minutes)).time(),
        )
    return list(schedule.periods)


# --- Rooms --------------------------------------------------------------------------------


def _natural_key(text: str) -> list[int | str]:
    """ "2" before "10", "101a" after "101": how people sort room codes."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text.lower())]


def list_rooms(session: Session) -> list[Room]:
    """Every room: the active ones first, each part in the natural order of the codes."""
    rooms = session.scalars(select(Room))
    return sorted(rooms, key=lambda r: (not r.is_active, _natural_key(r.code)))


def get_room(session: Session, room_id: int) -> Room:
    room = session.get(Room, room_id)
    if room is None:
        raise NotFound(_("There is no such room."))
    return room


def _check_room(session: Session, code: str, name: str | None, room_id: int | None) -> None:
    if not code:
        raise ServiceError(_("Enter the room's code, e.g. 101."), field="code")
    if len(code) > 20:
        raise ServiceError(
            _("The code may be at most %(num)d characters long.", num=20), field="code"
        )
    if name and len(name) > 100:
        raise ServiceError(
            _("The name may be at most %(num)d characters long.", num=100), field="name"
        )
    same = select(Room.code).where(func.lower(Room.code) == code.lower())
    if room_id is not None:
        same = same.where(Room.id != room_id)
    existing = session.scalar(same.limit(1))
    if existing is not None:
        raise ServiceError(
            _("There already is a room with the code “%(code)s”.", code=existing), field="code"
        )


def add_room(
    session: Session, *, code: str, name: str | None = None, capacity: int | None = None
) -> Room:
    code, name = (code or "").strip(), (name or "").strip() or None
    _check_room(session, code, name, None)
    room = Room(code=code, name=name, capacity=capacity, is_active=True)
    session.add(room)
    session.flush()
    return room


def update_room(
    session: Session, room: Room, *, code: str, name: str | None, capacity: int | None
) -> Room:
    code, name = (code or "").strip(), (name or "").strip() or None
    _check_room(session, code, name, room.id)
    room.code, room.name, room.capacity = code, name, capacity
    session.flush()
    return room


def room_in_use(session: Session, room: Room) -> list[str]:
    return _used_by(session, Room.__table__, room.id)


def delete_room(session: Session, room: Room) -> bool:
    """Delete the room, or, when anything refers to it (the timetable), deactivate it so that
    past records keep it and new ones cannot choose it. True when it was deleted."""
    if room_in_use(session, room):
        room.is_active = False
        session.flush()
        return False
    session.delete(room)
    session.flush()
    return True


def set_room_active(session: Session, room: Room, active: bool) -> Room:
    room.is_active = active
    session.flush()
    return room
