"""The school's diary revision: a few rows whose tokens change with every committed
transaction that changed something a diary page shows, so that a rendered week can be kept
until then (gradebook/diary/cache.py). The revision is the digest of all the tokens
(:data:`REVISION_SQL`); a committing writer renews the token of a row no other writer holds
at that moment (``public.bump_diary_revision()``), so writers of one school do not queue for
one row before their commits.

Every school table except :data:`UNRELATED_TABLES` carries the row trigger
``diary_changed`` (``public.note_diary_change()``, migration p0004), installed here for a
school built by ``create_all`` and by s0010 for a school built by the migrations. A new school
table gets the trigger in its migration unless it is added to :data:`UNRELATED_TABLES`;
tests/test_gradebook_diary.py fails until one of the two is done.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, SmallInteger, event, func, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from dienynas.database import SchoolModel

#: Rows of ``diary_revision``: how many writers of one school may commit without waiting.
STRIPES = 8
#: The school's diary revision, as a SQL expression (one short read of ``STRIPES`` rows).
REVISION_SQL = "(SELECT md5(string_agg(token::text, ',' ORDER BY id)) FROM diary_revision)"

#: Tables whose rows no diary page shows: a change there keeps the rendered weeks.
UNRELATED_TABLES = frozenset(
    {
        "diary_revision",
        "announcement_files",
        "announcements",
        "briefings",
        "erasures",
        "grade_changes",
        "health_recommendations",
        "import_batches",
        "lock_window",
        "message_files",
        "message_participants",
        "message_receipts",
        "message_threads",
        "messages",
        "notification_deliveries",
        "notification_digests",
        "notification_events",
        "notification_preferences",
        "notification_settings",
        "staff_rights",
        "term_locks",
        "year_archives",
    }
)


class DiaryRevision(SchoolModel):
    __tablename__ = "diary_revision"
    __table_args__ = (CheckConstraint(f"id BETWEEN 1 AND {STRIPES}", name="stripe"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    #: A new random token at every change: never reused, even by a transaction rolled back.
    token: Mapped[uuid.UUID] = mapped_column(server_default=func.gen_random_uuid())
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


@event.listens_for(SchoolModel.metadata, "after_create")
def _after_create_all(target, connection: Connection, tables=(), **kw) -> None:
    """A school built by ``create_all`` (provisioning): the revision's rows and the triggers on
    the tables just created."""
    names = {table.name for table in tables}
    if DiaryRevision.__tablename__ in names:
        connection.execute(
            text("INSERT INTO diary_revision (id) SELECT generate_series(1, :n)"), {"n": STRIPES}
        )
    for name in sorted(names - UNRELATED_TABLES):
        connection.execute(
            text(
                f'CREATE TRIGGER diary_changed AFTER INSERT OR UPDATE OR DELETE ON "{name}" '
                "FOR EACH ROW WHEN (current_setting('dienynas.diary_changed', true) "
                "IS DISTINCT FROM 'on') EXECUTE FUNCTION public.note_diary_change()"
            )
        )
