"""School years.

Revision ID: s0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "s0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "school_years",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.CheckConstraint("ends_on > starts_on", name=op.f("ck_school_years_ends_after_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_years")),
        sa.UniqueConstraint("name", name=op.f("uq_school_years_name")),
    )


def downgrade() -> None:
    op.drop_table("school_years")
