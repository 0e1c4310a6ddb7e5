"""Polling one Onport connection (SPEC.md §3.3, §5).

Changed invoices are found by ``updatedAt`` at or after the stored mark (Onport's own timestamp, as it
sent it), so payouts and adjustments, which touch the invoice, come back by themselves. The listing is
the only call when nothing changed: an invoice listed again at the mark is recognised from its stored
copy and its details are not fetched. The cursor row is locked for the whole poll, so one poll per
connection runs at a time across replicas, and the mark advances in the same transaction as the
records it covers. A backlog larger than one poll's share continues in a follow-up poll.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.clients.factory import onport_client
from ledgerbridge.common.clients.onport import OnportNotFoundError
from ledgerbridge.common.clients.onport.stamps import CLOCK_SKEW, onport_stamp
from ledgerbridge.common.messaging.messages import PollConnection
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Connection, PollCursor, PollStream
from ledgerbridge.common.platform import Platform
from ledgerbridge.common.settings import PollingSettings
from ledgerbridge.poller.onport_records import (
    CHARGE_KEYS,
    FETCHED,
    PUSHED,
    existing_records,
    onport_options,
    parse_stamp,
    store_invoice,
)
from ledgerbridge.poller.onport_source import OnportSource, PurchaseInvoiceSource
from ledgerbridge.poller.schedule import next_poll_at

log = structlog.get_logger(__name__)

MAX_INVOICES_PER_POLL = 100  # one listing page; each changed invoice costs a few more calls at ~2 GET/s


# Our clock and Onport's may disagree a little; a new connection's mark starts this far back so an
# invoice stamped by a slightly slow Onport clock just before connecting is still seen (storing it
# twice is impossible, seeing it is cheap).
def onport_source_for(platform: Platform, http: httpx.AsyncClient, connection: Connection) -> OnportSource:
    """The connection's Onport account as a :class:`PurchaseInvoiceSource` (credentials decrypted here,
    never stored elsewhere; the limiter is the account's shared Redis bucket)."""
    credentials = platform.cipher.decrypt_json(connection.credentials)
    return OnportSource(onport_client(platform.settings, http, platform.transport.redis, credentials))


async def lock_onport_cursor(
    session: AsyncSession, connection_id: object, *, wait: bool = False
) -> PollCursor | None:
    """The connection's purchase-invoice cursor, locked for this poll; None while another poll holds it,
    unless ``wait`` (a follow-up poll, as ``lock_cursor``)."""
    cursor: PollCursor | None = await session.scalar(
        select(PollCursor)
        .where(PollCursor.connection_id == connection_id, PollCursor.stream == PollStream.purchase_invoices)
        .with_for_update(skip_locked=not wait, key_share=True)
    )
    return cursor


