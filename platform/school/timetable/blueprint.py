"""Timetable pages: the week grids of a class, a teacher and a room for the school's staff, and
the editing of a class's timetable for the administrator and staff granted ``edit_timetable``."""

from __future__ import annotations

from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.models import Role
from dienynas import clock
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_optional_date
from school import permissions
from school.calendar.models import SchoolYear
from school.calendar.services import current_year, get_room, list_years, pick_year
from school.classes.models import SchoolClass
from school.menu import menu_item
from school.people.services import get_person
from school.timetable import services
from school.timetable.models import TimetableEntry
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("timetable", __name__)

EDIT_RIGHT = "edit_timetable"
ENTRY_FIELDS = ("group", "weekday", "lesson_no", "room", "valid_from", "valid_to")
MOVE_FIELDS = ("weekday", "lesson_no", "room", "from_date")
#: URL ids: a bigint (a larger number would fail in the database instead of giving 404).
ID = "int(max=9223372036854775807)"
#: Weeks a grid may show (a date far outside would only overflow the week arithmetic).
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)

menu_item(
    "timetable.my_week", _l("My timetable"), {Role.TEACHER, Role.CLASS_HEAD}, 49, section="daily"
)
menu_item("timetable.index", _l("Timetable"), permissions.READERS, 50, section="people")


def _require_reader() -> None:
    permissions.require_reader(current_user, g.school)


def _require_editor() -> None:
    permissions.require_right(db.session, current_user, g.school, EDIT_RIGHT)


def _can_edit() -> bool:
    return permissions.has_right(db.session, current_user, g.school, EDIT_RIGHT)


def _form(fields: tuple[str, ...]) -> dict[str, str]:
    return {name: request.form.get(name, "").strip() for name in fields}


def _chosen_date(year: SchoolYear | None) -> date:
    """The ``date`` asked for; by default (or when it is not a sensible date) today, kept
    inside the school year."""
    try:
        chosen = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        chosen = None
    if chosen is not None and EARLIEST <= chosen <= LATEST:
        return chosen
    today = clock.today()
    return services.clamp(today, year.starts_on, year.ends_on) if year else today


def _weekday_choices() -> list[tuple[int, str]]:
    names = services.weekday_names()
    return [(d, names[d]) for d in range(services.MONDAY, services.SATURDAY + 1)]


def _slot_words(entry: TimetableEntry) -> dict[str, object]:
    return {
        "group": entry.group.name,
        "day": services.weekday_names()[entry.weekday],
        "number": entry.lesson_no,
    }


# --- reading ----------------------------------------------------------------------------------


@bp.get("/timetable/")
def index():
    """Classes, teachers and rooms of a school year (by default the current one; the next
    one can be chosen while it is being set up)."""
    _require_reader()
    years = list_years(db.session)
    year = pick_year(years, request.args.get("year"), clock.today())
    return render_template(
        "timetable/index.html",
        years=years,
        year=year,
        classes=services.classes_of_year(db.session, year.id) if year else [],
        teachers=services.teachers_of_year(db.session, year.id) if year else [],
        rooms=services.active_rooms(db.session),
        can_edit=_can_edit(),
    )


def _week_page(title: str, which, on: date, schedule, year: SchoolYear | None, **extra):
    return render_template(
        "timetable/week.html",
        title=title,
        week=services.week(db.session, which, on, schedule),
        on=on,
        year=year,
        today=clock.today(),
        **extra,
    )


@bp.get(f"/timetable/class/<{ID}:class_id>")
def class_week(class_id: int):
    _require_reader()
    school_class, year = services.get_class(db.session, class_id)
    schedule = services.schedule_for_class(db.session, school_class)
    return _week_page(
        _("Timetable of class %(name)s", name=school_class.name),
        services.class_filter(class_id),
        _chosen_date(year),
        schedule,
        year,
        show={"teacher", "room"},
        edit_url=url_for(".edit_class", class_id=class_id) if _can_edit() else None,
    )


