"""Calendar pages: the school year with its terms and holidays, bell times, rooms.

The administrator edits; the other staff read; students and guardians get 403.
"""

from __future__ import annotations

from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from accounts.models import Role
from dienynas import clock, forms
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.i18n import joined
from school import permissions
from school.calendar import services
from school.calendar.models import (
    BellPeriod,
    BellSchedule,
    Holiday,
    Room,
    SchoolYear,
    Term,
    term_label,
)
from school.menu import menu_item
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("calendar", __name__)

menu_item("calendar.calendar", _l("Calendar"), permissions.READERS, 10, section="setup")
menu_item("calendar.bells", _l("Bell times"), permissions.READERS, 11, section="setup")
menu_item("calendar.rooms", _l("Rooms"), permissions.READERS, 12, section="setup")

Page = str | tuple[str, int] | Response


def _reader() -> None:
    permissions.require_reader(current_user, g.school)


def _admin() -> None:
    permissions.require_admin(current_user, g.school)


def _is_admin() -> bool:
    return Role.ADMIN in g.school_roles


def _form(*names: str) -> dict[str, str]:
    return {name: request.form.get(name, "").strip() for name in names}


def _confirm(
    title: str, question: str, action: str, cancel: str, notes: list[str], button: str
) -> str:
    return render_template(
        "calendar/confirm.html",
        title=title,
        question=question,
        action=action,
        cancel=cancel,
        notes=notes,
        button=button,
    )


# --- The calendar: school years, terms, holidays ------------------------------------------


def _iso(day: date | None) -> str:
    """A date as ``<input type="date">`` wants it."""
    return day.isoformat() if day else ""


def _medium(day: date) -> str:
    return format_date(day, "medium")


def _calendar_page(
    year_id: int | None = None,
    *,
    forms: dict[str, dict[str, str]] | None = None,
    error: ServiceError | None = None,
    error_form: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    years = services.list_years(db.session)
    year = services.pick_year(years, year_id, clock.today())
    name, first, last = services.propose_next_year(years, clock.today())
    defaults = {"year": {"name": name, "starts_on": _iso(first), "ends_on": _iso(last)}}
    term_days: dict[int, int] = {}
    if year is not None:
        terms = year.terms
        kind = terms[0].kind if terms else "semester"
        numbers = {t.number for t in terms}
        free = [n for n in range(1, services.TERM_KINDS[kind] + 1) if n not in numbers]
        # no number once the year has all its terms: nothing is left to add one by one
        defaults["term"] = {"kind": kind, "number": str(free[0]) if free else ""}
        defaults["holiday"] = {}
        term_days = services.term_school_days(year)
    return render_template(
        "calendar/calendar.html",
        years=years,
        year=year,
        term_days=term_days,
        year_days=services.year_school_days(year) if year else 0,
        kinds=services.TERM_KIND_LABELS,
        can_edit=_is_admin(),
        forms=defaults | (forms or {}),
        error=error,
        error_form=error_form,
    ), status


@bp.get("/calendar")
def calendar() -> Page:
    _reader()
    return _calendar_page(request.args.get("year", type=int))


@bp.post("/calendar/years")
def create_year() -> Page:
    _admin()
    form = _form("name", "starts_on", "ends_on")
    try:
        year = services.create_year(
            db.session,
            name=form["name"],
            starts_on=forms.parse_date(form["starts_on"], "starts_on"),
            ends_on=forms.parse_date(form["ends_on"], "ends_on"),
        )
    except ServiceError as exc:
        db.session.rollback()
        return _calendar_page(forms={"year": form}, error=exc, error_form="year", status=400)
    db.session.commit()
    flash(_("The school year %(name)s is added.", name=year.name), "success")
    return redirect(url_for("calendar.calendar", year=year.id))


def _year_form(
    year: SchoolYear, form: dict[str, str], error: ServiceError | None = None, status: int = 200
) -> tuple[str, int]:
    return render_template("calendar/year_form.html", year=year, form=form, error=error), status


@bp.get("/calendar/years/<int:year_id>/edit")
def edit_year(year_id: int) -> Page:
    _admin()
    year = services.get_year(db.session, year_id)
    form = {"name": year.name, "starts_on": _iso(year.starts_on), "ends_on": _iso(year.ends_on)}
    return _year_form(year, form)


@bp.post("/calendar/years/<int:year_id>/edit")
def update_year(year_id: int) -> Page:
    _admin()
    year = services.get_year(db.session, year_id)
    form = _form("name", "starts_on", "ends_on")
    try:
        services.update_year(
            db.session,
            year,
            name=form["name"],
            starts_on=forms.parse_date(form["starts_on"], "starts_on"),
            ends_on=forms.parse_date(form["ends_on"], "ends_on"),
        )
    except ServiceError as exc:
        db.session.rollback()
        return _year_form(services.get_year(db.session, year_id), form, exc, 400)
    db.session.commit()
    flash(_("The school year %(name)s is saved.", name=year.name), "success")
    return redirect(url_for("calendar.calendar", year=year.id))


@bp.route("/calendar/years/<int:year_id>/delete", methods=["GET", "POST"])
def delete_year(year_id: int) -> Page:
    _admin()
    year = services.get_year(db.session, year_id)
    if request.method == "POST":
        name = year.name
        try:
            services.delete_year(db.session, year)
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("calendar.calendar", year=year_id))
        db.session.commit()
        flash(_("The school year %(name)s is deleted.", name=name), "success")
        return redirect(url_for("calendar.calendar"))
    used = services.year_in_use(db.session, year)
    notes = (
        [_("It cannot be deleted because it is in use: %(what)s.", what=joined(used))]
        if used
        else [
            _("Its terms and holidays are deleted with it."),
            _("Only a school year entered by mistake should be deleted."),
        ]
    )
    return _confirm(
        _("Delete the school year"),
        _("Delete the school year %(name)s?", name=year.name),
        url_for("calendar.delete_year", year_id=year.id) if not used else "",
        url_for("calendar.calendar", year=year.id),
        notes,
        _("Delete"),
    )


