"""Link codes: an account holder's consent before a school links their existing account.

Revision ID: p0005
Revises: p0004
Create Date: 2026-12-07

A school that links an account it does not know yet (no person and no role of the account in
that school) needs the code the account holder made on their account page
(accounts.services.issue_link_code). Only its SHA-256 is kept, with its expiry; it works once.
The school roles already hold SELECT and UPDATE on ``public.accounts`` (p0001).
"""

import sqlalchemy as sa
from alembic import op

revision = "p0005"
down_revision = "p0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("link_code_hash", sa.String(64), nullable=True))
    op.add_column(
        "accounts", sa.Column("link_code_expires_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("accounts", "link_code_expires_at")
    op.drop_column("accounts", "link_code_hash")
