"""Polling Onport: invoices become records with everything a bill needs; nothing changed costs one call;
payouts and adjustments are new work; automatic sync off leaves invoices waiting for "sync to Xero"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.clients.onport import OnportClient
from ledgerbridge.common.clients.onport.stamps import onport_stamp
from ledgerbridge.common.models import AccountSettings, OutboxMessage, RecordEvent, RecordStatus
from ledgerbridge.common.settings import PollingSettings
from ledgerbridge.poller import onport_poll as onport
from ledgerbridge.poller.onport_poll import poll_onport
from ledgerbridge.poller.onport_source import OnportSource
from ledgerbridge.poller.schedule import schedule_due
from tests.poller.conftest import (
    UNINVOICED_PURCHASE,
    Tenant,
    calls,
    control,
    make_tenant,
    map_messages,
    records,
    reset_calls,
    table,
)


async def _start(db: AsyncSession, source: OnportSource, polling: PollingSettings, *, auto: bool) -> Tenant:
    tenant = await make_tenant(db, auto_sync=auto)
    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 0
    return tenant


async def _invoice_in_parts(http: httpx.AsyncClient, sandbox: FastAPI) -> list[int]:
    items = sorted(i for i, row in table(sandbox, "purchase-items").items() if row["purchaseId"] == 1007)
    first = await control(
        http, "/purchase-invoices", {"purchase_id": UNINVOICED_PURCHASE, "items": [[items[0], None]]}
    )
    rest = await control(http, "/purchase-invoices", {"purchase_id": UNINVOICED_PURCHASE})
    return [*first["invoice_ids"], *rest["invoice_ids"]]


async def test_first_poll_starts_from_now_without_fetching(
    db: AsyncSession, source: OnportSource, sandbox: FastAPI, polling: PollingSettings
) -> None:
    tenant = await make_tenant(db, auto_sync=True)
    before = datetime.now(UTC)
    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 0
    assert calls(sandbox) == 0
    assert tenant.cursor.high_water_mark is not None
    mark = datetime.fromisoformat(tenant.cursor.high_water_mark.replace("Z", "+00:00"))
    assert before - timedelta(minutes=5) < mark <= before
    assert tenant.cursor.next_poll_at is not None and tenant.cursor.next_poll_at > before
    # The demo account's history (2025) is left to an explicit import.
    assert await records(db, tenant.account_id) == {}


async def test_invoiced_in_parts_gives_a_record_per_invoice_with_the_payload_shape(
    db: AsyncSession,
    source: OnportSource,
    sandbox: FastAPI,
    http: httpx.AsyncClient,
    polling: PollingSettings,
) -> None:
    tenant = await _start(db, source, polling, auto=True)
    invoice_ids = await _invoice_in_parts(http, sandbox)
    assert len(invoice_ids) == 2

    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 2
    stored = await records(db, tenant.account_id)
    assert sorted(stored) == sorted(str(i) for i in invoice_ids)
    purchase = table(sandbox, "purchases")[UNINVOICED_PURCHASE]
    for invoice_id in invoice_ids:
        record = stored[str(invoice_id)]
        payload = record.payload
        assert set(payload) == {
            "invoice",
            "items",
            "purchase",
            "vendor",
            "payments",
            "shippingRates",
            "landedCosts",
            "landedCostItems",
        }
        # Shipping comes from /purchase-shipping-rates, billed once per purchase (issue 15, point 14).
        assert payload["shippingRates"] == [
            rate
            for rate in table(sandbox, "purchase-shipping-rates").values()
            if rate["purchaseInvoiceId"] == invoice_id
        ]
        assert payload["invoice"]["id"] == invoice_id
        assert payload["invoice"] == table(sandbox, "purchase-invoices")[invoice_id]
        assert payload["purchase"]["id"] == UNINVOICED_PURCHASE
        assert payload["vendor"]["id"] == purchase["dropshipProviderId"]
        assert payload["vendor"]["name"] == "Coastal Candles Co"
        assert payload["payments"] == []
        assert payload["items"]
        for item in payload["items"]:
            assert item["purchaseInvoiceId"] == invoice_id
            assert item["purchaseItem"]["id"] == item["purchaseItemId"]
            assert item["purchaseItem"]["name"]
        assert record.status is RecordStatus.received
        assert record.kind == "purchase_invoice"
        assert record.source_date is not None
        assert record.connection_id == tenant.connection.id
    assert sum(len(stored[str(i)].payload["shippingRates"]) for i in invoice_ids) == 1
    # The parts bill different items.
    first, second = (stored[str(i)].payload["items"] for i in invoice_ids)
    assert {i["purchaseItemId"] for i in first}.isdisjoint({i["purchaseItemId"] for i in second})
    assert sorted(await map_messages(db, tenant.account_id)) == sorted(str(r.id) for r in stored.values())
    events = (await db.scalars(select(RecordEvent).where(RecordEvent.account_id == tenant.account_id))).all()
    assert sorted(e.to_status for e in events) == ["received", "received"]
    # The mark is the newest change seen, as Onport wrote it.
    assert tenant.cursor.high_water_mark == max(
        table(sandbox, "purchase-invoices")[i]["updatedAt"] for i in invoice_ids
    )


async def test_idle_poll_is_one_request_and_no_work(
    db: AsyncSession,
    source: OnportSource,
    sandbox: FastAPI,
    http: httpx.AsyncClient,
    polling: PollingSettings,
) -> None:
    tenant = await _start(db, source, polling, auto=True)
    await _invoice_in_parts(http, sandbox)
    await poll_onport(db, tenant.connection, tenant.cursor, source, polling)
    queued = await map_messages(db, tenant.account_id)
    for _ in range(2):
        reset_calls(sandbox)
        assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 0
        assert calls(sandbox) == 1
    assert await map_messages(db, tenant.account_id) == queued


async def test_payout_and_adjustment_are_new_work(
    db: AsyncSession,
    source: OnportSource,
    sandbox: FastAPI,
    http: httpx.AsyncClient,
    polling: PollingSettings,
) -> None:
    tenant = await _start(db, source, polling, auto=True)
    first, second = await _invoice_in_parts(http, sandbox)
    await poll_onport(db, tenant.connection, tenant.cursor, source, polling)
    record = (await records(db, tenant.account_id))[str(first)]
    record.status = RecordStatus.synced  # as the publisher leaves it

    await control(http, f"/purchase-invoices/{first}/payments")
    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 1
    assert record.status is RecordStatus.received
    assert len(record.payload["payments"]) == 1
    assert record.payload["invoice"]["paymentStatus"] == "paid"
    assert (await map_messages(db, tenant.account_id)).count(str(record.id)) == 2

    await control(http, f"/purchase-invoices/{second}/adjustments", {"amount": "-4.50", "reason": "Late"})
    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 1
    other = (await records(db, tenant.account_id))[str(second)]
    assert other.payload["invoice"]["adjustment"] == -4.5
    assert other.payload["invoice"]["adjustmentReason"] == "Late"
    assert (await map_messages(db, tenant.account_id)).count(str(other.id)) == 2


async def test_our_own_write_back_is_not_new_work(
    db: AsyncSession,
    source: OnportSource,
    client: OnportClient,
    sandbox: FastAPI,
    http: httpx.AsyncClient,
    polling: PollingSettings,
) -> None:
    tenant = await _start(db, source, polling, auto=True)
    first, _ = await _invoice_in_parts(http, sandbox)
    await poll_onport(db, tenant.connection, tenant.cursor, source, polling)
    queued = await map_messages(db, tenant.account_id)
    await client.update_purchase_invoice(first, {"xeroId": "bill-1"})

    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 0
    assert await map_messages(db, tenant.account_id) == queued
    record = (await records(db, tenant.account_id))[str(first)]
    assert record.payload["invoice"]["xeroId"] == "bill-1"  # the stored copy is kept current
    reset_calls(sandbox)
    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 0
    assert calls(sandbox) == 1


async def test_automatic_sync_off_leaves_invoices_waiting_for_a_manual_sync(
    db: AsyncSession,
    source: OnportSource,
    sandbox: FastAPI,
    http: httpx.AsyncClient,
    polling: PollingSettings,
) -> None:
    tenant = await _start(db, source, polling, auto=False)
    first, _ = await _invoice_in_parts(http, sandbox)
    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 2
    stored = await records(db, tenant.account_id)
    for record in stored.values():
        assert record.status is RecordStatus.waiting
        assert record.reason_code == "manual_sync"
        assert record.reason == "Automatic sync is off for dropship invoices; use 'sync to Xero'"
    assert await map_messages(db, tenant.account_id) == []

    # A payout on an invoice nobody sent to Xero yet is stored, and still waits.
    await control(http, f"/purchase-invoices/{first}/payments")
    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 1
    record = stored[str(first)]
    assert record.status is RecordStatus.waiting
    assert len(record.payload["payments"]) == 1
    assert await map_messages(db, tenant.account_id) == []
    history = (
        await db.scalars(select(RecordEvent.to_status).where(RecordEvent.record_id == record.id))
    ).all()
    assert list(history) == ["received", "waiting", "waiting"]


async def test_replenishment_follows_its_own_switch(
    db: AsyncSession,
    source: OnportSource,
    sandbox: FastAPI,
    http: httpx.AsyncClient,
    polling: PollingSettings,
) -> None:
    tenant = await _start(db, source, polling, auto=False)
    db.add(
        AccountSettings(account_id=tenant.account_id, values={"onport": {"auto_sync_replenishment": True}})
    )
    await db.flush()
    created = await control(
        http, "/purchase-invoices", {"count": 1, "vendor_id": 4}
    )  # a replenishment supplier
    created_ids = created["invoice_ids"]
    await poll_onport(db, tenant.connection, tenant.cursor, source, polling)
    stored = await records(db, tenant.account_id)
    assert sorted(stored) == sorted(str(i) for i in created_ids)
    assert {r.status for r in stored.values()} == {RecordStatus.received}


async def test_backlog_continues_in_a_follow_up_poll(
    db: AsyncSession,
    source: OnportSource,
    sandbox: FastAPI,
    http: httpx.AsyncClient,
    polling: PollingSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await _start(db, source, polling, auto=True)
    invoice_ids = await _invoice_in_parts(http, sandbox)
    invoice_ids += (await control(http, "/purchase-invoices", {"count": 1}))["invoice_ids"]
    monkeypatch.setattr(onport, "MAX_INVOICES_PER_POLL", 2)

    assert await poll_onport(db, tenant.connection, tenant.cursor, source, polling) == 2
    follow_ups = (
        await db.scalars(
            select(OutboxMessage).where(
                OutboxMessage.account_id == tenant.account_id, OutboxMessage.message_type == "poll.connection"
            )
        )
    ).all()
    assert [row.body["body"]["reason"] for row in follow_ups] == ["backlog"]
    while len(await records(db, tenant.account_id)) < len(invoice_ids):
        await poll_onport(db, tenant.connection, tenant.cursor, source, polling)
    assert sorted(await records(db, tenant.account_id)) == sorted(str(i) for i in invoice_ids)


async def test_schedule_queues_due_onport_connections(
    db: AsyncSession, source: OnportSource, polling: PollingSettings
) -> None:
    tenant = await make_tenant(db, auto_sync=True)
    now = datetime.now(UTC)
    tenant.cursor.next_poll_at = now - timedelta(seconds=1)
    tenant.cursor.high_water_mark = onport_stamp(now)
    await db.flush()
    assert await schedule_due(db, now) >= 1
    queued = (
        await db.scalars(
            select(OutboxMessage).where(
                OutboxMessage.account_id == tenant.account_id, OutboxMessage.message_type == "poll.connection"
            )
        )
    ).all()
    assert [row.body["body"]["connection_id"] for row in queued] == [str(tenant.connection.id)]
    assert tenant.cursor.next_poll_at > now
