"""Password resets by e-mail: the holder of an account with an e-mail address sets a new
password through a link (accounts.services.issue_password_reset).

Revision ID: p0007
Revises: p0006
Create Date: 2026-12-07

Only the link's SHA-256 is kept, with its expiry; it works once. ``password_reset_sent_at``
keeps a second request from mailing again within minutes. A request may name the account's
e-mail address in any case: ``lower(email)`` is indexed for it.
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
    op.create_index("ix_accounts_lower_email", "accounts", [sa.text("lower(email)")])


def downgrade() -> None:
    op.drop_index("ix_accounts_lower_email", table_name="accounts")
    op.drop_index("ix_accounts_password_reset_hash", table_name="accounts")
    op.drop_column("accounts", "password_reset_sent_at")
    op.drop_column("accounts", "password_reset_expires_at")
    op.drop_column("accounts", "password_reset_hash")
