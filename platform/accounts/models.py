"""Accounts (one per person across the municipality) and per-school role grants."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dienynas.database import PublicModel
from tenants.models import School


class Role(enum.StrEnum):
    """Roles granted per school (the municipality operator is a flag on the account)."""

    ADMIN = "admin"
    DIRECTOR = "director"
    TEACHER = "teacher"
    CLASS_HEAD = "class_head"
    SOCIAL_PEDAGOGUE = "social_pedagogue"
    HEALTH_SPECIALIST = "health_specialist"
    STUDENT = "student"
    GUARDIAN = "guardian"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("e-diary administrator"),
    Role.DIRECTOR: _l("director"),
    Role.TEACHER: _l("teacher"),
    Role.CLASS_HEAD: _l("class head"),
    Role.SOCIAL_PEDAGOGUE: _l("social pedagogue"),
    Role.HEALTH_SPECIALIST: _l("health specialist"),
    Role.STUDENT: _l("student"),
    Role.GUARDIAN: _l("guardian"),
}

#: Roles that work for the school (as opposed to students and guardians).
STAFF_ROLES = frozenset(
    {
        Role.ADMIN,
        Role.DIRECTOR,
        Role.TEACHER,
        Role.CLASS_HEAD,
        Role.SOCIAL_PEDAGOGUE,
        Role.HEALTH_SPECIALIST,
    }
)


#: Roles of a family: the students and their guardians, who read the diary.
FAMILY_ROLES = frozenset({Role.STUDENT, Role.GUARDIAN})


class Account(UserMixin, PublicModel):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("locale IS NULL OR locale IN ('lt', 'ru', 'pl', 'en')", name="locale"),
        CheckConstraint("login = lower(login)", name="login_lowercase"),
        Index(
            "ix_accounts_password_reset_hash", "password_reset_hash", unique=True,
            postgresql_where=text("password_reset_hash IS NOT NULL"),
        ),
        Index(
            "ix_accounts_email_confirm_hash", "email_confirm_hash", unique=True,
            postgresql_where=text("email_confirm_hash IS NOT NULL"),
        ),
        Index("ix_accounts_lower_email", func.lower(text("email"))),
        # logins by their beginning (generate_login's LIKE 'base%'), whatever the collation
        Index("ix_accounts_login_prefix", "login", postgresql_ops={"login": "text_pattern_ops"}),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    #: Preferred language; None means "follow the session, the school, the browser".
    locale: Mapped[str | None] = mapped_column(String(5))
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: SHA-256 of the link code the holder made for a school that links this account
    #: (accounts.services.issue_link_code); cleared when a school uses it.
    link_code_hash: Mapped[str | None] = mapped_column(String(64))
    link_code_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: SHA-256 of the e-mailed password reset link's token (accounts.services); cleared on use.
    password_reset_hash: Mapped[str | None] = mapped_column(String(64))
    password_reset_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the last reset e-mail was asked for (a second one waits some minutes).
    password_reset_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: A new e-mail address the holder asked for, in use once they open the link mailed to it;
    #: the link's SHA-256 and expiry (accounts.services.change_contacts, confirm_email).
    pending_email: Mapped[str | None] = mapped_column(String(254))
    email_confirm_hash: Mapped[str | None] = mapped_column(String(64))
    email_confirm_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    grants: Mapped[list[SchoolGrant]] = relationship(
        back_populates="account", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled accounts cannot log in
        return self.is_enabled

    def get_id(self) -> str:  # Flask-Login: see accounts.blueprint.load_account
        return f"{self.id}.{self.password_hash[-16:]}"

    def __repr__(self) -> str:
        return f"<Account {self.login}>"


class SchoolGrant(PublicModel):
    """A role an account holds in one school (the municipality-wide index of who is where)."""

    __tablename__ = "school_grants"
    __table_args__ = (
        UniqueConstraint("account_id", "school_id", "role"),
        Index("ix_school_grants_school_id_role", "school_id", "role"),
        CheckConstraint(
            "role IN ('admin', 'director', 'teacher', 'class_head', 'social_pedagogue', "
            "'health_specialist', 'student', 'guardian')",
            name="role",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id, ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey(School.id, ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    account: Mapped[Account] = relationship(back_populates="grants")
    school: Mapped[School] = relationship(lazy="joined")


class LoginEvent(PublicModel):
    """A successful login (``accounts.services.authenticate``): the schools' activity reports
    count them; a daily job deletes those older than ``LOGIN_EVENT_DAYS``."""

    __tablename__ = "login_events"
    __table_args__ = (
        Index("ix_login_events_account_id_logged_in_at", "account_id", "logged_in_at"),
        Index("ix_login_events_logged_in_at", "logged_in_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id, ondelete="CASCADE"))
    logged_in_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
