"""Uploaded import files and their outcome (kept so a long import can run as a job)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, LargeBinary, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dienynas.database import SchoolModel


class ImportBatch(SchoolModel):
    __tablename__ = "import_batches"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('students', 'guardians', 'staff', 'subjects', 'classes')", name="kind"
        ),
        CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    #: True: save when every row is valid; False: only check (the preview).
    commit: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    #: The summary: {"rows", "valid", "errors": [{"row", "field", "message"}], "committed", …}
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_by: Mapped[int] = mapped_column(BigInteger)  # public.accounts.id
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
