"""A lesson's objectives (seed 001, 16.1: the teacher records the lesson's topic and
objectives every day).

Revision ID: s0019
Revises: s0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "s0019"
down_revision = "s0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("lessons", sa.Column("objectives", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("lessons", "objectives")
