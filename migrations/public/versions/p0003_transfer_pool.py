"""The unassigned-students pool and the transfer log.

Revision ID: p0003
Revises: p0002
Create Date: 2026-11-23

Leaving and claiming run bound to a school (as its role), so the school group role may read,
add and update pool entries and read and add log rows (nothing is deleted: the log is the
municipality's record).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tenants.roles import ensure_group_role

revision = "p0003"
down_revision = "p0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfer_pool",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("personal_code", sa.String(11), nullable=True),
        sa.Column("grade_level", sa.SmallInteger(), nullable=True),
        sa.Column("from_school_id", sa.BigInteger(), nullable=False),
        sa.Column("student_person_id", sa.BigInteger(), nullable=False),
        sa.Column("destination_kind", sa.String(12), nullable=False),
        sa.Column("to_school_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("left_on", sa.Date(), nullable=False),
        sa.Column(
            "entered_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("record", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("claimed_school_id", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.BigInteger(), nullable=True),
        sa.Column("claimed_person_id", sa.BigInteger(), nullable=True),
        sa.Column("extract_pdf", sa.LargeBinary(), nullable=True),
        sa.Column("extract_locale", sa.String(5), nullable=True),
        sa.Column("extract_ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('in_pool', 'claimed')", name=op.f("ck_transfer_pool_status")
        ),
        sa.CheckConstraint(
            "destination_kind IN ('municipality', 'elsewhere', 'abroad')",
            name=op.f("ck_transfer_pool_destination_kind"),
        ),
        sa.CheckConstraint(
            "(status = 'claimed') = (claimed_school_id IS NOT NULL)",
            name=op.f("ck_transfer_pool_claimed_school"),
        ),
        sa.ForeignKeyConstraint(
            ["from_school_id"],
            ["public.schools.id"],
            name=op.f("fk_transfer_pool_from_school_id_schools"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["to_school_id"],
            ["public.schools.id"],
            name=op.f("fk_transfer_pool_to_school_id_schools"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["claimed_school_id"],
            ["public.schools.id"],
            name=op.f("fk_transfer_pool_claimed_school_id_schools"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_pool")),
        schema="public",
    )
    op.create_index(
        "ix_transfer_pool_status_entered_at",
        "transfer_pool",
        ["status", "entered_at"],
        schema="public",
    )
    op.create_index(
        "ix_transfer_pool_personal_code", "transfer_pool", ["personal_code"], schema="public"
    )
    op.create_index(
        "ix_transfer_pool_from_school_id", "transfer_pool", ["from_school_id"], schema="public"
    )
    op.create_index(
        "uq_transfer_pool_in_pool_student",
        "transfer_pool",
        ["from_school_id", "student_person_id"],
        unique=True,
        schema="public",
        postgresql_where=sa.text("status = 'in_pool'"),
    )
    op.create_table(
        "transfer_log",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("pool_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("from_school_id", sa.BigInteger(), nullable=True),
        sa.Column("to_school_id", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(
            "action IN ('left', 'claimed', 'returned', 'extract_ready')",
            name=op.f("ck_transfer_log_action"),
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"],
            ["public.transfer_pool.id"],
            name=op.f("fk_transfer_log_pool_id_transfer_pool"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_log")),
        schema="public",
    )
    op.create_index("ix_transfer_log_pool_id", "transfer_log", ["pool_id"], schema="public")
    op.create_index("ix_transfer_log_at", "transfer_log", ["at"], schema="public")

    group = ensure_group_role(op.get_bind())
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON public.transfer_pool TO "{group}"')
    op.execute(f'GRANT SELECT, INSERT ON public.transfer_log TO "{group}"')
    op.execute(
        f"GRANT USAGE ON SEQUENCE public.transfer_pool_id_seq, public.transfer_log_id_seq "
        f'TO "{group}"'
    )


def downgrade() -> None:
    op.drop_table("transfer_log", schema="public")
    op.drop_table("transfer_pool", schema="public")
