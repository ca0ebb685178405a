"""History a transferred student brought that has no place in this school's own tables.

Revision ID: s0008
Revises: s0007
Create Date: 2026-11-23 17:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "s0008"
down_revision = "s0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carried_records",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("pool_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("subject_code", sa.String(length=20), nullable=True),
        sa.Column("subject_name", sa.String(length=120), nullable=True),
        sa.Column("on_day", sa.Date(), nullable=True),
        sa.Column("value", sa.String(length=20), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("from_school_name", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('grade', 'term_grade', 'attendance', 'remark')",
            name=op.f("ck_carried_records_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.person_id"],
            name=op.f("fk_carried_records_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carried_records")),
    )
    op.create_index(
        "ix_carried_records_student_id_on_day", "carried_records", ["student_id", "on_day"]
    )
    op.create_index("ix_carried_records_pool_id", "carried_records", ["pool_id"])


def downgrade() -> None:
    op.drop_table("carried_records")
