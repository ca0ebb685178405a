"""Message threads between staff and guardians or students (docs/notifications.md, Messages).

Recipients chosen by class, group or person are expanded to accounts when a message is sent and
stored per thread (participants) and per message (receipts, with the time each one read it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dienynas.database import SchoolModel


class MessageThread(SchoolModel):
    __tablename__ = "message_threads"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    #: public.accounts.id of whoever started it
    started_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_message_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ThreadParticipant(SchoolModel):
    """An account in a thread: it reads every message of the thread and may reply."""

    __tablename__ = "message_participants"

    thread_id: Mapped[int] = mapped_column(
        ForeignKey(MessageThread.id, ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    #: staff reach every participant; a guardian's or student's reply reaches the staff only
    is_staff: Mapped[bool] = mapped_column(Boolean)
    #: put away by this participant: out of their inbox until the thread's next message
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Message(SchoolModel):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        ForeignKey(MessageThread.id, ondelete="CASCADE"), index=True
    )
    sender_id: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    thread: Mapped[MessageThread] = relationship()


class MessageReceipt(SchoolModel):
    """One recipient of one message and when they read it (the sender sees who read)."""

    __tablename__ = "message_receipts"

    message_id: Mapped[int] = mapped_column(
        ForeignKey(Message.id, ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MessageFile(SchoolModel):
    __tablename__ = "message_files"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey(Message.id, ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
