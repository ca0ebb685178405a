"""Jobs of the school registry."""

from __future__ import annotations

import logging

from sqlalchemy import select

from dienynas.extensions import db
from dienynas.jobs import enqueue, periodic, task
from tenants import services
from tenants.models import School, SchoolStatus

log = logging.getLogger(__name__)


@task
def provision_school(school_id: int) -> None:
    """Build a registered school's schema (idempotent: a second run finds it built)."""
    services.provision_school(db.session, school_id)


def enqueue_provisioning(school_id: int) -> None:
    enqueue(provision_school, school_id, job_id=f"provision-school-{school_id}")


@periodic(every_seconds=60)
@task
def resume_provisioning() -> None:
    """Re-enqueue schools left in *provisioning* (e.g. Redis was down when they were created)."""
    pending = db.session.scalars(
        select(School.id).where(School.status == SchoolStatus.PROVISIONING)
    ).all()
    for school_id in pending:
        log.info("re-enqueueing provisioning of school %s", school_id)
        enqueue_provisioning(school_id)
