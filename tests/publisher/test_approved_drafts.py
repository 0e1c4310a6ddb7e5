"""The publisher's re-read of our DRAFT invoices (``approved_drafts``) against the Xero sandbox in process:
50 ids a call, only drafts on paid sales, approved ones handed back to the mapper, at most once per
``every`` per organisation, and never read again once seen approved."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.clients.xero import RateLimiter
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import (
    DocumentKind,
    DocumentStatus,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.settings import Settings
from ledgerbridge.publisher import approved_drafts
from tests.publisher.conftest import XeroSide, invoice_body, stored_document, xero_connection

EVERY = timedelta(hours=3)
DRAFTS = 60  # two calls: 50 and 10


async def test_drafts_on_paid_sales_are_read_50_a_call_and_approved_ones_mapped_again(
    committing: async_sessionmaker[AsyncSession],
    xero: XeroSide,
    redis: Redis,
    settings: Settings,
) -> None:
    account_id, connection_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    token = (await xero.http.post("/_sandbox/tokens", json={"tenant_ids": [tenant_id]})).json()[
        "access_token"
    ]
    bodies = [invoice_body(f"OP-{n}", {"Name": "Grace Hopper"}, status="DRAFT") for n in range(DRAFTS + 1)]
    created = await xero.http.put(
        "/api.xro/2.0/Invoices",
        json={"Invoices": bodies},
        headers={"Authorization": f"Bearer {token}", "xero-tenant-id": tenant_id},
    )
    assert created.status_code == 200, created.text
    invoices = created.json()["Invoices"]
    sent = datetime.now(UTC) - EVERY - timedelta(minutes=1)
    records: dict[str, uuid.UUID] = {}
    async with unit_of_work(committing) as session:
        for n, (body, invoice) in enumerate(zip(bodies, invoices, strict=True)):
            # The last sale is unpaid at the source: nothing to pay even once approved, so never read.
            record = SourceRecord(
                account_id=account_id,
                connection_id=connection_id,
                source="ontraport",
                kind="transaction",
                external_id=str(n),
                payload={"transaction": {"status": "0" if n == DRAFTS else "1"}},
                payload_hash="h",
                status=RecordStatus.synced,
            )
            session.add(record)
            await session.flush()
            records[invoice["InvoiceID"]] = record.id
            session.add(
                stored_document(
                    account_id,
                    record.id,
                    connection_id,
                    DocumentKind.invoice,
                    body,
                    fingerprint="f" * 64,
                    status=DocumentStatus.published,
                    xero_id=invoice["InvoiceID"],
                    xero_number=invoice["InvoiceNumber"],
                    published_at=sent,
                )
            )
    approved = [invoices[3], invoices[DRAFTS - 1], invoices[DRAFTS]]
    for invoice in approved:
        answer = await xero.http.post(
            f"/_sandbox/organisations/{tenant_id}/invoices/{invoice['InvoiceID']}/approve", json={}
        )
        assert answer.status_code == 200, answer.text
    client_for = xero.client_for(committing, settings, RateLimiter(redis, settings.queue.prefix), tenant_id)

    counters = xero.app.state.sandbox.orgs[tenant_id].counters.by_endpoint

    async def sweep(now: datetime) -> int:
        async with unit_of_work(committing) as session:
            return await approved_drafts.sweep(session, client_for, now, EVERY)

    reads = counters["GET Invoices"]
    assert await sweep(datetime.now(UTC)) == 2  # the unpaid sale's approved draft is not read
    assert counters["GET Invoices"] - reads == 2  # 60 drafts: 50 + 10

    async with committing() as session:
        rows = {
            r.id: r
            for r in await session.scalars(select(SourceRecord).where(SourceRecord.account_id == account_id))
        }
    moved = {records[i["InvoiceID"]] for i in approved[:2]}
    assert {rid for rid, r in rows.items() if r.status is RecordStatus.received} == moved
    assert all("was approved in Xero (AUTHORISED)" in (rows[rid].reason or "") for rid in moved)

    reads = counters["GET Invoices"]
    assert await sweep(datetime.now(UTC)) == 0  # just read: not due for another ``every``
    assert counters["GET Invoices"] == reads
    assert await sweep(datetime.now(UTC) + EVERY + timedelta(minutes=1)) == 0
    assert counters["GET Invoices"] - reads == 2  # the 58 still drafts (50 + 8); approved ones not again
