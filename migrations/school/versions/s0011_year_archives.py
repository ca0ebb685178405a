"""The school year's archive (gradebook/archive): the ZIP file a job makes for download.

Revision ID: s0011
Revises: s0010
Create Date: 2026-12-07 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "s0011"
down_revision = "s0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "year_archives",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("year_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed')", name=op.f("ck_year_archives_status")
        ),
        sa.ForeignKeyConstraint(
            ["year_id"],
            ["school_years.id"],
            name=op.f("fk_year_archives_year_id_school_years"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_year_archives")),
    )
    op.create_index("ix_year_archives_year_id", "year_archives", ["year_id"])


def downgrade() -> None:
    op.drop_table("year_archives")
