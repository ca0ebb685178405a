"""The gradebook: lessons, homework, attendance, excuses, grades and their history, term grades, the test calendar, remarks, settings, and the notification outbox.

Revision ID: s0006
Revises: s0005
Create Date: 2026-11-23 15:45:33.312359
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "s0006"
down_revision = "s0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grade_changes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("grade_id", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("action", sa.String(length=6), nullable=False),
        sa.Column("old_value", sa.String(length=12), nullable=True),
        sa.Column("new_value", sa.String(length=12), nullable=True),
        sa.Column("old_kind_id", sa.BigInteger(), nullable=True),
        sa.Column("new_kind_id", sa.BigInteger(), nullable=True),
        sa.Column("old_comment", sa.String(length=500), nullable=True),
        sa.Column("new_comment", sa.String(length=500), nullable=True),
        sa.Column("changed_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("after_lock", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "action IN ('create', 'update', 'delete')", name=op.f("ck_grade_changes_action")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_changes")),
    )
    op.create_index("ix_grade_changes_changed_at", "grade_changes", ["changed_at"], unique=False)
    op.create_index("ix_grade_changes_grade_id", "grade_changes", ["grade_id"], unique=False)
    op.create_table(
        "gradebook_settings",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("test_notice_days", sa.SmallInteger(), nullable=False),
        sa.Column("tests_per_day", sa.SmallInteger(), nullable=False),
        sa.Column("test_rule", sa.String(length=6), nullable=False),
        sa.Column("rounding", sa.String(length=9), nullable=False),
        sa.Column("saturday_lessons", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "rounding IN ('half_up', 'half_down')", name=op.f("ck_gradebook_settings_rounding")
        ),
        sa.CheckConstraint(
            "test_rule IN ('refuse', 'warn')", name=op.f("ck_gradebook_settings_test_rule")
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_gradebook_settings_single_row")),
        sa.CheckConstraint(
            "test_notice_days BETWEEN 0 AND 30", name=op.f("ck_gradebook_settings_test_notice_days")
        ),
        sa.CheckConstraint(
            "tests_per_day BETWEEN 1 AND 5", name=op.f("ck_gradebook_settings_tests_per_day")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gradebook_settings")),
    )
    op.create_table(
        "notification_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_events")),
    )
    op.create_index(
        "ix_notification_events_undispatched",
        "notification_events",
        ["id"],
        unique=False,
        postgresql_where=sa.text("dispatched_at IS NULL"),
    )
    op.create_table(
        "excuses",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("from_day", sa.Date(), nullable=False),
        sa.Column("to_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("school_days", sa.SmallInteger(), nullable=False),
        sa.Column("document_name", sa.String(length=200), nullable=True),
        sa.Column("document_type", sa.String(length=100), nullable=True),
        sa.Column("document_size", sa.Integer(), nullable=True),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.Column("submitted_by", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("reason IN ('illness', 'other')", name=op.f("ck_excuses_reason")),
        sa.CheckConstraint("source IN ('guardian', 'class_head')", name=op.f("ck_excuses_source")),
        sa.CheckConstraint(
            "status IN ('approved', 'pending', 'rejected')", name=op.f("ck_excuses_status")
        ),
        sa.CheckConstraint("to_day >= from_day", name=op.f("ck_excuses_span")),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.person_id"],
            name=op.f("fk_excuses_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_excuses")),
    )
    op.create_index(
        "ix_excuses_student_id_from_day", "excuses", ["student_id", "from_day"], unique=False
    )
    op.create_table(
        "lessons",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("lesson_no", sa.SmallInteger(), nullable=False),
        sa.Column("term_id", sa.BigInteger(), nullable=False),
        sa.Column("room_id", sa.BigInteger(), nullable=True),
        sa.Column("teacher_id", sa.BigInteger(), nullable=True),
        sa.Column("substitute_for_id", sa.BigInteger(), nullable=True),
        sa.Column("topic", sa.String(length=300), nullable=True),
        sa.Column("classwork", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("changed_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("source IN ('timetable', 'ad_hoc')", name=op.f("ck_lessons_source")),
        sa.CheckConstraint("lesson_no BETWEEN 0 AND 15", name=op.f("ck_lessons_lesson_no")),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_lessons_group_id_groups"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_lessons_room_id_rooms"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["substitute_for_id"],
            ["people.id"],
            name=op.f("fk_lessons_substitute_for_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["people.id"],
            name=op.f("fk_lessons_teacher_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["term_id"], ["terms.id"], name=op.f("fk_lessons_term_id_terms"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lessons")),
        sa.UniqueConstraint(
            "group_id", "on_day", "lesson_no", name=op.f("uq_lessons_group_id_on_day_lesson_no")
        ),
    )
    op.create_index("ix_lessons_on_day", "lessons", ["on_day"], unique=False)
    op.create_index(op.f("ix_lessons_term_id"), "lessons", ["term_id"], unique=False)
    op.create_table(
        "deleted_lesson_dates",
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("lesson_no", sa.SmallInteger(), nullable=False),
        sa.Column("deleted_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "deleted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_deleted_lesson_dates_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "group_id", "on_day", "lesson_no", name=op.f("pk_deleted_lesson_dates")
        ),
    )
    op.create_table(
        "planned_tests",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("lesson_no", sa.Integer(), nullable=True),
        sa.Column("kind_id", sa.BigInteger(), nullable=True),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("announced_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "announced_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("rule_warning", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_planned_tests_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["kind_id"],
            ["assessment_kinds.id"],
            name=op.f("fk_planned_tests_kind_id_assessment_kinds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_tests")),
    )
    op.create_index(op.f("ix_planned_tests_group_id"), "planned_tests", ["group_id"], unique=False)
    op.create_index("ix_planned_tests_on_day", "planned_tests", ["on_day"], unique=False)
    op.create_table(
        "remarks",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("written_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('praise', 'remark', 'reprimand')", name=op.f("ck_remarks_kind")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_remarks_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.person_id"],
            name=op.f("fk_remarks_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remarks")),
    )
    op.create_index(
        "ix_remarks_student_id_on_day", "remarks", ["student_id", "on_day"], unique=False
    )
    op.create_table(
        "term_grades",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("year_id", sa.BigInteger(), nullable=False),
        sa.Column("term_id", sa.BigInteger(), nullable=True),
        sa.Column("suggested", sa.String(length=12), nullable=True),
        sa.Column("value", sa.String(length=12), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("confirmed_by", sa.BigInteger(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_term_grades_group_id_groups"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.person_id"],
            name=op.f("fk_term_grades_student_id_students"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["term_id"],
            ["terms.id"],
            name=op.f("fk_term_grades_term_id_terms"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["year_id"],
            ["school_years.id"],
            name=op.f("fk_term_grades_year_id_school_years"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_term_grades")),
    )
    op.create_index("ix_term_grades_group_id", "term_grades", ["group_id"], unique=False)
    op.create_index(
        "uq_term_grades_term",
        "term_grades",
        ["student_id", "group_id", "term_id"],
        unique=True,
        postgresql_where=sa.text("term_id IS NOT NULL"),
    )
    op.create_index(
        "uq_term_grades_year",
        "term_grades",
        ["student_id", "group_id", "year_id"],
        unique=True,
        postgresql_where=sa.text("term_id IS NULL"),
    )
    op.create_table(
        "attendance",
        sa.Column("lesson_id", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("mark", sa.String(length=10), nullable=False),
        sa.Column("excuse_id", sa.BigInteger(), nullable=True),
        sa.Column("marked_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "marked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "mark IN ('absent', 'late', 'left_early')", name=op.f("ck_attendance_mark")
        ),
        sa.ForeignKeyConstraint(
            ["excuse_id"],
            ["excuses.id"],
            name=op.f("fk_attendance_excuse_id_excuses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_attendance_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.person_id"],
            name=op.f("fk_attendance_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lesson_id", "student_id", name=op.f("pk_attendance")),
    )
    op.create_index(op.f("ix_attendance_excuse_id"), "attendance", ["excuse_id"], unique=False)
    op.create_index("ix_attendance_student_id", "attendance", ["student_id"], unique=False)
    op.create_table(
        "grades",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("lesson_id", sa.BigInteger(), nullable=True),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("term_id", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.String(length=12), nullable=False),
        sa.Column("kind_id", sa.BigInteger(), nullable=True),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_grades_group_id_groups"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["kind_id"], ["assessment_kinds.id"], name=op.f("fk_grades_kind_id_assessment_kinds")
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_grades_lesson_id_lessons"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.person_id"],
            name=op.f("fk_grades_student_id_students"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["term_id"], ["terms.id"], name=op.f("fk_grades_term_id_terms"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grades")),
    )
    op.create_index("ix_grades_group_id_on_day", "grades", ["group_id", "on_day"], unique=False)
    op.create_index(op.f("ix_grades_lesson_id"), "grades", ["lesson_id"], unique=False)
    op.create_index("ix_grades_student_id_on_day", "grades", ["student_id", "on_day"], unique=False)
    op.create_table(
        "homework",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("lesson_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_homework_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_homework")),
        sa.UniqueConstraint("lesson_id", name=op.f("uq_homework_lesson_id")),
    )
    op.create_index("ix_homework_due_on", "homework", ["due_on"], unique=False)
    op.create_table(
        "homework_files",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("homework_id", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["homework_id"],
            ["homework.id"],
            name=op.f("fk_homework_files_homework_id_homework"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_homework_files")),
    )
    op.create_index(
        op.f("ix_homework_files_homework_id"), "homework_files", ["homework_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_homework_files_homework_id"), table_name="homework_files")
    op.drop_table("homework_files")
    op.drop_index("ix_homework_due_on", table_name="homework")
    op.drop_table("homework")
    op.drop_index("ix_grades_student_id_on_day", table_name="grades")
    op.drop_index(op.f("ix_grades_lesson_id"), table_name="grades")
    op.drop_index("ix_grades_group_id_on_day", table_name="grades")
    op.drop_table("grades")
    op.drop_index("ix_attendance_student_id", table_name="attendance")
    op.drop_index(op.f("ix_attendance_excuse_id"), table_name="attendance")
    op.drop_table("attendance")
    op.drop_index(
        "uq_term_grades_year", table_name="term_grades", postgresql_where=sa.text("term_id IS NULL")
    )
    op.drop_index(
        "uq_term_grades_term",
        table_name="term_grades",
        postgresql_where=sa.text("term_id IS NOT NULL"),
    )
    op.drop_index("ix_term_grades_group_id", table_name="term_grades")
    op.drop_table("term_grades")
    op.drop_index("ix_remarks_student_id_on_day", table_name="remarks")
    op.drop_table("remarks")
    op.drop_index("ix_planned_tests_on_day", table_name="planned_tests")
    op.drop_index(op.f("ix_planned_tests_group_id"), table_name="planned_tests")
    op.drop_table("planned_tests")
    op.drop_table("deleted_lesson_dates")
    op.drop_index(op.f("ix_lessons_term_id"), table_name="lessons")
    op.drop_index("ix_lessons_on_day", table_name="lessons")
    op.drop_table("lessons")
    op.drop_index("ix_excuses_student_id_from_day", table_name="excuses")
    op.drop_table("excuses")
    op.drop_index(
        "ix_notification_events_undispatched",
        table_name="notification_events",
        postgresql_where=sa.text("dispatched_at IS NULL"),
    )
    op.drop_table("notification_events")
    op.drop_table("gradebook_settings")
    op.drop_index("ix_grade_changes_grade_id", table_name="grade_changes")
    op.drop_index("ix_grade_changes_changed_at", table_name="grade_changes")
    op.drop_table("grade_changes")
