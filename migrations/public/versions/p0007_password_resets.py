"""Password resets by e-mail: the holder of an account with an e-mail address sets a new
password through a link (accounts.services.issue_password_reset).

Revision ID: p0007
Revises: p0006
Create Date: 2026-12-07

Only the link's SHA-256 is kept, with its expiry; it works once. ``password_reset_sent_at``
keeps a second request from mailing again within minutes.
"""

import sqlalchemy as sa
from alembic import op

revision = "p0007"
down_revision = "p0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("password_reset_hash", sa.String(64), nullable=True))
    op.add_column(
        "accounts",
        sa.Column("password_reset_expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "accounts", sa.Column("password_reset_sent_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_accounts_password_reset_hash",
        "accounts",
        ["password_reset_hash"],
        unique=True,
        postgresql_where=sa.text("password_reset_hash IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_password_reset_hash", table_name="accounts")
    op.drop_column("accounts", "password_reset_sent_at")
    op.drop_column("accounts", "password_reset_expires_at")
    op.drop_column("accounts", "password_reset_hash")
