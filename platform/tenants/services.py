"""The school registry's rules: registering, provisioning, suspending and resolving schools.

Services only flush; the caller (a request, a CLI command, a job) commits once.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Row, Select, bindparam, case, func, literal_column, select, text, true
from sqlalchemy.orm import Session

import school.models  # noqa: F401  (every school table, for create_all)
from dienynas.config import SUPPORTED_LOCALES
from dienynas.database import SchoolModel
from dienynas.errors import NotFound, ServiceError
from dienynas.i18n import joined
from school.defaults import install_defaults
from tenants import roles
from tenants.binding import SchoolBinding, bind_connection, bind_session, remember_binding
from tenants.migrations import school_head
from tenants.models import School, SchoolRef, SchoolStatus

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")


def binding_for(school: School | SchoolRef) -> SchoolBinding:
    return SchoolBinding(school.id, school.schema_name, school.role_name)


def validate_new_school(session: Session, slug: str, name: str, locale: str) -> None:
    """Raise ServiceError (naming the field) when the school cannot be registered."""
    if not SLUG_RE.match(slug or ""):
        raise ServiceError(
            _(
                "The address name must be 3 to 40 lowercase Latin letters, digits or hyphens, "
                "not starting or ending with a hyphen (e.g. vilniaus-licejus)."
            ),
            field="slug",
        )
    if not (name or "").strip():
        raise ServiceError(_("Enter the school's name."), field="name")
    if len(name.strip()) > 200:
        raise ServiceError(_("The school's name may be at most 200 characters."), field="name")
    if locale not in SUPPORTED_LOCALES:
        raise ServiceError(
            _(
                "The language must be one of: %(choices)s.",
                choices=joined(SUPPORTED_LOCALES, style="or"),
            ),
            field="locale",
        )
    if session.scalar(select(School.id).where(School.slug == slug)) is not None:
        raise ServiceError(
            _("A school with the address name “%(slug)s” already exists.", slug=slug),
            field="slug",
        )
    check_name_free(session, name)


def check_name_free(session: Session, name: str) -> None:
    """Refuse (on ``name``) a name another school of the municipality already has, whatever
    its case or surrounding spaces: two schools of one name cannot be told apart in the
    console, the school switcher or the transfer pool."""
    taken = session.scalar(
        select(School.name)
        .where(func.lower(func.trim(School.name)) == name.strip().lower())
        .limit(1)
    )
    if taken is not None:
        raise ServiceError(
            _("The municipality already has a school named “%(name)s”.", name=taken),
            field="name",
        )


def register_school(session: Session, *, slug: str, name: str, locale: str = "lt") -> School:
    """Add the school to the registry in status *provisioning*; its schema is built by
    :func:`provision_school` (a CLI command or an RQ job, never a web request)."""
    slug = (slug or "").strip().lower()
    validate_new_school(session, slug, name, locale)
    connection = session.connection()
    school_id = connection.execute(
        text("SELECT nextval(pg_get_serial_sequence('public.schools', 'id'))")
    ).scalar_one()
    school = School(
        id=school_id,
        slug=slug,
        name=name.strip(),
        default_locale=locale,
        status=SchoolStatus.PROVISIONING,
        schema_name=roles.schema_name(school_id),
        role_name=roles.school_role_name(connection, school_id),
        cluster="default",
    )
    session.add(school)
    session.flush()
    return school


def provision_school(session: Session, school_id: int) -> School:
    """Build the school's schema: role, schema, tables (create-all), migration stamp.

    Idempotent: a school that is already provisioned is left as it is, and the registry row is
    locked so that two jobs for the same school do the work once.
    """
    school = session.get(School, school_id, with_for_update=True, populate_existing=True)
    if school is None:
        raise NotFound(_("No such school."))
    if school.schema_version is not None:
        return school
    connection = session.connection()
    roles.create_school_role_and_schema(
        connection,
        role=school.role_name,
        schema=school.schema_name,
        can_login=current_app.config.get("SCHOOL_ROLES_LOGIN", False),
    )
    bind_connection(connection, binding_for(school))
    SchoolModel.metadata.create_all(connection)
    install_defaults(session, school.default_locale)
    head = school_head()
    version_table = f'"{school.schema_name}".alembic_version'
    connection.execute(
        text(
            f"CREATE TABLE {version_table} (version_num VARCHAR(32) NOT NULL, "
            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
        )
    )
    connection.execute(text(f"INSERT INTO {version_table} VALUES (:v)"), {"v": head})
    roles.reset_role(connection)
    school.schema_version = head
    if school.status == SchoolStatus.PROVISIONING:
        school.status = SchoolStatus.ACTIVE
        school.status_changed_at = datetime.now(UTC)
    session.flush()
    return school


def create_school(session: Session, *, slug: str, name: str, locale: str = "lt") -> School:
    """Register and provision at once (CLI and demo seed: not for a web request)."""
    school = register_school(session, slug=slug, name=name, locale=locale)
    return provision_school(session, school.id)


def get_school(session: Session, slug: str) -> School:
    school = session.scalar(select(School).where(School.slug == (slug or "").lower()))
    if school is None:
        raise NotFound(_("There is no school with the address name “%(slug)s”.", slug=slug))
    return school


def set_status(session: Session, slug: str, status: SchoolStatus) -> School:
    """Suspend or resume a school (the operator's switch)."""
    school = get_school(session, slug)
    if school.status == SchoolStatus.PROVISIONING:
        raise ServiceError(_("The school is still being set up; try again in a minute."))
    if school.status == SchoolStatus.ARCHIVED:
        raise ServiceError(_("An archived school cannot be changed."))
    if school.status != status:
        school.status = status
        school.status_changed_at = datetime.now(UTC)
        session.flush()
    return school


def list_schools(session: Session) -> list[School]:
    return list(session.scalars(select(School).order_by(School.name)))


def bind_to_school(session: Session, school: School | SchoolRef) -> None:
    """Bind the session's transactions to the school (see tenants.binding)."""
    bind_session(session, binding_for(school))


def _find_and_bind_statement():
    """The school by slug with ``set_config`` of its schema and role in the select list, the
    settings left as they are for a school that is not active. Built once (every school page
    runs it)."""
    active = School.status == SchoolStatus.ACTIVE
    schema = case((active, School.schema_name), else_=func.current_setting("search_path"))
    role = case((active, School.role_name), else_=func.current_setting("role"))
    return select(
        School,
        func.set_config(literal_column("'search_path'"), schema, true()),
        func.set_config(literal_column("'role'"), role, true()),
    ).where(School.slug == bindparam("slug"))


_FIND_AND_BIND = _find_and_bind_statement()


def find_and_bind_statement(*also: Any) -> Select:
    """The statement of :func:`find_and_bind_school` with more columns, read in the same round
    trip (e.g. the signed-in account, tenants.routing). Build it once, at import."""
    return _FIND_AND_BIND.add_columns(*also)


def find_and_bind_school(
    session: Session, slug: str, statement: Select = _FIND_AND_BIND, **params: Any
) -> Row | None:
    """The row of the school whose address name is ``slug`` (the ``School`` first, then the
    columns ``statement`` adds, see :func:`find_and_bind_statement`), None if there is none.
    When the school is active, the open transaction is bound to it by the same statement and
    the following ones as by :func:`bind_to_school`. Every school page starts here, so this
    saves it a round trip."""
    row = session.execute(statement, {"slug": slug.lower(), **params}).first()
    if row is not None and row[0].status == SchoolStatus.ACTIVE:
        remember_binding(session, binding_for(row[0]))
    return row
