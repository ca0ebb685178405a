"""The daily lesson generation: every active school, each in its own bound transaction."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import select

from dienynas import clock
from dienynas.extensions import db
from dienynas.jobs import periodic, task
from gradebook.lessons import services
from tenants.binding import unbind_session
from tenants.models import School, SchoolStatus
from tenants.services import bind_to_school

log = logging.getLogger(__name__)


def generate_for_school(school_id: int, start: date, end: date) -> services.GenerationReport | None:
    """Generate one school's lessons and commit (None when the school is not active)."""
    school = db.session.get(School, school_id)
    if school is None or school.status != SchoolStatus.ACTIVE:
        db.session.rollback()
        return None
    bind_to_school(db.session, school)
    try:
        report = services.generate_school_lessons(db.session, start, end)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        unbind_session(db.session)
    return report


@periodic(every_seconds=24 * 3600)
@task
def generate_lessons(today: str | None = None) -> None:
    """Lessons of the next ``GENERATION_DAYS`` days from ``today`` (ISO date; the scheduler
    passes none: the real today) in every active school. Idempotent; a school that fails does
    not stop the others, and the job is retried."""
    start = date.fromisoformat(today) if today else clock.today()
    end = start + timedelta(days=services.GENERATION_DAYS - 1)
    school_ids = db.session.scalars(
        select(School.id).where(School.status == SchoolStatus.ACTIVE).order_by(School.id)
    ).all()
    db.session.rollback()  # end the registry's transaction: each school gets its own
    failed = []
    for school_id in school_ids:
        try:
            report = generate_for_school(school_id, start, end)
        except Exception:
            log.exception("generating lessons failed in school %s", school_id)
            failed.append(school_id)
            continue
        if report is not None:
            log.info("school %s: %s", school_id, report.as_dict())
    if failed:
        raise RuntimeError(f"generating lessons failed in schools {failed}")
