"""Who is signed in: a read-only snapshot of the account and its roles, loaded once a request.

Every page of a signed-in user reads the account and its grants (the menu, the school's roles,
the language), so ``accounts.blueprint.load_account`` loads them with one plain statement into
:class:`SignedInAccount` instead of ORM objects: building an ``Account`` with its grants and
schools cost about a millisecond of a worker's CPU on every request.

Services that only read who is acting take a :class:`Principal` (the snapshot and the ORM
``Account`` both fit). The few that change the account itself (password, language) take the ORM
``Account``; their views load it with :func:`accounts.services.account_by_id`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flask_login import UserMixin
from sqlalchemy import text
from sqlalchemy.orm import Session

from tenants.models import SchoolRef, SchoolStatus

#: The account and its grants with each grant's school, one row. ``fingerprint`` is the part of
#: the password hash the session id carries (``Account.get_id``).
_SIGNED_IN_SQL = text(
    """
    SELECT a.id, a.login, a.name, a.email, a.phone, a.locale, a.must_change_password,
           a.is_operator, a.is_enabled, right(a.password_hash, 16) AS fingerprint,
           coalesce(json_agg(json_build_array(
               g.role, s.id, s.slug, s.name, s.status, s.default_locale, s.schema_name,
               s.role_name
           ) ORDER BY s.name, g.role) FILTER (WHERE g.id IS NOT NULL), '[]') AS grants
    FROM public.accounts a
    LEFT JOIN public.school_grants g ON g.account_id = a.id
    LEFT JOIN public.schools s ON s.id = g.school_id
    WHERE a.id = :account_id
    GROUP BY a.id
    """
)


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


def load_signed_in(session: Session, account_id: int) -> SignedInAccount | None:
    """The account with its grants, or None when there is no such account."""
    row = session.execute(_SIGNED_IN_SQL, {"account_id": account_id}).one_or_none()
    if row is None:
        return None
    grants = tuple(
        GrantRef(role=role, school=SchoolRef(school_id, slug, name, SchoolStatus(status), *rest))
        for role, school_id, slug, name, status, *rest in row.grants
    )
    return SignedInAccount(
        id=row.id,
        login=row.login,
        name=row.name,
        email=row.email,
        phone=row.phone,
        locale=row.locale,
        must_change_password=row.must_change_password,
        is_operator=row.is_operator,
        is_enabled=row.is_enabled,
        fingerprint=row.fingerprint,
        grants=grants,
    )