def _term_values(form: dict[str, str]) -> tuple[int, date, date]:
    return (
        forms.parse_int(form["number"], "number", 1, 4),
        forms.parse_date(form["starts_on"], "starts_on"),
        forms.parse_date(form["ends_on"], "ends_on"),
    )


@bp.post("/calendar/years/<int:year_id>/terms")
def add_term(year_id: int) -> Page:
    _admin()
    year = services.get_year(db.session, year_id)
    form = _form("kind", "number", "starts_on", "ends_on")
    try:
        number, starts_on, ends_on = _term_values(form)
        term = services.add_term(
            db.session,
            year,
            kind=form["kind"],
            number=number,
            starts_on=starts_on,
            ends_on=ends_on,
        )
    except ServiceError as exc:
        db.session.rollback()
        return _calendar_page(
            year_id, forms={"term": form}, error=exc, error_form="term", status=400
        )
    db.session.commit()
    flash(_("“%(term)s” is added.", term=term.label), "success")
    return redirect(url_for("calendar.calendar", year=year_id))


def _term_form(
    term: Term, form: dict[str, str], error: ServiceError | None = None, status: int = 200
) -> tuple[str, int]:
    return render_template(
        "calendar/term_form.html",
        term=term,
        form=form,
        error=error,
        kinds=services.TERM_KIND_LABELS,
    ), status


@bp.get("/calendar/terms/<int:term_id>/edit")
def edit_term(term_id: int) -> Page:
    _admin()
    term = services.get_term(db.session, term_id)
    form = {
        "kind": term.kind,
        "number": str(term.number),
        "starts_on": _iso(term.starts_on),
        "ends_on": _iso(term.ends_on),
    }
    return _term_form(term, form)


@bp.post("/calendar/terms/<int:term_id>/edit")
def update_term(term_id: int) -> Page:
    _admin()
    term = services.get_term(db.session, term_id)
    form = _form("kind", "number", "starts_on", "ends_on")
    try:
        number, starts_on, ends_on = _term_values(form)
        services.update_term(
            db.session, term, kind=form["kind"], number=number, starts_on=starts_on, ends_on=ends_on
        )
    except ServiceError as exc:
        db.session.rollback()
        return _term_form(services.get_term(db.session, term_id), form, exc, 400)
    db.session.commit()
    flash(_("“%(term)s” is saved.", term=term.label), "success")
    return redirect(url_for("calendar.calendar", year=term.year_id))


