"""Connections to Xero, ONTRAPORT and Onport, and the poll cursors that lease work on them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledgerbridge.common.models.base import Base, Timestamps, UUIDPrimaryKey


class ConnectionKind(enum.StrEnum):
    xero = "xero"
    ontraport = "ontraport"
    onport = "onport"


class ConnectionStatus(enum.StrEnum):
    pending = "pending"  # Xero consent given, organisation not chosen yet
    active = "active"
    error = "error"  # credentials rejected or expired; last_error says why
    disconnected = "disconnected"


class Connection(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "connections"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ConnectionKind] = mapped_column(Enum(ConnectionKind, name="connection_kind"))
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[ConnectionStatus] = mapped_column(
        Enum(ConnectionStatus, name="connection_status"), default=ConnectionStatus.pending
    )
    # Encrypted JSON (tokens or API keys); see ledgerbridge.common.crypto.
    credentials: Mapped[bytes] = mapped_column(LargeBinary)
    xero_tenant_id: Mapped[str | None] = mapped_column(String(64))
    # A source connection (ONTRAPORT, Onport) publishes to one chosen Xero connection.
    xero_connection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL")
    )
    # Partners post webhooks to a URL carrying this unguessable token (ONTRAPORT has no signatures).
    webhook_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None]
    parked_until: Mapped[datetime | None]  # Xero day limit reached: nothing is sent before this
    # A Xero connection's calls per day (SPEC §3.1: 5,000; the free Starter app tier allows 1,000).
    day_limit: Mapped[int] = mapped_column(default=5000, server_default="5000")
    last_error: Mapped[str | None] = mapped_column(String(2000))

    cursors: Mapped[list[PollCursor]] = relationship(back_populates="connection", lazy="raise")


class PollStream(enum.StrEnum):
    """What a poll cursor follows: one stream per source kind."""

    transactions = "transactions"  # ONTRAPORT: the high-water mark is a transaction id
    purchase_invoices = "purchase_invoices"  # Onport: the mark is an updatedAt stamp

    @classmethod
    def of(cls, kind: ConnectionKind) -> PollStream:
        return cls.purchase_invoices if kind is ConnectionKind.onport else cls.transactions


class PollCursor(UUIDPrimaryKey, Timestamps, Base):
    """Where a connection's poll got to, and who holds it now (one poll per connection at a time)."""

    __tablename__ = "poll_cursors"
    __table_args__ = (UniqueConstraint("connection_id", "stream"),)

    connection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(50))
    high_water_mark: Mapped[str | None] = mapped_column(String(100))
    window_offset: Mapped[int] = mapped_column(default=0)
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    last_polled_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(2000))

    connection: Mapped[Connection] = relationship(back_populates="cursors", lazy="raise")


class XeroReferenceCache(Timestamps, Base):
    """An organisation's accounts, tax rates, branding themes and currencies, as last read from Xero.

    The mapper checks mappings and computes Xero's tax with it; the publisher refreshes it when it is
    missing, old, or when Xero's validation errors suggest it is stale.
    """

    __tablename__ = "xero_reference_cache"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[dict[str, Any]]
    fetched_at: Mapped[datetime]


class XeroContactDirectory(Base):
    """That an organisation's contact names were read from Xero (paged, ``summaryOnly``), and when."""

    __tablename__ = "xero_contact_directories"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    read_at: Mapped[datetime]


class XeroContactName(Base):
    """One active Xero contact's name, so a clashing newcomer is renamed before it is sent, not after.

    Xero refuses a contact whose name another active contact holds (SPEC §4 item 2). Kept current from
    the first read, our own creates and Xero's contact webhooks; ``name_key`` NULL marks a contact Xero
    said changed, whose name is read again before the next contacts are sent.
    """

    __tablename__ = "xero_contact_names"
    __table_args__ = (Index("ix_xero_contact_names_connection_name", "connection_id", "name_key"),)

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # Xero's ContactID, lower case
    name_key: Mapped[str | None] = mapped_column(String(500))  # the name as Xero compares it
    contact_number: Mapped[str | None] = mapped_column(String(100))
