"""Background jobs on RQ.

Jobs take ids, never ORM objects. A function decorated with :func:`task` runs inside an app
context with its own database session, commits once at the end (or rolls back), and must be
idempotent: delivery is at-least-once.

Periodic work is declared with :func:`periodic` and enqueued by the one ``dienynas scheduler``
process; a Redis lock keeps a second scheduler idle.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from dienynas.database import db

log = logging.getLogger(__name__)

QUEUE_NAMES = ("default",)
#: Retries with backoff for every job: 10 s, 1 min, 5 min.
DEFAULT_RETRY = Retry(max=3, interval=[10, 60, 300])
SCHEDULER_LOCK = "dienynas:scheduler:lock"


def redis_connection(app: Flask | None = None) -> redis.Redis:
    app = app or current_app
    ext = app.extensions.setdefault("dienynas_redis", {})
    if "client" not in ext:
        ext["client"] = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5
        )
    return ext["client"]


def queue(name: str = "default", app: Flask | None = None) -> Queue:
    return Queue(name, connection=redis_connection(app), default_timeout=600)


def enqueue(func: Callable[..., Any] | str, *args: Any, job_id: str | None = None, **kwargs: Any):
    """Enqueue a job (ids only). With a ``job_id``, a job of that id still waiting or running
    is not enqueued again (the job must be idempotent anyway: delivery is at-least-once)."""
    q = queue()
    if job_id is not None:
        try:
            existing = Job.fetch(job_id, connection=q.connection)
        except NoSuchJobError:
            existing = None
        if existing is not None and existing.get_status(refresh=False) in _PENDING:
            return existing
    return q.enqueue(func, *args, job_id=job_id, retry=DEFAULT_RETRY, **kwargs)


_PENDING = {
    JobStatus.QUEUED,
    JobStatus.STARTED,
    JobStatus.DEFERRED,
    JobStatus.SCHEDULED,
}


_process_app: Flask | None = None
_process_pid: int | None = None


def use_app_for_jobs(app: Flask) -> None:
    """Make ``app`` the one jobs of this process (and of its forked work horses) run in."""
    global _process_app, _process_pid
    _process_app, _process_pid = app, os.getpid()


def _app_for_this_process() -> Flask:
    """The app jobs run in. RQ forks a work horse per job: a forked process keeps the parent's
    app but must not reuse its pooled database and Redis connections."""
    global _process_app, _process_pid
    if _process_app is None:
        from dienynas.app import create_app

        use_app_for_jobs(create_app())
    elif _process_pid != os.getpid():
        with _process_app.app_context():
            db.engine.dispose(close=False)
        _process_app.extensions.pop("dienynas_redis", None)
        _process_pid = os.getpid()
    assert _process_app is not None
    return _process_app


def task(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn`` as a job: in an app context, one commit at the end, rollback on error."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return _run(fn, args, kwargs)
        with _app_for_this_process().app_context():
            return _run(fn, args, kwargs)

    return wrapper


def _run(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    try:
        result = fn(*args, **kwargs)
        db.session.commit()
        return result
    except BaseException:
        db.session.rollback()
        raise
    finally:
        db.session.remove()


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str  # dotted path of a @task function taking no arguments
    every_seconds: int


PERIODIC: list[Periodic] = []


def periodic(every_seconds: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a @task function (no arguments) that the scheduler enqueues every N seconds."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        PERIODIC.append(Periodic(fn.__name__, f"{fn.__module__}.{fn.__qualname__}", every_seconds))
        return fn

    return register


def run_scheduler(app: Flask, *, tick_seconds: float = 5.0, max_ticks: int | None = None) -> None:
    """Enqueue periodic jobs when they are due. Each slot gets a job id of its own, so two
    schedulers (or a restart) never enqueue the same slot twice."""
    connection = redis_connection(app)
    q = queue(app=app)
    lock_seconds = max(2, int(tick_seconds * 3))
    ticks = 0
    while max_ticks is None or ticks < max_ticks:
        ticks += 1
        if connection.set(SCHEDULER_LOCK, os.getpid(), nx=True, ex=lock_seconds) or (
            connection.get(SCHEDULER_LOCK) == str(os.getpid()).encode()
        ):
            connection.expire(SCHEDULER_LOCK, lock_seconds)
            now = int(time.time())
            for job in PERIODIC:
                slot = now // job.every_seconds
                job_id = f"periodic-{job.name}-{slot}"
                if connection.set(f"dienynas:slot:{job_id}", 1, nx=True, ex=job.every_seconds * 2):
                    q.enqueue(job.func, job_id=job_id, retry=DEFAULT_RETRY)
                    log.info("enqueued %s", job_id)
        time.sleep(tick_seconds)
