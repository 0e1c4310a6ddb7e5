"""Source records, the Xero documents built from them, their history, and historical imports."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledgerbridge.bookkeeping.documents import DocumentKind
from ledgerbridge.common.models.base import Base, Timestamps, UUIDPrimaryKey

SUMMARY_KIND = "daily_summary"
"""``SourceRecord.kind`` of a summary mode day: its payload is the frozen ``DailySummary``."""
REFUND_SUMMARY_KIND = "daily_refund_summary"
"""``SourceRecord.kind`` of a summary mode day's refunds: its payload is the frozen ``DailyRefundSummary``."""
SUMMARY_KINDS = (SUMMARY_KIND, REFUND_SUMMARY_KIND)


class RecordStatus(enum.StrEnum):
    """A record's state; the moves between them are in ledgerbridge.common.records.lifecycle."""

    received = "received"  # stored, not mapped yet
    mapped = "mapped"  # documents built, publishing under way
    synced = "synced"
    skipped = "skipped"  # nothing to send, reason says why
    failed = "failed"  # reason says why; retryable
    waiting = "waiting"  # blocked on the tenant (plan limit, unlinked vendor…); reason says why


class SourceRecord(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "source_records"
    __table_args__ = (
        UniqueConstraint("account_id", "source", "kind", "external_id"),
        Index("ix_source_records_account_status", "account_id", "status"),
        # The records list: newest sale or invoice first, per account.
        Index("ix_source_records_account_source_date", "account_id", "source_date"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(20))  # ontraport | onport
    kind: Mapped[str] = mapped_column(String(40))  # transaction | purchase_invoice
    external_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    payload_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[RecordStatus] = mapped_column(
        Enum(RecordStatus, name="record_status"), default=RecordStatus.received
    )
    reason: Mapped[str | None] = mapped_column(Text)
    # A ReasonCode (ledgerbridge.bookkeeping.reasons) and the one thing it depends on, e.g.
    # {"kind": "mapping", "name": "product", "key": "12"}: what a fix must change to free the record.
    reason_code: Mapped[str | None] = mapped_column(String(50))
    reason_cause: Mapped[dict[str, Any] | None]
    source_date: Mapped[datetime | None]
    # Summary mode: the daily summary record (kind ``daily_summary``) this sale went into.
    summary_record_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("source_records.id", ondelete="SET NULL", name="fk_source_records_summary"), index=True
    )

    documents: Mapped[list[Document]] = relationship(back_populates="record", lazy="raise")
    events: Mapped[list[RecordEvent]] = relationship(back_populates="record", lazy="raise")


class DocumentStatus(enum.StrEnum):
    pending = "pending"
    sending = "sending"  # a request is in flight: after a crash the outcome is unknown, look it up first
    published = "published"
    failed = "failed"
    superseded = "superseded"  # replaced by a newer version before it was published
    rolled_back = "rolled_back"  # was published, then undone in Xero by a rollback


class Document(UUIDPrimaryKey, Timestamps, Base):
    """One Xero document built from a record. At most one published document per record and kind."""

    __tablename__ = "documents"
    __table_args__ = (
        # One published document per record and kind, except credit notes and payments that repeat:
        # each partial refund is a credit note of its own, each vendor payout a payment.
        Index(
            "uq_documents_record_kind_published",
            "record_id",
            "kind",
            unique=True,
            postgresql_where=text(
                "status = 'published' AND kind NOT IN "
                "('credit_note', 'refund_payment', 'bill_payment', 'supplier_credit_note', 'payment_delete', "
                "'bill', 'credit_allocation', 'rollback_payment', 'rollback_document')"
            ),
        ),
        UniqueConstraint("idempotency_key"),
        # What a publishing run looks for on every pass: an organisation's unfinished documents of a kind,
        # oldest first. Partial, so it holds only the few in flight, not every document ever sent.
        Index(
            "ix_documents_connection_unfinished",
            "xero_connection_id",
            "kind",
            "created_at",
            "id",
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("source_records.id", ondelete="CASCADE"), index=True
    )
    xero_connection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    kind: Mapped[DocumentKind] = mapped_column(Enum(DocumentKind, name="document_kind"))
    mapping_version: Mapped[str] = mapped_column(String(80))
    request_body: Mapped[dict[str, Any]]
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The existing Xero document acted on (a payment to delete, an invoice to void).
    target_id: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    status: Mapped[DocumentStatus] = mapped_column(
        Enum(DocumentStatus, name="document_status"), default=DocumentStatus.pending
    )
    xero_id: Mapped[str | None] = mapped_column(String(64))
    xero_number: Mapped[str | None] = mapped_column(String(255))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # as Xero confirmed it
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]

    record: Mapped[SourceRecord] = relationship(back_populates="documents", lazy="raise")


class RecordEvent(Base):
    """Audit trail: every state change of a record, never updated or deleted."""

    __tablename__ = "record_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("source_records.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    record: Mapped[SourceRecord] = relationship(back_populates="events", lazy="raise")


class ImportStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Import(UUIDPrimaryKey, Timestamps, Base):
    """A historical import with its progress; ``cursor`` lets it resume after a crash."""

    __tablename__ = "imports"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    params: Mapped[dict[str, Any]]
    status: Mapped[ImportStatus] = mapped_column(
        Enum(ImportStatus, name="import_status"), default=ImportStatus.queued
    )
    total: Mapped[int | None]
    done: Mapped[int] = mapped_column(default=0)
    cursor: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
