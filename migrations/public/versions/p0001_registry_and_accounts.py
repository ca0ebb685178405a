"""School registry, accounts and per-school grants.

Revision ID: p0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from tenants.roles import ensure_group_role

revision = "p0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("default_locale", sa.String(5), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("schema_name", sa.String(63), nullable=False),
        sa.Column("role_name", sa.String(63), nullable=False),
        sa.Column("cluster", sa.String(63), nullable=False),
        sa.Column("schema_version", sa.String(64), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('provisioning', 'active', 'suspended', 'archived')",
            name=op.f("ck_schools_status"),
        ),
        sa.CheckConstraint(
            "default_locale IN ('lt', 'ru', 'pl', 'en')", name=op.f("ck_schools_default_locale")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
        sa.UniqueConstraint("slug", name=op.f("uq_schools_slug")),
        sa.UniqueConstraint("schema_name", name=op.f("uq_schools_schema_name")),
        sa.UniqueConstraint("role_name", name=op.f("uq_schools_role_name")),
        schema="public",
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("locale", sa.String(5), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("is_operator", sa.Boolean(), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "locale IS NULL OR locale IN ('lt', 'ru', 'pl', 'en')", name=op.f("ck_accounts_locale")
        ),
        sa.CheckConstraint("login = lower(login)", name=op.f("ck_accounts_login_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("login", name=op.f("uq_accounts_login")),
        schema="public",
    )
    op.create_table(
        "school_grants",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column(
            "granted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'director', 'teacher', 'class_head', 'social_pedagogue', "
            "'health_specialist', 'student', 'guardian')",
            name=op.f("ck_school_grants_role"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["public.accounts.id"],
            name=op.f("fk_school_grants_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["public.schools.id"],
            name=op.f("fk_school_grants_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_grants")),
        sa.UniqueConstraint(
            "account_id",
            "school_id",
            "role",
            name=op.f("uq_school_grants_account_id_school_id_role"),
        ),
        schema="public",
    )
    op.create_index(
        "ix_school_grants_school_id_role", "school_grants", ["school_id", "role"], schema="public"
    )

    # What a transaction bound to a school (running as the school's role) may do with the
    # shared tables: read the registry, read and maintain accounts and this index of grants.
    group = ensure_group_role(op.get_bind())
    op.execute(f'GRANT SELECT ON public.schools TO "{group}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON public.accounts TO "{group}"')
    op.execute(f'GRANT SELECT, INSERT, DELETE ON public.school_grants TO "{group}"')
    op.execute(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{group}"')


def downgrade() -> None:
    op.drop_table("school_grants", schema="public")
    op.drop_table("accounts", schema="public")
    op.drop_table("schools", schema="public")
