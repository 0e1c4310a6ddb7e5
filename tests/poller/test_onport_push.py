"""Invoices Onport pushes become the same records polling makes, once per version."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import RecordStatus
from ledgerbridge.common.settings import PollingSettings
from ledgerbridge.poller.onport_poll import poll_onport
from ledgerbridge.poller.onport_records import payload_from_push, store_pushed_invoice
from ledgerbridge.poller.onport_source import OnportSource
from tests.poller.conftest import (
    DEMO,
    UNINVOICED_PURCHASE,
    calls,
    control,
    make_tenant,
    map_messages,
    records,
    reset_calls,
)


def pushed(sandbox: FastAPI, invoice_id: int) -> dict[str, Any]:
    """The body Onport's custom accounting integration posts for an invoice."""
    body: dict[str, Any] = sandbox.state.sandbox.accounts[DEMO].data.embedded_invoice(invoice_id)
    return body


async def _new_invoice(http: httpx.AsyncClient) -> int:
    created = await control(http, "/purchase-invoices", {"purchase_id": UNINVOICED_PURCHASE})
    invoice_id: int = created["invoice_ids"][0]
    return invoice_id


async def test_a_push_is_stored_once(db: AsyncSession, sandbox: FastAPI, http: httpx.AsyncClient) -> None:
    tenant = await make_tenant(db, auto_sync=True)
    invoice_id = await _new_invoice(http)
    body = pushed(sandbox, invoice_id)

    assert await store_pushed_invoice(db, tenant.connection, body) is True
    assert await store_pushed_invoice(db, tenant.connection, body) is False
    # The inbox row's payload (the push wrapped with its connection and purchase type) works as well.
    wrapped = {"connection_id": str(tenant.connection.id), "purchase_type": "dropship", "invoice": body}
    assert await store_pushed_invoice(db, tenant.connection, wrapped) is False

    stored = await records(db, tenant.account_id)
    assert list(stored) == [str(invoice_id)]
    record = stored[str(invoice_id)]
    assert record.status is RecordStatus.received
    assert set(record.payload) == {"invoice", "items", "purchase", "vendor", "payments"}
    assert "purchaseInvoiceItems" not in record.payload["invoice"]
    assert record.payload["items"] == body["purchaseInvoiceItems"]
    assert record.payload["vendor"] == body["dropshipProvider"]
    assert record.payload["payments"] == []
    assert await map_messages(db, tenant.account_id) == [str(record.id)]


async def test_push_and_poll_of_the_same_version_make_one_piece_of_work(
    db: AsyncSession,
    source: OnportSource,
    sandbox: FastAPI,
    http: httpx.AsyncClient,
    polling: PollingSettings,
) -> None:
    tenant = await make_tenant(db, auto_sync=True)
    await poll_onport(db, tenant.connection, tenant.cursor, source, polling)
    invoice_id = await _new_invoice(http)
    assert await store_pushed_invoice(db, tenant.connection, pushed(sandbox, invoice_id)) is True

    # A push carries no shipping rates or landed costs: the next poll reads them once (new work: the
    # bill needs them), after which the version is recognised without fetching its details.
    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 1
    record = (await records(db, tenant.account_id))[str(invoice_id)]
    assert "shippingRates" in record.payload and "landedCosts" in record.payload
    reset_calls(sandbox)
    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 0
    assert calls(sandbox) == 1
    assert len(await map_messages(db, tenant.account_id)) == 2

    # A payout later: polling brings it in, and a late push of the older version does not undo it.
    stale = pushed(sandbox, invoice_id)
    await control(http, f"/purchase-invoices/{invoice_id}/payments")
    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 1
    assert await store_pushed_invoice(db, tenant.connection, stale) is False
    record = (await records(db, tenant.account_id))[str(invoice_id)]
    assert len(record.payload["payments"]) == 1
    # A push of the paid version (which carries no payouts) keeps the payouts polling found.
    assert await store_pushed_invoice(db, tenant.connection, pushed(sandbox, invoice_id)) is False
    assert len(record.payload["payments"]) == 1
    assert "shippingRates" in record.payload  # and the charges polling read
    assert len(await map_messages(db, tenant.account_id)) == 3


async def test_push_with_automatic_sync_off_waits(
    db: AsyncSession, sandbox: FastAPI, http: httpx.AsyncClient
) -> None:
    tenant = await make_tenant(db, auto_sync=False)
    invoice_id = await _new_invoice(http)
    assert await store_pushed_invoice(db, tenant.connection, pushed(sandbox, invoice_id)) is True
    record = (await records(db, tenant.account_id))[str(invoice_id)]
    assert (record.status, record.reason_code) == (RecordStatus.waiting, "manual_sync")
    assert await map_messages(db, tenant.account_id) == []


async def test_a_push_without_an_id_is_ignored(db: AsyncSession) -> None:
    tenant = await make_tenant(db, auto_sync=True)
    assert await store_pushed_invoice(db, tenant.connection, {"reference": "INV-1"}) is False
    assert payload_from_push({"id": 5, "purchaseInvoiceItems": "junk"})["items"] == []
