"""Files attached to announcements (seed 001, 14.15 and 15.7: documents are published to
families with announcements): kept like message attachments; an announcement's files go with it.

Revision ID: s0017
Revises: s0016
Create Date: 2026-12-14
"""

import sqlalchemy as sa
from alembic import op

revision = "s0017"
down_revision = "s0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "announcement_files",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("announcement_id", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_files_announcement_id_announcements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_files")),
    )
    op.create_index(
        op.f("ix_announcement_files_announcement_id"),
        "announcement_files",
        ["announcement_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_announcement_files_announcement_id"), table_name="announcement_files")
    op.drop_table("announcement_files")
