"""Onport → Xero through the API and all three services (SPEC.md §5)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.messages import PollConnection
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Document, DocumentKind, DocumentStatus, RecordStatus
from tests.e2e.harness import (
    DROPSHIP,
    PAYOUT_ACCOUNT,
    Sandboxes,
    Stack,
    bills,
    money,
    onport_data,
    onport_records,
    onport_settled,
    onport_table,
    provision_onport,
    wait_for,
)


async def test_dropship_bills_sync_automatically_replenishment_on_demand_pushes_and_payouts(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack, api_url: str
) -> None:
    tenant = await provision_onport(committing, sandboxes, api_url, seed=31)
    invoices = onport_table(sandboxes, tenant.onport_account_id, "purchase-invoices")
    purchases = onport_table(sandboxes, tenant.onport_account_id, "purchases")

    def purchase_type(invoice: dict[str, Any]) -> str:
        return str(purchases[invoice["purchaseId"]]["purchaseType"])

    await wait_for(
        lambda: onport_settled(committing, tenant, len(invoices)), 180, stack, "the Onport sync to settle"
    )
    records = await onport_records(committing, tenant)
    made = bills(sandboxes, tenant.org_for_bills)
    assert bills(sandboxes, tenant.other_org) == []  # bills land only in the organisation Onport posts to
    by_number = Counter(bill["InvoiceNumber"] for bill in made)
    assert all(count == 1 for count in by_number.values())
    for invoice_id, invoice in invoices.items():
        record = records[str(invoice_id)]
        if purchase_type(invoice) in DROPSHIP:
            assert record.status is RecordStatus.synced, (record.status, record.reason)
            bill = next(b for b in made if b["InvoiceNumber"] == invoice["reference"])
            assert (
                money(bill["Total"])
                == onport_data(sandboxes, tenant.onport_account_id).amounts[invoice_id].total
            )
        else:
            assert (record.status, record.reason_code) == (RecordStatus.waiting, "manual_sync")
            assert invoice["reference"] not in by_number

    # "Sync to Xero" on one replenishment invoice answers with its Xero link once published.
    headers = {"Authorization": f"Bearer {tenant.token}"}
    waiting = next(r for r in records.values() if r.status is RecordStatus.waiting)
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as http:
        assert (await http.post(f"/v1/onport/invoices/{waiting.id}/sync")).status_code == 202

        async def linked() -> bool:
            answer = (await http.post(f"/v1/onport/invoices/{waiting.id}/sync")).json()
            return bool(answer.get("xero", {}) and answer["xero"].get("url"))

        await wait_for(linked, 90, stack, "the manual sync to reach Xero")
    invoice = invoices[int(waiting.external_id)]
    assert any(b["InvoiceNumber"] == invoice["reference"] for b in bills(sandboxes, tenant.org_for_bills))

    # A vendor payout becomes a payment on the bill, from the payout account.
    paid_invoice_id, paid_invoice = next(
        (i, inv)
        for i, inv in invoices.items()
        if purchase_type(inv) in DROPSHIP and Decimal(str(inv.get("paid", 0) or 0)) == 0
    )
    async with httpx.AsyncClient(base_url=sandboxes.onport_url, timeout=30) as http:
        response = await http.post(
            f"/_sandbox/accounts/{tenant.onport_account_id}/purchase-invoices/{paid_invoice_id}/payments",
            json={},
        )
        assert response.status_code == 200, response.text
    bill = next(
        b for b in bills(sandboxes, tenant.org_for_bills) if b["InvoiceNumber"] == paid_invoice["reference"]
    )

    async def paid() -> bool:
        async with unit_of_work(committing) as session:
            await add_message(
                session,
                PollConnection(connection_id=tenant.onport_connection_id, reason="sync_now"),
                tenant.account_id,
            )
        return any(
            p.get("Invoice", {}).get("InvoiceID") == bill["InvoiceID"]
            for p in sandboxes.organisation(tenant.org_for_bills).payments.values()
        )

    await wait_for(paid, 90, stack, "the payout to become a bill payment")
    payment = next(
        p
        for p in sandboxes.organisation(tenant.org_for_bills).payments.values()
        if p.get("Invoice", {}).get("InvoiceID") == bill["InvoiceID"]
    )
    assert payment["Account"]["Code"] == PAYOUT_ACCOUNT

    # A pushed invoice ("custom accounting integration") arrives through our webhook and becomes a bill.
    push_url = f"{api_url}/webhooks/onport/{tenant.webhook_token}"
    async with httpx.AsyncClient(base_url=sandboxes.onport_url, timeout=30) as http:
        await http.put(
            f"/_sandbox/accounts/{tenant.onport_account_id}/accounting-integration",
            json={"dropship_url": f"{push_url}/dropship", "replenishment_url": f"{push_url}/replenishment"},
        )
        pushed = (
            await http.post(
                f"/_sandbox/accounts/{tenant.onport_account_id}/purchase-invoices",
                json={"count": 1, "push": True},
            )
        ).json()
    assert [p["status_code"] for p in pushed["pushes"]] == [202]
    pushed_id = pushed["invoice_ids"][0]
    pushed_invoice = invoices[pushed_id]

    async def pushed_arrived() -> bool:
        record = (await onport_records(committing, tenant)).get(str(pushed_id))
        return record is not None and record.status in (RecordStatus.synced, RecordStatus.waiting)

    await wait_for(pushed_arrived, 90, stack, "the pushed invoice to be stored and handled")
    if purchase_type(pushed_invoice) in DROPSHIP:
        # A push carries no shipping rates or landed costs: the bill goes out once a poll read them.
        async def billed() -> bool:
            async with unit_of_work(committing) as session:
                await add_message(
                    session,
                    PollConnection(connection_id=tenant.onport_connection_id, reason="sync_now"),
                    tenant.account_id,
                )
            return any(
                b["InvoiceNumber"] == pushed_invoice["reference"]
                for b in bills(sandboxes, tenant.org_for_bills)
            )

        await wait_for(billed, 90, stack, "the pushed invoice to become a bill")


async def test_lost_responses_never_duplicate_a_bill(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack, api_url: str
) -> None:
    tenant = await provision_onport(committing, sandboxes, api_url, seed=32)
    async with httpx.AsyncClient(base_url=sandboxes.xero_url) as http:
        # The first creates, and a share after, are committed but their answers lost: exactly the case where a blind re-send of a
        # bill makes a duplicate, since Xero does not keep bill numbers unique.
        response = await http.post(
            "/_sandbox/faults",
            json={
                "tenant_id": tenant.org_for_bills,
                "seed": 5,
                "script": ["lost_response", "lost_response"],
                "rate_lost_response": 0.3,
                "methods": ["PUT"],
            },
        )
        assert response.status_code == 200, response.text
    invoices = onport_table(sandboxes, tenant.onport_account_id, "purchase-invoices")
    await wait_for(
        lambda: onport_settled(committing, tenant, len(invoices)),
        240,
        stack,
        "the faulty Onport sync to settle",
    )
    assert sum(sandboxes.organisation(tenant.org_for_bills).faults.injected.values()) > 0
    made = bills(sandboxes, tenant.org_for_bills)
    assert made
    assert Counter(b["InvoiceNumber"] for b in made).most_common(1)[0][1] == 1
    async with committing() as session:
        published = (
            await session.scalars(
                select(Document.xero_id).where(
                    Document.account_id == tenant.account_id,
                    Document.kind == DocumentKind.bill,
                    Document.status == DocumentStatus.published,
                )
            )
        ).all()
    assert sorted(str(xero_id) for xero_id in published) == sorted(str(b["InvoiceID"]) for b in made)
