"""Notification deliveries (one per event, recipient and channel) and recipients' preferences.

Revision ID: s0007
Revises: s0006
Create Date: 2026-11-23 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "s0007"
down_revision = "s0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
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
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('in_app', 'email', 'sms')", name=op.f("ck_notification_deliveries_channel")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'sent', 'failed', 'skipped')",
            name=op.f("ck_notification_deliveries_state"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["notification_events.id"],
            name=op.f("fk_notification_deliveries_event_id_notification_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint(
            "event_id",
            "account_id",
            "channel",
            name=op.f("uq_notification_deliveries_event_id_account_id_channel"),
        ),
    )
    op.create_index(
        "ix_notification_deliveries_event_id",
        "notification_deliveries",
        ["event_id"],
        unique=False,
    )
    op.create_index(
        "ix_notification_deliveries_account_id_id",
        "notification_deliveries",
        ["account_id", "id"],
        unique=False,
    )
    op.create_index(
        "ix_notification_deliveries_unread",
        "notification_deliveries",
        ["account_id"],
        unique=False,
        postgresql_where=sa.text("channel = 'in_app' AND state = 'sent' AND read_at IS NULL"),
    )
    op.create_index(
        "ix_notification_deliveries_pending",
        "notification_deliveries",
        ["id"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("mode", sa.String(length=7), nullable=False),
        sa.CheckConstraint(
            "channel IN ('in_app', 'email', 'sms')",
            name=op.f("ck_notification_preferences_channel"),
        ),
        sa.CheckConstraint(
            "mode IN ('instant', 'digest', 'off')", name=op.f("ck_notification_preferences_mode")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint(
            "account_id",
            "kind",
            "channel",
            name=op.f("uq_notification_preferences_account_id_kind_channel"),
        ),
    )


def downgrade() -> None:
    op.drop_table("notification_preferences")
    op.drop_index("ix_notification_deliveries_pending", table_name="notification_deliveries")
    op.drop_index("ix_notification_deliveries_unread", table_name="notification_deliveries")
    op.drop_index("ix_notification_deliveries_account_id_id", table_name="notification_deliveries")
    op.drop_index("ix_notification_deliveries_event_id", table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
