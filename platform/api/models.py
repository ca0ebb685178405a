"""Personal API tokens (``public.api_tokens``): an account's keys for ``/api/v1``.

Only a SHA-256 hash of a token is stored; the token itself is shown once, when it is created.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from accounts.models import Account
from dienynas.database import PublicModel


class ApiToken(PublicModel):
    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_account_id", "account_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id, ondelete="CASCADE"))
    #: What the account calls it ("Family phone").
    name: Mapped[str] = mapped_column(String(100))
    #: Hex SHA-256 of the token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The token's first characters, so the account can tell its tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: The last day the token works (None: until revoked).
    expires_on: Mapped[date | None] = mapped_column(Date)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
