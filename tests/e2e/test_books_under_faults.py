"""Issue 15's cases end to end under the faults run: Xero answering 429s and 5xx and losing responses,
workers killed mid-way, Redis flushed. Each test runs its scenario twice at once, for a tenant whose Xero
organisation misbehaves and for its twin whose does not (same data, same workers, same kills), and the
two organisations must end with identical books, and the books the rules say.

The 500-sale ONTRAPORT run under faults (points 2 and 3 among its sales) is in
``test_ontraport_to_xero.py``; these cover points 1 and 4 (ONTRAPORT) and 10, 11 and 12 (Onport).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.cli.books_check import expected_problems
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import RecordStatus, SourceRecord
from tests.e2e.harness import (
    DROPSHIP,
    GATEWAYS,
    SERVICES,
    OnportTenant,
    Sandboxes,
    Stack,
    Tenant,
    bills,
    money,
    onport_data,
    onport_records,
    onport_settled,
    onport_table,
    poll_onport_until,
    provision_onport,
    settled,
    sign_up,
    wait_for,
    xero_books,
    xero_connection,
    xero_organisation,
)

SEED = 20261201
ONPORT_SEED = 52  # gives four unpaid dropship invoices without an adjustment
FAULTS = {"rate_429": 0.1, "rate_5xx": 0.1, "rate_lost_response": 0.15, "methods": ["PUT", "POST"]}


async def inject_faults(sandboxes: Sandboxes, tenant_id: str, seed: int) -> None:
    async with httpx.AsyncClient(base_url=sandboxes.xero_url) as http:
        response = await http.post("/_sandbox/faults", json={"tenant_id": tenant_id, "seed": seed, **FAULTS})
        assert response.status_code == 200, response.text


async def chaos(stack: Stack, redis: Redis, rng: random.Random, rounds: int, *, flush: bool) -> None:
    """Kill a random worker (SIGKILL, mid-way) and start it again, ``rounds`` times; flush Redis once."""
    for round_number in range(rounds):
        await asyncio.sleep(rng.uniform(0.5, 1.5))
        victim = rng.choice(SERVICES)
        stack.kill(victim)
        if flush and round_number == rounds // 2:
            await redis.flushdb()  # Redis restarted without persistence: every queued job is gone
        stack.start(victim)


async def ontraport_records(
    sessions: async_sessionmaker[AsyncSession], tenant: Tenant
) -> dict[str, SourceRecord]:
    async with sessions() as session:
        rows = await session.scalars(select(SourceRecord).where(SourceRecord.account_id == tenant.account_id))
        return {record.external_id: record for record in rows.all()}


async def twice(scenario: Callable[[OnportTenant], Awaitable[None]], *tenants: OnportTenant) -> None:
    await asyncio.gather(*(scenario(tenant) for tenant in tenants))


async def test_onport_import_payout_reversal_and_adjustments_under_faults(
    committing: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    stack: Stack,
    api_url: str,
    redis: Redis,
) -> None:
    """Points 10, 11 and 12: a historical import, a payout paid then cancelled, a positive adjustment on an
    unpaid bill and a negative one on another, with Xero misbehaving for one of two identical tenants."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    # Both start now: their (older) invoices come in only through the import.
    clean, faulty = [
        await provision_onport(committing, sandboxes, api_url, seed=ONPORT_SEED, mark=now) for _ in range(2)
    ]
    await inject_faults(sandboxes, faulty.org_for_bills, SEED)
    invoices = onport_table(sandboxes, faulty.onport_account_id, "purchase-invoices")
    purchases = onport_table(sandboxes, faulty.onport_account_id, "purchases")
    assert invoices == onport_table(sandboxes, clean.onport_account_id, "purchase-invoices")
    data = onport_data(sandboxes, faulty.onport_account_id)
    dropship = sorted(
        i
        for i, invoice in invoices.items()
        if purchases[invoice["purchaseId"]]["purchaseType"] in DROPSHIP
        and data.paid_of(i) == 0
        and not invoice["adjustment"]
        and data.amounts[i].total > 10
    )
    assert len(dropship) >= 3, "the seed must give three unpaid dropship invoices"
    reversed_id, raised_id, credited_id = dropship[:3]

    async def imported(tenant: OnportTenant) -> None:
        headers = {"Authorization": f"Bearer {tenant.token}"}
        async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as http:
            started = await http.post(
                "/v1/imports",
                json={"connection_id": str(tenant.onport_connection_id), "since": "2000-01-01"},
            )
            assert started.status_code in (200, 201, 202), started.text
        await wait_for(
            lambda: onport_settled(committing, tenant, len(invoices)), 120, stack, "the import to settle"
        )

    await asyncio.gather(
        twice(imported, clean, faulty), chaos(stack, redis, random.Random(SEED), 4, flush=True)
    )

    async def changes(tenant: OnportTenant) -> None:
        base = f"/_sandbox/accounts/{tenant.onport_account_id}"
        org = sandboxes.organisation(tenant.org_for_bills)
        owed = onport_data(sandboxes, tenant.onport_account_id).amounts

        def bill(invoice_id: int, suffix: str = "") -> dict[str, Any]:
            number = invoices[invoice_id]["reference"] + suffix
            return next(
                (b for b in bills(sandboxes, tenant.org_for_bills) if b["InvoiceNumber"] == number), {}
            )

        def standing(invoice_id: int) -> int:
            bill_id = bill(invoice_id).get("InvoiceID")
            return sum(
                1
                for p in org.payments.values()
                if p.get("Invoice", {}).get("InvoiceID") == bill_id and p.get("Status") != "DELETED"
            )

        async with httpx.AsyncClient(base_url=sandboxes.onport_url, timeout=30) as http:
            payout = (await http.post(f"{base}/purchase-invoices/{reversed_id}/payments", json={})).json()
            await http.post(
                f"{base}/purchase-invoices/{raised_id}/adjustments",
                json={"amount": "15.00", "reason": "Rush fee"},
            )
            await http.post(
                f"{base}/purchase-invoices/{credited_id}/adjustments",
                json={"amount": "-5.00", "reason": "Damaged item"},
            )
            await poll_onport_until(
                committing,
                tenant,
                stack,
                "the payout, the updated bill and the allocated credit note",
                lambda: (
                    standing(reversed_id) == 1
                    and money(bill(raised_id).get("Total", 0)) == owed[raised_id].total
                    and money(bill(credited_id).get("AmountDue", 0)) == owed[credited_id].total
                ),
            )
            cancelled = await http.post(f"{base}/purchase-invoice-payments/{payout['payment']['id']}/cancel")
            assert cancelled.status_code == 200, cancelled.text
            await poll_onport_until(
                committing, tenant, stack, "the payment to go", lambda: standing(reversed_id) == 0
            )
        await wait_for(
            lambda: onport_settled(committing, tenant, len(invoices)), 60, stack, "records to settle"
        )

    await asyncio.gather(
        twice(changes, clean, faulty), chaos(stack, redis, random.Random(SEED + 1), 4, flush=True)
    )

    assert sum(sandboxes.organisation(faulty.org_for_bills).faults.injected.values()) > 0
    books = xero_books(sandboxes.organisation(faulty.org_for_bills))
    assert books == xero_books(sandboxes.organisation(clean.org_for_bills))
    # And they are the books the rules say: one bill per dropship invoice for what Onport owes, the
    # cancelled payout's payment deleted (once), the credit note allocated in full.
    made = bills(sandboxes, faulty.org_for_bills)
    assert Counter(b["InvoiceNumber"] for b in made).most_common(1)[0][1] == 1
    owed = onport_data(sandboxes, faulty.onport_account_id).amounts
    dropship_all = [
        i for i, inv in invoices.items() if purchases[inv["purchaseId"]]["purchaseType"] in DROPSHIP
    ]
    assert sorted(b["InvoiceNumber"] for b in made) == sorted(invoices[i]["reference"] for i in dropship_all)
    totals = {b["InvoiceNumber"]: money(b["Total"]) for b in made}
    assert {invoices[i]["reference"]: owed[i].total for i in dropship_all if i != credited_id} == {
        number: total for number, total in totals.items() if number != invoices[credited_id]["reference"]
    }
    reversed_bill = next(b for b in made if b["InvoiceNumber"] == invoices[reversed_id]["reference"])
    statuses = [
        p["Status"]
        for p in sandboxes.organisation(faulty.org_for_bills).payments.values()
        if p.get("Invoice", {}).get("InvoiceID") == reversed_bill["InvoiceID"]
    ]
    assert statuses == ["DELETED"]
    credited = f"CN-{invoices[credited_id]['reference']}"
    assert [(number, total, remaining) for number, total, _, remaining in books["credit_notes"]] == [
        (credited, Decimal("5.00"), Decimal("0.00"))
    ]
    records = await onport_records(committing, faulty)
    assert {r.status for i, r in records.items() if int(i) in dropship_all} == {RecordStatus.synced}


