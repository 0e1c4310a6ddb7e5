"""The whole pipeline at Xero's real limits: a backlog of ONTRAPORT transactions through three worker processes.

Scenario "new customers": an ONTRAPORT account whose transactions nearly all come from different
contacts, so almost every transaction needs a Xero contact too. Scenario "known customers": a second
backlog for contacts the first one already created in Xero (and recorded in our database).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import shutil
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.infra import CallRecorder, XeroCall, by_endpoint, stopped_after
from ledgerbridge.cli.sandboxes import sandbox_environment
from ledgerbridge.common.crypto import Cipher
from ledgerbridge.common.database import create_engine, session_factory, unit_of_work
from ledgerbridge.common.messaging.messages import PollConnection
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Connection, PollCursor, SourceRecord
from ledgerbridge.sandbox.onport.app import create_app as create_onport
from ledgerbridge.sandbox.ontraport.amounts import coupon_applies
from ledgerbridge.sandbox.ontraport.app import create_app as create_ontraport
from ledgerbridge.sandbox.ontraport.catalog import COUPONS, GATEWAYS, PRODUCT_LINES, SHIPPING, TAXES
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.server import serve_in_thread
from ledgerbridge.sandbox.xero.app import create_app as create_xero
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from tests.e2e.harness import (
    ENCRYPTION_KEY,
    SERVICES,
    Sandboxes,
    Stack,
    Tenant,
    poll_now,
    provision,
    settled,
)

SEED = 20260701
PAID = "1"
CONTACTS_PER_TRANSACTION = 5  # contacts drawn at random: ~90 % of transactions have a buyer of their own
IDLE_POLLS = 3


PIPELINE_SCENARIOS = ("new-customers", "known-customers", "name-clashes", "idle-polls")


@dataclass(frozen=True)
class PipelineOptions:
    transactions: int
    latency_ms: float
    jitter_ms: float
    database_url: str
    redis_url: str
    keep_logs: bool
    scenarios: frozenset[str] = frozenset(PIPELINE_SCENARIOS)


@dataclass
class ScenarioFigures:
    name: str
    source_records: int
    invoices: int
    payments: int
    contacts_created: int
    span_seconds: float  # first create call started → last create call answered
    wall_seconds: float  # backlog handed over → everything settled
    calls: Counter[str]
    rate_limited: int
    statuses: dict[str, int]
    bytes_received: int = 0  # response bytes from Xero, every call
    get_bytes: int = 0  # of which GET answers
    names_unique: bool = True  # no two active Xero contacts share a name
    merged: int = 0  # ONTRAPORT contacts whose invoices went to a Xero contact of another ContactNumber
    refund_payments: int = 0  # of ``payments``, those paying out a credit note
    credit_notes: int = 0

    @property
    def calls_per_50(self) -> float:
        return self.calls_per_transaction * 50

    @property
    def floor_calls(self) -> int:
        """The fewest calls these documents can take: each kind in full batches of 50, and each
        reference endpoint read once. Xero's "3 per 50" assumes paid sales alone; refunds (a credit note
        and its refund payment each) and unpaid sales (no payment) move the floor."""
        sale_payments = self.payments - self.refund_payments
        kinds = (self.contacts_created, self.invoices, sale_payments, self.credit_notes, self.refund_payments)
        reads = sum(1 for endpoint in self.calls if endpoint.startswith("GET "))
        return sum(-(-n // 50) for n in kinds) + reads

    @property
    def floor_per_50(self) -> float:
        return self.floor_calls / self.invoices * 50 if self.invoices else 0.0

    @property
    def invoices_per_call(self) -> float:
        calls = self.calls.get("PUT Invoices", 0) + self.calls.get("POST Invoices", 0)
        return self.invoices / calls if calls else 0.0

    @property
    def bytes_per_transaction(self) -> float:
        return self.bytes_received / self.invoices if self.invoices else 0.0

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def per_minute(self) -> float:
        return self.invoices / self.span_seconds * 60 if self.span_seconds > 0 else 0.0

    @property
    def calls_per_minute(self) -> float:
        return self.total_calls / self.span_seconds * 60 if self.span_seconds > 0 else 0.0

    @property
    def calls_per_transaction(self) -> float:
        return self.total_calls / self.invoices if self.invoices else 0.0

    @property
    def ceiling_at_this_mix(self) -> float:
        """What 60 calls a minute buy at the calls per transaction measured (no start-up burst)."""
        return 60 / self.calls_per_transaction if self.calls_per_transaction else 0.0


@dataclass
class PipelineFigures:
    settings_changed: dict[str, str]
    scenarios: list[ScenarioFigures]
    idle_poll_calls: list[int]
    idle_poll_xero_calls: int
    seconds: float
    log_dir: Path | None


def worker_environment(
    sandboxes: Sandboxes, options: PipelineOptions, database_url: str, data_dir: Path
) -> tuple[dict[str, str], dict[str, str]]:
    """Env for the workers (os.environ plus the changes) and the changes alone, for printing."""
    changed = {
        **sandbox_environment(sandboxes.xero_url, sandboxes.ontraport_url, sandboxes.onport_url),
        "DATABASE_URL": database_url,
        "REDIS_URL": options.redis_url,
        "QUEUE_PREFIX": f"lbbench-{uuid.uuid4().hex[:10]}",
        "ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "SECRET_KEY": "bench-secret",
        "LEDGERBRIDGE_DATA_DIR": str(data_dir),
        # The bench starts every poll itself ("sync now"); a timer poll landing in the middle would only
        # blur the per-poll ONTRAPORT call count. Everything else (batching, gather, limiter) is default.
        "POLL_INTERVAL_SECONDS": "3600",
    }
    return {**os.environ, **changed}, changed


async def _use_account_with_many_contacts(
    sessions: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    tenant: Tenant,
    transactions: int,
    names: str = "varied",
) -> Tenant:
    """``provision`` makes an ONTRAPORT account of 60 contacts; point the tenant at one of many more.

    ``names="few"``: the contacts share 90 name pairs, so most new Xero contacts meet a namesake.
    """
    # Generating the account blocks the sandbox for a while (each record looks its contact up by scan).
    async with httpx.AsyncClient(timeout=300) as http:
        response = await http.post(
            f"{sandboxes.ontraport_url}/_sandbox/accounts",
            json={
                "seed": SEED,
                "transactions": transactions,
                "contacts": max(transactions * CONTACTS_PER_TRANSACTION, 60),
                "names": names,
            },
        )
        response.raise_for_status()
        account = response.json()
    cipher = Cipher([ENCRYPTION_KEY])
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(Connection)
            .where(Connection.id == tenant.ontraport_connection_id)
            .values(
                credentials=cipher.encrypt_json({"app_id": account["app_id"], "api_key": account["api_key"]})
            )
        )
    return dataclasses.replace(tenant, ontraport_account_id=int(account["account_id"]))


def _known_customer_records(
    sandboxes: Sandboxes, tenant: Tenant, count: int, rng: random.Random
) -> list[dict[str, Any]]:
    """Paid transactions for buyers whose earlier paid transactions are already in Xero."""
    transactions = sandboxes.transactions(tenant.ontraport_account_id)
    buyers = sorted({int(t["contact_id"]) for t in transactions.values() if t["status"] == PAID})
    now = int(time.time())
    records = []
    for index in range(count):
        lines = [PRODUCT_LINES[pid] for pid in rng.sample(sorted(PRODUCT_LINES), k=rng.randint(1, 4))]
        record: dict[str, Any] = {
            "contact_id": rng.choice(buyers),
            "products": [
                {"product_id": line.product_id, "quantity": rng.choice([1, 1, 2])} for line in lines
            ],
            "gateway_id": int(rng.choice(GATEWAYS)["id"]),
            "status": 1,
            "date": now - 3600 + index,
        }
        if rng.random() < 0.75:
            record["tax_id"] = rng.choice(sorted(TAXES))
        if any(line.ships for line in lines):
            record["shipping_id"] = rng.choice(sorted(SHIPPING))
        coupon = rng.choice(sorted(COUPONS))
        if rng.random() < 0.35 and coupon_applies(COUPONS[coupon], lines):
            record["coupon_code"] = coupon
        records.append(record)
    return records


@dataclass
class _Snapshot:
    calls_index: int
    rate_limited: int
    invoices: int
    payments: int
    refund_payments: int
    credit_notes: int
    contacts: int
    at: float


def _snapshot(sandboxes: Sandboxes, recorder: CallRecorder, tenant: Tenant) -> _Snapshot:
    organisation = sandboxes.organisation(tenant.tenant_id)
    return _Snapshot(
        calls_index=len(recorder.calls),
        rate_limited=organisation.counters.rate_limited,
        invoices=len(organisation.invoices),
        payments=len(organisation.payments),
        refund_payments=sum(1 for p in organisation.payments.values() if "CreditNote" in p),
        credit_notes=len(organisation.credit_notes),
        contacts=len(organisation.contacts),
        at=time.monotonic(),
    )


async def _statuses(sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(SourceRecord.status, func.count())
            .where(SourceRecord.account_id == tenant.account_id)
            .group_by(SourceRecord.status)
        )
        return {status.value: count for status, count in rows.all()}


async def _wait_settled(
    sessions: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    recorder: CallRecorder,
    tenant: Tenant,
    expected: int,
    within_seconds: float,
    label: str,
) -> None:
    """``settled`` twice, a few seconds apart with no Xero call in between (a record waiting for the Xero
    reference data counts as settled to the harness, so one look is not enough at the start)."""
    deadline = time.monotonic() + within_seconds
    next_report = time.monotonic() + 15
    start = time.monotonic()
    organisation = sandboxes.organisation(tenant.tenant_id)
    while True:
        calls_before = len(recorder.calls)
        if await settled(sessions, tenant, expected):
            await asyncio.sleep(3)
            if len(recorder.calls) == calls_before and await settled(sessions, tenant, expected):
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label}: not settled after {within_seconds:.0f} s")
        if time.monotonic() >= next_report:
            next_report += 15
            print(
                f"  [{label}] {time.monotonic() - start:5.0f} s: {len(organisation.invoices)} invoices, "
                f"{organisation.counters.calls} Xero calls, {organisation.counters.rate_limited} 429s; "
                f"records {await _statuses(sessions, tenant)}",
                flush=True,
            )
        await asyncio.sleep(0.5)


def _contacts_check(sandboxes: Sandboxes, tenant: Tenant) -> tuple[bool, int]:
    """Whether active contact names are unique, and how many invoices sit on a contact not their own."""
    organisation = sandboxes.organisation(tenant.tenant_id)
    active = [c for c in organisation.contacts.values() if c.get("ContactStatus") != "ARCHIVED"]
    names = [str(c.get("Name", "")).strip().lower() for c in active]
    merged = 0
    for invoice in organisation.invoices.values():
        contact = organisation.contacts.get(str(invoice.get("Contact", {}).get("ContactID", "")).lower())
        number = contact.get("ContactNumber") if contact else None
        # Our invoice numbers are OP-<transaction>, our contact numbers OP-<ONTRAPORT contact>: the
        # sandbox keeps the transaction, so the contact the invoice should be on is known.
        transaction = sandboxes.transactions(tenant.ontraport_account_id).get(
            int(str(invoice.get("InvoiceNumber", "OP-0")).removeprefix("OP-") or 0)
        )
        if transaction is not None and number != f"OP-{transaction['contact_id']}":
            merged += 1
    return len(names) == len(set(names)), merged


def _figures(
    name: str,
    before: _Snapshot,
    after: _Snapshot,
    calls: list[XeroCall],
    source_records: int,
    statuses: dict[str, int],
    wall_seconds: float,
    contacts_check: tuple[bool, int] = (True, 0),
) -> ScenarioFigures:
    creates = [call for call in calls if call.is_create]
    span = max(c.finished for c in creates) - min(c.started for c in creates) if creates else 0.0
    return ScenarioFigures(
        bytes_received=sum(c.received for c in calls),
        get_bytes=sum(c.received for c in calls if c.method == "GET"),
        names_unique=contacts_check[0],
        merged=contacts_check[1],
        name=name,
        source_records=source_records,
        invoices=after.invoices - before.invoices,
        payments=after.payments - before.payments,
        refund_payments=after.refund_payments - before.refund_payments,
        credit_notes=after.credit_notes - before.credit_notes,
        contacts_created=after.contacts - before.contacts,
        span_seconds=span,
        wall_seconds=wall_seconds,
        calls=by_endpoint(calls),
        rate_limited=after.rate_limited - before.rate_limited,
        statuses=statuses,
    )


async def _last_polled(sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> object:
    async with sessions() as session:
        return await session.scalar(
            select(PollCursor.last_polled_at).where(
                PollCursor.connection_id == tenant.ontraport_connection_id
            )
        )


async def _idle_polls(
    sessions: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, recorder: CallRecorder, tenant: Tenant
) -> tuple[list[int], int]:
    """Polls with nothing new: ONTRAPORT calls each (sandbox counter delta) and Xero calls in all."""
    url = f"{sandboxes.ontraport_url}/_sandbox/accounts/{tenant.ontraport_account_id}/calls"
    xero_before = len(recorder.calls)
    counts = []
    async with httpx.AsyncClient() as http:
        for _ in range(IDLE_POLLS):
            before = int((await http.get(url)).json()["calls"])
            polled = await _last_polled(sessions, tenant)
            await poll_now(sessions, tenant)
            for _ in range(300):
                if await _last_polled(sessions, tenant) != polled:
                    break
                await asyncio.sleep(0.2)
            else:
                raise TimeoutError("an idle poll did not happen within 60 s")
            await asyncio.sleep(1.5)  # anything the poll caused (mapping, publishing) gets its chance
            counts.append(int((await http.get(url)).json()["calls"]) - before)
    return counts, len(recorder.calls) - xero_before


async def _new_customers(
    sessions: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    recorder: CallRecorder,
    tenant: Tenant,
    count: int,
    label: str,
) -> ScenarioFigures:
    """The tenant's whole ONTRAPORT backlog handed over as an import: nearly every buyer is new to Xero."""
    expected = len(sandboxes.transactions(tenant.ontraport_account_id))
    print(f"- scenario '{label}': {expected} ONTRAPORT transactions", flush=True)
    before = _snapshot(sandboxes, recorder, tenant)
    async with unit_of_work(sessions) as session:
        await add_message(
            session,
            PollConnection(connection_id=tenant.ontraport_connection_id, reason="import"),
            tenant.account_id,
        )
    await _wait_settled(sessions, sandboxes, recorder, tenant, expected, 180 + count * 0.2, label)
    after = _snapshot(sandboxes, recorder, tenant)
    return _figures(
        label,
        before,
        after,
        recorder.calls[before.calls_index : after.calls_index],
        expected,
        await _statuses(sessions, tenant),
        after.at - before.at,
        _contacts_check(sandboxes, tenant),
    )


