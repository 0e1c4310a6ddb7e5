"""Tenants (accounts), their users and their settings."""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledgerbridge.common.models.base import Base, Timestamps, UUIDPrimaryKey

TRIAL_TRANSACTION_LIMIT = 20
TRIAL_DAYS = 30  # the trial ends at whichever comes first: 20 transactions or 30 days


class Plan(enum.StrEnum):
    trial = "trial"
    pro = "pro"


class Role(enum.StrEnum):
    owner = "owner"
    bookkeeper = "bookkeeper"


class Account(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("trial_used >= 0", name="trial_used_non_negative"),)

    company: Mapped[str] = mapped_column(String(200))
    plan: Mapped[Plan] = mapped_column(Enum(Plan, name="plan"), default=Plan.trial)
    trial_limit: Mapped[int] = mapped_column(default=TRIAL_TRANSACTION_LIMIT)
    trial_used: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    users: Mapped[list[User]] = relationship(back_populates="account", lazy="raise")


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, name="role"), default=Role.owner)
    # Carried by every access token and compared on each request: bumping it (the user removed, their
    # password reset) ends every session of the user at once, access tokens included.
    session_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    account: Mapped[Account] = relationship(back_populates="users", lazy="raise")


class AccountSettings(Timestamps, Base):
    """The tenant's options (SPEC.md §4, §5); their shape is validated by the API's schema."""

    __tablename__ = "account_settings"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