async def connect_ontraport_through_the_api(
    sessions: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, api_url: str, *, seed: int
) -> tuple[Tenant, str]:
    """A new user connects ONTRAPORT through the API (which takes the high-water mark then), maps gateways
    and taxes but sets no default sales account. Returns the tenant and its bearer token."""
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        token, account_id = await sign_up(http, "Shop")
        tenant_id, tokens = await xero_organisation(http, sandboxes)
        ontraport = (
            await http.post(
                f"{sandboxes.ontraport_url}/_sandbox/accounts",
                json={"seed": seed, "transactions": 10, "contacts": 20},
            )
        ).json()
        async with unit_of_work(sessions) as session:
            xero = xero_connection(account_id, tenant_id, tokens)
            session.add(xero)
        http.headers["Authorization"] = f"Bearer {token}"
        connected = await http.post(
            "/v1/connections/ontraport", json={"app_id": ontraport["app_id"], "api_key": ontraport["api_key"]}
        )
        assert connected.status_code == 201, connected.text
        theme = next(iter(sandboxes.organisation(tenant_id).branding_themes))
        mappings = [
            {
                "kind": "gateway",
                "source_id": str(gateway),
                "target": {
                    "currency_code": currency,
                    "payment_account_code": code,
                    "branding_theme_id": theme,
                },
            }
            for gateway, (currency, code) in GATEWAYS.items()
        ] + [{"kind": "tax", "source_id": str(tax), "target": {"tax_type": "OUTPUT"}} for tax in (1, 2, 3)]
        assert (await http.put("/v1/mappings", json=mappings)).status_code == 200
        options = {
            "ontraport": {
                "default_coupon_account": "220",
                "default_shipping_account": "210",
                "tax_free_code": "EXEMPTOUTPUT",
            }
        }
        assert (await http.patch("/v1/settings", json=options)).status_code == 200
        assert (await http.post("/v1/plan/upgrade")).status_code == 200
    tenant = Tenant(
        account_id,
        xero.id,
        uuid.UUID(connected.json()["id"]),
        tenant_id,
        int(ontraport["account_id"]),
        theme,
    )
    return tenant, token


