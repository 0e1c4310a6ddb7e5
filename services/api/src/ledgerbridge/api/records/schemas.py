"""What the records endpoints answer with."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledgerbridge.common.models import DocumentKind, DocumentStatus, RecordStatus


class XeroLink(BaseModel):
    """The record's Xero invoice or bill, and where to open it."""

    document_id: uuid.UUID
    kind: DocumentKind
    status: DocumentStatus
    number: str | None = Field(examples=["OP-1001"])
    xero_id: str | None
    url: str | None = Field(
        description="Deep link into Xero, once Xero has given the document an id",
        examples=["https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=0f1e…"],
    )


class RecordSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    connection_id: uuid.UUID
    source: str = Field(examples=["ontraport"])
    kind: str = Field(examples=["transaction"])
    external_id: str = Field(examples=["1001"])
    status: RecordStatus
    reason: str | None
    reason_code: str | None
    source_date: datetime | None
    created_at: datetime
    updated_at: datetime
    xero: XeroLink | None = None
    summary_record_id: uuid.UUID | None = Field(
        default=None,
        description="Summary mode: the daily summary record this sale went into; ``xero`` then links to "
        "the summary's invoice",
    )


RetryableStatus = Literal["failed", "waiting"]
RETRYABLE_STATUSES: tuple[RetryableStatus, ...] = ("failed", "waiting")


class RetryFilter(BaseModel):
    """Which failed or waiting records to retry; every field left out matches all."""

    model_config = ConfigDict(extra="forbid")

    status: list[RetryableStatus] = Field(
        default_factory=lambda: list(RETRYABLE_STATUSES), min_length=1, description="Only these states"
    )
    reason_code: str | None = Field(default=None, max_length=50, examples=["product_unmapped"])
    source: Literal["ontraport", "onport"] | None = None
    since: datetime | None = Field(default=None, description="Source date on or after this moment")
    until: datetime | None = Field(default=None, description="Source date before this moment")


class RetryQueued(BaseModel):
    queued: int = Field(description="Records handed back to the mapper by this call", examples=[18])
    matched: int = Field(description="Records the filter matched", examples=[18])
    remaining: int = Field(
        description="Matched records not queued by this call (at most 5,000 go per call): call again",
        examples=[0],
    )


class RecordPage(BaseModel):
    items: list[RecordSummary]
    page: int
    page_size: int
    total: int


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: DocumentKind
    status: DocumentStatus
    xero_connection_id: uuid.UUID
    xero_id: str | None
    xero_number: str | None
    amount: Decimal | None
    attempts: int
    last_error: str | None
    target_id: str | None
    request_body: dict[str, Any]
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    url: str | None = None


class RecordEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    reason: str | None
    detail: dict[str, Any]
    created_at: datetime


class RecordDetail(RecordSummary):
    payload: dict[str, Any] = Field(description="The source record as read from ONTRAPORT or Onport")
    documents: list[DocumentOut] = Field(description="Every Xero document built for the record, oldest first")
    history: list[RecordEventOut] = Field(description="Every state change, oldest first")


DecisionType = Literal["publish", "skip", "fail", "wait", "no_change"]


class PreviewDocument(BaseModel):
    kind: str = Field(examples=["invoice"])
    body: dict[str, Any] = Field(description="The request body as it would be sent to Xero")
    target_id: str | None = Field(description="The Xero document acted on (payment delete, invoice void)")
    fingerprint: str
    stored_status: DocumentStatus | None = Field(
        description="Status of the stored document with exactly this content, if there is one"
    )


class RecordPreview(BaseModel):
    """What the mapping would decide now; nothing is sent or stored."""

    record_id: uuid.UUID
    decision: DecisionType
    reason: str | None = Field(description="Why (skip, fail, wait, no change) or a summary (publish)")
    reason_code: str | None = None
    documents: list[PreviewDocument] = Field(
        default_factory=list,
        description="What goes to Xero: now for publish, once the plan is upgraded for a record the trial holds",
    )
