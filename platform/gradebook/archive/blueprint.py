"""The year archive page: the administrator makes a school year's archive and downloads it."""

from __future__ import annotations

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.models import Role
from dienynas import clock
from dienynas.errors import NotFound, ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_id
from gradebook.archive import services
from gradebook.archive.tasks import enqueue_archive
from school.calendar.models import SchoolYear
from school.calendar.services import list_years, pick_year
from school.menu import menu_item
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("archive", __name__)
menu_item("archive.index", _l("Year archive"), {Role.ADMIN}, 90, section="admin")


def _page(error: ServiceError | None = None, status: int = 200):
    archives = services.list_archives(db.session, g.school, current_user)
    years = list_years(db.session)
    return render_template(
        "archive/index.html",
        archives=archives,
        years=years,
        chosen=pick_year(years, None, clock.today()),
        year_names={y.id: y.name for y in years},
        error=error,
    ), status


@bp.get("/archive")
def index():
    return _page()


@bp.post("/archive")
def create():
    try:
        archive, new = services.request_archive(
            db.session, current_user, g.school, parse_id(request.form.get("year"))
        )
    except ServiceError as exc:
        db.session.rollback()
        return _page(exc, 400)
    archive_id = archive.id
    db.session.commit()
    if enqueue_archive(g.school.id, archive_id):
        flash(
            _("The archive is being made; this page shows it when it is ready.")
            if new
            else _("This year's archive is already being made."),
            "success",
        )
    else:
        flash(_("The job queue does not answer. Ask again in a few minutes."), "error")
    return redirect(url_for("archive.index"))


@bp.post("/archive/<int:archive_id>/delete")
def delete(archive_id: int):
    try:
        services.delete_archive(
            db.session, current_user, g.school, archive_id,
            confirmed=request.form.get("confirm") == "yes",
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _page(exc, 400)
    db.session.commit()
    flash(_("The archive's file is deleted; the list keeps its checksum and who deleted it."),
          "success")  # fmt: skip
    return redirect(url_for("archive.index"))


@bp.get("/archive/<int:archive_id>/download")
def download(archive_id: int):
    archive = services.get_archive(db.session, current_user, g.school, archive_id)
    if archive.status == "deleted":
        raise NotFound(_("This archive's file was deleted."))
    if archive.status != "done":
        raise NotFound(_("This archive is not ready."))
    year = db.session.get(SchoolYear, archive.year_id)
    return Response(
        archive.content,
        mimetype="application/zip",
        headers={
            "Content-Disposition": (
                f'attachment; filename="{services.archive_filename(g.school, year)}"'
            ),
            "Cache-Control": "private, no-store",
        },
    )
