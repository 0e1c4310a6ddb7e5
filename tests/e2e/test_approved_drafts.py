"""SPEC §4 item 1 with the DRAFT invoice status (issue 13 point 5), through the API gateway and all three
workers against the sandboxes: a paid sale becomes a DRAFT invoice without a payment; once a bookkeeper
approves it in Xero, its payment follows, told by Xero's INVOICE webhook, or, when that webhook never
comes, found by the publisher's periodic re-read of drafts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.models import RecordEvent, RecordStatus, SourceRecord
from tests.e2e.harness import (
    Sandboxes,
    Stack,
    Tenant,
    add_sales,
    all_settled,
    money,
    noon,
    ontraport_records,
    poll_now,
    provision,
    sale_invoice,
    set_ontraport_options,
    wait_for,
    xero_by_hand,
    xero_webhooks,
)

SEED = 20261305
AUD_CLEARING = "615"  # gateway 3's payment account in the harness


async def _draft_sale(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack, seed: int
) -> tuple[Tenant, int, dict[str, Any]]:
    """A tenant with the DRAFT setting and one paid sale, synced: a DRAFT invoice and no payment."""
    tenant = await provision(committing, sandboxes, seed=seed, transactions=0, start=False)
    await set_ontraport_options(committing, tenant, invoice_status="DRAFT")
    day = datetime.now(UTC).date() - timedelta(days=2)
    sale = {"products": [{"product_id": 1, "quantity": 1}], "gateway_id": 3, "tax_id": 1, "date": noon(day)}
    (paid,) = await add_sales(sandboxes, tenant, [{**sale, "status": 1}])
    await poll_now(committing, tenant)
    await wait_for(all_settled(committing, sandboxes, tenant), 90, stack, "the draft invoice")
    draft = sale_invoice(sandboxes, tenant, paid)
    assert draft["Status"] == "DRAFT"
    assert _payments(sandboxes, tenant, draft) == []
    record = (await ontraport_records(committing, tenant))[paid]
    assert record.status is RecordStatus.synced
    return tenant, paid, draft


def _payments(sandboxes: Sandboxes, tenant: Tenant, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    books = sandboxes.organisation(tenant.tenant_id)
    return [p for p in books.payments.values() if p["Invoice"]["InvoiceID"] == invoice["InvoiceID"]]


async def _approve(
    sandboxes: Sandboxes, tenant: Tenant, invoice: dict[str, Any], lines: list[dict[str, Any]] | None = None
) -> None:
    async with httpx.AsyncClient(base_url=sandboxes.xero_url) as control:
        approved = await control.post(
            f"/_sandbox/organisations/{tenant.tenant_id}/invoices/{invoice['InvoiceID']}/approve",
            json={"line_items": lines},
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["Status"] == "AUTHORISED"


async def _correct(sandboxes: Sandboxes, tenant: Tenant, draft: dict[str, Any]) -> None:
    """Edit the approved invoice's lines back to the draft's, through Xero's own API."""
    async with await xero_by_hand(sandboxes, tenant) as xero:
        corrected = await xero.post(
            f"/Invoices/{draft['InvoiceID']}", json={"Invoices": [{"LineItems": draft["LineItems"]}]}
        )
        assert corrected.status_code == 200, corrected.text
        assert money(corrected.json()["Invoices"][0]["Total"]) == money(draft["Total"])


async def _paid_once(
    committing: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    stack: Stack,
    tenant: Tenant,
    transaction_id: int,
    what: str,
) -> None:
    async def paid() -> bool:
        return bool(sale_invoice(sandboxes, tenant, transaction_id)["Status"] == "PAID")

    await wait_for(paid, 90, stack, what)
    invoice = sale_invoice(sandboxes, tenant, transaction_id)
    (payment,) = _payments(sandboxes, tenant, invoice)
    assert money(payment["Amount"]) == money(invoice["Total"])
    assert payment["Account"]["Code"] == AUD_CLEARING
    await wait_for(all_settled(committing, sandboxes, tenant), 60, stack, "the record to settle")
    async with committing() as session:
        record = await session.scalar(
            select(SourceRecord).where(
                SourceRecord.account_id == tenant.account_id,
                SourceRecord.external_id == str(transaction_id),
            )
        )
        assert record is not None and record.status is RecordStatus.synced
        history = (
            await session.scalars(select(RecordEvent.reason).where(RecordEvent.record_id == record.id))
        ).all()
    assert any(f"Invoice {invoice['InvoiceNumber']} was approved in Xero" in (r or "") for r in history)


async def test_a_draft_approved_in_xero_gets_its_payment_through_the_webhook(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack, api_url: str
) -> None:
    await xero_webhooks(sandboxes, f"{api_url}/webhooks/xero")
    try:
        tenant, paid, draft = await _draft_sale(committing, sandboxes, stack, SEED)
        await _approve(sandboxes, tenant, draft)
        await _paid_once(committing, sandboxes, stack, tenant, paid, "the payment after the webhook")

        # Another draft edited to a lower price, then approved: no payment, and the record says why.
        other, second_paid, second = await _draft_sale(committing, sandboxes, stack, SEED + 1)
        lines = [
            {**line, "UnitAmount": float(money(line["UnitAmount"]) - 10)} for line in second["LineItems"]
        ]
        await _approve(sandboxes, other, second, lines)

        async def failed() -> bool:
            return (await ontraport_records(committing, other))[second_paid].status is RecordStatus.failed

        await wait_for(failed, 90, stack, "the edited draft to fail")
        record = (await ontraport_records(committing, other))[second_paid]
        assert record.reason_code == "approved_amount_differs"
        approved_total = money(sale_invoice(sandboxes, other, second_paid)["Total"])
        assert approved_total < money(second["Total"])
        assert f"approved in Xero for {approved_total}" in (record.reason or "")
        assert f"the sale charged {money(second['Total'])}" in (record.reason or "")
        assert _payments(sandboxes, other, second) == []

        # The bookkeeper corrects the invoice in Xero to the sale's amount: Xero's webhook names it again,
        # the corrected copy is read, and the failed record gets its payment after all.
        await _correct(sandboxes, other, second)
        await _paid_once(committing, sandboxes, stack, other, second_paid, "the payment after the correction")
        assert len(_payments(sandboxes, tenant, draft)) == 1  # the first invoice is still paid once
    finally:
        await xero_webhooks(sandboxes, None)


@pytest.mark.parametrize("stack_env", [{"PUBLISHER_DRAFT_RECHECK_SECONDS": "4"}], indirect=True)
async def test_a_draft_approved_without_a_webhook_is_found_by_the_periodic_read(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack
) -> None:
    await xero_webhooks(sandboxes, None)  # Xero's webhook never arrives
    tenant, paid, draft = await _draft_sale(committing, sandboxes, stack, SEED + 2)
    await _approve(sandboxes, tenant, draft)
    await _paid_once(committing, sandboxes, stack, tenant, paid, "the periodic read to find the approval")
