"""Login events: when each account logged in, for the schools' activity reports.

Revision ID: p0006
Revises: p0005
Create Date: 2026-12-07

One row per successful login (accounts.services.authenticate). A school's activity report reads
the rows of its own accounts (school_grants), so the school group role may read them; rows
older than ``LOGIN_EVENT_DAYS`` are deleted by a daily job.
"""

import sqlalchemy as sa
from alembic import op

from tenants.roles import ensure_group_role

revision = "p0006"
down_revision = "p0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_events",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "logged_in_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["public.accounts.id"],
            name=op.f("fk_login_events_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_events")),
        schema="public",
    )
    op.create_index(
        "ix_login_events_account_id_logged_in_at",
        "login_events",
        ["account_id", "logged_in_at"],
        schema="public",
    )
    op.create_index(
        "ix_login_events_logged_in_at", "login_events", ["logged_in_at"], schema="public"
    )
    group = ensure_group_role(op.get_bind())
    op.execute(f'GRANT SELECT ON public.login_events TO "{group}"')


def downgrade() -> None:
    op.drop_table("login_events", schema="public")
