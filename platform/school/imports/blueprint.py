"""Import and export pages for the school's e-diary administrator."""

from __future__ import annotations

import logging

import redis
from flask import Response, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from accounts.models import Role
from dienynas.errors import DienynasError
from dienynas.extensions import db
from dienynas.jobs import enqueue
from school.imports import services
from school.imports.models import ImportBatch
from school.imports.tasks import read_progress, run_import_batch
from school.menu import menu_item
from school.permissions import require_admin
from tenants.routing import SchoolBlueprint

log = logging.getLogger(__name__)
bp = SchoolBlueprint("imports", __name__)
menu_item("imports.index", _l("Import and export"), {Role.ADMIN}, order=90, section="admin")

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
KIND_LABELS = {
    "students": _l("Students"),
    "guardians": _l("Guardians"),
    "staff": _l("Staff"),
    "subjects": _l("Subjects"),
    "classes": _l("Classes"),
}


@bp.before_request
def administrators_only():
    require_admin(current_user, g.school)


def _page(report=None, error: str | None = None, form=None, status: int = 200):
    batches = db.session.scalars(
        select(ImportBatch).order_by(ImportBatch.id.desc()).limit(10)
    ).all()
    return render_template(
        "imports/index.html",
        kinds=KIND_LABELS,
        columns={
            kind: services.column_help(services.importer_for(kind), g.school.default_locale)
            for kind in KIND_LABELS
        },
        report=report,
        error=error,
        form=form or {},
        batches=batches,
        threshold=services.JOB_THRESHOLD,
    ), status


@bp.get("/imports")
def index():
    return _page()


@bp.post("/imports")
def upload():
    kind = request.form.get("kind", "")
    commit = request.form.get("mode") == "commit"
    upload = request.files.get("file")
    form = {"kind": kind, "mode": request.form.get("mode", "check")}
    if kind not in KIND_LABELS:
        return _page(error=_("Choose what the file holds."), form=form, status=400)
    if upload is None or not upload.filename:
        return _page(error=_("Choose a file."), form=form, status=400)
    filename = upload.filename[-200:]  # the extension matters; a long name is not stored whole
    content = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        return _page(error=_("The file is larger than 5 MB."), form=form, status=400)
    try:
        rows = services.read_table(filename, content)
        if len(rows) > services.JOB_THRESHOLD:
            return _start_job(kind, filename, content, commit)
        report = services.import_rows(db.session, g.school, current_user, kind, rows)
    except DienynasError as exc:
        db.session.rollback()
        return _page(error=exc.message, form=form, status=400)
    if commit and not report.errors:
        db.session.commit()
        report.committed = True
    else:
        db.session.rollback()
    return _page(report=report.as_dict(), form=form, status=400 if report.errors else 200)


def _start_job(kind: str, filename: str, content: bytes, commit: bool):
    batch = ImportBatch(kind=kind, filename=filename, content=content, commit=commit,
                        status="pending", created_by=current_user.id)  # fmt: skip
    db.session.add(batch)
    db.session.commit()
    try:
        enqueue(run_import_batch, g.school.id, batch.id, job_id=f"import-{g.school.id}-{batch.id}")
    except redis.RedisError:
        log.warning("could not enqueue import batch %s", batch.id)
        flash(_("The import is queued and starts as soon as the job service is back."), "error")
    return redirect(url_for("imports.batch", batch_id=batch.id))


def _batch_or_404(batch_id: int) -> ImportBatch:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        abort(404)
    return batch


@bp.get("/imports/<int:batch_id>")
def batch(batch_id: int):
    batch = _batch_or_404(batch_id)
    return render_template(
        "imports/batch.html",
        batch=batch,
        kinds=KIND_LABELS,
        progress=read_progress(g.school.id, batch.id),
    )


@bp.get("/imports/<int:batch_id>/progress")
def batch_progress(batch_id: int):
    batch = _batch_or_404(batch_id)
    progress = read_progress(g.school.id, batch.id) or {"done": 0, "total": 0}
    return jsonify(status=batch.status, **progress)


@bp.get("/exports/<kind>.<fmt>")
def export(kind: str, fmt: str):
    if kind not in KIND_LABELS or fmt not in ("csv", "xlsx"):
        abort(404)
    filename = f"{g.school.slug}-{kind}.{fmt}"
    content = services.export_table(db.session, g.school, kind, filename)
    mimetype = (
        "text/csv"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
