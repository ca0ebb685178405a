"""Health recommendations (seed 001, 17–18): what the health specialist tells the teachers
about a student's needs (school/health); a student's rows go with the person.

Revision ID: s0016
Revises: s0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "s0016"
down_revision = "s0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "health_recommendations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("written_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "written_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["people.id"],
            name=op.f("fk_health_recommendations_student_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_recommendations")),
    )
    op.create_index(
        op.f("ix_health_recommendations_student_id"),
        "health_recommendations",
        ["student_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_health_recommendations_student_id"), table_name="health_recommendations")
    op.drop_table("health_recommendations")
