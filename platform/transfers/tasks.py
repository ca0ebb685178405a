"""Transfer jobs: the leaving-student extract PDF (and a sweep for extracts whose job was lost).

Jobs take ids and bind their own session to the school; both are idempotent.
"""

from __future__ import annotations

import logging

import redis
from sqlalchemy import select

from dienynas.extensions import db
from dienynas.jobs import enqueue, periodic, task
from tenants.models import School
from tenants.services import bind_to_school
from transfers import services
from transfers.extract import extract_pdf
from transfers.models import PoolEntry

log = logging.getLogger(__name__)


def enqueue_extract(pool_id: int) -> None:
    """Enqueue the extract job after the leaving was committed. When Redis does not answer the
    leaving is saved all the same: :func:`sweep_extracts` enqueues the job later."""
    try:
        enqueue(render_extract, pool_id, job_id=f"transfer-extract-{pool_id}")
    except (redis.RedisError, OSError) as exc:
        log.warning("could not enqueue the extract of pool entry %s (the sweep will): %s",
                    pool_id, exc)  # fmt: skip


@task
def render_extract(pool_id: int) -> bool:
    """Render the leaving-student extract in the leaving school's language and store it on the
    pool row (``services.record_extract`` logs ``extract_ready``). The row is locked, so two
    runs take turns and the second finds the extract there. True when rendered now."""
    entry = db.session.get(PoolEntry, pool_id, with_for_update=True)
    if entry is None:
        return False
    school = db.session.get(School, entry.from_school_id)
    bind_to_school(db.session, school)
    if entry.extract_ready_at is not None:
        return False
    pdf = extract_pdf(entry, school)
    services.record_extract(db.session, entry, pdf=pdf, locale=school.default_locale)
    return True


@periodic(every_seconds=300)
@task
def sweep_extracts() -> None:
    """Enqueue the extract of every pool row that has none yet (its job was lost or Redis was
    down when the student left)."""
    waiting = db.session.scalars(
        select(PoolEntry.id).where(PoolEntry.extract_ready_at.is_(None)).order_by(PoolEntry.id)
    ).all()
    for pool_id in waiting:
        enqueue_extract(pool_id)
