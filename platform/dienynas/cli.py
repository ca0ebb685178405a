"""The ``dienynas`` command: a Flask CLI group around ``create_app``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from accounts.cli import accounts_cli
from dienynas import config, embedded
from dienynas.app import create_app
from dienynas.demo import demo_cli
from gradebook.cli import gradebook_cli
from school.imports.cli import export_command, import_command
from tenants.cli import db_cli, schools_cli
from transfers.cli import transfers_cli


def _create_cli_app():
    try:
        return create_app()
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(cls=FlaskGroup, create_app=_create_cli_app, add_version_option=False)
def cli() -> None:
    """Dienynas: the municipality's electronic school diary."""


cli.add_command(schools_cli)
cli.add_command(accounts_cli)
cli.add_command(db_cli)
cli.add_command(demo_cli)
cli.add_command(import_command)
cli.add_command(export_command)
cli.add_command(gradebook_cli)
cli.add_command(transfers_cli)


@cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an RQ worker for Dienynas jobs."""
    from rq import Worker

    from dienynas.jobs import QUEUE_NAMES, redis_connection, use_app_for_jobs

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    use_app_for_jobs(app)
    Worker(list(QUEUE_NAMES), connection=redis_connection(app)).work(
        burst=burst, with_scheduler=True, logging_level="INFO"
    )


@cli.command("scheduler")
@click.option("--tick", default=5.0, show_default=True, help="Seconds between checks.")
@with_appcontext
def scheduler(tick: float) -> None:
    """Enqueue periodic jobs (one scheduler process per deployment)."""
    from dienynas.jobs import PERIODIC, run_scheduler

    click.echo("scheduler: " + ", ".join(f"{p.name} every {p.every_seconds}s" for p in PERIODIC))
    run_scheduler(current_app._get_current_object(), tick_seconds=tick)  # type: ignore[attr-defined]


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option(
    "--insecure-cookies",
    is_flag=True,
    help="Allow session cookies over plain http (only for local development).",
)
@with_appcontext
def serve(host: str, port: int, insecure_cookies: bool) -> None:
    """Serve the web app (gunicorn) with an RQ worker and the scheduler; Ctrl-C stops all."""
    env = dict(os.environ)
    env["DATABASE_URL"] = current_app.config["SQLALCHEMY_DATABASE_URI"].render_as_string(
        hide_password=False
    )
    env["REDIS_URL"] = current_app.config["REDIS_URL"]
    env["DIENYNAS_INSTANCE"] = current_app.config["INSTANCE_PATH"]
    if insecure_cookies:
        env["SESSION_COOKIE_SECURE"] = "0"
    bin_dir = Path(sys.executable).parent
    dienynas = str(bin_dir / "dienynas")
    commands = {
        "worker": [dienynas, "worker"],
        "scheduler": [dienynas, "scheduler"],
        "web": [
            str(bin_dir / "gunicorn"),
            "--bind", f"{host}:{port}",
            "--workers", "2",
            "--threads", "4",
            "--access-logfile", "-",
            "dienynas.wsgi:app",
        ],
    }  # fmt: skip
    processes = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
    click.echo(f"Dienynas on http://{host}:{port}/ (web, worker, scheduler). Ctrl-C stops all.")
    try:
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        stopped = [name for name, p in processes.items() if p.poll() is not None]
        click.echo(f"stopped unexpectedly: {', '.join(stopped)}", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        for p in processes.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in processes.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


@cli.group("services", help="The embedded PostgreSQL and Redis (when no URLs are given).")
def services_cli() -> None:
    pass


@services_cli.command("stop", context_settings={"ignore_unknown_options": True})
def stop_services() -> None:
    """Stop the embedded servers of this instance folder."""
    stopped = embedded.stop(config.instance_path())
    click.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


def main() -> None:
    cli(prog_name="dienynas")