@bp.get(f"/timetable/teacher/<{ID}:person_id>")
def teacher_week(person_id: int):
    _require_reader()
    teacher = get_person(db.session, person_id)
    year = current_year(db.session, clock.today())
    return _week_page(
        _("Timetable of %(name)s", name=teacher.full_name),
        services.teacher_filter(person_id),
        _chosen_date(year),
        services.common_schedule(db.session),
        year,
        show={"group", "room"},
    )


@bp.get(f"/timetable/room/<{ID}:room_id>")
def room_week(room_id: int):
    _require_reader()
    room = get_room(db.session, room_id)
    year = current_year(db.session, clock.today())
    return _week_page(
        _("Timetable of room %(code)s", code=room.code),
        services.room_filter(room_id),
        _chosen_date(year),
        services.common_schedule(db.session),
        year,
        show={"group", "teacher"},
    )


@bp.get("/timetable/my")
def my_week():
    """A teacher's own timetable."""
    _require_reader()
    person = permissions.person_of(db.session, current_user)
    if person is None:
        flash(
            _("Your account is not linked to a person of this school yet; ask the administrator."),
            "error",
        )
        return redirect(url_for(".index"))
    return redirect(url_for(".teacher_week", person_id=person.id, date=request.args.get("date")))


# --- editing a class's timetable --------------------------------------------------------------


def _edit_page(
    school_class: SchoolClass,
    year: SchoolYear,
    form: dict[str, str],
    error: ServiceError | None = None,
    status: int = 200,
):
    entries = services.entries_of_year(db.session, services.class_filter(school_class.id), year)
    own_groups, other_groups = services.groups_for_class(db.session, school_class)
    return render_template(
        "timetable/edit_class.html",
        school_class=school_class,
        year=year,
        entries=entries,
        teachers=services.teachers_by_group(db.session, {e.group_id for e in entries}),
        own_groups=own_groups,
        other_groups=other_groups,
        rooms=services.active_rooms(db.session),
        schedule=services.schedule_for_class(db.session, school_class),
        weekdays=_weekday_choices(),
        form=form,
        error=error,
        today=clock.today(),
    ), status


@bp.get(f"/timetable/class/<{ID}:class_id>/edit")
def edit_class(class_id: int):
    _require_editor()
    school_class, year = services.get_class(db.session, class_id)
    form = {
        "weekday": str(services.MONDAY),
        "valid_from": services.clamp(clock.today(), year.starts_on, year.ends_on).isoformat(),
        "valid_to": year.ends_on.isoformat(),
    }
    return _edit_page(school_class, year, form)


@bp.post(f"/timetable/class/<{ID}:class_id>/edit")
def add_entry(class_id: int):
    _require_editor()
    school_class, year = services.get_class(db.session, class_id)
    form = _form(ENTRY_FIELDS)
    try:
        entry = services.add_entry(
            db.session,
            group_id=services.form_int(form["group"], "group", _("Choose a group.")),
            weekday=services.form_int(form["weekday"], "weekday", _("Choose a day.")),
            lesson_no=services.form_int(
                form["lesson_no"], "lesson_no", _("Enter the lesson number.")
            ),
            room_id=services.form_optional_id(
                form["room"], "room", _("Choose a room from the list.")
            ),
            valid_from=parse_optional_date(form["valid_from"], "valid_from"),
            valid_to=parse_optional_date(form["valid_to"], "valid_to"),
        )
    except ServiceError as exc:
        db.session.rollback()
        return _edit_page(school_class, year, form, exc, 400)
    flash(_("Added: %(group)s on %(day)s, lesson %(number)d.", **_slot_words(entry)), "success")
    db.session.commit()
    return redirect(url_for(".edit_class", class_id=class_id))


def _back_url(entry: TimetableEntry) -> str:
    """Where to return after changing an entry: the class page it was opened from."""
    back = request.values.get("back", "")
    class_id = int(back) if back.isascii() and back.isdigit() else entry.group.class_id
    if class_id is None:
        return url_for(".index")
    return url_for(".edit_class", class_id=class_id)


