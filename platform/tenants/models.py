"""The school registry (``public.schools``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from dienynas.database import PublicModel


class SchoolStatus(enum.StrEnum):
    PROVISIONING = "provisioning"  # registered; the schema is being built by a job
    ACTIVE = "active"
    SUSPENDED = "suspended"  # pages refused; data kept
    ARCHIVED = "archived"


class School(PublicModel):
    __tablename__ = "schools"
    __table_args__ = (
        CheckConstraint(
            "status IN ('provisioning', 'active', 'suspended', 'archived')", name="status"
        ),
        CheckConstraint("default_locale IN ('lt', 'ru', 'pl', 'en')", name="default_locale"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    default_locale: Mapped[str] = mapped_column(String(5), default="lt")
    status: Mapped[str] = mapped_column(String(20), default=SchoolStatus.PROVISIONING)
    schema_name: Mapped[str] = mapped_column(String(63), unique=True)
    role_name: Mapped[str] = mapped_column(String(63), unique=True)
    #: Which PostgreSQL cluster holds the schema (DESIGN.md 3); one cluster for now.
    cluster: Mapped[str] = mapped_column(String(63), default="default")
    #: The ``school`` migration chain's revision the schema is at; None until provisioned.
    schema_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def is_active(self) -> bool:
        return self.status == SchoolStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<School {self.slug} {self.status}>"


@dataclass(frozen=True, slots=True)
class SchoolRef:
    """A plain copy of a school's registry facts, with the names of :class:`School` so that
    binding and links work with either (the signed-in account's schools, accounts.identity)."""

    id: int
    slug: str
    name: str
    status: SchoolStatus
    default_locale: str
    schema_name: str
    role_name: str

    @property
    def is_active(self) -> bool:
        return self.status == SchoolStatus.ACTIVE
