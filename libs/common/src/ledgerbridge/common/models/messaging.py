"""Outbox and inbox: the database's record of every message, so Redis only carries them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Enum, ForeignKey, Identity, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from ledgerbridge.common.models.base import Base


class OutboxStatus(enum.StrEnum):
    pending = "pending"  # committed, not handed to the queue yet
    sent = "sent"  # on the queue (as far as we know)
    done = "done"  # the consumer committed its effect
    failed = "failed"  # the consumer gave up; last_error says why


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "id", postgresql_where=text("status = 'pending'")),
        Index("ix_outbox_unfinished", "sent_at", postgresql_where=text("status IN ('pending', 'sent')")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(String(50))
    message_type: Mapped[str] = mapped_column(String(80))
    body: Mapped[dict[str, Any]]
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, name="outbox_status"), default=OutboxStatus.pending
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[datetime | None]
    send_count: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class InboxMessage(Base):
    """What a consumer has processed, keyed by message id: a second delivery finds its row and does nothing.

    Also holds external deliveries (webhook events) until a worker handles them.
    """

    __tablename__ = "inbox"

    consumer: Mapped[str] = mapped_column(String(50), primary_key=True)
    message_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any] | None]
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    processed_at: Mapped[datetime | None]
