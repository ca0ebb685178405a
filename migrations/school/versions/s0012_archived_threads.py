"""A participant may put a message thread away: it leaves their inbox until a new message
comes (notifications/messages).

Revision ID: s0012
Revises: s0011
Create Date: 2026-12-07 05:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "s0012"
down_revision = "s0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "message_participants",
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("message_participants", "archived_at")
