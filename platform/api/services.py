"""API tokens (create, list, revoke, authenticate) and the API's reads that the diary pages do
not have (a student's grades over a span of days).

Services only flush; the caller commits.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import Account
from accounts.services import secret_digest
from api.models import ApiToken
from dienynas.errors import NotFound, ServiceError
from dienynas.forms import parse_optional_date
from dienynas.i18n import in_locale
from gradebook.diary.services import GradeItem, grade_item

#: Tokens start with this, so a leaked one is recognisable (e.g. by secret scanners).
TOKEN_PREFIX = "dnk_"
NAME_MAX = 100
#: Active tokens an account may hold at once.
MAX_ACTIVE_TOKENS = 20


class TokenRefused(Exception):
    """The request's token is missing, unknown, revoked or expired (HTTP 401). ``message`` is
    localised."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def list_tokens(session: Session, account: Principal) -> list[ApiToken]:
    """The account's tokens, newest first (revoked ones too: the list is its history)."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.account_id == account.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def is_active(token: ApiToken, today: date) -> bool:
    return token.revoked_at is None and (token.expires_on is None or token.expires_on >= today)


def create_token(
    session: Session, account: Principal, *, name: str, expires_on: str | None, today: date
) -> tuple[ApiToken, str]:
    """A new token for the account: the row and the token itself (shown once, never stored).
    ``expires_on`` is the last day the token works (``YYYY-MM-DD``; empty: until revoked)."""
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("Name the token, e.g. after the device that uses it."), field="name")
    if len(name) > NAME_MAX:
        raise ServiceError(
            ngettext(
                "The name may be at most %(num)d character long.",
                "The name may be at most %(num)d characters long.",
                NAME_MAX,
            ),
            field="name",
        )
    last_day = parse_optional_date(expires_on, "expires_on")
    if last_day is not None and last_day < today:
        raise ServiceError(_("The expiry date has passed; choose a later one."), field="expires_on")
    active = [t for t in list_tokens(session, account) if is_active(t, today)]
    if len(active) >= MAX_ACTIVE_TOKENS:
        raise ServiceError(
            ngettext(
                "You may hold at most %(num)d active token; revoke one first.",
                "You may hold at most %(num)d active tokens; revoke one first.",
                MAX_ACTIVE_TOKENS,
            ),
            field="name",
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        account_id=account.id,
        name=name,
        token_hash=secret_digest(secret),
        prefix=secret[:10],
        expires_on=last_day,
    )
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, account: Principal, token_id: int) -> ApiToken:
    """Revoke one of the account's own tokens (idempotent)."""
    token = session.get(ApiToken, token_id)
    if token is None or token.account_id != account.id:
        raise NotFound(_("You have no such token."))
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        session.flush()
    return token


def authenticate(session: Session, authorization: str | None, today: date, locale: str) -> Account:
    """The enabled account of a valid ``Authorization: Bearer <token>``; ``TokenRefused``
    (with a message in ``locale``: nobody is known yet) otherwise. One query and the
    account's grants."""
    scheme, _sep, secret = (authorization or "").strip().partition(" ")
    secret = secret.strip()
    with in_locale(locale):
        if scheme.lower() != "bearer" or not secret:
            raise TokenRefused(_("Give an API token: Authorization: Bearer <token>."))
        row = session.execute(
            select(ApiToken, Account)
            .join(Account, Account.id == ApiToken.account_id)
            .where(ApiToken.token_hash == secret_digest(secret))
        ).first()
        if row is None or not row.Account.is_enabled:
            raise TokenRefused(_("The API token is not valid."))
        if row.ApiToken.revoked_at is not None:
            raise TokenRefused(_("The API token has been revoked."))
        if row.ApiToken.expires_on is not None and row.ApiToken.expires_on < today:
            raise TokenRefused(_("The API token has expired."))
    return row.Account


_GRADES_SQL = text(
    """
    SELECT g.id, g.lesson_id, g.on_day AS day, g.value, g.comment, g.origin,
           k.name AS kind, k.name_translations AS kind_names,
           s.name AS subject, s.name_translations AS names
    FROM grades g
    JOIN groups gr ON gr.id = g.group_id
    JOIN subjects s ON s.id = gr.subject_id
    LEFT JOIN assessment_kinds k ON k.id = g.kind_id
    WHERE g.student_id = :student_id
      AND (CAST(:first AS date) IS NULL OR g.on_day >= :first)
      AND (CAST(:last AS date) IS NULL OR g.on_day <= :last)
    ORDER BY g.on_day, g.id
    """
)


def student_grades(
    session: Session, student_id: int, first: date | None, last: date | None, locale: str
) -> list[GradeItem]:
    """A student's grades from ``first`` to ``last`` (inclusive; None: open), oldest first.
    The caller has checked the reader (``diary.services.diary_students``). One query."""
    rows = session.execute(_GRADES_SQL, {"student_id": student_id, "first": first, "last": last})
    with in_locale(locale):
        return [grade_item({**row._mapping, "day": row.day.isoformat()}, locale) for row in rows]
