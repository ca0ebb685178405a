"""The holder's own contacts: a new e-mail address waits until its holder opens the link sent
to it (accounts.services.change_contacts, confirm_email).

Revision ID: p0009
Revises: p0008
Create Date: 2026-12-07

``pending_email`` is the address asked for; only the link's SHA-256 is kept, with its expiry;
it works once. The e-mail in use (``email``) stays until then, so a mistyped address never
receives a child's notifications or a password reset link.
"""

import sqlalchemy as sa
from alembic import op

revision = "p0009"
down_revision = "p0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("pending_email", sa.String(254), nullable=True))
    op.add_column("accounts", sa.Column("email_confirm_hash", sa.String(64), nullable=True))
    op.add_column(
        "accounts",
        sa.Column("email_confirm_expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_accounts_email_confirm_hash",
        "accounts",
        ["email_confirm_hash"],
        unique=True,
        postgresql_where=sa.text("email_confirm_hash IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_email_confirm_hash", table_name="accounts")
    op.drop_column("accounts", "email_confirm_expires_at")
    op.drop_column("accounts", "email_confirm_hash")
    op.drop_column("accounts", "pending_email")