@bp.route("/calendar/terms/<int:term_id>/delete", methods=["GET", "POST"])
def delete_term(term_id: int) -> Page:
    _admin()
    term = services.get_term(db.session, term_id)
    year_id, label = term.year_id, term.label
    if request.method == "POST":
        try:
            services.delete_term(db.session, term)
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("“%(term)s” is deleted.", term=label), "success")
        return redirect(url_for("calendar.calendar", year=year_id))
    used = services.term_in_use(db.session, term)
    return _confirm(
        _("Delete the term"),
        _(
            "Delete “%(term)s” (%(start)s – %(end)s)?",
            term=label,
            start=_medium(term.starts_on),
            end=_medium(term.ends_on),
        ),
        url_for("calendar.delete_term", term_id=term.id) if not used else "",
        url_for("calendar.calendar", year=year_id),
        [_("It cannot be deleted because it is in use: %(what)s.", what=joined(used))]
        if used
        else [],
        _("Delete"),
    )


def _terms_setup_page(
    year: SchoolYear,
    kind: str,
    first_day: str,
    last_day: str,
    rows: list[tuple[str, str]],
    error: ServiceError | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "calendar/terms_setup.html",
        year=year,
        kind=kind,
        first_day=first_day,
        last_day=last_day,
        rows=rows,
        kinds=services.TERM_KIND_LABELS,
        term_label=term_label,
        error=error,
    ), status


@bp.get("/calendar/years/<int:year_id>/terms/setup")
def terms_setup(year_id: int) -> Page:
    """Propose evenly split terms of the chosen kind; the administrator edits, then saves."""
    _admin()
    year = services.get_year(db.session, year_id)
    existing = year.terms
    kind = request.args.get("kind") or (existing[0].kind if existing else "semester")
    if kind not in services.TERM_KINDS:
        kind = "semester"
    first_day = request.args.get("from") or _iso(
        existing[0].starts_on if existing else year.starts_on
    )
    last_day = request.args.get("to") or _iso(existing[-1].ends_on if existing else year.ends_on)
    count = services.TERM_KINDS[kind]
    if "from" not in request.args and len(existing) == count and existing[0].kind == kind:
        rows = [(_iso(t.starts_on), _iso(t.ends_on)) for t in existing]
        return _terms_setup_page(year, kind, first_day, last_day, rows)
    try:
        spans = services.propose_terms(
            kind, forms.parse_date(first_day, "from"), forms.parse_date(last_day, "to")
        )
    except ServiceError as exc:
        return _terms_setup_page(year, kind, first_day, last_day, [("", "")] * count, exc, 400)
    rows = [(_iso(start), _iso(end)) for start, end in spans]
    return _terms_setup_page(year, kind, first_day, last_day, rows)


@bp.post("/calendar/years/<int:year_id>/terms/setup")
def save_terms_setup(year_id: int) -> Page:
    _admin()
    year = services.get_year(db.session, year_id)
    kind = request.form.get("kind", "")
    count = services.TERM_KINDS.get(kind, 0)
    rows = [
        (request.form.get(f"starts_on_{n}", ""), request.form.get(f"ends_on_{n}", ""))
        for n in range(1, count + 1)
    ]
    try:
        spans = [
            (
                forms.parse_date(start, f"starts_on_{n}"),
                forms.parse_date(end, f"ends_on_{n}"),
            )
            for n, (start, end) in enumerate(rows, start=1)
        ]
        services.set_terms(db.session, year, kind, spans)
    except ServiceError as exc:
        db.session.rollback()
        year = services.get_year(db.session, year_id)
        first_day, last_day = request.form.get("from", ""), request.form.get("to", "")
        return _terms_setup_page(year, kind, first_day, last_day, rows, exc, 400)
    db.session.commit()
    flash(_("The terms of the school year %(name)s are saved.", name=year.name), "success")
    return redirect(url_for("calendar.calendar", year=year_id))