def _move_page(entry: TimetableEntry, form: dict[str, str], error=None, status: int = 200):
    schedules = services.schedules_of_group(db.session, entry.group)
    return render_template(
        "timetable/move.html",
        entry=entry,
        last_day=services.last_day(db.session, entry),
        teachers=services.teachers_by_group(db.session, [entry.group_id]).get(entry.group_id, []),
        schedule=schedules[0] if len(schedules) == 1 else None,
        rooms=services.active_rooms(db.session),
        weekdays=_weekday_choices(),
        day_names=services.weekday_names(),
        back_url=_back_url(entry),
        form=form,
        error=error,
    ), status


@bp.get(f"/timetable/entries/<{ID}:entry_id>/move")
def move_entry(entry_id: int):
    _require_editor()
    entry = services.get_entry(db.session, entry_id)
    start = services.clamp(clock.today(), entry.valid_from, services.last_day(db.session, entry))
    form = {
        "weekday": str(entry.weekday),
        "lesson_no": str(entry.lesson_no),
        "room": str(entry.room_id or ""),
        "from_date": start.isoformat(),
    }
    return _move_page(entry, form)


@bp.post(f"/timetable/entries/<{ID}:entry_id>/move")
def save_move(entry_id: int):
    _require_editor()
    form = _form(MOVE_FIELDS)
    try:
        entry = services.move_entry(
            db.session,
            entry_id,
            weekday=services.form_int(form["weekday"], "weekday", _("Choose a day.")),
            lesson_no=services.form_int(
                form["lesson_no"], "lesson_no", _("Enter the lesson number.")
            ),
            room_id=services.form_optional_id(
                form["room"], "room", _("Choose a room from the list.")
            ),
            from_date=parse_optional_date(form["from_date"], "from_date"),
        )
    except ServiceError as exc:
        db.session.rollback()
        return _move_page(services.get_entry(db.session, entry_id), form, exc, 400)
    flash(
        _(
            "Changed: %(group)s is on %(day)s, lesson %(number)d from %(date)s.",
            date=format_date(entry.valid_from, "medium"),
            **_slot_words(entry),
        ),
        "success",
    )
    back = _back_url(entry)
    db.session.commit()
    return redirect(back)


def _end_page(entry: TimetableEntry, form: dict[str, str], error=None, status: int = 200):
    return render_template(
        "timetable/end.html",
        entry=entry,
        last_day=services.last_day(db.session, entry),
        teachers=services.teachers_by_group(db.session, [entry.group_id]).get(entry.group_id, []),
        day_names=services.weekday_names(),
        back_url=_back_url(entry),
        form=form,
        error=error,
    ), status


@bp.get(f"/timetable/entries/<{ID}:entry_id>/end")
def end_entry(entry_id: int):
    _require_editor()
    entry = services.get_entry(db.session, entry_id)
    start = services.clamp(clock.today(), entry.valid_from, services.last_day(db.session, entry))
    return _end_page(entry, {"from_date": start.isoformat()})


@bp.post(f"/timetable/entries/<{ID}:entry_id>/end")
def save_end(entry_id: int):
    """With ``from_date``: lessons stop from that day. With ``delete``: the entry is deleted."""
    _require_editor()
    form = _form(("from_date",))
    entry = services.get_entry(db.session, entry_id)
    words, back = _slot_words(entry), _back_url(entry)
    try:
        deleted = services.end_entry(
            db.session,
            entry_id,
            parse_optional_date(form["from_date"], "from_date"),
            delete="delete" in request.form,
        )
    except ServiceError as exc:
        db.session.rollback()
        return _end_page(services.get_entry(db.session, entry_id), form, exc, 400)
    if deleted:
        flash(_("Deleted: %(group)s on %(day)s, lesson %(number)d.", **words), "success")
    else:
        flash(
            _(
                "%(group)s on %(day)s, lesson %(number)d: the last lesson is on %(date)s.",
                date=format_date(entry.valid_to, "medium"),
                **words,
            ),
            "success",
        )
    db.session.commit()
    return redirect(back)
