"""The diary revision: a table of 8 rows whose tokens change when a diary page's content does,
and the change trigger on every table a diary page reads (gradebook/diary/models.py).

Revision ID: s0010
Revises: s0009
Create Date: 2026-11-23 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "s0010"
down_revision = "s0009"
branch_labels = None
depends_on = None

#: The school tables at s0009 whose rows a diary page shows (every other table is unrelated).
SHOWN_TABLES = (
    "assessment_kinds",
    "attendance",
    "bell_periods",
    "bell_schedules",
    "carried_records",
    "classes",
    "deleted_lesson_dates",
    "excuses",
    "grade_scales",
    "gradebook_settings",
    "grades",
    "group_students",
    "group_teachers",
    "groups",
    "guardianships",
    "holidays",
    "homework",
    "homework_files",
    "lessons",
    "people",
    "planned_tests",
    "remarks",
    "rooms",
    "school_years",
    "students",
    "subjects",
    "teacher_subjects",
    "term_grades",
    "terms",
    "timetable_entries",
)


def upgrade() -> None:
    op.create_table(
        "diary_revision",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("token", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id BETWEEN 1 AND 8", name=op.f("ck_diary_revision_stripe")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_revision")),
    )
    op.execute("INSERT INTO diary_revision (id) SELECT generate_series(1, 8)")
    for table in SHOWN_TABLES:
        op.execute(
            f'CREATE TRIGGER diary_changed AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW WHEN (current_setting('dienynas.diary_changed', true) "
            "IS DISTINCT FROM 'on') EXECUTE FUNCTION public.note_diary_change()"
        )


def downgrade() -> None:
    for table in SHOWN_TABLES:
        op.execute(f'DROP TRIGGER diary_changed ON "{table}"')
    op.drop_table("diary_revision")
