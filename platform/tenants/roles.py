"""PostgreSQL roles and schemas for schools: the one place that creates them.

Names are derived from the database name so that several Dienynas databases (development,
tests) can share one PostgreSQL cluster, where role names are global.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def role_prefix(connection: Connection) -> str:
    """The database's name, which starts every school role's name (asked once a connection:
    a connection's database never changes)."""
    if "dienynas.role_prefix" not in connection.info:
        database = connection.execute(text("SELECT current_database()")).scalar_one()
        connection.info["dienynas.role_prefix"] = database[:40].lower() + "_"
    return connection.info["dienynas.role_prefix"]


def schema_name(school_id: int) -> str:
    return f"school_{school_id}"


def school_role_name(connection: Connection, school_id: int) -> str:
    return f"{role_prefix(connection)}school_{school_id}"


def group_role_name(connection: Connection) -> str:
    """The role every school role belongs to: it carries the privileges on shared tables."""
    return f"{role_prefix(connection)}schools"


def ensure_group_role(connection: Connection) -> str:
    name = group_role_name(connection)
    exists = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": name}
    ).scalar()
    if not exists:
        connection.execute(text(f"CREATE ROLE {_quote(name)} NOLOGIN"))
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {_quote(name)}"))
    return name


def create_school_role_and_schema(
    connection: Connection, *, role: str, schema: str, can_login: bool
) -> None:
    """Create the school's role and its schema (idempotent).

    The role is NOLOGIN unless ``can_login`` (Citus opens its connections to worker nodes as the
    current role, DESIGN.md 3). The application's login role becomes a member so that it can
    ``SET ROLE`` to it; the role joins the group role for the shared tables.
    """
    exists = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": role}
    ).scalar()
    login = "LOGIN" if can_login else "NOLOGIN"
    if not exists:
        connection.execute(text(f"CREATE ROLE {_quote(role)} {login}"))
    else:
        connection.execute(text(f"ALTER ROLE {_quote(role)} {login}"))
    group = ensure_group_role(connection)
    connection.execute(text(f"GRANT {_quote(group)} TO {_quote(role)}"))
    connection.execute(text(f"GRANT {_quote(role)} TO CURRENT_USER"))
    connection.execute(
        text(f"CREATE SCHEMA IF NOT EXISTS {_quote(schema)} AUTHORIZATION {_quote(role)}")
    )
    # Nobody else may even look into the schema.
    connection.execute(text(f"REVOKE ALL ON SCHEMA {_quote(schema)} FROM PUBLIC"))


def drop_school_role_and_schema(connection: Connection, *, role: str, schema: str) -> None:
    connection.execute(text(f"DROP SCHEMA IF EXISTS {_quote(schema)} CASCADE"))
    exists = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": role}
    ).scalar()
    if exists:
        connection.execute(text(f"DROP OWNED BY {_quote(role)}"))
        connection.execute(text(f"DROP ROLE {_quote(role)}"))


def reset_role(connection: Connection) -> None:
    """Leave the school role for the rest of the transaction (back to the login role)."""
    connection.execute(
        text("SELECT set_config('role', 'none', true), set_config('search_path', 'public', true)")
    )
