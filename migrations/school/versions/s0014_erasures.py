"""Erasing records (seed 000, 5.23): the record of each erasure of a former student's records
(gradebook/erasure: who, when, why and how many rows, without the name), and deleted year
archives kept as a trace without their content (gradebook/archive).

Revision ID: s0014
Revises: s0013
Create Date: 2026-12-07 19:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "s0014"
down_revision = "s0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=10), nullable=False),
        sa.Column("basis", sa.String(length=500), nullable=False),
        sa.Column("erased_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "erased_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(
            "reason IN ('period', 'forgotten', 'other')", name=op.f("ck_erasures_reason")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    op.add_column("year_archives", sa.Column("deleted_by", sa.BigInteger(), nullable=True))
    op.add_column(
        "year_archives", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True)
    )
    _archive_states("'pending', 'done', 'failed', 'deleted'")


def downgrade() -> None:
    op.execute("DELETE FROM year_archives WHERE status = 'deleted'")
    _archive_states("'pending', 'done', 'failed'")
    op.drop_column("year_archives", "deleted_at")
    op.drop_column("year_archives", "deleted_by")
    op.drop_table("erasures")


def _archive_states(states: str) -> None:
    op.drop_constraint(op.f("ck_year_archives_status"), "year_archives", type_="check")
    op.create_check_constraint(
        op.f("ck_year_archives_status"), "year_archives", f"status IN ({states})"
    )