async def _known_customers(
    sessions: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    recorder: CallRecorder,
    tenant: Tenant,
    count: int,
    rng: random.Random,
) -> ScenarioFigures:
    """A second backlog for buyers the first one already put in Xero (and in our database)."""
    expected = len(sandboxes.transactions(tenant.ontraport_account_id))
    records = _known_customer_records(sandboxes, tenant, count, rng)
    async with httpx.AsyncClient(timeout=60) as http:
        for start in range(0, len(records), 500):
            response = await http.post(
                f"{sandboxes.ontraport_url}/_sandbox/accounts/{tenant.ontraport_account_id}/transactions",
                json={"records": records[start : start + 500]},
            )
            response.raise_for_status()
    total = len(sandboxes.transactions(tenant.ontraport_account_id))
    print(f"- scenario 'known customers': {total - expected} more paid transactions", flush=True)
    before = _snapshot(sandboxes, recorder, tenant)
    statuses_before = await _statuses(sessions, tenant)
    await poll_now(sessions, tenant)
    await _wait_settled(sessions, sandboxes, recorder, tenant, total, 180 + count * 0.2, "known customers")
    after = _snapshot(sandboxes, recorder, tenant)
    statuses_after = await _statuses(sessions, tenant)
    return _figures(
        "known customers",
        before,
        after,
        recorder.calls[before.calls_index : after.calls_index],
        total - expected,
        {k: v - statuses_before.get(k, 0) for k, v in statuses_after.items()},
        after.at - before.at,
        _contacts_check(sandboxes, tenant),
    )


