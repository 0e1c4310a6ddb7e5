"""Onport purchase invoices with their Xero bills, the manual "sync to Xero", and vendors with their links."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.connections.partners import Partners, partner_errors
from ledgerbridge.api.onport import repository
from ledgerbridge.api.onport.schemas import (
    OnportInvoice,
    OnportInvoicePage,
    OnportVendor,
    OnportVendorList,
    VendorRef,
)
from ledgerbridge.api.problems import ProblemError
from ledgerbridge.api.records import repository as records_repository
from ledgerbridge.api.records.schemas import XeroLink
from ledgerbridge.api.records.service import xero_url
from ledgerbridge.bookkeeping.bills import BillOptions, PurchaseInvoiceError, parse_purchase_invoice
from ledgerbridge.bookkeeping.bills.figures import bill_figures
from ledgerbridge.common.crypto import DecryptionError
from ledgerbridge.common.models import Document, DocumentStatus, RecordStatus, SourceRecord, User
from ledgerbridge.common.records.lifecycle import requeue

# A person's "sync to Xero" moves these on; received/mapped are under way and synced is done already.
SYNCABLE = (RecordStatus.waiting, RecordStatus.failed)


def _kind(purchase_type: Any) -> str:
    return "replenishment" if str(purchase_type or "").endswith("replenishment") else "dropship"


def _money(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _figures(payload: dict[str, Any]) -> tuple[str | None, Decimal | None]:
    """Currency and what the vendor is owed, worked out from the lines as the bill rules do: Onport
    serves neither on the invoice. None for a record those rules cannot read."""
    try:
        record = parse_purchase_invoice(payload)
    except PurchaseInvoiceError:
        return None, None
    currencies = {item.currency for item in record.items if item.currency}
    currency = next(iter(currencies)) if len(currencies) == 1 else record.vendor_currency
    return currency, bill_figures(record, BillOptions(sync_adjustments=True)).total


def _invoice(record: SourceRecord, document: Document | None) -> OnportInvoice:
    payload = record.payload
    invoice: dict[str, Any] = payload.get("invoice") or {}
    purchase: dict[str, Any] = payload.get("purchase") or {}
    vendor: dict[str, Any] = payload.get("vendor") or {}
    link = None
    if document is not None:
        number = document.xero_number or document.request_body.get("InvoiceNumber")
        link = XeroLink(
            document_id=document.id,
            kind=document.kind,
            status=document.status,
            number=_text(number),
            xero_id=document.xero_id,
            url=xero_url(document),
        )
    published = document is not None and document.status is DocumentStatus.published
    currency, total = _figures(payload)
    return OnportInvoice(
        id=record.id,
        connection_id=record.connection_id,
        invoice_id=record.external_id,
        reference=_text(invoice.get("reference")),
        purchase_type=_text(purchase.get("purchaseType")),
        kind="replenishment" if _kind(purchase.get("purchaseType")) == "replenishment" else "dropship",
        vendor=VendorRef(
            id=_int(vendor.get("id", purchase.get("dropshipProviderId"))), name=_text(vendor.get("name"))
        ),
        currency=currency,
        total=total,
        payment_status=_text(invoice.get("paymentStatus")),
        status=record.status,
        reason=record.reason,
        reason_code=record.reason_code,
        invoice_date=record.source_date,
        created_at=record.created_at,
        updated_at=record.updated_at,
        xero=link,
        xero_bill_id=document.xero_id if published and document is not None else None,
        xero_url=link.url if published and link is not None else None,
    )


def _not_found(record_id: uuid.UUID) -> ProblemError:
    return ProblemError(404, "Not found", f"No Onport invoice {record_id}")


async def list_invoices(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    status: RecordStatus | None,
    kind: str | None,
    page: int,
    page_size: int,
) -> OnportInvoicePage:
    records, total = await repository.list_invoices(
        session, account_id, status=status, kind=kind, offset=(page - 1) * page_size, limit=page_size
    )
    links = await records_repository.linked_documents(session, [record.id for record in records])
    return OnportInvoicePage(
        items=[_invoice(record, links.get(record.id)) for record in records],
        page=page,
        page_size=page_size,
        total=total,
    )


async def sync_invoice(session: AsyncSession, user: User, record_id: uuid.UUID) -> tuple[OnportInvoice, bool]:
    """Send one invoice to the mapper; True when it was queued now, False when it is synced or on its
    way already (the answer then shows where it is, with its Xero link once published)."""
    # Locked so a concurrent mapper run or a second click sees this one's outcome, not a stale status.
    record = await repository.get_invoice(session, user.account_id, record_id, for_update=True)
    if record is None:
        raise _not_found(record_id)
    if record.status is RecordStatus.skipped:
        raise ProblemError(
            409,
            "Invoice cannot be synced",
            f"Onport invoice {record.external_id} was skipped: {record.reason or 'nothing to send'}",
            type_="https://ledgerbridge.dev/problems/not-syncable",
        )
    queued = record.status in SYNCABLE
    if queued:
        await requeue(
            session,
            record,
            "Sync to Xero requested",
            detail={"requested_by": str(user.id), "was": record.reason},
        )
        await session.flush()
        await session.refresh(record)  # server-side updated_at
    links = await records_repository.linked_documents(session, [record.id])
    return _invoice(record, links.get(record.id)), queued


def _vendor(raw: dict[str, Any], links: dict[str, dict[str, Any]], names: dict[str, str]) -> OnportVendor:
    vendor_id = int(raw["id"])
    target = links.get(str(vendor_id)) or {}
    contact_id = _text(target.get("contact_id"))
    return OnportVendor(
        id=vendor_id,
        name=_text(raw.get("name")),
        type=_kind(kind) if (kind := raw.get("_purchaseType")) else None,
        currency=_text(raw.get("orderCurrencyCode")),
        email=_text(raw.get("email")),
        linked=contact_id is not None,
        contact_id=contact_id,
        contact_name=names.get(contact_id.lower()) if contact_id else None,
    )


async def list_vendors(
    session: AsyncSession, account_id: uuid.UUID, partners: Partners | None, *, required: bool = True
) -> OnportVendorList:
    """Vendors seen on stored invoices; with ``partners``, also those read from each active Onport
    connection (a vendor with no invoice yet can be linked before its first bill). When reading Onport
    is not ``required`` (the default listing) and it cannot be read, the stored ones are answered."""
    raw: dict[int, dict[str, Any]] = {}
    for vendor in await repository.vendors_on_records(session, account_id):
        vendor_id = _int(vendor.get("id"))
        if vendor_id is not None:
            raw.setdefault(vendor_id, vendor)
    live = False
    if partners is not None:
        try:
            live = await _read_onport_vendors(session, account_id, partners, raw)
        except ProblemError:
            if required:
                raise
    links = await repository.vendor_links(session, account_id)
    names = await repository.cached_contacts(session, account_id)
    return OnportVendorList(
        items=[_vendor(raw[vendor_id], links, names) for vendor_id in sorted(raw)],
        source="onport" if live else "records",
    )


async def _read_onport_vendors(
    session: AsyncSession, account_id: uuid.UUID, partners: Partners, raw: dict[int, dict[str, Any]]
) -> bool:
    """Adds each connected Onport account's vendors to ``raw`` (what the stored invoices say of a vendor,
    its kind, is kept); False when the account has no Onport connection."""
    connections = await repository.onport_connections(session, account_id)
    for connection in connections:
        try:
            token = str(partners.credentials(connection).get("api_token") or "")
        except DecryptionError:
            raise ProblemError(
                409,
                "Onport connection needs reconnecting",
                f"The stored credentials of Onport connection {connection.id} cannot be read; "
                "connect the Onport account again",
                type_="https://ledgerbridge.dev/problems/credentials-unreadable",
            ) from None
        with partner_errors("Onport"):
            providers = await partners.onport(token).dropship_providers()
        for provider in providers:
            raw[provider.id] = {**raw.get(provider.id, {}), **provider.raw}
    return bool(connections)
