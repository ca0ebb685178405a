"""Leaving, the unassigned-students pool, claiming and returning a mistaken claim.

Every function runs in the caller's transaction and only flushes; the request or command
commits once. ``leave_student`` runs bound to the leaving school, ``claim_student`` and
``return_to_pool`` bound to the receiving school, ``search_pool`` / ``pool_overview`` /
``transfer_log_rows`` in any transaction (they read only ``public``). The pool row's
``record`` is the only thing a claim reads about the student's past: the receiving school's
role cannot read the leaving school's schema. See docs/transfers.md for the choices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from accounts.models import Account
from tenants.models import School
from transfers.models import PoolEntry, TransferLog

#: A claim may be returned to the pool within this many days.
RETURN_DAYS = 14
#: The municipality's overview flags entries waiting longer than this.
STALE_DAYS = 14


@dataclass(frozen=True)
class PoolRow:
    """What anyone allowed to see the pool sees of an entry before a claim."""

    id: int
    first_name: str
    last_name: str
    birth_year: int | None
    from_school_id: int
    from_school_name: str
    grade_level: int | None
    days_in_pool: int
    #: The leaving school named the searching school as the destination.
    heading_here: bool


@dataclass
class ClaimSummary:
    pool_id: int
    school: str
    student_id: int
    class_name: str
    grades: int = 0
    term_grades: int = 0
    attendance: int = 0
    remarks: int = 0
    carried: int = 0

    def as_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class LogRow:
    log: TransferLog
    student_name: str
    actor_name: str | None
    from_school_name: str | None
    to_school_name: str | None


@dataclass
class PoolOverview:
    counts: dict[str, int] = field(default_factory=dict)
    #: in the pool for more than STALE_DAYS days, oldest first
    stale: list[PoolRow] = field(default_factory=list)


def may_see_pool(account: Account, school: School) -> bool:
    """The administrator and the director (heads) of any school see and search the pool."""


def may_claim(account: Account, school: School) -> bool:
    """The administrator and the director of the receiving school claim students."""


def leave_student(
    session: Session,
    account: Account,
    school: School,
    *,
    student_id: int,
    left_on: date,
    reason: str | None,
    destination_kind: str,
    to_school_id: int | None,
    today: date,
) -> PoolEntry:
    """The student leaves ``school`` (bound) and enters the pool, in the caller's transaction.
    The administrator or the student's class head."""


def search_pool(
    session: Session,
    *,
    school: School | None = None,
    text: str | None = None,
    birth_date: date | None = None,
    personal_code: str | None = None,
    grade_level: int | None = None,
    from_school_id: int | None = None,
    min_days: int | None = None,
    today: date,
    limit: int = 200,
) -> list[PoolRow]:
    """Entries in the pool, minimal fields only (``school``: the searcher's, for the
    heading-here flag). ``personal_code`` matches exactly; it is never returned."""


def get_entry(session: Session, pool_id: int | None) -> PoolEntry:
    """NotFound for an unknown id."""


def may_read_record(account: Account, school: School, entry: PoolEntry) -> bool:
    """The full record (and the extract PDF) are for the leaving school's administrator,
    director or class heads, and after the claim for the claiming school's administrator and
    director; never before a claim for anyone else."""


def claim_student(
    session: Session,
    account: Account,
    school: School,
    *,
    pool_id: int,
    class_id: int,
    today: date,
) -> ClaimSummary:
    """The receiving school (bound) takes the student into ``class_id``; exactly one school
    wins a race (the loser gets a ServiceError)."""


def claim_by_class_name(
    session: Session, account: Account, school: School, *, pool_id: int, class_name: str,
    today: date,
) -> ClaimSummary:
    """``claim_student`` with the class named as people write it ("5a")."""


def return_to_pool(
    session: Session, account: Account, school: School, *, pool_id: int, today: date
) -> PoolEntry:
    """Undo a mistaken claim within RETURN_DAYS when nothing was written since."""


def record_extract(
    session: Session, entry: PoolEntry, *, pdf: bytes, locale: str
) -> None:
    """Store the rendered extract on the entry and log ``extract_ready`` (idempotent: a job
    that runs twice logs once)."""


def extract_record(entry: PoolEntry) -> dict[str, Any]:
    """What the extract PDF shows: the record plus the leaving facts (date, reason,
    destination), dates as ``date`` objects, grades grouped by subject."""


def pool_overview(session: Session, today: date) -> PoolOverview:
    """For the municipality: counts by status and entries unclaimed for > STALE_DAYS."""


def transfer_log_rows(
    session: Session, *, school_id: int | None = None, pool_id: int | None = None,
    limit: int = 200,
) -> list[LogRow]:
    """The transfer log, newest first (optionally one school's steps, from or to it)."""


def entries_of_school(session: Session, school: School) -> list[PoolEntry]:
    """The entries that left ``school`` or that it claimed, newest first."""


__all__ = ["datetime"]