async def run_pipeline(options: PipelineOptions) -> PipelineFigures:
    began = time.monotonic()
    count = options.transactions
    # Every transaction in the last ~45 days, so the poller's 60-day status re-check covers them all.
    recent = int(time.time()) - 45 * 86400
    spacing = max(1, (44 * 86400) // max(count, 1))
    xero_app = create_xero(
        XeroSandboxConfig(
            latency_ms=max(options.latency_ms - options.jitter_ms, 0),
            latency_jitter_ms=2 * options.jitter_ms,
        )
    )
    recorder = CallRecorder(xero_app)
    ontraport_app = create_ontraport(
        OntraportSandboxConfig(transactions=0, start_date=recent, seconds_between_transactions=spacing)
    )
    onport_app = create_onport()
    log_dir = Path(tempfile.mkdtemp(prefix="ledgerbridge-bench-"))
    engine = create_engine(options.database_url, pool_size=3)
    sessions = session_factory(engine)
    rng = random.Random(SEED)
    try:
        with (
            serve_in_thread(recorder) as xero_url,
            serve_in_thread(ontraport_app) as ontraport_url,
            serve_in_thread(onport_app) as onport_url,
        ):
            sandboxes = Sandboxes(
                xero=xero_app,
                xero_url=xero_url,
                ontraport=ontraport_app,
                ontraport_url=ontraport_url,
                onport=onport_app,
                onport_url=onport_url,
            )
            env, changed = worker_environment(sandboxes, options, options.database_url, log_dir / "data")
            with stopped_after(Stack(env, log_dir)) as stack:
                for service in SERVICES:
                    stack.start(service)
                await asyncio.sleep(3)  # the workers start up (not part of any figure)
                scenarios: list[ScenarioFigures] = []
                idle_counts: list[int] = []
                idle_xero = 0
                wanted = options.scenarios
                if wanted & {"new-customers", "known-customers", "idle-polls"}:
                    tenant = await provision(sessions, sandboxes, seed=SEED, transactions=0, start=False)
                    tenant = await _use_account_with_many_contacts(sessions, sandboxes, tenant, count)
                    scenarios.append(
                        await _new_customers(sessions, sandboxes, recorder, tenant, count, "new customers")
                    )
                    if "known-customers" in wanted:
                        scenarios.append(
                            await _known_customers(sessions, sandboxes, recorder, tenant, count, rng)
                        )
                    if "idle-polls" in wanted:
                        print(f"- {IDLE_POLLS} idle polls", flush=True)
                        idle_counts, idle_xero = await _idle_polls(sessions, sandboxes, recorder, tenant)
                if "name-clashes" in wanted:
                    clashing = await provision(
                        sessions, sandboxes, seed=SEED + 1, transactions=0, start=False
                    )
                    clashing = await _use_account_with_many_contacts(
                        sessions, sandboxes, clashing, count, names="few"
                    )
                    scenarios.append(
                        await _new_customers(
                            sessions, sandboxes, recorder, clashing, count, "new customers, name clashes"
                        )
                    )
    finally:
        await engine.dispose()
        if not options.keep_logs:
            shutil.rmtree(log_dir, ignore_errors=True)
    return PipelineFigures(
        settings_changed=changed,
        scenarios=scenarios,
        idle_poll_calls=idle_counts,
        idle_poll_xero_calls=idle_xero,
        seconds=time.monotonic() - began,
        log_dir=log_dir if options.keep_logs else None,
    )
