"""Large imports run as a job; the page shows their progress."""

from __future__ import annotations

import json

from accounts.models import Account
from dienynas.extensions import db
from dienynas.i18n import in_locale
from dienynas.jobs import redis_connection, task
from school.imports.models import ImportBatch
from school.imports.services import run_import
from tenants.models import School
from tenants.services import bind_to_school

PROGRESS_TTL_SECONDS = 24 * 3600


def progress_key(school_id: int, batch_id: int) -> str:
    return f"dienynas:import-progress:{school_id}:{batch_id}"


def read_progress(school_id: int, batch_id: int) -> dict[str, int] | None:
    raw = redis_connection().get(progress_key(school_id, batch_id))
    return json.loads(raw) if raw else None


@task
def run_import_batch(school_id: int, batch_id: int) -> None:
    """Check, and when asked and every row is valid, save the batch's rows: all or nothing.
    Running twice is harmless: a finished batch is left as it is."""
    school = db.session.get(School, school_id)
    if school is None or not school.is_active:
        return  # suspended or gone: nothing may be written to it
    bind_to_school(db.session, school)
    batch = db.session.get(ImportBatch, batch_id, with_for_update=True)
    if batch is None or batch.status == "done":
        return
    uploader = db.session.get(Account, batch.created_by)
    key = progress_key(school_id, batch_id)
    connection = redis_connection()

    def progress(done: int, total: int) -> None:
        connection.set(key, json.dumps({"done": done, "total": total}), ex=PROGRESS_TTL_SECONDS)

    rows_saved = db.session.begin_nested()
    with in_locale((uploader.locale if uploader else None) or school.default_locale):
        report = run_import(db.session, school, uploader, batch.kind, batch.filename,
                            batch.content, progress=progress)  # fmt: skip
    if report.errors or not batch.commit:
        rows_saved.rollback()
    else:
        rows_saved.commit()
        report.committed = True
    batch.report = report.as_dict()
    batch.status = "done"
