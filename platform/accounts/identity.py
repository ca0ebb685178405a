"""Who is signed in: a read-only snapshot of the account and its roles, loaded once a request.

Every page of a signed-in user reads the account and its grants (the menu, the school's roles,
the language), so they come as one JSON value (:data:`SIGNED_IN`) into :class:`SignedInAccount`
instead of ORM objects: building an ``Account`` with its grants and schools cost about a
millisecond of a worker's CPU on every request. A school page reads the value in the statement
that finds and binds its school (tenants.routing, :func:`preload`); ``accounts.blueprint.
load_account``, Flask-Login's user loader, takes it from there or reads it alone, and checks the
session's password fingerprint either way.

Services that only read who is acting take a :class:`Principal` (the snapshot and the ORM
``Account`` both fit). The few that change the account itself (password, language) take the ORM
``Account``; their views load it with :func:`accounts.services.account_by_id`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flask import g
from flask_login import UserMixin
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tenants.models import SchoolRef, SchoolStatus

#: The account and its grants with each grant's school as one JSON array (NULL when there is no
#: such account), for a select list: the school pages read it in the statement that finds and
#: binds their school (tenants.routing), other pages alone (:func:`load_signed_in`).
#: ``right(password_hash, 16)`` is the fingerprint the session id carries (``Account.get_id``).
SIGNED_IN = text(
    """(SELECT json_build_array(
           a.id, a.login, a.name, a.email, a.phone, a.locale, a.must_change_password,
           a.is_operator, a.is_enabled, right(a.password_hash, 16),
           coalesce((SELECT json_agg(json_build_array(
                         g.role, s.id, s.slug, s.name, s.status, s.default_locale,
                         s.schema_name, s.role_name
                     ) ORDER BY s.name, g.role)
                     FROM public.school_grants g JOIN public.schools s ON s.id = g.school_id
                     WHERE g.account_id = a.id), '[]'))
       FROM public.accounts a WHERE a.id = CAST(:signed_in_id AS bigint)) AS signed_in"""
)

_LOAD_SIGNED_IN = select(SIGNED_IN)

#: ``g`` key of the account read by the school's statement, for the user loader.
_PRELOADED = "dienynas_signed_in"


@dataclass(frozen=True, slots=True)
class GrantRef:
    role: str
    school: SchoolRef

    @property
    def school_id(self) -> int:
        return self.school.id


class Principal(Protocol):
    """Who is acting, as services read it: the signed-in snapshot or an ORM ``Account``."""

    id: Any
    login: Any
    name: Any
    locale: Any
    is_operator: Any
    must_change_password: Any

    @property
    def grants(self) -> Sequence[Any]:
        """Each with ``role``, ``school_id`` and ``school``."""


@dataclass(frozen=True, slots=True)
class SignedInAccount(UserMixin):
    """``current_user`` of a signed-in request. Read-only: it is not attached to a session."""

    id: int
    login: str
    name: str
    email: str | None
    phone: str | None
    locale: str | None
    must_change_password: bool
    is_operator: bool
    is_enabled: bool
    fingerprint: str
    grants: tuple[GrantRef, ...]

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled accounts cannot log in
        return self.is_enabled

    def get_id(self) -> str:  # the same id as Account.get_id
        return f"{self.id}.{self.fingerprint}"


def account_id_of(session_id: str | None) -> int | None:
    """The account id of a Flask-Login session id (``<id>.<fingerprint>``), None if malformed."""
    account_id = (session_id or "").partition(".")[0]
    return int(account_id) if account_id.isdigit() else None


def from_json(value: list[Any] | None) -> SignedInAccount | None:
    """The snapshot from the value of :data:`SIGNED_IN`."""
    if value is None:
        return None
    *account, grants = value
    return SignedInAccount(
        *account,
        grants=tuple(
            GrantRef(role, SchoolRef(school_id, slug, name, SchoolStatus(status), *rest))
            for role, school_id, slug, name, status, *rest in grants
        ),
    )


def load_signed_in(session: Session, account_id: int) -> SignedInAccount | None:
    """The account with its grants, or None when there is no such account."""
    return from_json(session.execute(_LOAD_SIGNED_IN, {"signed_in_id": account_id}).scalar())


def preload(account: SignedInAccount | None) -> None:
    """Keep the account read by another statement of this request for :func:`preloaded`."""
    g.setdefault(_PRELOADED, account)


def preloaded(account_id: int) -> SignedInAccount | None:
    """The account of this request if a statement already read it (see :func:`preload`)."""
    account = g.get(_PRELOADED)
    return account if account is not None and account.id == account_id else None
