"""Storing Onport purchase invoices as source records, polled or re-read after a push (always as Onport
returns them, never as a push claims them).

One record per purchase invoice (an order invoiced in parts is several invoices, so several bills),
with everything the mapper needs stored alongside, so mapping needs no network::

    {"invoice": raw invoice, "items": [raw invoice item + "purchaseItem": raw purchase item],
     "purchase": raw purchase, "vendor": raw dropship provider, "payments": [raw payouts],
     "shippingRates": [raw invoiced shipping rates], "landedCosts": [raw invoice landed costs],
     "landedCostItems": [raw line landed costs]}   (each landed cost with "landedCost" embedded)

Whether anything changed is decided on a projection of that payload (``content_hash``) that leaves out
what moves without the bill changing: timestamps, fields an accounting integration writes back
(``xeroId``…), a purchase's running totals as its other invoices come in, the vendor's profile. So a
payout or an adjustment is new work, while our own write-back, a sibling invoice or a renamed vendor is
not, and a push re-read and a poll of the same invoice version store one record once.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.common.account_settings import OnportOptions
from ledgerbridge.common.messaging.messages import MapRecord
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import AccountSettings, Connection, RecordStatus, SourceRecord
from ledgerbridge.common.records.lifecycle import move

log = structlog.get_logger(__name__)

SOURCE = "onport"
KIND = "purchase_invoice"
FETCHED = "Fetched from Onport"
PUSHED = "Pushed by Onport"

# Written by accounting integrations (us included) or bumped on every touch: not a change to the bill.
_INVOICE_NOISE = frozenset(
    {
        "updatedAt",
        "xeroId",
        "quickbooksId",
        "externalId",
        "accountingError",
        "accountingIntegrationExternalId",
    }
)
# A purchase item's running counters move when a later invoice bills more of it.
_PURCHASE_ITEM_NOISE = frozenset(
    {"updatedAt", "quantityInvoiced", "purchaseInvoiceId", "locked", "inventoryProcessed"}
)
_PAYMENT_NOISE = frozenset({"updatedAt", "xeroId", "externalId"})
_CHARGE_NOISE = frozenset({"updatedAt", "createdAt"})
# Payload keys of the charges Onport keeps beside an invoice (read by polling only).
CHARGE_KEYS = ("shippingRates", "landedCosts", "landedCostItems")
# What of the purchase shapes the bill; its statuses and totals change with every sibling invoice.
_PURCHASE_FIELDS = (
    "id",
    "reference",
    "purchaseType",
    "dropshipProviderId",
    "currency",
    "taxIncluded",
    "taxShipping",
    "combinedTaxRate",
    "taxCalculation",
)


@dataclass(frozen=True)
class Outcome:
    """What storing one invoice did: ``queued`` for mapping, or ``stored`` as new work waiting for a
    manual sync; both False when nothing changed."""

    stored: bool
    queued: bool


def _without(record: dict[str, Any], noise: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in noise}


def content_hash(payload: dict[str, Any]) -> str:
    item_rows = []
    for item in payload.get("items") or []:
        purchase_item = item.get("purchaseItem")
        row = _without(item, frozenset({"updatedAt", "purchaseItem"}))
        if isinstance(purchase_item, dict):
            row["purchaseItem"] = _without(purchase_item, _PURCHASE_ITEM_NOISE)
        item_rows.append(row)
    purchase = payload.get("purchase") or {}
    vendor = payload.get("vendor") or {}
    projection: dict[str, Any] = {
        "invoice": _without(payload.get("invoice") or {}, _INVOICE_NOISE),
        "items": sorted(item_rows, key=lambda row: str(row.get("id"))),
        "purchase": {name: purchase.get(name) for name in _PURCHASE_FIELDS},
        "vendor": vendor.get("id"),
        "payments": sorted(
            (_without(p, _PAYMENT_NOISE) for p in payload.get("payments") or []),
            key=lambda row: str(row.get("id")),
        ),
    }
    # Shipping and landed costs are bill lines too; absent (a push) and empty (none) differ.
    for key in CHARGE_KEYS:
        if key in payload:
            rows = (_without(row, _CHARGE_NOISE) for row in payload.get(key) or [] if isinstance(row, dict))
            projection[key] = sorted(rows, key=lambda row: str(row.get("id")))
    canonical = json.dumps(projection, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_stamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def invoice_date(invoice: dict[str, Any]) -> datetime | None:
    """Onport invoices carry no invoice date of their own; the day the invoice was raised stands for it."""
    for name in ("date", "invoiceDate", "dateInvoiced", "createdAt"):
        found = parse_stamp(invoice.get(name))
        if found is not None:
            return found
    return None


def purchase_kind(purchase_type: Any) -> str:
    """``dropship`` or ``replenishment``: automated_* and adjusted_* purchases belong with their plain kind."""
    return "replenishment" if str(purchase_type or "").endswith("replenishment") else "dropship"


async def onport_options(session: AsyncSession, account_id: uuid.UUID) -> OnportOptions:
    values = await session.scalar(
        select(AccountSettings.values).where(AccountSettings.account_id == account_id)
    )
    section = (values or {}).get("onport")
    try:
        return OnportOptions.model_validate(section if isinstance(section, dict) else {})
    except ValidationError as error:
        # Unreadable options must not stop invoices being stored; with automatic sync off they wait
        # for a person, which is the safe side.
        log.warning("onport.options_unreadable", account_id=str(account_id), error=str(error))
        return OnportOptions()


def auto_sync(options: OnportOptions, kind: str) -> bool:
    return options.auto_sync_replenishment if kind == "replenishment" else options.auto_sync_dropship


def manual_sync_reason(kind: str) -> str:
    return f"Automatic sync is off for {kind} invoices; use 'sync to Xero'"


def _waiting_for_person(record: SourceRecord) -> bool:
    return record.status is RecordStatus.waiting and record.reason_code == ReasonCode.manual_sync


async def existing_records(
    session: AsyncSession, account_id: uuid.UUID, invoice_ids: list[str]
) -> dict[str, SourceRecord]:
    """The stored records of these invoices, locked (FOR NO KEY UPDATE: our own FK inserts must not wait)."""
    if not invoice_ids:
        return {}
    rows = await session.scalars(
        select(SourceRecord)
        .where(
            SourceRecord.account_id == account_id,
            SourceRecord.source == SOURCE,
            SourceRecord.kind == KIND,
            SourceRecord.external_id.in_(invoice_ids),
        )
        .with_for_update(key_share=True)
    )
    return {record.external_id: record for record in rows.all()}


async def store_invoice(
    session: AsyncSession,
    connection: Connection,
    payload: dict[str, Any],
    options: OnportOptions,
    existing: SourceRecord | None,
    *,
    via: str,
) -> Outcome:
    """Upsert one invoice's record. New or changed content becomes work: queued for mapping when the
    purchase kind syncs automatically (or a person already sent this invoice to Xero), else waiting for
    a manual sync. Unchanged content only refreshes the stored copy (no history, no work)."""
    invoice = payload["invoice"]
    digest = content_hash(payload)
    kind = purchase_kind((payload.get("purchase") or {}).get("purchaseType"))
    if existing is not None and existing.payload_hash == digest:
        if existing.payload != payload:
            # Same bill, newer raw copy (e.g. the xeroId we wrote back): keep it current so the next
            # poll recognises this version without fetching its details again.
            existing.payload = payload
        return Outcome(stored=False, queued=False)

    if existing is None:
        record = await _new_record(session, connection, payload, digest, via, kind)
        # Automatic sync decides for new invoices only: once a person has sent an invoice to Xero, its
        # payouts and adjustments follow it there.
        queue = auto_sync(options, kind)
    else:
        record = existing
        queue = auto_sync(options, kind) or not _waiting_for_person(record)
        record.payload = payload
        record.payload_hash = digest
        record.source_date = invoice_date(invoice) or record.source_date
        if queue:
            move(
                session,
                record,
                RecordStatus.received,
                "Changed in Onport",
                detail={"was": record.reason, "kind": kind, "via": via},
            )
    if queue:
        await add_message(session, MapRecord(record_id=record.id), connection.account_id)
    else:
        _wait_for_person(session, record, kind, changed=existing is not None)
    return Outcome(stored=True, queued=queue)


async def _new_record(
    session: AsyncSession, connection: Connection, payload: dict[str, Any], digest: str, via: str, kind: str
) -> SourceRecord:
    invoice = payload["invoice"]
    record = SourceRecord(
        id=uuid.uuid4(),
        account_id=connection.account_id,
        connection_id=connection.id,
        source=SOURCE,
        kind=KIND,
        external_id=str(invoice["id"]),
        payload=payload,
        payload_hash=digest,
        status=RecordStatus.received,
        source_date=invoice_date(invoice),
    )
    session.add(record)
    await session.flush()
    move(session, record, RecordStatus.received, via, detail={"kind": kind})
    return record


def _wait_for_person(session: AsyncSession, record: SourceRecord, kind: str, *, changed: bool) -> None:
    """Automatic sync is off for this kind: the invoice waits for a person's "sync to Xero"."""
    setting = "onport.auto_sync_replenishment" if kind == "replenishment" else "onport.auto_sync_dropship"
    move(
        session,
        record,
        RecordStatus.waiting,
        manual_sync_reason(kind),
        code=ReasonCode.manual_sync,
        cause=Cause("setting", setting),
        detail={"kind": kind, "changed": changed},
    )
