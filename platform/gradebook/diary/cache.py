"""Rendered diary pages kept in Redis until the school's diary changes.

At 19:00 every parent opens the diary, and almost nothing has changed since the last time they
read the same week. The whole page (``diary/week.html`` with the week and the layout around it)
is rendered once per reader, student, week, language and day and kept under the school's diary
revision (gradebook/diary/models.py). A committed change to any table a diary shows gives the
revision a new token, so the next reader renders the page again; an old entry is never read
again and expires after :data:`TTL`.

What else a page shows is in its key, so a change there renders it again: the reader's account
(name, operator flag, roles and schools: :func:`_reader`), the school's name, the page's
address and the notifications the reader has seen. The page's forms (language, log out) carry
the reader's CSRF token: the kept page holds :data:`CSRF_PLACEHOLDER` in its place, replaced
with the current token each time it is served. A page with a message waiting for the reader
(a flash) is rendered, not kept. Who may read the student is checked on every request before
the page is looked up (``diary.services.diary_students``), and a kept page is only ever served
to the account it was rendered for.

Why the order of reads is safe: the reader reads the token before the week, in later
statements of the same transaction. Data committed together with a token is therefore visible
to every reader that saw that token, so an entry never holds less than its token promises (at
worst a change newer than its token, which the next token's readers see anyway).

The token changes in :func:`_bump_revision`, the last statement before each commit of a
session bound to a school; the triggers only flag the transaction, so no lock is held while it
runs. A change made without the application (``psql``, a restored backup) is not seen until
the next change made with it, or the TTL: run ``dienynas gradebook forget-diary-cache`` after one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

import redis
from flask import current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from dienynas.jobs import redis_connection
from tenants.binding import session_binding
from tenants.models import School

log = logging.getLogger(__name__)

#: Seconds an entry is kept (it is unreachable anyway once the revision changed).
TTL = 3600
KEY_PREFIX = "dienynas:diary-page:"
#: Where a kept page holds the reader's CSRF token. Text from the database is escaped, so it
#: never contains this comment.
CSRF_PLACEHOLDER = Markup("<!--dienynas-csrf-token-->")
_BUMP_SQL = text("SELECT public.bump_diary_revision()")
#: Where the application's packages are (platform/, or site-packages when installed).
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


@event.listens_for(Session, "before_commit")
def _bump_revision(session: Session) -> None:
    """Before a bound transaction commits: a new diary token if it changed a diary's tables.

    The flag belongs to the transaction, not to a school: a transaction that wrote into another
    school's diary tables would renew only its own school's token. None does: transfers write
    only notification events into the other school (notifications/transfers.py)."""
    if session_binding(session) is None or not session.in_transaction():
        return
    session.flush()  # the triggers of the last changes must have run
    session.execute(_BUMP_SQL)


def kept_page(
    *,
    school: School,
    revision: str | None,
    student_id: int,
    monday: date,
    locale: str,
    today: date,
    render: Callable[..., str],
) -> str:
    """The diary page from the cache, or ``render(csrf_token=…)`` kept for the reader's next
    visit. ``render`` passes its keyword arguments to the page's template. Without a revision
    (nothing read), with ``DIARY_CACHE`` off, without Redis or with a flash message waiting,
    simply ``render()``."""
    if revision is None or not current_app.config["DIARY_CACHE"] or session.get("_flashes"):
        return render()
    key = (
        f"{KEY_PREFIX}{school.id}:{revision}:{student_id}:{monday.isoformat()}:{locale}:"
        f"{today.isoformat()}:{_code_version(locale)}:{current_user.id}:{_reader(school)}"
    )
    client = redis_connection()
    try:
        kept = client.get(key)
    except redis.RedisError as exc:
        log.warning("diary cache unavailable (%s): rendering the page", exc)
        return render()
    if kept is not None:
        html = kept.decode()
    else:
        html = render(csrf_token=_placeholder)
        try:
            client.set(key, html.encode(), ex=TTL)
        except redis.RedisError as exc:
            log.warning("diary cache unavailable (%s): the page is not kept", exc)
    return html.replace(CSRF_PLACEHOLDER, generate_csrf())


def _placeholder() -> Markup:
    return CSRF_PLACEHOLDER


def _reader(school: School) -> str:
    """A digest of what the page's layout shows besides the school's diary: who reads it
    (their name, roles and schools; the account's id is in the key itself), the school's
    name, the page's address and the notifications the reader has seen (the bell's link)."""
    account = current_user._get_current_object()
    shown = (
        account.name,
        account.is_operator,
        [(grant.role, grant.school_id, grant.school.slug, grant.school.name, grant.school.status)
         for grant in account.grants],
        school.slug,
        school.name,
        request.full_path,
        session.get("notifications_read", 0),
    )  # fmt: skip
    return hashlib.sha1(repr(shown).encode(), usedforsecurity=False).hexdigest()[:16]


def forget_all() -> int:
    """Delete every kept page (after a change made outside the application); how many."""
    client = redis_connection()
    keys = list(client.scan_iter(match=f"{KEY_PREFIX}*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
    return len(keys)


_versions: dict[str, str] = {}


def _code_version(locale: str) -> str:
    """A fingerprint of what renders a page (the application's code and templates, and the
    locale's catalogue), so that a deployment never serves pages rendered by the old code.
    Computed once per process and language."""
    version = _versions.get(locale)
    if version is None:
        from dienynas.app import FEATURES  # the application's packages (not at import: a cycle)

        digest = hashlib.sha1(usedforsecurity=False)
        sources = [
            path
            for package in sorted({feature.split(".")[0] for feature in FEATURES})
            for pattern in ("*.py", "*.html")
            for path in sorted((_SOURCE_ROOT / package).rglob(pattern))
        ]
        catalogues = Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])
        sources.append(catalogues / locale / "LC_MESSAGES" / "messages.mo")
        for path in sources:
            if path.is_file():
                digest.update(path.read_bytes())
        version = _versions[locale] = digest.hexdigest()[:12]
    return version
