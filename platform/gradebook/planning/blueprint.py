"""Pages of the test calendar: the month, announcing, changing and cancelling a test."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from accounts.models import FAMILY_ROLES, Role
from dienynas import clock
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_date, parse_id, parse_month, parse_optional_int
from gradebook.access import diary_student_ids, require_group_writer
from gradebook.days import get_settings
from gradebook.planning import services
from gradebook.planning.models import PlannedTest
from school.calendar.services import current_year
from school.classes.models import Group, SchoolClass
from school.curriculum.models import AssessmentKind
from school.menu import menu_item
from school.permissions import READERS, person_of
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("planning", __name__)
#: Any Monday, for the names of the weekdays.
MONDAY = date(2024, 1, 1)

menu_item("planning.month", _l("Test calendar"), set(Role), order=45, section="daily")


def _month(value: str | None, today: date) -> date:
    """The first day of the month asked for (``YYYY-MM``); this month when absent, or with a
    message when it is not a month the calendar can show."""
    try:
        return parse_month(value, today)
    except ServiceError as exc:
        flash(exc.message, "error")
    return today.replace(day=1)


@bp.get("/tests")
def month():
    today = clock.today()
    first = _month(request.args.get("month"), today)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    roles = g.school_roles
    is_staff = bool(roles & READERS)
    year = current_year(db.session, first) if is_staff else None
    classes = (
        db.session.scalars(
            select(SchoolClass)
            .where(SchoolClass.year_id == year.id)
            .order_by(SchoolClass.grade_level, SchoolClass.letter)
        ).all()
        if year
        else []
    )
    chosen = None
    class_id = parse_id(request.args.get("class")) if is_staff else None
    if request.args.get("class") and is_staff:
        chosen = db.session.get(SchoolClass, class_id) if class_id else None
        if chosen is None:
            raise NotFound(_("There is no such class."))
    person = person_of(db.session, current_user) if is_staff else None
    taught = services.taught_group_ids(db.session, person)
    reads_diary = roles & FAMILY_ROLES
    groups = services.visible_group_filter(
        roles,
        class_id=chosen.id if chosen else None,
        person=person,
        taught_ids=taught,
        student_ids=diary_student_ids(db.session, current_user) if reads_diary else [],
    )
    tests = services.tests_between(db.session, first, last, group_ids=groups)
    by_day: dict[date, list[PlannedTest]] = {}
    for test in tests:
        by_day.setdefault(test.on_day, []).append(test)
    is_admin = Role.ADMIN in roles
    weeks, holiday_of = services.month_grid(db.session, first)
    return render_template(
        "planning/month.html",
        first=first,
        weeks=weeks,
        day_names=[format_date(MONDAY + timedelta(days=i), "EEEE") for i in range(len(weeks[0]))],
        by_day=by_day,
        holiday_of=holiday_of,
        classes=classes,
        chosen=chosen,
        today=today,
        previous=(first - timedelta(days=1)).strftime("%Y-%m"),
        following=(last + timedelta(days=1)).strftime("%Y-%m"),
        can_edit=lambda t: t.on_day >= today and (is_admin or t.group_id in taught),
        can_announce=is_admin or bool(taught),
        sees_all=bool(roles & {Role.ADMIN, Role.DIRECTOR}),
        is_staff=is_staff,
    )


def _kinds() -> list[AssessmentKind]:
    return list(
        db.session.scalars(
            select(AssessmentKind)
            .where(AssessmentKind.is_active.is_(True))
            .order_by(AssessmentKind.name)
        )
    )


def _form_page(
    test: PlannedTest | None,
    form: dict,
    *,
    error: ServiceError | None = None,
    warnings: list[str] | None = None,
    status: int = 200,
):
    today = clock.today()
    year = current_year(db.session, today)
    groups = (
        []
        if test
        else services.announceable_groups(db.session, current_user, g.school, year and year.id)
    )
    if test is None and not groups:
        raise PermissionDenied(_("Only the groups' teachers may announce tests."))
    settings = get_settings(db.session)
    return render_template(
        "planning/form.html",
        test=test,
        form=form,
        groups=groups,
        kinds=_kinds(),
        settings=settings,
        error=error,
        warnings=warnings or [],
        warnings_key=services.warnings_key(warnings) if warnings else None,
        earliest=today + timedelta(days=settings.test_notice_days),
    ), status


def _read_form() -> dict:
    form = request.form
    return {
        "on_day": parse_date(form.get("on_day"), "on_day"),
        "topic": form.get("topic", ""),
        "kind_id": parse_id(form.get("kind_id")),
        "lesson_no": parse_optional_int(form.get("lesson_no"), "lesson_no", 0, 15),
        "today": clock.today(),
        "accept_warning": form.get("accept_warning") or None,
    }


def _saved(result: services.AnnounceResult, message: str):
    db.session.commit()
    flash(message, "success")
    if result.warnings:
        flash(_("Saved although it breaks the school's test rules."), "warning")
    return redirect(url_for("planning.month", month=result.test.on_day.strftime("%Y-%m")))


@bp.get("/tests/new")
def new():
    day = request.args.get("day", "")
    return _form_page(None, {"group_id": request.args.get("group", ""), "on_day": day})


def _writable_test(test_id: int) -> PlannedTest:
    test = services.get_test(db.session, test_id)
    require_group_writer(db.session, current_user, g.school, test.group)
    return test


@bp.post("/tests/new")
def create():
    try:
        group_id = parse_id(request.form.get("group_id"))
        if group_id is None:
            raise ServiceError(_("Choose a group."), field="group_id")
        group = db.session.get(Group, group_id)
        if group is None:
            raise NotFound(_("There is no such group."))
        result = services.announce_test(
            db.session, current_user, g.school, group=group, **_read_form()
        )
    except ServiceError as exc:
        db.session.rollback()
        return _form_page(None, request.form, error=exc, status=400)
    if not result.saved:
        return _form_page(None, request.form, warnings=result.warnings)
    return _saved(result, _("The test is announced."))


@bp.get("/tests/<int:test_id>/edit")
def edit(test_id: int):
    test = _writable_test(test_id)
    form = {
        "on_day": test.on_day.isoformat(),
        "topic": test.topic,
        "kind_id": str(test.kind_id or ""),
        "lesson_no": "" if test.lesson_no is None else str(test.lesson_no),
    }
    return _form_page(test, form)


@bp.post("/tests/<int:test_id>/edit")
def update(test_id: int):
    test = services.get_test(db.session, test_id)
    try:
        result = services.update_test(db.session, current_user, g.school, test, **_read_form())
    except ServiceError as exc:
        db.session.rollback()
        return _form_page(services.get_test(db.session, test_id), request.form, error=exc,
                          status=400)  # fmt: skip
    if not result.saved:
        return _form_page(test, request.form, warnings=result.warnings)
    return _saved(result, _("The test is changed."))


@bp.post("/tests/<int:test_id>/cancel")
def cancel(test_id: int):
    test = services.get_test(db.session, test_id)
    month = test.on_day.strftime("%Y-%m")
    try:
        services.cancel_test(db.session, current_user, g.school, test, today=clock.today())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("planning.month", month=month))
    db.session.commit()
    flash(_("The test is cancelled."), "success")
    return redirect(url_for("planning.month", month=month))
