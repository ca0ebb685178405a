"""When a lesson's attendance was taken, and by whom (seed 002, 4.1.3: attendance at the start
of the lesson): a lesson where nobody is absent no longer looks like one whose attendance was
forgotten.

Revision ID: s0018
Revises: s0017
Create Date: 2026-12-07

Lessons held before this revision count as taken (at the lesson's creation, by nobody known):
whether their attendance was taken cannot be known, and every teacher's list of lessons to
complete would otherwise fill with a month of false alarms.
"""

import sqlalchemy as sa
from alembic import op

revision = "s0018"
down_revision = "s0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "lessons", sa.Column("attendance_taken_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("lessons", sa.Column("attendance_taken_by", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE lessons SET attendance_taken_at = created_at "
        "WHERE on_day < current_date OR EXISTS "
        "(SELECT 1 FROM attendance WHERE attendance.lesson_id = lessons.id)"
    )


def downgrade() -> None:
    op.drop_column("lessons", "attendance_taken_by")
    op.drop_column("lessons", "attendance_taken_at")
