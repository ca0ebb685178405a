"""An index for logins by their beginning: a new login (school.people.services.generate_login)
looks up the logins that start like it (``LIKE 'jonas.jonaitis%'``), which the unique index on
``login`` serves only under the C collation.

Revision ID: p0008
Revises: p0007
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "p0008"
down_revision = "p0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_accounts_login_prefix",
        "accounts",
        [sa.text("login text_pattern_ops")],
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_login_prefix", table_name="accounts")
