"""Grades given in another school (a hospital or sanatorium school), entered by the class head
from that school's certificate: the grade keeps where it was given.

Revision ID: s0013
Revises: s0012
Create Date: 2026-12-07 05:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "s0013"
down_revision = "s0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("grades", sa.Column("origin", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("grades", "origin")
