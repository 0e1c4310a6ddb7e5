"""Summary mode end to end (issue 13, point 1): a day's sales per gateway as one paid invoice, through all
three services, clean and under faults (lost answers, 429s, 5xx, killed workers, a Redis flush)."""

from __future__ import annotations

import asyncio
import random
import re
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import (
    AccountSettings,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.models.records import SUMMARY_KIND
from ledgerbridge.sandbox.xero.state import Organisation
from tests.e2e.harness import (
    GATEWAYS,
    SERVICES,
    Sandboxes,
    Stack,
    Tenant,
    money,
    poll_now,
    provision,
    summary_settled,
    wait_for,
)

TRANSACTIONS = 120
SEED = 20261201
PAID = "1"
ZONE = "Australia/Sydney"
ADJUSTMENT = re.compile(r"-ADJ\d+$")


async def _summary_tenant(
    sessions: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, seed: int
) -> Tenant:
    tenant = await provision(sessions, sandboxes, seed=seed, transactions=TRANSACTIONS, start=False)
    async with unit_of_work(sessions) as session:
        row = await session.get(AccountSettings, tenant.account_id)
        assert row is not None
        ontraport = {**row.values["ontraport"], "summary_mode": True, "time_zone": ZONE}
        await session.execute(
            update(AccountSettings)
            .where(AccountSettings.account_id == tenant.account_id)
            .values(values={**row.values, "ontraport": ontraport})
        )
    return tenant


def _day(transaction: dict[str, str]) -> str:
    return datetime.fromtimestamp(int(transaction["date"]), UTC).astimezone(ZoneInfo(ZONE)).strftime("%Y%m%d")


def _summary_books(organisation: Organisation) -> dict[str, Any]:
    """Sales invoices and payments with each day's adjustments added to its summary: how a late sale
    splits a day depends on when it arrived, what the day books does not."""
    invoices: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    paid: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for invoice in organisation.invoices.values():
        if invoice.get("Type") == "ACCREC":
            key = (ADJUSTMENT.sub("", str(invoice["InvoiceNumber"])), str(invoice["Status"]))
            invoices[key] += money(invoice["Total"])
            paid[key] += money(invoice.get("AmountPaid", 0))
    payments: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for payment in organisation.payments.values():
        if payment.get("Status") != "DELETED":
            number = ADJUSTMENT.sub("", str(payment.get("Invoice", {}).get("InvoiceNumber")))
            payments[(number, str(payment.get("Account", {}).get("Code")))] += money(payment["Amount"])
    return {
        "invoices": sorted(invoices.items()),
        "paid": sorted(paid.items()),
        "payments": sorted(payments.items()),
        "credit_notes": sorted(
            (str(n["CreditNoteNumber"]), money(n["Total"])) for n in organisation.credit_notes.values()
        ),
    }


async def _check_clean_books(
    sessions: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, tenant: Tenant
) -> None:
    transactions = sandboxes.transactions(tenant.ontraport_account_id)
    organisation = sandboxes.organisation(tenant.tenant_id)
    paid = {tid: t for tid, t in transactions.items() if t["status"] == PAID}
    assert len(paid) > TRANSACTIONS / 2
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for transaction in paid.values():
        expected[f"OP-DAY-{transaction['gateway_id']}-{_day(transaction)}"] += money(transaction["total"])
    summaries = {
        str(i["InvoiceNumber"]): i
        for i in organisation.invoices.values()
        if str(i["InvoiceNumber"]).startswith("OP-DAY-")
    }
    numbers = [str(i["InvoiceNumber"]) for i in organisation.invoices.values()]
    assert len(numbers) == len(set(numbers))
    booked: dict[str, Decimal] = defaultdict(Decimal)
    for number, invoice in summaries.items():
        booked[ADJUSTMENT.sub("", number)] += money(invoice["Total"])
        gateway = int(number.split("-")[2])
        currency, clearing = GATEWAYS[gateway]
        assert invoice["CurrencyCode"] == currency
        assert invoice["Status"] == "PAID"
        assert "/records?source=ontraport&since=" in invoice["Url"]
        payments = [
            p
            for p in organisation.payments.values()
            if p.get("Invoice", {}).get("InvoiceID") == invoice["InvoiceID"]
        ]
        assert [(money(p["Amount"]), p["Account"]["Code"]) for p in payments] == [
            (money(invoice["Total"]), clearing)
        ]
    assert len(expected) > 3
    assert booked == expected  # each day's charges per gateway, to the cent
    # Not one invoice of a paid sale's own: far fewer documents than sales.
    assert not any(f"OP-{tid}" in numbers for tid in paid)
    assert len(summaries) < len(paid) / 3
    async with sessions() as session:
        rows = (
            await session.scalars(select(SourceRecord).where(SourceRecord.account_id == tenant.account_id))
        ).all()
    by_id = {record.id: record for record in rows}
    for record in rows:
        if record.kind == SUMMARY_KIND or record.external_id not in {str(t) for t in paid}:
            continue
        assert record.status is RecordStatus.synced, (record.external_id, record.status, record.reason)
        assert record.summary_record_id is not None
        summary = by_id[record.summary_record_id]
        assert summary.status is RecordStatus.synced
        assert ADJUSTMENT.sub("", summary.external_id) == (
            f"OP-DAY-{transactions[int(record.external_id)]['gateway_id']}-{_day(transactions[int(record.external_id)])}"
        )


async def test_summary_mode_books_each_day_once_and_faults_change_nothing(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack, redis: Redis
) -> None:
    clean = await _summary_tenant(committing, sandboxes, SEED)
    await poll_now(committing, clean)
    expected = len(sandboxes.transactions(clean.ontraport_account_id))
    await wait_for(lambda: summary_settled(committing, clean, expected), 120, stack, "the clean summary sync")
    await _check_clean_books(committing, sandboxes, clean)
    clean_books = _summary_books(sandboxes.organisation(clean.tenant_id))

    faulty = await _summary_tenant(committing, sandboxes, SEED)
    assert sandboxes.transactions(faulty.ontraport_account_id) == sandboxes.transactions(
        clean.ontraport_account_id
    )
    async with httpx.AsyncClient(base_url=sandboxes.xero_url) as http:
        response = await http.post(
            "/_sandbox/faults",
            json={
                "tenant_id": faulty.tenant_id,
                "seed": SEED,
                "rate_429": 0.1,
                "rate_5xx": 0.1,
                "rate_lost_response": 0.15,
                "methods": ["PUT", "POST"],
            },
        )
        assert response.status_code == 200, response.text
    await poll_now(committing, faulty)
    chaos = random.Random(SEED)
    for round_number in range(4):
        await asyncio.sleep(chaos.uniform(0.5, 2.0))
        victim = chaos.choice(SERVICES)
        stack.kill(victim)
        if round_number == 1:
            await redis.flushdb()
        stack.start(victim)
    await wait_for(
        lambda: summary_settled(committing, faulty, expected), 180, stack, "the faulty summary sync"
    )
    assert sum(sandboxes.organisation(faulty.tenant_id).faults.injected.values()) > 0
    assert _summary_books(sandboxes.organisation(faulty.tenant_id)) == clean_books
    await _check_clean_books(committing, sandboxes, faulty)
