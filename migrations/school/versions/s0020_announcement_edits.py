"""When and by whom an announcement was last changed after it was written (its author or
the administration corrects a published announcement; readers see that it was edited).

Revision ID: s0020
Revises: s0019
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "s0020"
down_revision = "s0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("announcements", sa.Column("edited_at", sa.DateTime(timezone=True)))
    op.add_column("announcements", sa.Column("edited_by", sa.BigInteger()))


def downgrade() -> None:
    op.drop_column("announcements", "edited_by")
    op.drop_column("announcements", "edited_at")
