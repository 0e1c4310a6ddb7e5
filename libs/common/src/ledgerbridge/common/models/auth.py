"""Refresh tokens for the SPA's sessions, stored hashed and rotated on every use."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ledgerbridge.common.models.base import Base, Timestamps, UUIDPrimaryKey


class RefreshToken(UUIDPrimaryKey, Timestamps, Base):
    """One issued refresh token. Tokens rotated from one sign-in share a ``family_id``, so presenting a
    token that was already used (a sign it was stolen) revokes every token of that sign-in."""

    __tablename__ = "refresh_tokens"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    # SHA-256 of the token: a database leak must not hand out working sessions.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