@bp.post("/calendar/years/<int:year_id>/holidays")
def add_holiday(year_id: int) -> Page:
    _admin()
    year = services.get_year(db.session, year_id)
    form = _form("name", "starts_on", "ends_on")
    try:
        holiday = services.add_holiday(
            db.session,
            year,
            name=form["name"],
            starts_on=forms.parse_date(form["starts_on"], "starts_on"),
            ends_on=forms.parse_date(form["ends_on"], "ends_on"),
        )
    except ServiceError as exc:
        db.session.rollback()
        return _calendar_page(
            year_id, forms={"holiday": form}, error=exc, error_form="holiday", status=400
        )
    db.session.commit()
    flash(_("The holiday “%(name)s” is added.", name=holiday.name), "success")
    return redirect(url_for("calendar.calendar", year=year_id))


def _holiday_form(
    holiday: Holiday, form: dict[str, str], error: ServiceError | None = None, status: int = 200
) -> tuple[str, int]:
    return render_template(
        "calendar/holiday_form.html", holiday=holiday, form=form, error=error
    ), status


@bp.get("/calendar/holidays/<int:holiday_id>/edit")
def edit_holiday(holiday_id: int) -> Page:
    _admin()
    holiday = services.get_holiday(db.session, holiday_id)
    form = {
        "name": holiday.name,
        "starts_on": _iso(holiday.starts_on),
        "ends_on": _iso(holiday.ends_on),
    }
    return _holiday_form(holiday, form)


@bp.post("/calendar/holidays/<int:holiday_id>/edit")
def update_holiday(holiday_id: int) -> Page:
    _admin()
    holiday = services.get_holiday(db.session, holiday_id)
    form = _form("name", "starts_on", "ends_on")
    try:
        services.update_holiday(
            db.session,
            holiday,
            name=form["name"],
            starts_on=forms.parse_date(form["starts_on"], "starts_on"),
            ends_on=forms.parse_date(form["ends_on"], "ends_on"),
        )
    except ServiceError as exc:
        db.session.rollback()
        return _holiday_form(services.get_holiday(db.session, holiday_id), form, exc, 400)
    db.session.commit()
    flash(_("The holiday “%(name)s” is saved.", name=holiday.name), "success")
    return redirect(url_for("calendar.calendar", year=holiday.year_id))


@bp.route("/calendar/holidays/<int:holiday_id>/delete", methods=["GET", "POST"])
def delete_holiday(holiday_id: int) -> Page:
    _admin()
    holiday = services.get_holiday(db.session, holiday_id)
    year_id, name = holiday.year_id, holiday.name
    if request.method == "POST":
        services.delete_holiday(db.session, holiday)
        db.session.commit()
        flash(_("The holiday “%(name)s” is deleted.", name=name), "success")
        return redirect(url_for("calendar.calendar", year=year_id))
    return _confirm(
        _("Delete the holiday"),
        _(
            "Delete the holiday “%(name)s” (%(start)s – %(end)s)?",
            name=name,
            start=_medium(holiday.starts_on),
            end=_medium(holiday.ends_on),
        ),
        url_for("calendar.delete_holiday", holiday_id=holiday.id),
        url_for("calendar.calendar", year=year_id),
        [_("Its days become school days again.")],
        _("Delete"),
    )


# --- Bell times ---------------------------------------------------------------------------

_GRADE_OPTIONS = [(g, str(g)) for g in range(services.MIN_GRADE, services.MAX_GRADE + 1)]