class InvoiceDetails:
    """The related records of one poll's invoices; purchases and vendors are shared by many invoices
    (an order invoiced in parts, a vendor's many orders), so each is fetched once per poll."""

    def __init__(self, source: PurchaseInvoiceSource) -> None:
        self.source = source
        self.purchases: dict[int, dict[str, Any]] = {}
        self.purchase_items: dict[int, dict[int, dict[str, Any]]] = {}
        self.vendors: dict[int, dict[str, Any]] = {}
        self.landed_cost_names: dict[int, dict[str, Any]] = {}

    async def purchase(self, purchase_id: int) -> dict[str, Any]:
        if purchase_id not in self.purchases:
            try:
                self.purchases[purchase_id] = await self.source.purchase(purchase_id)
            except OnportNotFoundError:
                # Stored without it: the mapper then holds the record with a reason, instead of one
                # vanished purchase stopping every later invoice of the account.
                self.purchases[purchase_id] = {}
            items = await self.source.purchase_items(purchase_id) if self.purchases[purchase_id] else []
            self.purchase_items[purchase_id] = {int(item["id"]): item for item in items}
        return self.purchases[purchase_id]

    async def vendor(self, vendor_id: int) -> dict[str, Any]:
        if vendor_id not in self.vendors:
            try:
                self.vendors[vendor_id] = await self.source.vendor(vendor_id)
            except OnportNotFoundError:
                self.vendors[vendor_id] = {}
        return self.vendors[vendor_id]

    async def landed_cost(self, landed_cost_id: int | None) -> dict[str, Any]:
        if landed_cost_id is None:
            return {}
        if landed_cost_id not in self.landed_cost_names:
            try:
                self.landed_cost_names[landed_cost_id] = await self.source.landed_cost(landed_cost_id)
            except OnportNotFoundError:
                self.landed_cost_names[landed_cost_id] = {}
        return self.landed_cost_names[landed_cost_id]

    async def add_charges(self, payloads: list[dict[str, Any]]) -> None:
        """Shipping rates and landed costs of these payloads' invoices, fetched for all of them at once
        (Onport keeps them beside the invoice; one request per kind per poll page, not per invoice)."""
        if not payloads:
            return
        invoice_ids = [int(p["invoice"]["id"]) for p in payloads]
        owner = {
            item_id: int(p["invoice"]["id"])
            for p in payloads
            for item_id in (_int(item.get("id")) for item in p["items"])
            if item_id is not None
        }
        for payload in payloads:
            payload.update(shippingRates=[], landedCosts=[], landedCostItems=[])
        by_invoice = {int(p["invoice"]["id"]): p for p in payloads}
        for rate in await self.source.shipping_rates(invoice_ids):
            found = by_invoice.get(_int(rate.get("purchaseInvoiceId")) or 0)
            if found is not None and rate.get("invoiceShipping"):
                found["shippingRates"].append(rate)
        for row in await self.source.landed_costs(invoice_ids, list(owner)):
            named = {**row, "landedCost": await self.landed_cost(_int(row.get("landedCostId")))}
            on_item = _int(row.get("purchaseInvoiceItemId"))
            invoice_id = owner.get(on_item) if on_item is not None else _int(row.get("purchaseInvoiceId"))
            found = by_invoice.get(invoice_id or 0)
            if found is not None:
                found["landedCostItems" if on_item is not None else "landedCosts"].append(named)

    async def payload(self, invoice: dict[str, Any]) -> dict[str, Any]:
        """The stored payload of one invoice, without its charges (:meth:`add_charges` adds them)."""
        invoice_id = int(invoice["id"])
        purchase_id = _int(invoice.get("purchaseId"))
        purchase = await self.purchase(purchase_id) if purchase_id is not None else {}
        by_id = self.purchase_items.get(purchase_id, {}) if purchase_id is not None else {}
        items = [
            {**item, "purchaseItem": by_id.get(_int(item.get("purchaseItemId")) or 0)}
            for item in await self.source.invoice_items(invoice_id)
        ]
        vendor_id = _int(purchase.get("dropshipProviderId"))
        vendor = await self.vendor(vendor_id) if vendor_id is not None else {}
        payments = await self.source.payments(invoice_id)
        return {
            "invoice": invoice,
            "items": items,
            "purchase": purchase,
            "vendor": vendor,
            "payments": payments,
        }

    async def payloads(self, invoices: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = [await self.payload(invoice) for invoice in invoices]
        await self.add_charges(found)
        return found


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _latest_per_invoice(invoices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per invoice, its newest version: an invoice changing while we page is listed twice."""
    latest: dict[str, dict[str, Any]] = {}
    for invoice in invoices:
        latest[str(invoice["id"])] = invoice
    return list(latest.values())


async def poll_onport(
    session: AsyncSession,
    connection: Connection,
    cursor: PollCursor,
    source: PurchaseInvoiceSource,
    polling: PollingSettings,
) -> int:
    """One poll of a locked cursor; returns how many invoices became new work (queued for mapping or
    waiting for a manual sync). Schedules a follow-up poll when a backlog remains."""
    now = datetime.now(UTC)
    if cursor.high_water_mark is None:
        # Connections made before the API took the mark at connect time start at their first poll.
        cursor.high_water_mark = onport_stamp(now - CLOCK_SKEW)
        cursor.last_polled_at = now
        cursor.last_error = None
        cursor.next_poll_at = next_poll_at(polling, now)
        return 0

    mark = cursor.high_water_mark
    newest = parse_stamp(mark)
    listed = await source.invoices_changed_since(mark, MAX_INVOICES_PER_POLL)
    invoices = _latest_per_invoice(listed)
    existing = await existing_records(session, connection.account_id, [str(i["id"]) for i in invoices])
    options = await onport_options(session, connection.account_id)
    fetch = []
    for invoice in invoices:
        stamp = parse_stamp(invoice.get("updatedAt"))
        if stamp is not None and (newest is None or stamp > newest):
            newest, mark = stamp, str(invoice["updatedAt"])
        record = existing.get(str(invoice["id"]))
        stored_stamp = parse_stamp((record.payload.get("invoice") or {}).get("updatedAt")) if record else None
        complete = record is not None and CHARGE_KEYS[0] in record.payload
        if complete and stamp is not None and stored_stamp is not None and stored_stamp >= stamp:
            continue  # this version is stored already: no detail calls
        # (A pushed invoice is stored without its shipping and landed costs: fetched here, once.)
        fetch.append(invoice)
    changed = 0
    for payload in await InvoiceDetails(source).payloads(fetch):
        record = existing.get(str(payload["invoice"]["id"]))
        outcome = await store_invoice(session, connection, payload, options, record, via=FETCHED)
        changed += int(outcome.stored)

    backlog = len(listed) >= MAX_INVOICES_PER_POLL
    cursor.high_water_mark = mark
    cursor.last_polled_at = now
    cursor.last_error = None
    cursor.next_poll_at = now if backlog else next_poll_at(polling, now)
    if backlog:
        await add_message(
            session, PollConnection(connection_id=connection.id, reason="backlog"), connection.account_id
        )
    return changed


async def refresh_invoice(
    session: AsyncSession, connection: Connection, source: PurchaseInvoiceSource, invoice_id: int
) -> bool:
    """Onport pushed this invoice: read it (and what a bill is built from) from Onport by id and store
    that, exactly as a poll would. The pushed body is never used: whoever holds the push URL could have
    forged it. True when the invoice became new work; False when Onport has no such invoice (a forged
    id) or nothing changed."""
    try:
        invoice = await source.invoice(invoice_id)
    except OnportNotFoundError:
        log.info("onport.push_unknown_invoice", connection_id=str(connection.id), invoice_id=invoice_id)
        return False
    external_id = str(invoice["id"])
    existing = (await existing_records(session, connection.account_id, [external_id])).get(external_id)
    options = await onport_options(session, connection.account_id)
    details = InvoiceDetails(source)
    payload = await details.payload(invoice)
    await details.add_charges([payload])  # a bill needs its shipping and landed costs from the start
    outcome = await store_invoice(session, connection, payload, options, existing, via=PUSHED)
    return outcome.stored
