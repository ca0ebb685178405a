"""Background jobs: the real `dienynas worker` process, the scheduler, idempotent jobs."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from dienynas.jobs import PERIODIC, queue, redis_connection, run_scheduler
from tenants import roles
from tenants.models import School
from tenants.services import register_school
from tenants.tasks import enqueue_provisioning

DIENYNAS = str(Path(sys.executable).parent / "dienynas")


def test_worker_process_provisions_a_registered_school(app, fresh_engine):
    with Session(fresh_engine) as session:
        school = register_school(
            session, slug="by-the-worker", name="Darbininko mokykla", locale="lt"
        )
        session.commit()
        school_id, schema, role = school.id, school.schema_name, school.role_name
    try:
        enqueue_provisioning(school_id)
        enqueue_provisioning(school_id)  # enqueued twice (same job id): built once
        assert queue().count == 1
        env = dict(os.environ)
        env["DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"].render_as_string(
            hide_password=False
        )
        env["REDIS_URL"] = app.config["REDIS_URL"]
        result = subprocess.run(
            [DIENYNAS, "worker", "--burst"], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        with Session(fresh_engine) as session:
            provisioned = session.get(School, school_id)
            assert provisioned.status == "active" and provisioned.schema_version
            tables = (
                session.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY 1"),
                    {"s": schema},
                )
                .scalars()
                .all()
            )
            assert "school_years" in tables and "alembic_version" in tables
    finally:
        with fresh_engine.begin() as conn:
            roles.drop_school_role_and_schema(conn, role=role, schema=schema)
            conn.execute(text("DELETE FROM public.schools WHERE id = :id"), {"id": school_id})


def test_scheduler_enqueues_each_periodic_job_once_per_slot(app):
    names = {p.name for p in PERIODIC}
    assert "resume_provisioning" in names
    run_scheduler(app, tick_seconds=0.01, max_ticks=3)
    run_scheduler(app, tick_seconds=0.01, max_ticks=1)  # a restarted scheduler: no duplicates
    enqueued = [job.func_name for job in queue().jobs]
    assert sorted(enqueued) == sorted(p.func for p in PERIODIC)


def test_second_scheduler_stays_idle_while_the_first_holds_the_lock(app):
    from dienynas.jobs import SCHEDULER_LOCK

    redis_connection(app).set(SCHEDULER_LOCK, "another-process", ex=30)
    run_scheduler(app, tick_seconds=0.01, max_ticks=2)
    assert queue().count == 0


def test_sweep_reenqueues_schools_left_in_provisioning(app, db_session):
    from tenants.tasks import resume_provisioning

    school_id = register_school(db_session, slug="left-behind", name="Pamiršta", locale="lt").id
    db_session.commit()
    resume_provisioning()
    resume_provisioning()  # a sweep that runs twice enqueues once
    assert [j.id for j in queue().jobs] == [f"provision-school-{school_id}"]
