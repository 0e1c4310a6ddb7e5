"""Alerts: where an account's alerts go, what happened (events), what was said (alerts) and each send.

Events are written in the same transaction as what caused them (a record failed, Xero consent lost, a
day limit reached); the alerts worker coalesces an account's events of one kind into one alert and sends
it through each channel the owners chose, one ``alert_deliveries`` row per channel: that row is the
outbox of the send, retried with backoff until it is sent.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Enum,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ledgerbridge.common.models.base import Base, Timestamps, UUIDPrimaryKey


class AlertSettings(Timestamps, Base):
    """One row per account. Secrets (the SMTP password, the webhook signing secret) are encrypted."""

    __tablename__ = "alert_settings"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    smtp_host: Mapped[str | None] = mapped_column(String(253))
    smtp_port: Mapped[int | None]
    smtp_tls: Mapped[str] = mapped_column(String(10), default="starttls")  # starttls | tls | none
    smtp_username: Mapped[str | None] = mapped_column(String(320))
    smtp_password: Mapped[bytes | None] = mapped_column(LargeBinary)  # Cipher.encrypt_json({"password"})
    from_address: Mapped[str | None] = mapped_column(String(320))
    recipients: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_format: Mapped[str] = mapped_column(String(10), default="json")  # json | slack
    webhook_secret: Mapped[bytes | None] = mapped_column(LargeBinary)  # Cipher.encrypt_json({"secret"})
    # {alert kind: [channel, ...]}; a kind missing here gets every channel (the default is to be told).
    preferences: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'::jsonb"))


class AlertEvent(Base):
    """Something worth telling the owners, not yet folded into an alert (``alert_id`` empty)."""

    __tablename__ = "alert_events"
    __table_args__ = (
        Index("ix_alert_events_unsent", "account_id", "kind", postgresql_where=text("alert_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(default=1)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    alert_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))


class Alert(UUIDPrimaryKey, Base):
    """What was said: one per coalesced group of events, daily digest or test."""

    __tablename__ = "alerts"
    # A digest is made once a day and a group of events once, whichever replica gets there first.
    __table_args__ = (UniqueConstraint("account_id", "dedupe_key"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(default=0)
    link: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # waiting for its next attempt (next_attempt_at)
    sent = "sent"
    failed = "failed"  # given up after ALERTS_MAX_ATTEMPTS; last_error says why


class AlertDelivery(Base):
    """One alert through one channel: the send's outbox row."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel"),
        Index("ix_alert_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # email | webhook
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, name="alert_delivery_status"), default=DeliveryStatus.pending
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_error: Mapped[str | None] = mapped_column(String(2000))
    sent_at: Mapped[datetime | None]
