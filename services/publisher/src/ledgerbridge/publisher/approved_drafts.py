"""Draft invoices we sent (the DRAFT invoice status setting) that a person approved in Xero since: read
again in bulk, and their records mapped again so the core sends the payment Xero refused on the draft.

Two ways in: a Xero INVOICE webhook naming one of our drafts (``webhook_events``), and, for webhooks
that never came, the publisher's sweep, which reads an organisation's drafts again every
``draft_recheck_seconds`` while paid sales sit on them. Either way one ``GET /Invoices?IDs=`` reads up
to 50 (``xero_documents``), and what Xero answers is cached where the mapping reads it (``held_draft``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ledgerbridge.bookkeeping.documents import DocumentKind, InvoiceStatus
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.clients.xero import XeroClient
from ledgerbridge.common.models import (
    Connection,
    ConnectionStatus,
    Document,
    DocumentStatus,
    RecordStatus,
    SourceRecord,
    XeroDocumentState,
)
from ledgerbridge.common.records.lifecycle import requeue
from ledgerbridge.common.xero_documents import INVOICE, xero_held

UNAPPROVED = ("DRAFT", "SUBMITTED")
APPROVED = ("AUTHORISED", "PAID")
MAX_CALLS = 20
"""Calls one pass spends on one organisation (1,000 drafts); the rest are read on the next pass."""
PAID_AT_SOURCE = "1"  # ONTRAPORT's transaction status for paid


def _cached() -> ColumnElement[bool]:
    return and_(
        XeroDocumentState.xero_connection_id == Document.xero_connection_id,
        XeroDocumentState.resource == INVOICE,
        XeroDocumentState.xero_id == func.lower(Document.xero_id),
    )


def _unapproved_drafts() -> ColumnElement[bool]:
    """Our published DRAFT invoices on paid sales without our payment, not yet seen approved in Xero (or
    changed there since: a draft approved for another amount and then corrected)."""
    payment = aliased(Document)
    paid_by_us = (
        select(payment.id)
        .where(
            payment.record_id == SourceRecord.id,
            payment.kind == DocumentKind.payment,
            payment.status == DocumentStatus.published,
        )
        .exists()
    )
    return and_(
        Document.kind == DocumentKind.invoice,
        Document.status == DocumentStatus.published,
        Document.xero_id.is_not(None),
        Document.request_body["Status"].astext == InvoiceStatus.DRAFT.value,
        or_(
            SourceRecord.status == RecordStatus.synced,
            and_(
                SourceRecord.status == RecordStatus.failed,
                SourceRecord.reason_code == ReasonCode.approved_amount_differs.value,
            ),
        ),
        SourceRecord.payload["transaction"]["status"].astext == PAID_AT_SOURCE,
        ~paid_by_us,
        or_(
            XeroDocumentState.xero_id.is_(None),
            XeroDocumentState.status.in_(UNAPPROVED),
            XeroDocumentState.stale,
        ),
    )


async def check(
    session: AsyncSession,
    connection: Connection,
    client_for: Callable[[Connection], XeroClient],
    now: datetime,
    xero_ids: Iterable[str] | None = None,
) -> int:
    """Read the organisation's unapproved drafts (only ``xero_ids`` when given) and map again the records
    of those Xero now holds approved; returns how many were handed to the mapper."""
    query = (
        select(Document, SourceRecord)
        .join(SourceRecord, SourceRecord.id == Document.record_id)
        .outerjoin(XeroDocumentState, _cached())
        .where(
            Document.xero_connection_id == connection.id,
            SourceRecord.account_id == connection.account_id,
            _unapproved_drafts(),
        )
    )
    if xero_ids is not None:
        query = query.where(func.lower(Document.xero_id).in_([i.lower() for i in xero_ids]))
    # Locked like every record move, so a mapper run on the same record orders against this one.
    found = (await session.execute(query.with_for_update(of=SourceRecord, key_share=True))).all()
    if not found:
        return 0
    held, _ = await xero_held(
        session,
        lambda: client_for(connection),
        connection.account_id,
        connection.id,
        [(INVOICE, str(document.xero_id)) for document, _ in found],
        now=now,
        max_age=timedelta(0),  # the cached copy is what is in doubt
        max_calls=MAX_CALLS,
    )
    moved = 0
    for document, record in found:
        copy = held.get(str(document.xero_id).lower())
        if copy is None or copy.status not in APPROVED:
            continue
        number = document.xero_number or document.request_body.get("InvoiceNumber")
        await requeue(
            session,
            record,
            f"Invoice {number} was approved in Xero ({copy.status})",
            detail={"document_id": str(document.id), "xero_status": copy.status},
        )
        moved += 1
    return moved


async def due_organisations(session: AsyncSession, now: datetime, every: timedelta) -> list[uuid.UUID]:
    """Organisations with an unapproved draft on a paid sale not read for ``every`` (since it was sent)."""
    rows = await session.scalars(
        select(Document.xero_connection_id)
        .join(SourceRecord, SourceRecord.id == Document.record_id)
        .join(Connection, Connection.id == Document.xero_connection_id)
        .outerjoin(XeroDocumentState, _cached())
        .where(
            Connection.status == ConnectionStatus.active,
            _unapproved_drafts(),
            func.coalesce(XeroDocumentState.fetched_at, Document.published_at, Document.created_at)
            < now - every,
        )
        .distinct()
    )
    return list(rows)


async def sweep(
    session: AsyncSession,
    client_for: Callable[[Connection], XeroClient],
    now: datetime,
    every: timedelta,
) -> int:
    """The safety net: every due organisation's drafts read again in one pass (so their timers align and
    an organisation costs one read per ``every``)."""
    moved = 0
    for connection_id in await due_organisations(session, now, every):
        connection = await session.get(Connection, connection_id)
        if connection is not None and connection.xero_tenant_id:
            moved += await check(session, connection, client_for, now)
    return moved
