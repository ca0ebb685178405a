"""Accounts, passwords, per-school roles and the permission checks built on them.

Permission checks live here, not in templates: a view asks ``require_role`` before it acts.
Services only flush; the caller commits.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from flask_babel import ngettext
from redis.exceptions import RedisError
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import STAFF_ROLES, Account, LoginEvent, Role, SchoolGrant
from dienynas.config import SUPPORTED_LOCALES
from dienynas.database import contains_pattern
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.forms import check_email, check_phone
from dienynas.i18n import joined
from dienynas.names import name_order
from tenants.models import School, SchoolRef, SchoolStatus

log = logging.getLogger(__name__)

#: Argon2id with the library's RFC 9106 "low memory" profile (64 MiB, 3 passes).
_hasher = PasswordHasher()

LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$")
MIN_PASSWORD_LENGTH = 10
NAME_MAX = 255  # public.accounts.name (a person here has two names of up to 100)
#: Passwords people choose first; refused whatever their length.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678901",
        "123456789012",
        "0987654321",
        "qwertyuiop",
        "slaptazodis",
        "slaptažodis",
        "slaptazodis1",
        "password12",
        "password123",
        "qwerty1234",
        "qwerty12345",
        "1q2w3e4r5t",
        "aaaaaaaaaa",
        "iloveyou12",
        "dienynas123",
        "mokykla123",
    }
)
#: Stored instead of a hash for an account whose credentials are not issued yet: no password
#: verifies against it.
UNUSABLE_PASSWORD_HASH = "!"
#: Letters that cannot be mistaken for one another on a printed slip.
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(account: Account, password: str) -> bool:
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return True


def generate_one_time_password(length: int = 12) -> str:
    return "".join(secrets.choice(_OTP_ALPHABET) for _ in range(length))


def check_password_strength(password: str, login: str = "") -> None:
    """Raise ServiceError(field="password") for a password that is too weak."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            ngettext(
                "The password must be at least %(num)d character long.",
                "The password must be at least %(num)d characters long.",
                MIN_PASSWORD_LENGTH,
            ),
            field="password",
        )
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) < 4:
        raise ServiceError(
            _("This password is too easy to guess; choose another."), field="password"
        )
    if login and login.lower() in lowered:
        raise ServiceError(_("The password must not contain the login."), field="password")


def validate_new_account(
    session: Session, login: str, name: str, email: str | None, locale: str | None
) -> None:
    if not LOGIN_RE.match(login):
        raise ServiceError(
            _(
                "The login must be 3 to 64 lowercase Latin letters, digits, dots, hyphens or "
                "underscores, starting and ending with a letter or digit."
            ),
            field="login",
        )
    if not (name or "").strip():
        raise ServiceError(_("Enter the person's name."), field="name")
    if len(name.strip()) > NAME_MAX:
        raise ServiceError(
            ngettext(
                "A name may be at most %(num)d character long.",
                "A name may be at most %(num)d characters long.",
                NAME_MAX,
            ),
            field="name",
        )
    check_email(email)
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise ServiceError(
            _(
                "The language must be one of: %(choices)s.",
                choices=joined(SUPPORTED_LOCALES, style="or"),
            ),
            field="locale",
        )
    if session.scalar(select(Account.id).where(Account.login == login)) is not None:
        raise ServiceError(_("The login “%(login)s” is taken.", login=login), field="login")


def create_account(
    session: Session,
    *,
    login: str,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    locale: str | None = None,
    password: str | None = None,
    issue_password: bool = True,
) -> tuple[Account, str | None]:
    """Create an account. Without ``password`` a one-time password is generated, returned once
    (it is never stored in clear) and must be changed at first login. With
    ``issue_password=False`` the account cannot log in until credentials are issued (no hash
    is computed for a password nobody would see)."""
    login = (login or "").strip().lower()
    email = (email or "").strip() or None
    validate_new_account(session, login, name, email, locale)
    one_time = None
    if not issue_password:
        password_hash = UNUSABLE_PASSWORD_HASH
    else:
        if password is None:
            one_time = password = generate_one_time_password()
        else:
            check_password_strength(password, login)
        password_hash = hash_password(password)
    account = Account(
        login=login,
        name=name.strip(),
        email=email,
        phone=(phone or "").strip() or None,
        locale=locale,
        password_hash=password_hash,
        must_change_password=one_time is not None or not issue_password,
        is_operator=False,
        is_enabled=True,
    )
    session.add(account)
    session.flush()
    return account, one_time