async def test_sales_after_connecting_and_a_default_that_heals_them_under_faults(
    committing: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    stack: Stack,
    api_url: str,
    redis: Redis,
) -> None:
    """Point 1: sales made a moment after connecting, while the poller is down, are synced when it comes
    back. Point 4: those that fail on an unmapped product heal by themselves once the default sales
    account is set, with no retry asked for. Xero misbehaves for one of two identical tenants."""
    stack.kill("poller")  # the first poll will be late
    (clean, clean_token), (faulty, faulty_token) = [
        await connect_ontraport_through_the_api(committing, sandboxes, api_url, seed=SEED) for _ in range(2)
    ]
    await inject_faults(sandboxes, faulty.tenant_id, SEED)
    older = set(sandboxes.transactions(faulty.ontraport_account_id))
    sales: list[int] = []
    async with httpx.AsyncClient(base_url=sandboxes.ontraport_url) as http:
        for tenant in (clean, faulty):
            added = await http.post(
                f"/_sandbox/accounts/{tenant.ontraport_account_id}/transactions", json={"count": 14}
            )
            sales = added.json()["ids"]
    assert sandboxes.transactions(clean.ontraport_account_id) == sandboxes.transactions(
        faulty.ontraport_account_id
    )
    await asyncio.sleep(2)
    stack.start("poller")

    async def first_sync(tenant: Tenant) -> None:
        await wait_for(lambda: settled(committing, tenant, len(sales)), 90, stack, "the new sales to settle")

    await asyncio.gather(
        first_sync(clean), first_sync(faulty), chaos(stack, redis, random.Random(SEED + 2), 4, flush=True)
    )
    for tenant in (clean, faulty):
        records = await ontraport_records(committing, tenant)
        assert sorted(int(i) for i in records) == sorted(sales)  # the sales after connecting, no older one
        assert not older & {int(i) for i in records}
        unmapped = [r for r in records.values() if r.reason_code == ReasonCode.product_unmapped]
        assert unmapped, "the scenario needs sales failing on an unmapped product"

    async def heal(tenant: Tenant, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as http:
            fixed = await http.patch("/v1/settings", json={"ontraport": {"default_sales_account": "200"}})
            assert fixed.status_code == 200, fixed.text

        async def healed() -> bool:
            records = (await ontraport_records(committing, tenant)).values()
            return await settled(committing, tenant, len(sales)) and not any(
                r.status is RecordStatus.failed for r in records
            )

        await wait_for(healed, 90, stack, "the failed sales to heal by themselves")

    await asyncio.gather(
        heal(clean, clean_token),
        heal(faulty, faulty_token),
        chaos(stack, redis, random.Random(SEED + 3), 3, flush=True),
    )
    assert sum(sandboxes.organisation(faulty.tenant_id).faults.injected.values()) > 0
    organisation = sandboxes.organisation(faulty.tenant_id)
    assert xero_books(organisation) == xero_books(sandboxes.organisation(clean.tenant_id))
    new_sales = {
        tid: t for tid, t in sandboxes.transactions(faulty.ontraport_account_id).items() if tid in set(sales)
    }
    assert expected_problems(new_sales, organisation) == []
    assert sum(1 for i in organisation.invoices.values() if i.get("Type") == "ACCREC") >= 8
