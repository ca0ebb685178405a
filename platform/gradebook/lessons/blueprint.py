"""Lesson pages: a teacher's lessons of a day, one lesson (topic, homework and its files,
substitute, deleting), adding a lesson outside the timetable."""

from __future__ import annotations

from datetime import date, timedelta

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from accounts.models import Role
from dienynas import clock
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.files import attachment_response, request_uploads
from dienynas.forms import accepts_files, parse_optional_date
from gradebook.lessons import services
from gradebook.lessons.models import Lesson
from school.calendar.services import current_year
from school.classes.models import Group
from school.menu import menu_item
from school.permissions import require_reader
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("lessons", __name__)
menu_item("lessons.mine", _l("My lessons"), {Role.TEACHER, Role.ADMIN}, order=5, section="daily")


def journal_url(lesson: Lesson) -> str:
    """The group's journal for the lesson's month (the journal's page)."""
    return url_for("journal.grid", group_id=lesson.group_id, month=lesson.on_day.strftime("%Y-%m"))


def _groups_for_adding(my_group_ids: list[int]) -> list[Group]:
    """The groups the account may add a lesson to: its own; all of the year for the admin."""
    if Role.ADMIN in g.school_roles:
        year = current_year(db.session, clock.today())
        if year is None:
            return []
        statement = select(Group).where(Group.year_id == year.id)
    elif my_group_ids:
        statement = select(Group).where(Group.id.in_(my_group_ids))
    else:
        return []
    return list(db.session.scalars(statement.order_by(Group.name)))


def _mine_page(
    day: date,
    form: dict[str, str] | None = None,
    error: ServiceError | None = None,
    status: int = 200,
    *,
    my_group_ids: list[int] | None = None,
):
    if my_group_ids is None:
        my_group_ids = services.my_group_ids(db.session, current_user)
    lessons = services.my_lessons(db.session, current_user, day)
    return render_template(
        "lessons/mine.html",
        day=day,
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        lessons=lessons,
        unfinished=services.unfinished_lessons(db.session, current_user, clock.today()),
        unfinished_days=services.UNFINISHED_DAYS,
        groups=_groups_for_adding(my_group_ids),
        form=form or {"on_day": day.isoformat()},
        error=error,
        journal_url=journal_url,
    ), status


@bp.get("/lessons/mine")
def mine():
    require_reader(current_user, g.school)
    try:
        day = parse_optional_date(request.args.get("day"), "day") or clock.today()
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("lessons.mine"))
    group_ids = services.my_group_ids(db.session, current_user)
    services.ensure_lessons(db.session, day, day, group_ids=group_ids)
    page = _mine_page(day, my_group_ids=group_ids)
    db.session.commit()  # the day's lessons, generated above
    return page


@bp.post("/lessons/add")
def add():
    require_reader(current_user, g.school)
    form = {name: request.form.get(name, "") for name in ("group", "on_day", "lesson_no")}
    try:
        lesson = services.add_lesson(
            db.session, current_user, g.school,
            group_id=form["group"], on_day=form["on_day"], lesson_no=form["lesson_no"],
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        try:
            day = parse_optional_date(form["on_day"], "on_day") or clock.today()
        except ServiceError:
            day = clock.today()
        return _mine_page(day, form, exc, 400)
    db.session.commit()
    flash(_("The lesson is added."), "success")
    return redirect(url_for("lessons.page", lesson_id=lesson.id))


def _lesson_page(lesson_id: int, error: ServiceError | None = None, status: int = 200, **form):
    page = services.lesson_page(db.session, current_user, g.school, lesson_id)
    teachers = services.substitute_teachers(db.session, g.school) if page.can_substitute else []
    return render_template(
        "lessons/lesson.html",
        page=page,
        lesson=page.lesson,
        teachers=teachers,
        form=form,
        error=error,
        journal_url=journal_url(page.lesson),
        allowed_extensions=", ".join(sorted(services.ALLOWED_FILES)),
        max_mb=services.MAX_FILE_BYTES // (1024 * 1024),
    ), status


@bp.get("/lessons/<int:lesson_id>")
def page(lesson_id: int):
    return _lesson_page(lesson_id)


@bp.post("/lessons/<int:lesson_id>")
def save(lesson_id: int):
    lesson = services.get_lesson(db.session, lesson_id)
    form = {
        name: request.form.get(name, "") for name in ("topic", "objectives", "classwork", "notes")
    }
    try:
        services.update_lesson(db.session, current_user, g.school, lesson, **form)
    except ServiceError as exc:
        db.session.rollback()
        return _lesson_page(lesson_id, exc, 400, **form)
    db.session.commit()
    flash(_("The lesson is saved."), "success")
    return redirect(url_for("lessons.page", lesson_id=lesson_id))


@bp.post("/lessons/<int:lesson_id>/homework")
@accepts_files(services.MAX_FILES, services.MAX_FILE_BYTES)
def save_homework(lesson_id: int):
    lesson = services.get_lesson(db.session, lesson_id)
    form = {
        "homework_text": request.form.get("homework_text", ""),
        "due_on": request.form.get("due_on", ""),
    }
    uploads = request_uploads(services.MAX_FILE_BYTES)
    try:
        services.save_homework(
            db.session, current_user, g.school, lesson,
            text=form["homework_text"], due_on=form["due_on"], uploads=uploads,
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _lesson_page(lesson_id, exc, 400, **form)
    db.session.commit()
    flash(_("The homework is saved."), "success")
    return redirect(url_for("lessons.page", lesson_id=lesson_id))


@bp.post("/lessons/<int:lesson_id>/homework/delete")
def delete_homework(lesson_id: int):
    lesson = services.get_lesson(db.session, lesson_id)
    try:
        services.delete_homework(db.session, current_user, g.school, lesson)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("lessons.page", lesson_id=lesson_id))
    db.session.commit()
    flash(_("The homework is deleted."), "success")
    return redirect(url_for("lessons.page", lesson_id=lesson_id))


@bp.post("/lessons/<int:lesson_id>/files/<int:file_id>/delete")
def delete_file(lesson_id: int, file_id: int):
    lesson = services.get_lesson(db.session, lesson_id)
    services.delete_homework_file(db.session, current_user, g.school, lesson, file_id)
    db.session.commit()
    flash(_("The file is deleted."), "success")
    return redirect(url_for("lessons.page", lesson_id=lesson_id))


@bp.get("/lessons/files/<int:file_id>")
def download(file_id: int):
    return attachment_response(services.homework_file(db.session, current_user, g.school, file_id))


@bp.post("/lessons/<int:lesson_id>/substitute")
def substitute(lesson_id: int):
    lesson = services.get_lesson(db.session, lesson_id)
    teacher = request.form.get("teacher", "")
    try:
        services.assign_substitute(db.session, current_user, g.school, lesson, teacher_id=teacher)
    except ServiceError as exc:
        db.session.rollback()
        return _lesson_page(lesson_id, exc, 400, teacher=teacher)
    db.session.commit()
    flash(_("The lesson's teacher is saved."), "success")
    return redirect(url_for("lessons.page", lesson_id=lesson_id))


@bp.post("/lessons/<int:lesson_id>/delete")
def delete(lesson_id: int):
    lesson = services.get_lesson(db.session, lesson_id)
    day = lesson.on_day
    try:
        services.delete_lesson(db.session, current_user, g.school, lesson, clock.today())
    except ServiceError as exc:
        db.session.rollback()
        return _lesson_page(lesson_id, exc, 400)
    db.session.commit()
    flash(_("The lesson is deleted."), "success")
    return redirect(url_for("lessons.mine", day=day.isoformat()))
