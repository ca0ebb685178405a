"""The job that makes a year's archive. It takes ids and binds its own session to the school;
a second run finds the archive made and does nothing."""

from __future__ import annotations

import logging

import redis

from accounts.models import Account
from dienynas import clock
from dienynas.extensions import db
from dienynas.i18n import in_locale
from dienynas.jobs import enqueue, task
from gradebook.archive import services
from gradebook.archive.models import YearArchive
from school.calendar.models import SchoolYear
from tenants.models import School
from tenants.services import bind_to_school

log = logging.getLogger(__name__)


def enqueue_archive(school_id: int, archive_id: int) -> bool:
    """Enqueue the job after the request was committed; False when Redis does not answer (the
    archive stays waiting and asking again enqueues it)."""
    try:
        enqueue(build_year_archive, school_id, archive_id,
                job_id=f"year-archive-{school_id}-{archive_id}")  # fmt: skip
    except (redis.RedisError, OSError) as exc:
        log.warning("could not enqueue year archive %s of school %s: %s", archive_id, school_id,
                    exc)  # fmt: skip
        return False
    return True


@task
def build_year_archive(school_id: int, archive_id: int) -> bool:
    """Make the archive in the school's language and keep it (True), or record why it failed.
    The archive's row is locked: two runs take turns and the second finds it made."""
    school = db.session.get(School, school_id)
    if school is None or not school.is_active:
        return False
    bind_to_school(db.session, school)
    archive = db.session.get(YearArchive, archive_id, with_for_update=True)
    if archive is None or archive.status != "pending":
        return False
    requester = db.session.get(Account, archive.requested_by)
    year = db.session.get(SchoolYear, archive.year_id)
    reading = db.session.begin_nested()
    try:
        with in_locale(school.default_locale):
            content = services.build_archive(db.session, requester, school, year, clock.today())
    except Exception as exc:
        reading.rollback()
        log.exception("year archive %s of school %s failed", archive_id, school_id)
        archive.status = "failed"
        archive.error = f"{type(exc).__name__}: {exc}"[:1000]
        return False
    reading.commit()
    services.record_archive(archive, content)
    return True
