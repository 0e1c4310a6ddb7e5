"""An Onport push is a ping (issue 10, finding 2): the invoice is re-read from Onport by id and only
what Onport returns is stored, so a forged push can neither create a bill, overwrite a synced invoice
nor push a future ``updatedAt`` that would hide later genuine versions."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import RecordStatus
from ledgerbridge.common.settings import PollingSettings
from ledgerbridge.poller.onport_poll import poll_onport, refresh_invoice
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


async def test_a_push_stores_what_onport_returns_once(
    db: AsyncSession, sandbox: FastAPI, source: OnportSource, http: httpx.AsyncClient
) -> None:
    tenant = await make_tenant(db, auto_sync=True)
    invoice_id = await _new_invoice(http)
    body = pushed(sandbox, invoice_id)

    assert await refresh_invoice(db, tenant.connection, source, invoice_id) is True
    assert await refresh_invoice(db, tenant.connection, source, invoice_id) is False

    stored = await records(db, tenant.account_id)
    assert list(stored) == [str(invoice_id)]
    record = stored[str(invoice_id)]
    assert record.status is RecordStatus.received
    # Read from Onport like a poll: the invoice, its lines and payouts, and its charges.
    assert set(record.payload) == {
        "invoice",
        "items",
        "purchase",
        "vendor",
        "payments",
        "shippingRates",
        "landedCosts",
        "landedCostItems",
    }
    assert record.payload["invoice"]["reference"] == body["reference"]
    assert [item["id"] for item in record.payload["items"]] == [i["id"] for i in body["purchaseInvoiceItems"]]
    assert await map_messages(db, tenant.account_id) == [str(record.id)]


async def test_a_forged_push_changes_nothing(
    db: AsyncSession,
    sandbox: FastAPI,
    source: OnportSource,
    http: httpx.AsyncClient,
    polling: PollingSettings,
) -> None:
    """Before: the pushed body was stored as the invoice, so a forged one made a bill or overwrote one."""
    tenant = await make_tenant(db, auto_sync=True)
    await poll_onport(db, tenant.connection, tenant.cursor, source, polling)
    invoice_id = await _new_invoice(http)
    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 1
    genuine = (await records(db, tenant.account_id))[str(invoice_id)].payload
    # An id Onport does not have: nothing is stored.
    assert await refresh_invoice(db, tenant.connection, source, 999_999) is False
    # A push of a real id is re-read: whatever the forger claimed (amounts, a future updatedAt) is unused.
    assert await refresh_invoice(db, tenant.connection, source, invoice_id) is False
    assert (await records(db, tenant.account_id))[str(invoice_id)].payload == genuine
    assert list(await records(db, tenant.account_id)) == [str(invoice_id)]
    assert len(await map_messages(db, tenant.account_id)) == 1

    # A genuine later change (a payout) still comes through, by push and by poll alike.
    await control(http, f"/purchase-invoices/{invoice_id}/payments")
    assert await refresh_invoice(db, tenant.connection, source, invoice_id) is True
    record = (await records(db, tenant.account_id))[str(invoice_id)]
    assert len(record.payload["payments"]) == 1
    reset_calls(sandbox)
    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 0
    assert calls(sandbox) == 1  # the re-read version is recognised without fetching its details
    assert len(await map_messages(db, tenant.account_id)) == 2


async def test_push_with_automatic_sync_off_waits(
    db: AsyncSession, source: OnportSource, http: httpx.AsyncClient
) -> None:
    tenant = await make_tenant(db, auto_sync=False)
    invoice_id = await _new_invoice(http)
    assert await refresh_invoice(db, tenant.connection, source, invoice_id) is True
    record = (await records(db, tenant.account_id))[str(invoice_id)]
    assert (record.status, record.reason_code) == (RecordStatus.waiting, "manual_sync")
    assert await map_messages(db, tenant.account_id) == []
