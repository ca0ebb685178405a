"""Configuration: read from the environment, completed with embedded services, validated early.

Settings (environment variables):

- ``DATABASE_URL``: PostgreSQL (``postgresql://user:pass@host:port/db``). Without it an embedded
  PostgreSQL server runs under ``instance/postgres``.
- ``REDIS_URL``: Redis (``redis://host:port/0`` or ``unix:///path?db=0``). Without it an embedded
  Redis runs under ``instance/redis``.
- ``SECRET_KEY``: without it a random key is generated once into ``instance/secret_key``.
- ``SMTP_URL``: ``smtp://user:pass@host:port`` for e-mail (used by notifications).
- ``MAIL_FROM``: the sender of notification e-mails (``Dienynas <noreply@example.lt>``).
- ``PUBLIC_URL``: the address people open (``https://dienynas.example.lt``), for links in
  e-mails (the password reset); default ``http://127.0.0.1:5000`` (``make run``).
- ``SMS_PROVIDER``: ``package.module:ClassName`` of the SMS gateway (docs/notifications.md);
  without it SMS messages are only logged.
- ``DIENYNAS_INSTANCE``: the instance folder (default ``./instance``).
- ``SESSION_COOKIE_SECURE``: ``0`` only for plain-http development on loopback (``make run``).
- ``PROXIES``: the number of reverse proxies in front of the app that set ``X-Forwarded-For``
  (``1`` behind the deploy's nginx; ``0``, the default, when clients connect directly).
- ``SCHOOL_ROLES_LOGIN``: ``1`` when school roles must be able to log in (Citus, DESIGN.md 3).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import psycopg
import redis
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from dienynas import embedded

SUPPORTED_LOCALES = ("lt", "ru", "pl", "en")
DEFAULT_LOCALE = "lt"


class ConfigError(Exception):
    """A configuration problem, with a message an operator can act on."""


def instance_path() -> Path:
    path = Path(os.environ.get("DIENYNAS_INSTANCE", "instance")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_count(name: str) -> int:
    value = (os.environ.get(name) or "0").strip()
    if not value.isdigit():
        raise SystemExit(f"{name} must be a whole number (got {value!r}).")
    return int(value)


def secret_key(instance: Path) -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def sqlalchemy_url(database_url: str) -> URL:
    """Parse ``DATABASE_URL`` and return it with the psycopg 3 driver, or raise ConfigError."""
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise ConfigError(f"DATABASE_URL is not a valid database URL ({exc}).") from None
    if url.get_backend_name() not in {"postgresql", "postgres"}:
        raise ConfigError(
            f"DATABASE_URL must point to PostgreSQL, not {url.get_backend_name()!r}: "
            "Dienynas keeps every school in its own PostgreSQL schema."
        )
    if not url.database:
        raise ConfigError("DATABASE_URL names no database (expected postgresql://…/DBNAME).")
    return url.set(drivername="postgresql+psycopg")


def libpq_url(url: URL) -> str:
    """The URL in the form psycopg and libpq accept."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def check_database(url: URL) -> None:
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        where = url.host or url.query.get("host") or "localhost"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"Cannot reach PostgreSQL at {where}:{url.port or 5432}/{url.database}: {reason}"
        ) from None


def check_redis(redis_url: str) -> None:
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
    except ValueError as exc:
        raise ConfigError(f"REDIS_URL is not a valid Redis URL ({exc}).") from None
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        raise ConfigError(f"Cannot reach Redis at {redis_url}: {exc}") from None


def load(overrides: dict[str, Any] | None = None, *, check_services: bool = True) -> dict[str, Any]:
    """Build the Flask config from the environment and ``overrides``.

    Embedded servers are started when no URL is given; the given servers are checked so that a
    wrong URL fails at start-up with a clear message instead of at the first request.
    """
    overrides = dict(overrides or {})
    instance = Path(overrides.pop("INSTANCE_PATH", None) or instance_path())

    database_url = overrides.pop("DATABASE_URL", None) or os.environ.get("DATABASE_URL")
    if not database_url:
        database_url = embedded.postgres_url(instance)
    db_url = sqlalchemy_url(database_url)

    redis_url = overrides.pop("REDIS_URL", None) or os.environ.get("REDIS_URL")
    if not redis_url:
        redis_url = embedded.redis_url(instance)

    if check_services:
        check_database(db_url)
        check_redis(redis_url)

    config: dict[str, Any] = {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": db_url,
        # idle connections are checked before use (database.ping_idle_connections); the most
        # recently used connection is taken first (its server process has the schools' catalog
        # and the prepared statements at hand; the rest stay idle)
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10, "max_overflow": 10, "pool_use_lifo": True},
        "REDIS_URL": redis_url,
        "SMTP_URL": os.environ.get("SMTP_URL", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", ""),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        "SMS_PROVIDER": os.environ.get("SMS_PROVIDER", ""),
        "SCHOOL_ROLES_LOGIN": _env_flag("SCHOOL_ROLES_LOGIN", False),
        #: keep rendered diary pages in Redis (gradebook/diary/cache.py); off renders every time
        "DIARY_CACHE": _env_flag("DIARY_CACHE", True),
        #: how many proxies (nginx) stand in front and set X-Forwarded-For: the client's own
        #: address is then the one they name, not the proxy's (the login throttle counts
        #: failures per address: behind nginx without this, everyone would share one count)
        "PROXIES": _env_count("PROXIES"),
        "SESSION_COOKIE_SECURE": _env_flag("SESSION_COOKIE_SECURE", True),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _env_flag("SESSION_COOKIE_SECURE", True),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 8,
        "WTF_CSRF_TIME_LIMIT": None,
        #: uploads (imports) are at most 5 MB; a larger body is refused before it is read
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        "MAX_FORM_PARTS": 10_000,  # a group form may tick every student of a large year
        "BABEL_DEFAULT_LOCALE": DEFAULT_LOCALE,
        "BABEL_DEFAULT_TIMEZONE": "Europe/Vilnius",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parents[2] / "translations"),
        "SUPPORTED_LOCALES": SUPPORTED_LOCALES,
    }
    config.update(overrides)
    return config
