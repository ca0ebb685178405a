"""Announcement pages: the list of those addressed to the reader (every role), with their
files, and the form to write one with files (now or at a chosen local time): the
administrator's and the director's, and the class heads' for the families of their classes;
the files' downloads."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from accounts.models import Role
from dienynas import clock
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.files import attachment_response, request_uploads
from dienynas.forms import accepts_files, parse_id, parse_optional_date, parse_time
from gradebook.lessons.services import ALLOWED_FILES, MAX_FILE_BYTES, MAX_FILES
from notifications.announcements import services
from school.calendar.services import current_year
from school.classes.models import SchoolClass
from school.menu import menu_item
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("announcements", __name__)
menu_item("announcements.index", _l("Announcements"), set(Role), order=13, section="daily")


@bp.get("/announcements")
def index():
    rows = services.visible(db.session, current_user, g.school)
    writer = bool(g.school_roles & {Role.ADMIN, Role.DIRECTOR, Role.SOCIAL_PEDAGOGUE,
                                    Role.CLASS_HEAD})  # fmt: skip
    scheduled = services.pending(db.session, current_user, g.school) if writer else []
    ids = [announcement.id for announcement, _ in rows] + [a.id for a in scheduled]
    changeable = {
        a.id
        for a in [announcement for announcement, _ in rows] + scheduled
        if services.may_change(current_user, g.school, a)
    }
    return render_template(
        "announcements/index.html",
        rows=rows,
        scheduled=scheduled,
        writer=writer,
        changeable=changeable,
        files=services.files_of(db.session, ids),
    )


@bp.get("/announcements/<int:announcement_id>/files/<int:file_id>")
def download(announcement_id: int, file_id: int):
    return attachment_response(
        services.announcement_file(db.session, current_user, g.school, announcement_id, file_id)
    )


def _form_page(form: MultiDict, error: ServiceError | None = None, status: int = 200):
    headed = services.writer_scope(db.session, current_user, g.school)
    year = current_year(db.session, clock.today())
    query = (
        select(SchoolClass)
        .where(SchoolClass.year_id == (year.id if year else None))
        .order_by(SchoolClass.grade_level, SchoolClass.letter)
    )
    if headed is not None:
        query = query.where(SchoolClass.id.in_(headed))
    audiences = services.AUDIENCE_LABELS
    if headed is not None:
        audiences = {key: audiences[key] for key in services.FAMILY_AUDIENCES}
    return render_template(
        "announcements/new.html",
        form=form,
        classes=list(db.session.scalars(query)),
        class_head=headed is not None,
        chosen_classes=set(form.getlist("classes")),
        chosen_audiences=set(form.getlist("audiences")),
        audiences=audiences,
        max_files=MAX_FILES,
        max_mb=MAX_FILE_BYTES // (1024 * 1024),
        allowed_extensions=", ".join(sorted(ALLOWED_FILES)),
        error=error,
    ), status


@bp.get("/announcements/new")
def new():
    return _form_page(request.args)


def _publish_at(form: MultiDict) -> datetime | None:
    """The local date and time from the form (no date: now)."""
    day = parse_optional_date(form.get("publish_on"), "publish_on")
    if day is None:
        return None
    moment = parse_time(form.get("publish_time"), "publish_time")
    return datetime.combine(day, moment, tzinfo=clock.zone())


@bp.post("/announcements/new")
@accepts_files(MAX_FILES, MAX_FILE_BYTES)
def create():
    form = request.form
    try:
        class_ids = [parse_id(v) for v in form.getlist("classes") if v.strip()]
        if None in class_ids:
            raise ServiceError(_("Choose the classes from the list."), field="classes")
        now = datetime.now(UTC)
        announcement = services.create(
            db.session, current_user, g.school, now,
            title=form.get("title"),
            body=form.get("body"),
            audiences=form.getlist("audiences"),
            class_ids=[i for i in class_ids if i is not None],
            publish_at=_publish_at(form),
            files=request_uploads(MAX_FILE_BYTES),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _form_page(form, exc, 400)
    # publish_due marks it published by a bulk UPDATE, which the object does not see
    published = announcement.publish_at <= now
    db.session.commit()
    flash(
        _("The announcement is published.") if published else _("The announcement is scheduled."),
        "success",
    )
    return redirect(url_for("announcements.index"))


def _edit_page(announcement, form: MultiDict, error: ServiceError | None = None, status=200):
    return render_template(
        "announcements/edit.html", announcement=announcement, form=form, error=error
    ), status


@bp.get("/announcements/<int:announcement_id>/edit")
def edit(announcement_id: int):
    announcement = services.changeable(db.session, current_user, g.school, announcement_id)
    return _edit_page(announcement, MultiDict(
        {"title": announcement.title, "body": announcement.body}
    ))  # fmt: skip


@bp.post("/announcements/<int:announcement_id>/edit")
def save(announcement_id: int):
    form = request.form
    try:
        services.edit(
            db.session, current_user, g.school, announcement_id, datetime.now(UTC),
            title=form.get("title"), body=form.get("body"),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        announcement = services.changeable(db.session, current_user, g.school, announcement_id)
        return _edit_page(announcement, form, exc, 400)
    db.session.commit()
    flash(_("The announcement is saved."), "success")
    return redirect(url_for("announcements.index"))


@bp.get("/announcements/<int:announcement_id>/withdraw")
def confirm_withdraw(announcement_id: int):
    announcement = services.changeable(db.session, current_user, g.school, announcement_id)
    return render_template("announcements/withdraw.html", announcement=announcement)


@bp.post("/announcements/<int:announcement_id>/withdraw")
def withdraw(announcement_id: int):
    title = services.withdraw(db.session, current_user, g.school, announcement_id)
    db.session.commit()
    flash(_("The announcement “%(title)s” is withdrawn.", title=title), "success")
    return redirect(url_for("announcements.index"))
