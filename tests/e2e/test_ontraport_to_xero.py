"""ONTRAPORT → Xero through all three services, clean and under faults (SPEC.md §4, §6)."""

from __future__ import annotations

import asyncio
import random

import httpx
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.cli.books_check import expected_problems
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.messages import RunImport
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import (
    Document,
    Import,
    ImportStatus,
    PollCursor,
    RecordEvent,
    RecordStatus,
    SourceRecord,
)
from tests.e2e.harness import (
    GATEWAYS,
    SERVICES,
    Sandboxes,
    Stack,
    Tenant,
    money,
    poll_now,
    provision,
    settled,
    wait_for,
    xero_books,
)

TRANSACTIONS = 500
SEED = 20261121
PAID = "1"


async def _records(sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> dict[str, SourceRecord]:
    async with sessions() as session:
        rows = await session.scalars(select(SourceRecord).where(SourceRecord.account_id == tenant.account_id))
        return {record.external_id: record for record in rows.all()}


async def _documents(
    sessions: async_sessionmaker[AsyncSession], record: SourceRecord
) -> list[tuple[str, str, str | None, str | None, int]]:
    """A record's documents, for assertion messages."""
    async with sessions() as session:
        rows = await session.scalars(
            select(Document).where(Document.record_id == record.id).order_by(Document.created_at)
        )
        return [(d.kind.value, d.status.value, d.xero_id, d.last_error, d.attempts) for d in rows.all()]


async def _history(
    sessions: async_sessionmaker[AsyncSession], record: SourceRecord
) -> list[tuple[str | None, str, str | None]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(RecordEvent).where(RecordEvent.record_id == record.id).order_by(RecordEvent.id)
        )
        return [(e.from_status, e.to_status, e.reason) for e in rows.all()]


async def _run(
    sessions: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack, seed: int
) -> Tenant:
    tenant = await provision(sessions, sandboxes, seed=seed, transactions=TRANSACTIONS)
    expected = len(sandboxes.transactions(tenant.ontraport_account_id))
    await wait_for(lambda: settled(sessions, tenant, expected), 240, stack, "the first sync to settle")
    return tenant


async def test_every_paid_transaction_becomes_one_paid_invoice_and_refunds_become_credit_notes(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack
) -> None:
    tenant = await _run(committing, sandboxes, stack, SEED)
    transactions = sandboxes.transactions(tenant.ontraport_account_id)
    organisation = sandboxes.organisation(tenant.tenant_id)
    records = await _records(committing, tenant)
    assert len(transactions) > TRANSACTIONS

    invoices = {
        str(i["InvoiceNumber"]): i for i in organisation.invoices.values() if i.get("Type") == "ACCREC"
    }
    assert len(invoices) == len(organisation.invoices)  # no duplicate numbers hidden behind the dict
    paid = {tid: t for tid, t in transactions.items() if t["status"] == PAID}
    assert len(paid) > 300
    not_synced = {
        tid: (records[str(tid)].status, records[str(tid)].reason)
        for tid in paid
        if records[str(tid)].status is not RecordStatus.synced
    }
    assert not_synced == {}
    for transaction_id, transaction in paid.items():
        invoice = invoices[f"OP-{transaction_id}"]
        currency, clearing_account = GATEWAYS[int(transaction["gateway_id"])]
        assert money(invoice["Total"]) == money(transaction["total"]), transaction_id
        assert invoice["Status"] == "PAID", (
            transaction,
            await _documents(committing, records[str(transaction_id)]),
            await _history(committing, records[str(transaction_id)]),
        )
        assert invoice["CurrencyCode"] == currency
        assert invoice["BrandingThemeID"] == tenant.branding_theme_id
        payments = [
            p
            for p in organisation.payments.values()
            if p.get("Invoice", {}).get("InvoiceID") == invoice["InvoiceID"]
        ]
        expected_payments = (
            [(money(transaction["total"]), clearing_account)] if money(transaction["total"]) else []
        )
        assert [(money(p["Amount"]), p["Account"]["Code"]) for p in payments] == expected_payments
    counters = organisation.counters
    print(f"xero calls: {counters.calls} for {len(paid)} paid transactions: {dict(counters.by_endpoint)}")
    # Refunded before the first sync: charge and refund are both booked; what never moved money is not.
    problems = expected_problems(transactions, organisation)
    assert problems == [], [
        (problem, records[problem.split(":")[0].removeprefix("OP-")].reason) for problem in problems
    ]
    for transaction_id, transaction in transactions.items():
        if transaction["status"] != PAID:
            assert records[str(transaction_id)].reason

    # Refunds after the sync: a credit note for the whole invoice, and the refund paid from the gateway's account.
    refunded = sorted(paid)[:3]
    async with httpx.AsyncClient(base_url=sandboxes.ontraport_url) as http:
        for transaction_id in refunded:
            response = await http.post(
                f"/_sandbox/accounts/{tenant.ontraport_account_id}/transactions/{transaction_id}/status",
                json={"status": 2},
            )
            assert response.status_code == 200, response.text

    async def refunds_synced() -> bool:
        await poll_now(committing, tenant)  # each poll re-reads the next slice of the recent window
        notes = {str(n.get("CreditNoteNumber")) for n in organisation.credit_notes.values()}
        current = await _records(committing, tenant)
        return all(
            f"CN-OP-{tid}" in notes and current[str(tid)].status is RecordStatus.synced for tid in refunded
        )

    await wait_for(refunds_synced, 120, stack, "refunds to become credit notes")
    notes = {str(n["CreditNoteNumber"]): n for n in organisation.credit_notes.values()}
    for transaction_id in refunded:
        note = notes[f"CN-OP-{transaction_id}"]
        assert money(note["Total"]) == money(transactions[transaction_id]["total"])
        refunds = [
            p
            for p in organisation.payments.values()
            if p.get("CreditNote", {}).get("CreditNoteID") == note["CreditNoteID"]
        ]
        assert [money(p["Amount"]) for p in refunds] == [money(note["Total"])]
    # One credit note per number: the refunds after sync above, and those refunded before their sync.
    numbers = [str(n["CreditNoteNumber"]) for n in organisation.credit_notes.values()]
    assert len(numbers) == len(set(numbers))


async def test_faults_kills_and_a_redis_flush_change_nothing_in_the_books(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack, redis: Redis
) -> None:
    clean = await _run(committing, sandboxes, stack, SEED + 1)
    expected_books = xero_books(sandboxes.organisation(clean.tenant_id))
    assert len(expected_books["invoices"]) > 300

    faulty = await provision(committing, sandboxes, seed=SEED + 1, transactions=TRANSACTIONS, start=False)
    assert sandboxes.transactions(faulty.ontraport_account_id) == sandboxes.transactions(
        clean.ontraport_account_id
    )
    async with httpx.AsyncClient(base_url=sandboxes.xero_url) as http:
        response = await http.post(
            "/_sandbox/faults",
            json={
                "tenant_id": faulty.tenant_id,
                "seed": SEED,
                "rate_429": 0.08,
                "rate_5xx": 0.08,
                "rate_lost_response": 0.1,
                "methods": ["PUT", "POST"],
            },
        )
        assert response.status_code == 200, response.text
    await poll_now(committing, faulty)

    chaos = random.Random(SEED)
    for round_number in range(5):
        await asyncio.sleep(chaos.uniform(1.0, 3.0))
        victim = chaos.choice(SERVICES)
        stack.kill(victim)  # SIGKILL: whatever it was doing stops mid-way
        if round_number == 2:
            await redis.flushdb()  # Redis restarted without persistence: every queued job is gone
        stack.start(victim)

    expected = len(sandboxes.transactions(faulty.ontraport_account_id))
    await wait_for(lambda: settled(committing, faulty, expected), 300, stack, "the faulty sync to settle")
    faults = sandboxes.organisation(faulty.tenant_id).faults
    assert sum(faults.injected.values()) > 0
    assert xero_books(sandboxes.organisation(faulty.tenant_id)) == expected_books


async def test_a_historical_import_brings_in_exactly_the_last_n(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack
) -> None:
    tenant = await provision(committing, sandboxes, seed=SEED + 2, transactions=200, history=False)

    async def first_poll_done() -> bool:
        async with committing() as session:
            cursor = await session.scalar(
                select(PollCursor).where(PollCursor.connection_id == tenant.ontraport_connection_id)
            )
            return cursor is not None and cursor.high_water_mark is not None

    await wait_for(first_poll_done, 60, stack, "the first poll")
    assert await _records(committing, tenant) == {}  # connecting does not import history by itself

    async with unit_of_work(committing) as session:
        job = Import(
            account_id=tenant.account_id, connection_id=tenant.ontraport_connection_id, params={"last_n": 120}
        )
        session.add(job)
        await session.flush()
        await add_message(session, RunImport(import_id=job.id), tenant.account_id)

    async def imported() -> bool:
        async with committing() as session:
            current = await session.get(Import, job.id)
            return current is not None and current.status is ImportStatus.done

    await wait_for(imported, 120, stack, "the import")
    await wait_for(lambda: settled(committing, tenant, 120), 180, stack, "the imported records to settle")
    latest = sorted(sandboxes.transactions(tenant.ontraport_account_id))[-120:]
    assert sorted(int(external_id) for external_id in await _records(committing, tenant)) == latest
    async with committing() as session:
        finished = await session.get(Import, job.id)
        assert finished is not None
        assert (finished.total, finished.done) == (120, 120)
