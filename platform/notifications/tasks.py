"""Notification jobs (DESIGN.md 5): dispatch a school's new events, send deliveries in batches,
and a sweeper for whatever a lost job or a Redis outage left behind.

All jobs take ids and bind their own session to the school; all are idempotent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from flask import has_app_context
from sqlalchemy import select

from dienynas.extensions import db
from dienynas.jobs import enqueue, periodic, redis_connection, task
from notifications import digests, services
from notifications import settings as school_settings
from notifications.channels import mailer
from tenants.binding import unbind_session
from tenants.models import School, SchoolStatus
from tenants.services import bind_to_school

log = logging.getLogger(__name__)

#: Deliveries per send job: one job per batch, not per delivery (the queue is not the cost).
SEND_BATCH = 50
#: Failed jobs stay in RQ's failed registry this long (the delivery rows keep the reason).
FAILURE_TTL_SECONDS = 7 * 24 * 3600
#: The sweeper dispatches events left undispatched this long ...
STALE_EVENTS = timedelta(minutes=1)
#: ... and re-sends pending deliveries nobody has tried this long (longer than RQ's retries).
STALE_DELIVERIES = timedelta(minutes=10)
_DISPATCH_GUARD = "dienynas:notifications:dispatch-queued:{school_id}"
_GUARD_SECONDS = 300


class DeliveriesToRetry(Exception):
    """Raised by a send job whose deliveries failed and have attempts left: RQ retries it."""


def _school(school_id: int) -> School | None:
    school = db.session.get(School, school_id)
    if school is None or school.status != SchoolStatus.ACTIVE:
        return None
    bind_to_school(db.session, school)
    return school


def enqueue_dispatch(school_id: int, *, force: bool = False) -> None:
    """Enqueue a dispatch job for the school unless one is already queued (a Redis flag that the
    job clears when it starts, so events committed while it runs get a job of their own).

    Called after commit: when Redis is unreachable the change is already saved, so the error is
    only logged and the sweeper dispatches the events later (so too for a session committed
    outside the application, e.g. a script)."""
    if not has_app_context():
        log.warning("no application context: the sweeper will dispatch school %s", school_id)
        return
    try:
        guard = _DISPATCH_GUARD.format(school_id=school_id)
        if redis_connection().set(guard, 1, nx=True, ex=_GUARD_SECONDS) or force:
            enqueue(dispatch_events, school_id, failure_ttl=FAILURE_TTL_SECONDS)
    except (redis.RedisError, OSError) as exc:
        log.warning(
            "could not enqueue notification dispatch for school %s (the sweeper will): %s",
            school_id,
            exc,
        )


def enqueue_sends(school_id: int, delivery_ids: list[int]) -> None:
    for start in range(0, len(delivery_ids), SEND_BATCH):
        enqueue(
            send_deliveries,
            school_id,
            delivery_ids[start : start + SEND_BATCH],
            failure_ttl=FAILURE_TTL_SECONDS,
        )


@task
def dispatch_events(school_id: int) -> int:
    """Write the deliveries of the school's undispatched events and enqueue their sending.
    Returns how many deliveries were written."""
    redis_connection().delete(_DISPATCH_GUARD.format(school_id=school_id))
    if _school(school_id) is None:
        return 0
    written = 0
    while True:
        events, delivery_ids = services.dispatch(db.session)
        db.session.commit()  # the send jobs must see the rows
        written += len(delivery_ids)
        enqueue_sends(school_id, delivery_ids)
        if events < services.DISPATCH_BATCH:
            return written


@task
def send_deliveries(school_id: int, delivery_ids: list[int]) -> int:
    """Send the pending ones among ``delivery_ids`` (a commit after each e-mail or SMS). Raises
    :class:`DeliveriesToRetry` when some failed with attempts left, so that RQ retries the job
    with backoff; those already sent are not sent again. Returns how many were sent."""
    school = _school(school_id)
    if school is None:
        return 0
    batch = services.SendBatch(db.session, school, delivery_ids)
    db.session.commit()
    sent = retry = 0
    try:
        for delivery_id in batch.pending:
            state = batch.send_one(delivery_id)
            if delivery_id in batch.external:
                db.session.commit()
            if state == "sent":
                sent += 1
            elif state == "pending":
                retry += 1
        db.session.commit()
    finally:
        batch.close()
    if retry:
        raise DeliveriesToRetry(f"{retry} of {len(batch.pending)} deliveries failed")
    return sent


@periodic(every_seconds=60)
@task
def sweep_notifications() -> None:
    """Dispatch events left undispatched (Redis was down at commit, a job was lost) and re-send
    pending deliveries whose job was lost, in every active school."""
    schools = db.session.scalars(
        select(School).where(School.status == SchoolStatus.ACTIVE).order_by(School.id)
    ).all()
    db.session.commit()
    for school in schools:
        bind_to_school(db.session, school)
        stale_events = services.has_stale_events(db.session, STALE_EVENTS)
        stale_deliveries = services.stale_pending_deliveries(db.session, STALE_DELIVERIES)
        db.session.commit()
        unbind_session(db.session)
        if stale_events:
            log.info("school %s: dispatching events left behind", school.id)
            enqueue_dispatch(school.id, force=True)
        if stale_deliveries:
            log.info("school %s: re-sending %d deliveries", school.id, len(stale_deliveries))
            enqueue_sends(school.id, stale_deliveries)


@periodic(every_seconds=300)
@task
def collect_digests() -> None:
    """In every active school past its digest time, gather the day's digests and enqueue their
    sending (a digest is unique per account and day, so running again sends nothing twice)."""
    schools = db.session.scalars(
        select(School).where(School.status == SchoolStatus.ACTIVE).order_by(School.id)
    ).all()
    db.session.commit()
    now = school_settings.utc_now()
    for school in schools:
        bind_to_school(db.session, school)
        digest_ids = digests.collect(db.session, now)
        db.session.commit()
        unbind_session(db.session)
        for start in range(0, len(digest_ids), SEND_BATCH):
            enqueue(
                send_digests,
                school.id,
                digest_ids[start : start + SEND_BATCH],
                failure_ttl=FAILURE_TTL_SECONDS,
            )


@task
def send_digests(school_id: int, digest_ids: list[int]) -> int:
    """Send the pending ones among ``digest_ids``, committing after each e-mail; raises
    :class:`DeliveriesToRetry` when some failed with attempts left. Returns how many were sent."""
    school = _school(school_id)
    if school is None:
        return 0
    mail = mailer()
    sent = retry = 0
    try:
        for digest_id in digest_ids:
            state = digests.send_one(db.session, school, digest_id, mail)
            db.session.commit()
            if state == "sent":
                sent += 1
            elif state == "pending":
                retry += 1
    finally:
        if mail is not None:
            mail.close()
    if retry:
        raise DeliveriesToRetry(f"{retry} of {len(digest_ids)} digests failed")
    return sent
