"""Issue 13's bookkeeping options through all three services against the sandboxes: tracking categories
per line, lock dates (held, healed when the date moves, posted on the first open day), contact details
kept up to date, and the invoice status and unpaid-sale paths (SPEC §4 item 1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import (
    Mapping,
    MappingKind,
    RecordStatus,
    XeroReferenceCache,
)
from ledgerbridge.common.records.healing import Change, heal
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
    settled,
    wait_for,
)

SEED = 20261301
NORTH = {"name": "Region", "option": "North"}
ONLINE = {"name": "Channel", "option": "Online"}


async def _lock(sandboxes: Sandboxes, tenant: Tenant, day: date | None) -> None:
    async with httpx.AsyncClient(base_url=sandboxes.xero_url) as http:
        response = await http.put(
            f"/_sandbox/organisations/{tenant.tenant_id}/lock-dates",
            json={"period_lock_date": day.isoformat() if day else None},
        )
        assert response.status_code == 200, response.text


def _tracking(line: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((t["Name"], t["Option"]) for t in line["Tracking"])


async def test_tracking_lock_dates_and_contact_details_end_to_end(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack
) -> None:
    tenant = await provision(committing, sandboxes, seed=SEED, transactions=0, start=False)
    async with unit_of_work(committing) as session:
        for kind, source_id, tracking in (
            (MappingKind.gateway, "3", [NORTH]),
            (MappingKind.product, "1", [ONLINE]),
        ):
            mapping = await session.scalar(
                select(Mapping).where(
                    Mapping.account_id == tenant.account_id,
                    Mapping.kind == kind,
                    Mapping.source_id == source_id,
                )
            )
            assert mapping is not None
            mapping.target = {**mapping.target, "tracking": tracking}
    today = datetime.now(UTC).date()
    d1, d2, d3 = today - timedelta(days=10), today - timedelta(days=9), today - timedelta(days=8)
    course = {"product_id": 1, "quantity": 1}
    workbook = {"product_id": 2, "quantity": 2}
    t1, t2, t3 = await add_sales(
        sandboxes,
        tenant,
        [
            {"products": [course], "gateway_id": 3, "contact_id": 1, "date": noon(d1), "tax_id": 1},
            {
                "products": [course, workbook],
                "gateway_id": 3,
                "contact_id": 2,
                "date": noon(d2),
                "tax_id": 1,
            },
            {"products": [course, workbook], "gateway_id": 1, "contact_id": 3, "date": noon(d3)},
        ],
    )
    await _lock(sandboxes, tenant, d2)
    await poll_now(committing, tenant)
    # The sandbox account also holds its worked examples (older sales); they are held like t1.
    expected = len(sandboxes.transactions(tenant.ontraport_account_id))
    await wait_for(lambda: settled(committing, tenant, expected), 120, stack, "the first sync")

    records = await ontraport_records(committing, tenant)
    for held in (t1, t2):
        assert records[held].status is RecordStatus.waiting, records[held].reason
        assert records[held].reason_code == ReasonCode.period_locked
        assert f"lock date {d2.isoformat()}" in (records[held].reason or "")
    assert records[t3].status is RecordStatus.synced, records[t3].reason
    # Gateway 1 has no tracking: the course line carries its product's, the workbook's none.
    lines = {line["Description"]: line for line in sale_invoice(sandboxes, tenant, t3)["LineItems"]}
    assert _tracking(lines["Pro Course"]) == [("Channel", "Online")]
    assert lines["Workbook"]["Tracking"] == []

    # The lock date moves back a day in Xero: the next poll after the cached copy is an hour old reads
    # it again, which frees both; the mapper holds again the one the new date still covers.
    await _lock(sandboxes, tenant, d1)
    async with unit_of_work(committing) as session:
        await session.execute(
            update(XeroReferenceCache)
            .where(XeroReferenceCache.connection_id == tenant.xero_connection_id)
            .values(fetched_at=datetime.now(UTC) - timedelta(hours=2))
        )

    async def second_freed() -> bool:
        await poll_now(committing, tenant)
        current = await ontraport_records(committing, tenant)
        return current[t2].status is RecordStatus.synced and d1.isoformat() in (current[t1].reason or "")

    await wait_for(second_freed, 120, stack, "the moved lock date to free the second sale")
    invoice = sale_invoice(sandboxes, tenant, t2)
    assert invoice["DateString"].startswith(d2.isoformat())
    lines = {line["Description"]: line for line in invoice["LineItems"]}
    assert _tracking(lines["Pro Course"]) == [("Channel", "Online"), ("Region", "North")]
    assert _tracking(lines["Workbook"]) == [("Region", "North")]
    assert all(t["TrackingCategoryID"] and t["TrackingOptionID"] for t in lines["Workbook"]["Tracking"])
    assert (await ontraport_records(committing, tenant))[t1].status is RecordStatus.waiting

    # The tenant chooses to post locked documents on the first open day: the setting change heals.
    await set_ontraport_options(committing, tenant, locked_period="first_open_day")
    async with unit_of_work(committing) as session:
        assert await heal(session, tenant.account_id, [Change("setting", "ontraport.locked_period")]) >= 1

    async def first_posted() -> bool:
        return (await ontraport_records(committing, tenant))[t1].status is RecordStatus.synced

    await wait_for(first_posted, 60, stack, "the held sale to post on the first open day")
    moved = sale_invoice(sandboxes, tenant, t1)
    first_open = (d1 + timedelta(days=1)).isoformat()
    assert moved["DateString"].startswith(first_open)
    assert f"(dated {d1.isoformat()})" in moved["Reference"]
    assert moved["Status"] == "PAID"
    organisation = sandboxes.organisation(tenant.tenant_id)
    (payment,) = [
        p for p in organisation.payments.values() if p["Invoice"]["InvoiceID"] == moved["InvoiceID"]
    ]
    assert payment["Date"] == moved["Date"]

    # Contact details: sent on creation, and updated when a later sale brings changed ones.
    contacts = {c.get("ContactNumber"): c for c in organisation.contacts.values()}
    first = contacts["OP-1"]
    ontraport_contact = next(
        c
        for c in sandboxes.ontraport.state.sandbox.accounts[tenant.ontraport_account_id].contacts
        if c["id"] == "1"
    )
    assert first["EmailAddress"] == ontraport_contact["email"]
    assert (first["FirstName"], first["LastName"]) == (
        ontraport_contact["firstname"],
        ontraport_contact["lastname"],
    )
    (address,) = first["Addresses"]
    assert (address["AddressLine1"], address["City"], address["PostalCode"]) == (
        ontraport_contact["address"],
        ontraport_contact["city"],
        ontraport_contact["zip"],
    )
    async with httpx.AsyncClient(base_url=sandboxes.ontraport_url) as http:
        changed = await http.patch(
            f"/_sandbox/accounts/{tenant.ontraport_account_id}/contacts/1",
            json={"email": "alex.moved@example.com", "city": "Hobart", "zip": "7000"},
        )
        assert changed.status_code == 200, changed.text
    (t4,) = await add_sales(
        sandboxes, tenant, [{"products": [course], "gateway_id": 3, "contact_id": 1, "date": noon(d3)}]
    )
    await poll_now(committing, tenant)
    await wait_for(
        lambda: settled(committing, tenant, expected + 1), 60, stack, "the sale with changed contact details"
    )
    assert (await ontraport_records(committing, tenant))[t4].status is RecordStatus.synced
    updated = next(c for c in organisation.contacts.values() if c.get("ContactNumber") == "OP-1")
    assert updated["ContactID"] == first["ContactID"]
    assert updated["EmailAddress"] == "alex.moved@example.com"
    assert (updated["Addresses"][0]["City"], updated["Addresses"][0]["PostalCode"]) == ("Hobart", "7000")
    assert sale_invoice(sandboxes, tenant, t4)["Contact"]["ContactID"] == first["ContactID"]
    assert sum(1 for c in organisation.contacts.values() if c.get("ContactNumber") == "OP-1") == 1


async def test_unpaid_sales_await_payment_and_get_it_when_paid_and_drafts_take_none(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack
) -> None:
    """SPEC §4 item 1: unpaid transactions as invoices awaiting payment (AUTHORISED), paid later;
    with DRAFT invoices nothing is paid in Xero (it takes no payment on drafts)."""
    authorised = await provision(committing, sandboxes, seed=SEED + 1, transactions=0, start=False)
    drafts = await provision(committing, sandboxes, seed=SEED + 2, transactions=0, start=False)
    await set_ontraport_options(committing, authorised, sync_unpaid=True)
    await set_ontraport_options(committing, drafts, sync_unpaid=True, invoice_status="DRAFT")
    day = datetime.now(UTC).date() - timedelta(days=3)
    sale = {"products": [{"product_id": 1, "quantity": 1}], "gateway_id": 3, "tax_id": 1, "date": noon(day)}
    unpaid, paid = await add_sales(sandboxes, authorised, [{**sale, "status": 0}, {**sale, "status": 1}])
    draft_unpaid, draft_paid = await add_sales(
        sandboxes, drafts, [{**sale, "status": 0}, {**sale, "status": 1}]
    )
    for tenant in (authorised, drafts):
        await poll_now(committing, tenant)
    for tenant in (authorised, drafts):
        await wait_for(all_settled(committing, sandboxes, tenant), 90, stack, "the unpaid and paid sales")

    records = await ontraport_records(committing, authorised)
    assert {records[unpaid].status, records[paid].status} == {RecordStatus.synced}
    awaiting = sale_invoice(sandboxes, authorised, unpaid)
    assert (awaiting["Status"], money(awaiting["AmountDue"])) == ("AUTHORISED", money(awaiting["Total"]))
    assert sale_invoice(sandboxes, authorised, paid)["Status"] == "PAID"
    organisation = sandboxes.organisation(authorised.tenant_id)
    assert not [
        p for p in organisation.payments.values() if p["Invoice"]["InvoiceID"] == awaiting["InvoiceID"]
    ]

    draft_records = await ontraport_records(committing, drafts)
    assert {draft_records[draft_unpaid].status, draft_records[draft_paid].status} == {RecordStatus.synced}
    for transaction_id in (draft_unpaid, draft_paid):
        assert sale_invoice(sandboxes, drafts, transaction_id)["Status"] == "DRAFT"
    draft_books = sandboxes.organisation(drafts.tenant_id)
    assert not [
        p
        for p in draft_books.payments.values()
        if p.get("Invoice", {}).get("InvoiceNumber") in (f"OP-{draft_unpaid}", f"OP-{draft_paid}")
    ]

    # The customer pays: the next poll re-reads the sale and the payment joins the invoice.
    async with httpx.AsyncClient(base_url=sandboxes.ontraport_url) as http:
        response = await http.post(
            f"/_sandbox/accounts/{authorised.ontraport_account_id}/transactions/{unpaid}/status",
            json={"status": 1},
        )
        assert response.status_code == 200, response.text

    async def paid_later() -> bool:
        await poll_now(committing, authorised)
        return bool(sale_invoice(sandboxes, authorised, unpaid)["Status"] == "PAID")

    await wait_for(paid_later, 90, stack, "the later payment")
    (payment,) = [
        p for p in organisation.payments.values() if p["Invoice"]["InvoiceID"] == awaiting["InvoiceID"]
    ]
    assert money(payment["Amount"]) == money(awaiting["Total"])
    assert payment["Account"]["Code"] == "615"
