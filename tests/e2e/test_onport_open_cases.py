"""Onport's open cases end to end, with the workers as processes (issue 15, points 10, 11 and 12):
historical import, payout reversals, adjustments after the bill was synced."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.models import RecordStatus
from tests.e2e.harness import (
    DROPSHIP,
    Sandboxes,
    Stack,
    bills,
    money,
    onport_data,
    onport_records,
    onport_settled,
    onport_table,
    poll_onport_until,
    provision_onport,
    wait_for,
)


async def test_a_cancelled_or_refunded_payout_removes_its_bill_payment(
    committing: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    stack: Stack,
    api_url: str,
) -> None:
    """Issue 15, point 11: Xero payments cannot be edited, so a reversed payout deletes its bill payment,
    and a partial refund re-makes the payment for what is left."""
    tenant = await provision_onport(committing, sandboxes, api_url, seed=33)
    data = onport_data(sandboxes, tenant.onport_account_id)
    invoices = onport_table(sandboxes, tenant.onport_account_id, "purchase-invoices")
    purchases = onport_table(sandboxes, tenant.onport_account_id, "purchases")
    await wait_for(
        lambda: onport_settled(committing, tenant, len(invoices)), 180, stack, "the Onport sync to settle"
    )
    invoice_id = next(
        i
        for i, inv in invoices.items()
        if purchases[inv["purchaseId"]]["purchaseType"] in DROPSHIP and data.paid_of(i) == 0
    )
    org = sandboxes.organisation(tenant.org_for_bills)
    bill = next(
        b
        for b in bills(sandboxes, tenant.org_for_bills)
        if b["InvoiceNumber"] == invoices[invoice_id]["reference"]
    )

    def payments_on_bill() -> list[dict[str, Any]]:
        return [
            p for p in org.payments.values() if p.get("Invoice", {}).get("InvoiceID") == bill["InvoiceID"]
        ]

    def standing() -> list[Decimal]:
        return sorted(money(p["Amount"]) for p in payments_on_bill() if p.get("Status") != "DELETED")

    base = f"/_sandbox/accounts/{tenant.onport_account_id}"
    owed = data.amounts[invoice_id].total
    async with httpx.AsyncClient(base_url=sandboxes.onport_url, timeout=30) as http:
        payout = (await http.post(f"{base}/purchase-invoices/{invoice_id}/payments", json={})).json()[
            "payment"
        ]
        await poll_onport_until(
            committing, tenant, stack, "the payout to be paid", lambda: standing() == [owed]
        )

        cancelled = await http.post(f"{base}/purchase-invoice-payments/{payout['id']}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        await poll_onport_until(
            committing, tenant, stack, "the cancelled payout's payment to go", lambda: standing() == []
        )

        await http.post(f"{base}/purchase-invoices/{invoice_id}/payments", json={})
        await poll_onport_until(
            committing, tenant, stack, "the new payout to be paid", lambda: standing() == [owed]
        )
        refund = await http.post(f"{base}/purchase-invoices/{invoice_id}/refunds", json={"amount": "5.00"})
        assert refund.status_code == 200, refund.text
        left = owed - Decimal("5.00")
        await poll_onport_until(
            committing, tenant, stack, "the refund to re-make the payment", lambda: standing() == [left]
        )

    assert sum(1 for p in payments_on_bill() if p.get("Status") == "DELETED") == 2
    assert money(org.invoices[bill["InvoiceID"]]["AmountDue"]) == owed - left
    await wait_for(
        lambda: onport_settled(committing, tenant, len(invoices)), 60, stack, "the records to settle"
    )
    record = (await onport_records(committing, tenant))[str(invoice_id)]
    assert record.status is RecordStatus.synced, (record.status, record.reason)


async def test_historical_import_of_onport_invoices(
    committing: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    stack: Stack,
    api_url: str,
) -> None:
    """Issue 15, point 10: a connection that starts now imports a date range of older purchase
    invoices through the API, with progress, and they become bills by the usual rules."""
    tenant = await provision_onport(committing, sandboxes, api_url, seed=34, mark="2100-01-01T00:00:00.000Z")
    invoices = onport_table(sandboxes, tenant.onport_account_id, "purchase-invoices")
    purchases = onport_table(sandboxes, tenant.onport_account_id, "purchases")
    data = onport_data(sandboxes, tenant.onport_account_id)
    wanted = {i for i, inv in invoices.items() if "2025-01-02" <= str(inv["createdAt"])[:10] <= "2025-01-06"}
    assert 0 < len(wanted) < len(invoices)
    headers = {"Authorization": f"Bearer {tenant.token}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as http:
        started = await http.post(
            "/v1/imports",
            json={
                "connection_id": str(tenant.onport_connection_id),
                "since": "2025-01-02",
                "until": "2025-01-06",
            },
        )
        assert started.status_code in (200, 201, 202), started.text
        import_id = started.json()["id"]

        async def finished() -> bool:
            job = (await http.get(f"/v1/imports/{import_id}")).json()
            assert job["status"] != "failed", job
            return bool(job["status"] == "done")

        await wait_for(finished, 120, stack, "the Onport import to finish")
        job = (await http.get(f"/v1/imports/{import_id}")).json()
    assert (job["total"], job["done"]) == (len(wanted), len(wanted))
    await wait_for(
        lambda: onport_settled(committing, tenant, len(wanted)), 120, stack, "the imported invoices to settle"
    )
    records = await onport_records(committing, tenant)
    assert set(records) == {str(i) for i in wanted}
    made = {b["InvoiceNumber"]: b for b in bills(sandboxes, tenant.org_for_bills)}
    for invoice_id in wanted:
        invoice, record = invoices[invoice_id], records[str(invoice_id)]
        if purchases[invoice["purchaseId"]]["purchaseType"] in DROPSHIP:
            assert record.status is RecordStatus.synced, (record.status, record.reason)
            assert money(made[invoice["reference"]]["Total"]) == data.amounts[invoice_id].total
        else:
            assert (record.status, record.reason_code) == (RecordStatus.waiting, "manual_sync")


async def test_a_positive_adjustment_after_sync_updates_the_bill_or_adds_an_adjustment_bill(
    committing: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    stack: Stack,
    api_url: str,
) -> None:
    """Issue 15, point 12: unpaid, the bill itself is updated; once paid, an ``<reference>-ADJ`` bill."""
    tenant = await provision_onport(committing, sandboxes, api_url, seed=35)
    data = onport_data(sandboxes, tenant.onport_account_id)
    invoices = onport_table(sandboxes, tenant.onport_account_id, "purchase-invoices")
    purchases = onport_table(sandboxes, tenant.onport_account_id, "purchases")
    await wait_for(
        lambda: onport_settled(committing, tenant, len(invoices)), 180, stack, "the Onport sync to settle"
    )
    invoice_id = next(
        i
        for i, inv in invoices.items()
        if purchases[inv["purchaseId"]]["purchaseType"] in DROPSHIP
        and data.paid_of(i) == 0
        and not inv["adjustment"]
    )
    reference = invoices[invoice_id]["reference"]

    def bill(number: str) -> dict[str, Any] | None:
        return next((b for b in bills(sandboxes, tenant.org_for_bills) if b["InvoiceNumber"] == number), None)

    first = bill(reference)
    assert first is not None
    base = f"/_sandbox/accounts/{tenant.onport_account_id}/purchase-invoices/{invoice_id}"
    async with httpx.AsyncClient(base_url=sandboxes.onport_url, timeout=30) as http:
        await http.post(f"{base}/adjustments", json={"amount": "15.00", "reason": "Rush fee"})
        owed = data.amounts[invoice_id].total
        await poll_onport_until(
            committing,
            tenant,
            stack,
            "the unpaid bill to be updated",
            lambda: money((bill(reference) or {})["Total"]) == owed,
        )
        assert bill(reference) is not None and bill(reference)["InvoiceID"] == first["InvoiceID"]  # type: ignore[index]
        await http.post(f"{base}/payments", json={})
        await poll_onport_until(
            committing,
            tenant,
            stack,
            "the bill to be paid",
            lambda: (bill(reference) or {}).get("Status") == "PAID",
        )
        await http.post(f"{base}/adjustments", json={"amount": "7.25", "reason": "Packaging surcharge"})
        await poll_onport_until(
            committing, tenant, stack, "the adjustment bill", lambda: bill(f"{reference}-ADJ") is not None
        )
    extra = bill(f"{reference}-ADJ")
    assert extra is not None and money(extra["Total"]) == Decimal("7.25")
    assert [b["InvoiceNumber"] for b in bills(sandboxes, tenant.org_for_bills)].count(reference) == 1
    await wait_for(
        lambda: onport_settled(committing, tenant, len(invoices)), 60, stack, "the records to settle"
    )


async def test_a_negative_adjustment_after_sync_is_a_credit_note_allocated_to_its_bill(
    committing: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    stack: Stack,
    api_url: str,
) -> None:
    """Issue 15, point 12: the credit note is allocated, so the bill's amount due is what Onport owes and
    the vendor payout settles it exactly."""
    tenant = await provision_onport(committing, sandboxes, api_url, seed=36)
    data = onport_data(sandboxes, tenant.onport_account_id)
    invoices = onport_table(sandboxes, tenant.onport_account_id, "purchase-invoices")
    purchases = onport_table(sandboxes, tenant.onport_account_id, "purchases")
    await wait_for(
        lambda: onport_settled(committing, tenant, len(invoices)), 180, stack, "the Onport sync to settle"
    )
    invoice_id = next(
        i
        for i, inv in invoices.items()
        if purchases[inv["purchaseId"]]["purchaseType"] in DROPSHIP
        and data.paid_of(i) == 0
        and not inv["adjustment"]
        and data.amounts[i].total > 10
    )
    reference = invoices[invoice_id]["reference"]
    org = sandboxes.organisation(tenant.org_for_bills)

    def bill() -> dict[str, Any]:
        return next(b for b in bills(sandboxes, tenant.org_for_bills) if b["InvoiceNumber"] == reference)

    base = f"/_sandbox/accounts/{tenant.onport_account_id}/purchase-invoices/{invoice_id}"
    async with httpx.AsyncClient(base_url=sandboxes.onport_url, timeout=30) as http:
        await http.post(f"{base}/adjustments", json={"amount": "-5.00", "reason": "Damaged item credit"})
        owed = data.amounts[invoice_id].total
        await poll_onport_until(
            committing,
            tenant,
            stack,
            "the credit note to be allocated",
            lambda: money(bill()["AmountDue"]) == owed,
        )
        notes = [n for n in org.credit_notes.values() if n.get("CreditNoteNumber") == f"CN-{reference}"]
        assert [(money(n["Total"]), money(n["RemainingCredit"])) for n in notes] == [
            (Decimal("5.00"), Decimal(0))
        ]
        await http.post(f"{base}/payments", json={})
        await poll_onport_until(
            committing, tenant, stack, "the payout to settle the bill", lambda: bill()["Status"] == "PAID"
        )
    await wait_for(
        lambda: onport_settled(committing, tenant, len(invoices)), 60, stack, "the records to settle"
    )
    record = (await onport_records(committing, tenant))[str(invoice_id)]
    assert record.status is RecordStatus.synced, (record.status, record.reason)
