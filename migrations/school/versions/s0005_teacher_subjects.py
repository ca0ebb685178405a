"""Subjects a member of staff teaches.

Revision ID: s0005
Revises: s0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "s0005"
down_revision = "s0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teacher_subjects",
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_teacher_subjects_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_teacher_subjects_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "subject_id", name=op.f("pk_teacher_subjects")),
    )


def downgrade() -> None:
    op.drop_table("teacher_subjects")
