"""Historical import of Onport purchase invoices (issue 15, point 10): a date range or the last N, page
by page, with progress, stored as polling stores them (shipping and landed costs included)."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.messaging.messages import RunImport
from ledgerbridge.common.models import Import, ImportStatus, OutboxMessage, RecordStatus
from ledgerbridge.poller import onport_import
from ledgerbridge.poller.onport_import import run_onport_import_page
from ledgerbridge.poller.onport_source import OnportSource
from tests.poller.conftest import Tenant, make_tenant, records, table


async def _run(db: AsyncSession, tenant: Tenant, source: OnportSource, params: dict[str, object]) -> Import:
    job = Import(
        account_id=tenant.account_id,
        connection_id=tenant.connection.id,
        params=params,
        status=ImportStatus.queued,
    )
    db.add(job)
    await db.flush()
    pages = 0
    while job.status is not ImportStatus.done:
        await run_onport_import_page(db, job, tenant.connection, source)
        pages += 1
        assert job.total is not None and job.done <= job.total
        assert pages < 50
    return job


def _created(invoice: dict[str, object]) -> str:
    return datetime.fromisoformat(str(invoice["createdAt"]).replace("Z", "+00:00")).date().isoformat()


async def test_a_date_range_imports_those_invoices_with_progress(
    db: AsyncSession, source: OnportSource, sandbox: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onport_import, "PAGE", 5)  # several pages from the small demo account
    tenant = await make_tenant(db, auto_sync=False)
    invoices = table(sandbox, "purchase-invoices")
    wanted = {str(i) for i, inv in invoices.items() if "2025-01-02" <= _created(inv) <= "2025-01-09"}
    assert 10 < len(wanted) < len(invoices)  # more than a page, less than everything

    job = await _run(db, tenant, source, {"since": "2025-01-02", "until": "2025-01-09"})
    stored = await records(db, tenant.account_id)
    assert set(stored) == wanted
    assert (job.total, job.done, job.status) == (len(wanted), len(wanted), ImportStatus.done)
    assert job.finished_at is not None
    rates = table(sandbox, "purchase-shipping-rates").values()
    landed = table(sandbox, "landed-cost-purchase-invoices").values()
    costs = table(sandbox, "landed-costs")
    assert any(str(row["purchaseInvoiceId"]) in stored for row in landed)
    for external_id, record in stored.items():
        assert record.payload["shippingRates"] == [
            r for r in rates if r["purchaseInvoiceId"] == int(external_id)
        ]
        # Landed costs with their name (the /landed-costs record embedded), fetched for the page at once.
        assert record.payload["landedCosts"] == [
            {**row, "landedCost": costs[row["landedCostId"]]}
            for row in landed
            if row["purchaseInvoiceId"] == int(external_id)
        ]
        # Automatic sync is off here: imported invoices wait for "sync to Xero" like polled ones.
        assert (record.status, record.reason_code) == (RecordStatus.waiting, "manual_sync")
    # One follow-up message per full page, so no job runs long.
    follow_ups = (
        await db.scalars(
            select(OutboxMessage).where(
                OutboxMessage.account_id == tenant.account_id, OutboxMessage.message_type == RunImport.TYPE
            )
        )
    ).all()
    assert len(follow_ups) == len(wanted) // onport_import.PAGE

    # Run again: the same invoices, nothing new.
    again = await _run(db, tenant, source, {"since": "2025-01-02", "until": "2025-01-09"})
    assert again.done == len(wanted)
    assert {r.id for r in (await records(db, tenant.account_id)).values()} == {r.id for r in stored.values()}


async def test_the_last_n_are_the_newest_invoices(
    db: AsyncSession, source: OnportSource, sandbox: FastAPI
) -> None:
    tenant = await make_tenant(db, auto_sync=True)
    job = await _run(db, tenant, source, {"last_n": 4})
    newest = sorted(table(sandbox, "purchase-invoices"))[-4:]
    assert sorted(int(i) for i in await records(db, tenant.account_id)) == newest
    assert (job.total, job.done) == (4, 4)
    assert all(r.status is RecordStatus.received for r in (await records(db, tenant.account_id)).values())
