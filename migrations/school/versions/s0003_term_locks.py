"""Term locks and the automatic unlock window.

Revision ID: s0003
Revises: s0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "s0003"
down_revision = "s0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lock_window",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("days_before_end", sa.SmallInteger(), nullable=False),
        sa.Column("working_days_after_end", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "days_before_end BETWEEN 0 AND 60", name=op.f("ck_lock_window_days_before_end")
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_lock_window_single_row")),
        sa.CheckConstraint(
            "working_days_after_end BETWEEN 0 AND 30",
            name=op.f("ck_lock_window_working_days_after_end"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lock_window")),
    )
    op.create_table(
        "term_locks",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("term_id", sa.BigInteger(), nullable=False),
        sa.Column("function", sa.String(length=24), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("changed_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "function IN ('delete_lesson_dates', 'term_grades')",
            name=op.f("ck_term_locks_function"),
        ),
        sa.CheckConstraint("mode IN ('auto', 'open', 'locked')", name=op.f("ck_term_locks_mode")),
        sa.ForeignKeyConstraint(
            ["term_id"], ["terms.id"], name=op.f("fk_term_locks_term_id_terms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_term_locks")),
        sa.UniqueConstraint("term_id", "function", name=op.f("uq_term_locks_term_id_function")),
    )


def downgrade() -> None:
    op.drop_table("term_locks")
    op.drop_table("lock_window")
