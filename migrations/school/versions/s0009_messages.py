"""Messages (threads, participants, receipts, files), announcements, daily digests, the school's
notification settings; deliveries may wait for a digest or be held during SMS quiet hours.

Revision ID: s0009
Revises: s0008
Create Date: 2026-11-23 17:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "s0009"
down_revision = "s0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_threads",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("started_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_message_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_threads")),
    )
    op.create_table(
        "message_participants",
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("is_staff", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["message_threads.id"],
            name=op.f("fk_message_participants_thread_id_message_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("thread_id", "account_id", name=op.f("pk_message_participants")),
    )
    op.create_index(
        "ix_message_participants_account_id", "message_participants", ["account_id"], unique=False
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("sender_id", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["message_threads.id"],
            name=op.f("fk_messages_thread_id_message_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index("ix_messages_thread_id", "messages", ["thread_id"], unique=False)
    op.create_table(
        "message_receipts",
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_receipts_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "account_id", name=op.f("pk_message_receipts")),
    )
    op.create_index(
        "ix_message_receipts_account_id", "message_receipts", ["account_id"], unique=False
    )
    op.create_table(
        "message_files",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_files_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_files")),
    )
    op.create_index("ix_message_files_message_id", "message_files", ["message_id"], unique=False)
    op.create_table(
        "announcements",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "audiences",
            postgresql.ARRAY(sa.String(length=10)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "class_ids", postgresql.ARRAY(sa.BigInteger()), server_default="{}", nullable=False
        ),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    op.create_index(
        "ix_announcements_due",
        "announcements",
        ["publish_at"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "notification_digests",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=8), server_default="pending", nullable=False),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("locale", sa.String(length=5), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('email')", name=op.f("ck_notification_digests_channel")),
        sa.CheckConstraint(
            "state IN ('pending', 'sent', 'failed', 'skipped')",
            name=op.f("ck_notification_digests_state"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_digests")),
        sa.UniqueConstraint(
            "account_id",
            "day",
            "channel",
            name=op.f("uq_notification_digests_account_id_day_channel"),
        ),
    )
    op.create_table(
        "notification_settings",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("digest_at", sa.Time(), nullable=False),
        sa.Column("quiet_from", sa.Time(), nullable=False),
        sa.Column("quiet_until", sa.Time(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_notification_settings_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_settings")),
    )
    op.add_column(
        "notification_deliveries",
        sa.Column("hold_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("notification_deliveries", sa.Column("digest_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_notification_deliveries_digest_id_notification_digests"),
        "notification_deliveries",
        "notification_digests",
        ["digest_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "ix_notification_deliveries_digest_id",
        "notification_deliveries",
        ["digest_id"],
        unique=False,
    )
    op.create_index(
        "ix_notification_deliveries_digest",
        "notification_deliveries",
        ["account_id"],
        unique=False,
        postgresql_where=sa.text("state = 'digest' AND digest_id IS NULL"),
    )
    op.drop_constraint(
        op.f("ck_notification_deliveries_state"), "notification_deliveries", type_="check"
    )
    op.create_check_constraint(
        op.f("ck_notification_deliveries_state"),
        "notification_deliveries",
        "state IN ('pending', 'sent', 'failed', 'skipped', 'digest')",
    )


def downgrade() -> None:
    op.execute("DELETE FROM notification_deliveries WHERE state = 'digest'")
    op.drop_constraint(
        op.f("ck_notification_deliveries_state"), "notification_deliveries", type_="check"
    )
    op.create_check_constraint(
        op.f("ck_notification_deliveries_state"),
        "notification_deliveries",
        "state IN ('pending', 'sent', 'failed', 'skipped')",
    )
    op.drop_index("ix_notification_deliveries_digest", table_name="notification_deliveries")
    op.drop_index("ix_notification_deliveries_digest_id", table_name="notification_deliveries")
    op.drop_constraint(
        op.f("fk_notification_deliveries_digest_id_notification_digests"),
        "notification_deliveries",
        type_="foreignkey",
    )
    op.drop_column("notification_deliveries", "digest_id")
    op.drop_column("notification_deliveries", "hold_until")
    op.drop_table("notification_settings")
    op.drop_table("notification_digests")
    op.drop_index("ix_announcements_due", table_name="announcements")
    op.drop_table("announcements")
    op.drop_index("ix_message_files_message_id", table_name="message_files")
    op.drop_table("message_files")
    op.drop_index("ix_message_receipts_account_id", table_name="message_receipts")
    op.drop_table("message_receipts")
    op.drop_index("ix_messages_thread_id", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_message_participants_account_id", table_name="message_participants")
    op.drop_table("message_participants")
    op.drop_table("message_threads")