def account_by_id(session: Session, account_id: int) -> Account:
    """The account to change (``current_user`` is a read-only snapshot, accounts.identity)."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(_("There is no such account."))
    return account


def get_account(session: Session, login: str) -> Account:
    account = session.scalar(select(Account).where(Account.login == (login or "").strip().lower()))
    if account is None:
        raise NotFound(_("There is no account with the login “%(login)s”.", login=login))
    return account


#: Accounts shown for one search of the municipality's accounts page.
ACCOUNT_SEARCH_LIMIT = 50


def search_accounts(session: Session, query: str) -> list[Account]:
    """Accounts whose login, name or e-mail contains every word of ``query``, by name, at
    most ``ACCOUNT_SEARCH_LIMIT`` (their grants and schools come in one more query)."""
    statement = select(Account)
    for word in query.split():
        pattern = contains_pattern(word)
        statement = statement.where(
            or_(Account.login.ilike(pattern), Account.name.ilike(pattern),
                Account.email.ilike(pattern))
        )  # fmt: skip
    statement = statement.order_by(name_order(Account.name), Account.id)
    return list(session.scalars(statement.limit(ACCOUNT_SEARCH_LIMIT)))


def reset_password_by_operator(
    session: Session, operator: Principal, account_id: int
) -> tuple[Account, str]:
    """A new one-time password for any account of the municipality, from its operators: the
    accounts a school may not reset (used in several schools, or an operator's). Refused for
    the operator's own account (changed on the password page) and a disabled one."""
    require_operator(operator)
    account = account_by_id(session, account_id)
    if account.id == operator.id:
        raise ServiceError(_("Change your own password on the password page."))
    if not account.is_enabled:
        raise ServiceError(_("The account of %(name)s is disabled.", name=account.name))
    password = issue_one_time_password(account)
    session.flush()
    log.info("operator %s reset the password of %s", operator.id, account.login)
    return account, password


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ServiceError(
            _(
                "Unknown role “%(role)s”. Roles: %(choices)s.",
                role=value,
                choices=", ".join(r.value for r in Role),
            ),
            field="role",
        ) from None


def issue_one_time_password(account: Account) -> str:
    """A new one-time password for the account: its hash is stored, the password returned
    (to be shown or printed once) and it must be changed at the next login."""
    password = generate_one_time_password()
    account.password_hash = hash_password(password)
    account.must_change_password = True
    return password


# --- link codes: consent before a school links an account it does not know -------------------

#: How long a link code works (it also stops working once a school has used it).
LINK_CODE_DAYS = 7
#: Capital letters and digits that cannot be mistaken for one another when read out.
_LINK_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_LINK_CODE_LENGTH = 12  # 60 bits: not guessable through a form


def secret_digest(secret: str) -> str:
    """What is kept of a secret handed out once (a link code, a reset link's token, an API
    token): its SHA-256, hex. They are long and random, so no salt or slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def normalized_link_code(code: str) -> str:
    """The code as typed, without spaces and dashes, in capitals (``abcd-efgh`` = ``ABCDEFGH``)."""
    return re.sub(r"[\s-]+", "", code or "").upper()


def issue_link_code(account: Account, now: datetime) -> str:
    """A new link code for the account holder to give a school that links their account: only
    its digest is kept, and it works once, for ``LINK_CODE_DAYS`` days. A new code replaces
    the previous one. Returned grouped by four for reading out (``ABCD-EFGH-JKLM``)."""
    code = "".join(secrets.choice(_LINK_CODE_ALPHABET) for _ in range(_LINK_CODE_LENGTH))
    account.link_code_hash = secret_digest(code)
    account.link_code_expires_at = now + timedelta(days=LINK_CODE_DAYS)
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def withdraw_link_code(account: Account) -> None:
    """The holder takes their link code back before a school used it."""
    account.link_code_hash = None
    account.link_code_expires_at = None


def use_link_code(account: Account | None, code: str, now: datetime) -> Account:
    """The account whose holder gave this link code, which is used up (the caller's
    transaction keeps it if anything after this fails). One message for every refusal (no
    such login, no code, a wrong, expired or used code, a disabled account), so that a form
    does not tell which logins exist."""
    given = normalized_link_code(code)
    if (
        account is None
        or not account.is_enabled
        or account.link_code_hash is None
        or account.link_code_expires_at is None
        or account.link_code_expires_at <= now
        or not hmac.compare_digest(account.link_code_hash, secret_digest(given))
    ):
        raise ServiceError(
            _("No account matches this login and link code. The person can make a new link code "
              "on their own account page."),
            field="link_code",
        )  # fmt: skip
    account.link_code_hash = None
    account.link_code_expires_at = None
    return account


# --- password resets by e-mail ----------------------------------------------------------------

#: How long an e-mailed reset link works.
RESET_MINUTES = 60
#: A second reset e-mail to the same account waits this long.
RESET_COOLDOWN_MINUTES = 5


def request_password_reset(session: Session, who: str, now: datetime) -> list[int]:
    """The enabled accounts with an e-mail address whose login or e-mail is ``who`` and that
    were not sent a reset link in the last ``RESET_COOLDOWN_MINUTES``; their request time is
    noted. The caller answers the same whatever this finds (nothing tells which logins or
    addresses exist) and enqueues one e-mail per id."""
    wanted = (who or "").strip().lower()
    if not wanted:
        return []
    cooled = now - timedelta(minutes=RESET_COOLDOWN_MINUTES)
    accounts = session.scalars(
        select(Account).where(
            or_(Account.login == wanted, func.lower(Account.email) == wanted),
            Account.is_enabled,
            Account.email.is_not(None),
            Account.email != "",
            or_(Account.password_reset_sent_at.is_(None), Account.password_reset_sent_at < cooled),
        )
    ).all()
    for account in accounts:
        account.password_reset_sent_at = now
    session.flush()
    return [account.id for account in accounts]


def issue_password_reset(account: Account, now: datetime) -> str:
    """A new reset token for the account's e-mail (only its digest is kept; it works once,
    for ``RESET_MINUTES``; a new one replaces the previous)."""
    token = secrets.token_urlsafe(32)
    account.password_reset_hash = secret_digest(token)
    account.password_reset_expires_at = now + timedelta(minutes=RESET_MINUTES)
    return token


def account_for_reset(session: Session, token: str, now: datetime) -> Account:
    """The account a reset link is for; ServiceError when it is unknown, used or expired."""
    account = session.scalar(
        select(Account).where(Account.password_reset_hash == secret_digest(token or ""))
    )
    if (
        account is None
        or not account.is_enabled
        or account.password_reset_expires_at is None
        or account.password_reset_expires_at <= now
    ):
        raise ServiceError(_("This link has expired or has been used already. Ask for a new one."))
    return account


def reset_password(
    session: Session, token: str, password: str, repeat: str, now: datetime
) -> Account:
    """Set the password chosen through a reset link; the link stops working."""
    account = account_for_reset(session, token, now)
    check_password_strength(password, account.login)
    if password != repeat:
        raise ServiceError(_("The two new passwords differ."), field="repeat")
    account.password_hash = hash_password(password)
    account.must_change_password = False
    account.password_reset_hash = None
    account.password_reset_expires_at = None
    session.flush()
    return account


# --- the holder's own contacts ----------------------------------------------------------------

#: How long a link confirming a new e-mail address works.
EMAIL_CONFIRM_HOURS = 48


@dataclass(frozen=True)
class ContactsChange:
    """What :func:`change_contacts` changed, for the page to say."""

    phone_changed: bool
    email_removed: bool
    #: the new address, waiting for its holder to open the link mailed to it (the caller
    #: enqueues that e-mail after the commit: ``accounts.tasks.enqueue_email_confirmation``)
    email_pending: str | None


def change_contacts(
    session: Session, account: Account, current_password: str, email: str | None, phone: str
) -> ContactsChange:
    """The holder sets their own e-mail address and phone number (parents and students give
    them themselves; the school's administrator checks them on the person's page, where the
    account's contacts are shown first). The current password is asked, as for a new
    password: the e-mail address is where password reset links go.

    The phone is in use at once. A new e-mail address waits (``pending_email``) until the
    link mailed to it is opened (:func:`confirm_email`): a mistyped address never receives a
    child's notifications or a reset link. An empty one removes the address in use and any
    waiting; the address in use again withdraws a waiting one. ``email=None`` leaves the
    addresses as they are (no e-mail is sent from this Dienynas, so none could be confirmed).
    """
    if not verify_password(account, current_password or ""):
        raise ServiceError(_("The current password is wrong."), field="current")
    phone = " ".join((phone or "").split())
    check_phone(phone)
    wanted = (email or "").strip()
    check_email(wanted)
    phone_changed = (phone or None) != account.phone
    account.phone = phone or None
    removed = False
    pending = None
    if email is not None:
        if not wanted:
            removed = account.email is not None
            account.email = None
            _withdraw_pending_email(account)
        elif wanted.lower() == (account.email or "").lower():
            _withdraw_pending_email(account)
        else:
            account.pending_email = pending = wanted
            # a new link for it is made by the e-mail's job; an earlier one stops working
            account.email_confirm_hash = account.email_confirm_expires_at = None
    session.flush()
    return ContactsChange(phone_changed, removed, pending)


def _withdraw_pending_email(account: Account) -> None:
    account.pending_email = None
    account.email_confirm_hash = account.email_confirm_expires_at = None


def issue_email_confirmation(account: Account, now: datetime) -> str:
    """A new token for the link that confirms ``account.pending_email`` (only its digest is
    kept; it works once, for ``EMAIL_CONFIRM_HOURS``)."""
    token = secrets.token_urlsafe(32)
    account.email_confirm_hash = secret_digest(token)
    account.email_confirm_expires_at = now + timedelta(hours=EMAIL_CONFIRM_HOURS)
    return token


def account_for_email_confirmation(session: Session, token: str, now: datetime) -> Account:
    """The account a confirmation link is for; ServiceError when it is unknown, used, expired
    or replaced by a later address."""
    account = session.scalar(
        select(Account).where(Account.email_confirm_hash == secret_digest(token or ""))
    )
    if (
        account is None
        or not account.is_enabled
        or account.pending_email is None
        or account.email_confirm_expires_at is None
        or account.email_confirm_expires_at <= now
    ):
        raise ServiceError(
            _("This link has expired or has been used already. Enter the address again on your "
              "contacts page to get a new one.")
        )  # fmt: skip
    return account


def confirm_email(session: Session, token: str, now: datetime) -> Account:
    """The holder opened the link mailed to their new address: it is the account's e-mail
    address from now on (for notifications and password resets); the link stops working."""
    account = account_for_email_confirmation(session, token, now)
    account.email = account.pending_email
    _withdraw_pending_email(account)
    session.flush()
    return account


def grant_role(session: Session, account: Account, school: School, role: Role) -> SchoolGrant:
    """Grant ``role`` in ``school`` (idempotent)."""
    for grant in account.grants:
        if grant.school_id == school.id and grant.role == role:
            return grant
    grant = SchoolGrant(account=account, school_id=school.id, role=role.value)
    session.add(grant)
    session.flush()
    return grant


def revoke_role(session: Session, account: Account, school: School, role: Role) -> bool:
    """Withdraw ``role`` in ``school`` (idempotent); True when the account held it. The account
    itself and its roles elsewhere stay."""
    for grant in list(account.grants):
        if grant.school_id == school.id and grant.role == role:
            account.grants.remove(grant)  # delete-orphan: the row goes at flush
            session.flush()
            return True
    return False


def grant_operator(session: Session, account: Account) -> None:
    account.is_operator = True
    session.flush()


def authenticate(session: Session, login: str, password: str) -> Account | None:
    """The enabled account with this login and password, or None (the same answer whether the
    login or the password was wrong)."""
    account = session.scalar(select(Account).where(Account.login == (login or "").strip().lower()))
    if account is None:
        _hasher.hash(password or "")  # spend the same time as a real check
        return None
    if not verify_password(account, password or "") or not account.is_enabled:
        return None
    account.last_login_at = datetime.now(UTC)
    session.add(LoginEvent(account_id=account.id, logged_in_at=account.last_login_at))
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    session.flush()
    return account


def change_password(
    session: Session, account: Account, current: str, new: str, repeat: str
) -> None:
    if not verify_password(account, current):
        raise ServiceError(_("The current password is wrong."), field="current")
    if new != repeat:
        raise ServiceError(_("The two new passwords differ."), field="repeat")
    if new == current:
        raise ServiceError(_("Choose a password you have not used here."), field="password")
    check_password_strength(new, account.login)
    account.password_hash = hash_password(new)
    account.must_change_password = False
    session.flush()


def set_preferred_locale(session: Session, account: Account, locale: str | None) -> None:
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise ServiceError(_("Unknown language."), field="locale")
    account.locale = locale
    session.flush()


def staff_accounts(school_id: int) -> Select[tuple[int]]:
    """The accounts holding a staff role in the school, as a subquery (an account with two such
    roles comes twice)."""
    return select(SchoolGrant.account_id).where(
        SchoolGrant.school_id == school_id,
        SchoolGrant.role.in_([role.value for role in STAFF_ROLES]),
    )


def roles_in_school(account: Principal, school: School) -> set[Role]:
    return {Role(g.role) for g in account.grants if g.school_id == school.id}


def schools_of(account: Principal) -> list[School | SchoolRef]:
    """The schools where the account holds a role and which it may enter (not suspended)."""
    schools = {g.school_id: g.school for g in account.grants}
    return sorted(
        (s for s in schools.values() if s.status == SchoolStatus.ACTIVE), key=lambda s: s.name
    )


def require_member(account: Principal, school: School) -> set[Role]:
    """The account's roles in the school; PermissionDenied when it has none."""
    held = roles_in_school(account, school)
    if not held:
        raise PermissionDenied(_("You have no role in this school."))
    return held


def require_role(account: Principal, school: School, *allowed: Role) -> Role:
    """PermissionDenied unless the account holds one of ``allowed`` in the school."""
    held = roles_in_school(account, school) & set(allowed)
    if not held:
        raise PermissionDenied(_("You do not have the right to do this in this school."))
    return next(iter(held))


def require_operator(account: Principal) -> None:
    if not getattr(account, "is_operator", False):
        raise PermissionDenied(_("Only the municipality's operators may do this."))


#: Failed logins allowed per (login, address) and per address in the window.
LOGIN_FAILURES_PER_LOGIN = 10
LOGIN_FAILURES_PER_ADDRESS = 100
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60


def _failure_keys(login: str, address: str) -> tuple[str, str]:
    login = (login or "").strip().lower()
    return f"dienynas:login-failures:{address}:{login}", f"dienynas:login-failures:{address}"


def login_throttled(redis_client, login: str, address: str) -> bool:
    """True when too many logins failed lately from this address (for this login or in all).
    When Redis does not answer, logging in stays possible (availability over throttling)."""
    per_login, per_address = _failure_keys(login, address)
    try:
        counts = redis_client.mget(per_login, per_address)
    except (RedisError, OSError):
        log.warning("login throttling unavailable: Redis does not answer")
        return False
    return int(counts[0] or 0) >= LOGIN_FAILURES_PER_LOGIN or (
        int(counts[1] or 0) >= LOGIN_FAILURES_PER_ADDRESS
    )


def record_login_failure(redis_client, login: str, address: str) -> None:
    try:
        with redis_client.pipeline() as pipe:
            for key in _failure_keys(login, address):
                pipe.incr(key)
                pipe.expire(key, LOGIN_FAILURE_WINDOW_SECONDS)
            pipe.execute()
    except (RedisError, OSError):
        log.warning("could not record a failed login: Redis does not answer")


def clear_login_failures(redis_client, login: str, address: str) -> None:
    with contextlib.suppress(RedisError, OSError):  # else the counter expires by itself
        redis_client.delete(_failure_keys(login, address)[0])


def command_line_actor(school: School) -> Account:
    """Who acts when an operator runs a command on the server (``dienynas import``): an
    administrator of ``school`` for the services' permission checks. Never stored."""
    actor = Account(id=None, login="command-line", name="Command line", is_enabled=True)
    actor.grants = [SchoolGrant(school_id=school.id, role=Role.ADMIN.value)]
    return actor
