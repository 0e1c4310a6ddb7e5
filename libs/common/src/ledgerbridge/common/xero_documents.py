"""Our documents as Xero holds them now, read in bulk and cached (``XeroDocumentState``).

A read costs Xero budget (SPEC.md §3.1: every GET is a cost), so only what is missing from the cache,
older than the cache's age, or marked stale by a Xero webhook is read again, in chunks: ``GET
/Invoices?IDs=`` (invoices and bills), ``GET /CreditNotes`` and ``GET /Payments`` filtered by id with
``where``. A chunk is never larger than one page of Xero's answer, so one chunk is one call. Whatever the
call budget does not reach keeps its cached copy, or is reported as not read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.documents import DocumentKind
from ledgerbridge.bookkeeping.rollback import XeroHeld
from ledgerbridge.common.clients.xero import XeroClient
from ledgerbridge.common.models import Connection, ConnectionKind, XeroDocumentState

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
PAYMENT = "payment"

RESOURCE_OF: dict[DocumentKind, str] = {
    DocumentKind.invoice: INVOICE,
    DocumentKind.bill: INVOICE,
    DocumentKind.credit_note: CREDIT_NOTE,
    DocumentKind.supplier_credit_note: CREDIT_NOTE,
    DocumentKind.payment: PAYMENT,
    DocumentKind.refund_payment: PAYMENT,
    DocumentKind.bill_payment: PAYMENT,
}
# Xero serves 100 documents a page; a chunk of ids stays well inside one page and one URL.
IDS_PER_INVOICE_CALL = 50
IDS_PER_WHERE_CALL = 25
WEBHOOK_RESOURCES = {"INVOICE": INVOICE, "CREDITNOTE": CREDIT_NOTE}


@dataclass
class ReadStats:
    calls: int = 0
    read: int = 0
    cached: int = 0
    not_read: list[str] = field(default_factory=list)


def _money(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


def _document_facts(document: dict[str, Any], id_field: str) -> tuple[str, dict[str, Any]]:
    credited = document.get("AmountCredited")
    if credited is None:
        credited = sum(
            (Decimal(str(a.get("Amount", 0))) for a in document.get("Allocations") or []), Decimal(0)
        )
    facts = {
        "payment_ids": sorted(str(p.get("PaymentID", "")).lower() for p in document.get("Payments") or []),
        "credited": str(credited),
    }
    return str(document[id_field]).lower(), facts


def _payment_facts(payment: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    paid = payment.get("Invoice") or payment.get("CreditNote") or {}
    document_id = paid.get("InvoiceID") or paid.get("CreditNoteID")
    facts = {
        "reconciled": bool(payment.get("IsReconciled")),
        "document_id": str(document_id).lower() if document_id else None,
    }
    return str(payment["PaymentID"]).lower(), facts


def _guids(field_name: str, ids: Sequence[str]) -> str:
    return " OR ".join(f'{field_name}==Guid("{value}")' for value in ids)


async def _read(client: XeroClient, resource: str, ids: Sequence[str]) -> list[dict[str, Any]]:
    if resource == INVOICE:
        return await client.get_invoices(ids=list(ids))
    if resource == CREDIT_NOTE:
        return await client.get_credit_notes(where=_guids("CreditNoteID", ids))
    return await client.get_payments(where=_guids("PaymentID", ids))


def _row(resource: str, document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if resource == INVOICE:
        xero_id, facts = _document_facts(document, "InvoiceID")
        return xero_id, {
            "status": document.get("Status"),
            "number": document.get("InvoiceNumber"),
            "total": _money(document.get("Total")),
            "facts": facts,
        }
    if resource == CREDIT_NOTE:
        xero_id, facts = _document_facts(document, "CreditNoteID")
        return xero_id, {
            "status": document.get("Status"),
            "number": document.get("CreditNoteNumber"),
            "total": _money(document.get("Total")),
            "facts": facts,
        }
    xero_id, facts = _payment_facts(document)
    return xero_id, {
        "status": document.get("Status"),
        "number": document.get("Reference"),
        "total": _money(document.get("Amount")),
        "facts": facts,
    }


def held_of(state: XeroDocumentState) -> XeroHeld:
    facts = state.facts or {}
    return XeroHeld(
        found=state.found,
        status=state.status,
        total=state.total,
        payment_ids=tuple(facts.get("payment_ids") or ()),
        credited=Decimal(str(facts.get("credited") or 0)),
        reconciled=bool(facts.get("reconciled")),
    )


async def xero_held(
    session: AsyncSession,
    client: Callable[[], XeroClient],
    account_id: uuid.UUID,
    xero_connection_id: uuid.UUID,
    wanted: Iterable[tuple[str, str]],
    *,
    now: datetime,
    max_age: timedelta,
    max_calls: int,
) -> tuple[dict[str, XeroHeld], ReadStats]:
    """Xero's copy of each ``(resource, xero_id)``, keyed by lower-case id, reading only what must be.

    ``client`` is called once, and only when something has to be read.
    """
    by_resource: dict[str, set[str]] = {}
    for resource, xero_id in wanted:
        by_resource.setdefault(resource, set()).add(xero_id.lower())
    stats = ReadStats()
    known: dict[tuple[str, str], XeroDocumentState] = {}
    for resource, ids in by_resource.items():
        rows = await session.scalars(
            select(XeroDocumentState).where(
                XeroDocumentState.xero_connection_id == xero_connection_id,
                XeroDocumentState.resource == resource,
                XeroDocumentState.xero_id.in_(ids),
            )
        )
        known.update({(resource, row.xero_id): row for row in rows})
    xero: XeroClient | None = None
    for resource, ids in sorted(by_resource.items()):
        due = sorted(
            xero_id
            for xero_id in ids
            if (state := known.get((resource, xero_id))) is None
            or state.stale
            or state.fetched_at < now - max_age
        )
        size = IDS_PER_INVOICE_CALL if resource == INVOICE else IDS_PER_WHERE_CALL
        for start in range(0, len(due), size):
            chunk = due[start : start + size]
            if stats.calls >= max_calls:
                stats.not_read.extend(i for i in chunk if (resource, i) not in known)
                continue
            xero = xero or client()
            answer = await _read(xero, resource, chunk)
            stats.calls += 1
            found = dict(_row(resource, document) for document in answer)
            for xero_id in chunk:
                values = found.get(xero_id)
                row = {
                    "xero_connection_id": xero_connection_id,
                    "resource": resource,
                    "xero_id": xero_id,
                    "account_id": account_id,
                    "found": values is not None,
                    "status": values["status"] if values else None,
                    "number": values["number"] if values else None,
                    "total": values["total"] if values else None,
                    "facts": values["facts"] if values else {},
                    "fetched_at": now,
                    "stale": False,
                }
                statement = insert(XeroDocumentState).values(**row)
                await session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["xero_connection_id", "resource", "xero_id"],
                        set_={
                            k: statement.excluded[k]
                            for k in row
                            if k not in ("xero_connection_id", "resource", "xero_id")
                        },
                    )
                )
                stats.read += 1
    held: dict[str, XeroHeld] = {}
    for resource, ids in by_resource.items():
        rows = await session.scalars(
            select(XeroDocumentState)
            .where(
                XeroDocumentState.xero_connection_id == xero_connection_id,
                XeroDocumentState.resource == resource,
                XeroDocumentState.xero_id.in_(ids),
            )
            .execution_options(populate_existing=True)
        )
        for state in rows:
            held[state.xero_id] = held_of(state)
    stats.cached = len(held) - stats.read
    return held, stats


async def mark_stale(session: AsyncSession, tenant_id: str, category: str, resource_id: str) -> int:
    """A Xero webhook said a document changed: its cached copy (and its payments') is read again next time.

    Returns how many cached rows were marked.
    """
    resource = WEBHOOK_RESOURCES.get(category)
    if resource is None:
        return 0
    connections = select(Connection.id).where(
        Connection.kind == ConnectionKind.xero, Connection.xero_tenant_id == tenant_id
    )
    xero_id = resource_id.lower()
    marked = await session.execute(
        update(XeroDocumentState)
        .where(
            XeroDocumentState.xero_connection_id.in_(connections),
            ((XeroDocumentState.resource == resource) & (XeroDocumentState.xero_id == xero_id))
            | (
                (XeroDocumentState.resource == PAYMENT)
                & (func.lower(XeroDocumentState.facts["document_id"].astext) == xero_id)
            ),
        )
        .values(stale=True)
    )
    return int(marked.rowcount or 0)  # type: ignore[attr-defined]
