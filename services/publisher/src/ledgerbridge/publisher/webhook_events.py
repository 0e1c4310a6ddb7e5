"""Xero webhook events stored by the API: note on a record's history when Xero changed its document,
and mark a changed contact's name to be read again (``kinds.contact_names``). Every event marks our
cached copy of what it names stale; then its category's handler (``HANDLERS``) does the rest.

Events are thin (SPEC.md §3.1): they say that an invoice or credit note changed, not how. This handler
records the change where people look (the record's history), marks our cached copy of the document
stale (so the next reconciliation report or rollback reads it again, in bulk with the others) and marks
the event processed. One change is worth a read at once: a draft invoice of ours may have been approved,
and then its payment is due (``approved_drafts``, one ``GET /Invoices?IDs=`` for the event's drafts).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.documents import DocumentKind, InvoiceStatus
from ledgerbridge.common.clients.xero import XeroClient
from ledgerbridge.common.messaging.messages import HandleWebhookEvent
from ledgerbridge.common.models import (
    Connection,
    ConnectionKind,
    Document,
    DocumentStatus,
    InboxMessage,
    RecordEvent,
    SourceRecord,
)
from ledgerbridge.common.xero_documents import mark_stale
from ledgerbridge.publisher import approved_drafts
from ledgerbridge.publisher.kinds import contact_names

CHANGED_IN_XERO = "Changed in Xero: re-fetch needed"


@dataclass(frozen=True)
class XeroEvent:
    """One stored event that names a resource of an organisation."""

    tenant_id: str
    resource_id: str
    payload: Mapping[str, Any]
    """The event as Xero sent it (its category, type and date go into the record's history as they are)."""


EventHandler = Callable[[AsyncSession, XeroEvent, Callable[[Connection], XeroClient]], Awaitable[None]]


async def handle_xero_event(
    session: AsyncSession, message: HandleWebhookEvent, *, client_for: Callable[[Connection], XeroClient]
) -> None:
    # Locked, so a redelivered message waits for the first run and then finds the row processed.
    row = await session.get(InboxMessage, (message.consumer, message.message_key), with_for_update=True)
    if row is None or row.processed_at is not None:
        return
    payload = row.payload or {}
    resource_id = str(payload.get("resourceId") or "")
    tenant_id = str(payload.get("tenantId") or "")
    if resource_id and tenant_id:
        category = str(payload.get("eventCategory") or "")
        await mark_stale(session, tenant_id, category, resource_id)
        handler = HANDLERS.get(category)
        if handler is not None:
            await handler(session, XeroEvent(tenant_id, resource_id, payload), client_for)
    row.processed_at = datetime.now(UTC)


async def _contact_changed(
    session: AsyncSession, event: XeroEvent, client_for: Callable[[Connection], XeroClient]
) -> None:
    """A contact made or changed in Xero: its name is read again before the next contacts are sent."""
    created = event.payload.get("eventType") == "CREATE"
    await contact_names.changed_in_xero(session, event.tenant_id, event.resource_id, created=created)


async def _document_changed(
    session: AsyncSession, event: XeroEvent, client_for: Callable[[Connection], XeroClient]
) -> None:
    """An invoice or credit note changed in Xero: a note on the history of each record it is ours for,
    and a read of those that were our drafts (one may have been approved)."""
    if event.payload.get("eventType") != "UPDATE":
        return
    # Only documents we published in that organisation; Xero's GUIDs compare without case.
    matches = await session.execute(
        select(Document, SourceRecord, Connection)
        .join(SourceRecord, SourceRecord.id == Document.record_id)
        .join(Connection, Connection.id == Document.xero_connection_id)
        .where(
            Connection.kind == ConnectionKind.xero,
            Connection.xero_tenant_id == event.tenant_id,
            func.lower(Document.xero_id) == event.resource_id.lower(),
            Document.status == DocumentStatus.published,
        )
    )
    drafts: dict[uuid.UUID, tuple[Connection, set[str]]] = {}
    for document, record, connection in matches.all():
        if document.kind is DocumentKind.invoice and (
            document.request_body.get("Status") == InvoiceStatus.DRAFT.value
        ):
            drafts.setdefault(connection.id, (connection, set()))[1].add(str(document.xero_id))
        # The record's state does not change: from and to are the same, the reason says what happened.
        session.add(
            RecordEvent(
                account_id=record.account_id,
                record_id=record.id,
                from_status=str(record.status),
                to_status=str(record.status),
                reason=CHANGED_IN_XERO,
                detail={
                    "document_id": str(document.id),
                    "document_kind": str(document.kind),
                    "xero_id": document.xero_id,
                    "event_category": event.payload.get("eventCategory"),
                    "event_type": event.payload.get("eventType"),
                    "event_date_utc": event.payload.get("eventDateUtc"),
                },
            )
        )
    for connection, xero_ids in drafts.values():
        await approved_drafts.check(session, connection, client_for, datetime.now(UTC), xero_ids)


HANDLERS: dict[str, EventHandler] = {
    "CONTACT": _contact_changed,
    "INVOICE": _document_changed,
    "CREDITNOTE": _document_changed,
}
"""What each event category needs beyond its cached copy marked stale; other categories need nothing."""
