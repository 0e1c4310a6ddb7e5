"""Versioned JSON message schemas exchanged between services.

A message is a pydantic model with a ``TYPE`` (what it asks for), a ``VERSION`` (bumped on any
incompatible change; consumers reject versions they do not know) and the queue that consumes it.
On the wire it travels inside an :class:`Envelope` whose ``id`` is the outbox row id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ledgerbridge.common.messaging.queues import Queue


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    QUEUE: ClassVar[Queue]


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    type: str
    version: int
    account_id: uuid.UUID | None
    body: dict[str, Any]


class PollConnection(Message):
    """Poll one source connection now (schedule, "sync now", webhook ping)."""

    TYPE = "poll.connection"
    QUEUE = Queue.poller

    connection_id: uuid.UUID
    reason: str = "schedule"


class RunImport(Message):
    """Run (or resume) a historical import."""

    TYPE = "import.run"
    QUEUE = Queue.poller

    import_id: uuid.UUID


class MapRecord(Message):
    """Turn a stored source record into Xero documents."""

    TYPE = "record.map"
    QUEUE = Queue.mapper

    record_id: uuid.UUID


class MapRecords(Message):
    """Turn many stored source records into Xero documents in one transaction (a poll's page, a fix).

    The mapper reads each tenant's inputs once for the whole batch and decides every record on its own.
    """

    TYPE = "records.map"
    QUEUE = Queue.mapper
    MAX_RECORDS: ClassVar[int] = 100

    record_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_RECORDS)


class PublishPending(Message):
    """Send a Xero organisation's pending documents in batches."""

    TYPE = "documents.publish"
    QUEUE = Queue.publisher

    xero_connection_id: uuid.UUID


class RefreshXeroReference(Message):
    """Read an organisation's accounts, tax rates, branding themes and currencies into the cache."""

    TYPE = "xero.reference.refresh"
    QUEUE = Queue.publisher

    xero_connection_id: uuid.UUID
    # When it was asked for: a copy read after that serves it, however many asked (a new organisation's
    # records ask once per batch). Absent (older messages): a copy under a minute old serves it.
    asked_at: datetime | None = None


class HandleWebhookEvent(Message):
    """Process an external webhook event stored in the inbox."""

    TYPE = "webhook.handle"
    QUEUE = Queue.publisher

    consumer: str
    message_key: str


MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        PollConnection,
        RunImport,
        MapRecord,
        MapRecords,
        PublishPending,
        RefreshXeroReference,
        HandleWebhookEvent,
    )
}


class UnknownMessageError(ValueError):
    """A message this code cannot read: unknown type or version."""


def decode(envelope: Envelope, types: dict[str, type[Message]] = MESSAGE_TYPES) -> Message:
    cls = types.get(envelope.type)
    if cls is None:
        raise UnknownMessageError(f"unknown message type {envelope.type!r}")
    if envelope.version != cls.VERSION:
        raise UnknownMessageError(
            f"message {envelope.type!r} has version {envelope.version}, this code reads version {cls.VERSION}"
        )
    return cls.model_validate(envelope.body)


class RefreshOnportInvoice(Message):
    """Onport pushed this purchase invoice: read it from Onport by id and store what Onport returns.

    A push is only a ping; its body is never trusted (whoever holds the URL could forge it)."""

    TYPE = "onport.invoice.refresh"
    QUEUE = Queue.poller

    connection_id: uuid.UUID
    invoice_id: int
    purchase_type: str | None = None