def _bells_page(
    *,
    forms: dict[str, dict[str, str]] | None = None,
    error: ServiceError | None = None,
    error_form: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    schedules = services.list_schedules(db.session)
    has_default = any(s.is_default for s in schedules)
    defaults = {
        "schedule": {
            "is_default": "" if has_default else "1",
            "min_grade": "1",
            "max_grade": "1",
        },
        "fill": {
            "first_starts_at": "08:00",
            "lessons": "8",
            "lesson_minutes": "45",
            "break_minutes": "10",
        },
    }
    return render_template(
        "calendar/bells.html",
        schedules=schedules,
        has_default=has_default,
        uncovered=services.grades_without_schedule(schedules),
        can_edit=_is_admin(),
        forms=defaults | (forms or {}),
        error=error,
        error_form=error_form,
        grades=_GRADE_OPTIONS,
    ), status


@bp.get("/bells")
def bells() -> Page:
    _reader()
    return _bells_page()


def _schedule_values(form: dict[str, str]) -> dict:
    is_default = form["is_default"] == "1"
    if is_default:
        return {"is_default": True}
    lo, hi = services.MIN_GRADE, services.MAX_GRADE
    return {
        "is_default": False,
        "min_grade": forms.parse_int(form["min_grade"], "min_grade", lo, hi),
        "max_grade": forms.parse_int(form["max_grade"], "max_grade", lo, hi),
    }


_SCHEDULE_FIELDS = ("name", "is_default", "min_grade", "max_grade")


@bp.post("/bells/schedules")
def add_schedule() -> Page:
    _admin()
    form = _form(*_SCHEDULE_FIELDS)
    try:
        schedule = services.add_schedule(db.session, name=form["name"], **_schedule_values(form))
    except ServiceError as exc:
        db.session.rollback()
        return _bells_page(forms={"schedule": form}, error=exc, error_form="schedule", status=400)
    db.session.commit()
    flash(_("The bell schedule “%(name)s” is added.", name=schedule.name), "success")
    return redirect(url_for("calendar.bells", _anchor=f"schedule-{schedule.id}"))


def _schedule_form(
    schedule: BellSchedule,
    form: dict[str, str],
    error: ServiceError | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "calendar/schedule_form.html",
        schedule=schedule,
        form=form,
        error=error,
        grades=_GRADE_OPTIONS,
    ), status


@bp.get("/bells/schedules/<int:schedule_id>/edit")
def edit_schedule(schedule_id: int) -> Page:
    _admin()
    schedule = services.get_schedule(db.session, schedule_id)
    form = {
        "name": schedule.name,
        "is_default": "1" if schedule.is_default else "",
        "min_grade": str(schedule.min_grade),
        "max_grade": str(schedule.max_grade),
    }
    return _schedule_form(schedule, form)


@bp.post("/bells/schedules/<int:schedule_id>/edit")
def update_schedule(schedule_id: int) -> Page:
    _admin()
    schedule = services.get_schedule(db.session, schedule_id)
    form = _form(*_SCHEDULE_FIELDS)
    try:
        services.update_schedule(db.session, schedule, name=form["name"], **_schedule_values(form))
    except ServiceError as exc:
        db.session.rollback()
        return _schedule_form(services.get_schedule(db.session, schedule_id), form, exc, 400)
    db.session.commit()
    flash(_("The bell schedule “%(name)s” is saved.", name=schedule.name), "success")
    return redirect(url_for("calendar.bells", _anchor=f"schedule-{schedule.id}"))


@bp.route("/bells/schedules/<int:schedule_id>/delete", methods=["GET", "POST"])
def delete_schedule(schedule_id: int) -> Page:
    _admin()
    schedule = services.get_schedule(db.session, schedule_id)
    name = schedule.name
    if request.method == "POST":
        services.delete_schedule(db.session, schedule)
        db.session.commit()
        flash(_("The bell schedule “%(name)s” is deleted.", name=name), "success")
        return redirect(url_for("calendar.bells"))
    notes = [_("Its lesson times are deleted with it.")]
    if schedule.is_default:
        notes.append(
            _(
                "It is the default schedule: grades without their own schedule will "
                "have no bell times until you make another schedule the default."
            )
        )
    return _confirm(
        _("Delete the bell schedule"),
        _("Delete the bell schedule “%(name)s”?", name=name),
        url_for("calendar.delete_schedule", schedule_id=schedule.id),
        url_for("calendar.bells"),
        notes,
        _("Delete"),
    )


_PERIOD_FIELDS = ("lesson_no", "starts_at", "ends_at")


def _period_values(form: dict[str, str]) -> dict:
    return {
        "lesson_no": forms.parse_int(form["lesson_no"], "lesson_no", 0, services.MAX_LESSON_NO),
        "starts_at": forms.parse_time(form["starts_at"], "starts_at"),
        "ends_at": forms.parse_time(form["ends_at"], "ends_at"),
    }


@bp.post("/bells/schedules/<int:schedule_id>/periods")
def add_period(schedule_id: int) -> Page:
    _admin()
    schedule = services.get_schedule(db.session, schedule_id)
    form = _form(*_PERIOD_FIELDS)
    try:
        period = services.add_period(db.session, schedule, **_period_values(form))
    except ServiceError as exc:
        db.session.rollback()
        return _bells_page(
            forms={f"period-{schedule_id}": form},
            error=exc,
            error_form=f"period-{schedule_id}",
            status=400,
        )
    db.session.commit()
    flash(_("Lesson %(no)d is added.", no=period.lesson_no), "success")
    return redirect(url_for("calendar.bells", _anchor=f"schedule-{schedule_id}"))


@bp.post("/bells/schedules/<int:schedule_id>/fill")
def fill_periods(schedule_id: int) -> Page:
    _admin()
    schedule = services.get_schedule(db.session, schedule_id)
    form = _form("first_starts_at", "lessons", "lesson_minutes", "break_minutes")
    try:
        periods = services.fill_periods(
            db.session,
            schedule,
            first_starts_at=forms.parse_time(form["first_starts_at"], "first_starts_at"),
            lessons=forms.parse_int(form["lessons"], "lessons", 1, services.MAX_LESSON_NO),
            lesson_minutes=forms.parse_int(form["lesson_minutes"], "lesson_minutes", 10, 180),
            break_minutes=forms.parse_int(form["break_minutes"], "break_minutes", 0, 120),
        )
    except ServiceError as exc:
        db.session.rollback()
        return _bells_page(
            forms={"fill": form}, error=exc, error_form=f"fill-{schedule_id}", status=400
        )
    db.session.commit()
    flash(
        ngettext(
            "%(num)d lesson time is added to “%(name)s”.",
            "%(num)d lesson times are added to “%(name)s”.",
            len(periods),
            name=schedule.name,
        ),
        "success",
    )
    return redirect(url_for("calendar.bells", _anchor=f"schedule-{schedule_id}"))


def _period_form(
    period: BellPeriod, form: dict[str, str], error: ServiceError | None = None, status: int = 200
) -> tuple[str, int]:
    return render_template(
        "calendar/period_form.html", period=period, form=form, error=error
    ), status


@bp.get("/bells/periods/<int:period_id>/edit")
def edit_period(period_id: int) -> Page:
    _admin()
    period = services.get_period(db.session, period_id)
    form = {
        "lesson_no": str(period.lesson_no),
        "starts_at": period.starts_at.strftime("%H:%M"),
        "ends_at": period.ends_at.strftime("%H:%M"),
    }
    return _period_form(period, form)


@bp.post("/bells/periods/<int:period_id>/edit")
def update_period(period_id: int) -> Page:
    _admin()
    period = services.get_period(db.session, period_id)
    form = _form(*_PERIOD_FIELDS)
    try:
        services.update_period(db.session, period, **_period_values(form))
    except ServiceError as exc:
        db.session.rollback()
        return _period_form(services.get_period(db.session, period_id), form, exc, 400)
    db.session.commit()
    flash(_("Lesson %(no)d is saved.", no=period.lesson_no), "success")
    return redirect(url_for("calendar.bells", _anchor=f"schedule-{period.schedule_id}"))


@bp.route("/bells/periods/<int:period_id>/delete", methods=["GET", "POST"])
def delete_period(period_id: int) -> Page:
    _admin()
    period = services.get_period(db.session, period_id)
    schedule_id, lesson_no = period.schedule_id, period.lesson_no
    if request.method == "POST":
        services.delete_period(db.session, period)
        db.session.commit()
        flash(_("Lesson %(no)d is deleted.", no=lesson_no), "success")
        return redirect(url_for("calendar.bells", _anchor=f"schedule-{schedule_id}"))
    return _confirm(
        _("Delete the lesson time"),
        _(
            "Delete lesson %(no)d (%(start)s–%(end)s) of the schedule “%(name)s”?",
            no=lesson_no,
            start=period.starts_at.strftime("%H:%M"),
            end=period.ends_at.strftime("%H:%M"),
            name=period.schedule.name,
        ),
        url_for("calendar.delete_period", period_id=period.id),
        url_for("calendar.bells", _anchor=f"schedule-{schedule_id}"),
        [],
        _("Delete"),
    )


# --- Rooms --------------------------------------------------------------------------------

_ROOM_FIELDS = ("code", "name", "capacity")


def _room_values(form: dict[str, str]) -> dict:
    return {
        "code": form["code"],
        "name": form["name"],
        "capacity": forms.parse_optional_int(
            form["capacity"], "capacity", 1, services.MAX_ROOM_CAPACITY
        ),
    }


def _rooms_page(
    form: dict[str, str] | None = None, error: ServiceError | None = None, status: int = 200
) -> tuple[str, int]:
    rooms = services.list_rooms(db.session)
    return render_template(
        "calendar/rooms.html",
        rooms=rooms,
        active_count=sum(1 for r in rooms if r.is_active),
        can_edit=_is_admin(),
        form=form or {},
        error=error,
        max_capacity=services.MAX_ROOM_CAPACITY,
    ), status


@bp.get("/rooms")
def rooms() -> Page:
    _reader()
    return _rooms_page()


@bp.post("/rooms")
def add_room() -> Page:
    _admin()
    form = _form(*_ROOM_FIELDS)
    try:
        room = services.add_room(db.session, **_room_values(form))
    except ServiceError as exc:
        db.session.rollback()
        return _rooms_page(form, exc, 400)
    db.session.commit()
    flash(_("The room %(code)s is added.", code=room.code), "success")
    return redirect(url_for("calendar.rooms"))


def _room_form(
    room: Room, form: dict[str, str], error: ServiceError | None = None, status: int = 200
) -> tuple[str, int]:
    return render_template(
        "calendar/room_form.html",
        room=room,
        form=form,
        error=error,
        max_capacity=services.MAX_ROOM_CAPACITY,
    ), status


@bp.get("/rooms/<int:room_id>/edit")
def edit_room(room_id: int) -> Page:
    _admin()
    room = services.get_room(db.session, room_id)
    form = {
        "code": room.code,
        "name": room.name or "",
        "capacity": "" if room.capacity is None else str(room.capacity),
    }
    return _room_form(room, form)


@bp.post("/rooms/<int:room_id>/edit")
def update_room(room_id: int) -> Page:
    _admin()
    room = services.get_room(db.session, room_id)
    form = _form(*_ROOM_FIELDS)
    try:
        services.update_room(db.session, room, **_room_values(form))
    except ServiceError as exc:
        db.session.rollback()
        return _room_form(services.get_room(db.session, room_id), form, exc, 400)
    db.session.commit()
    flash(_("The room %(code)s is saved.", code=room.code), "success")
    return redirect(url_for("calendar.rooms"))


@bp.route("/rooms/<int:room_id>/delete", methods=["GET", "POST"])
def delete_room(room_id: int) -> Page:
    _admin()
    room = services.get_room(db.session, room_id)
    code = room.code
    if request.method == "POST":
        deleted = services.delete_room(db.session, room)
        db.session.commit()
        if deleted:
            flash(_("The room %(code)s is deleted.", code=code), "success")
        else:
            flash(
                _(
                    "The room %(code)s is in use, so it is deactivated instead of deleted.",
                    code=code,
                ),
                "success",
            )
        return redirect(url_for("calendar.rooms"))
    used = services.room_in_use(db.session, room)
    action = url_for("calendar.delete_room", room_id=room.id)
    if used and not room.is_active:
        notes = [
            _(
                "The room is in use (%(what)s), so it cannot be deleted; it is already "
                "deactivated.",
                what=joined(used),
            )
        ]
        action, button = "", ""
    elif used:
        notes = [
            _(
                "The room is in use (%(what)s), so it will be deactivated instead: it stays in "
                "past records but cannot be chosen any more.",
                what=joined(used),
            ),
        ]
        button = _("Deactivate")
    else:
        notes, button = [], _("Delete")
    return _confirm(
        _("Delete the room"),
        _("Delete the room %(code)s?", code=code),
        action,
        url_for("calendar.rooms"),
        notes,
        button,
    )


@bp.post("/rooms/<int:room_id>/active")
def set_room_active(room_id: int) -> Page:
    _admin()
    room = services.get_room(db.session, room_id)
    active = request.form.get("active") == "1"
    services.set_room_active(db.session, room, active)
    db.session.commit()
    if active:
        flash(_("The room %(code)s is active again.", code=room.code), "success")
    else:
        flash(_("The room %(code)s is deactivated.", code=room.code), "success")
    return redirect(url_for("calendar.rooms"))
