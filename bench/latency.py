"""Latency (issue 12, point 4c): from an ONTRAPORT webhook to the paid invoice in the Xero sandbox.

Sales arrive in ONTRAPORT at a steady rate, dealt in turn to a few tenants (each its own ONTRAPORT
account and Xero organisation, so no one organisation is asked for more than Xero's 60 calls a minute
can carry), each announced by the sandbox's webhook
to the API's receiver (a process, as in production), which queues a poll; poller, mapper and publisher
take it from there. Per sale: the moment the bench adds it to ONTRAPORT (the sandbox fires the webhook
within that request) → the moment the Xero sandbox's state first shows its invoice PAID, read from the
sandbox's in-process state every 50 ms (no HTTP call, nothing counted against Xero's limits).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import statistics
import time
from dataclasses import dataclass

import httpx
from sqlalchemy import select, update

from bench.many_orgs import most_in_window
from bench.pipeline import PipelineOptions
from bench.stack import Running, running
from ledgerbridge.common.crypto import webhook_token_hash
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import Connection, Document, DocumentKind, SourceRecord
from ledgerbridge.sandbox.ontraport.catalog import GATEWAYS, PRODUCT_LINES
from tests.e2e.harness import Tenant, provision

SEED = 20261204
P95_GOAL_SECONDS = 10.0
WATCH_SECONDS = 0.05


@dataclass(frozen=True)
class LatencyFigures:
    sales: int
    interval_seconds: float
    organisations: int  # the sales are dealt in turn to this many tenants, each its own Xero organisation
    latencies: list[float]  # seconds, one per sale that reached PAID
    rate_limited: int
    xero_calls: int
    most_calls_in_a_minute: int  # busiest organisation, any rolling 60 s: 60 = the limiter set the pace
    seconds: float
    # Where the time goes, per sale (seconds, wall clock): each phase's (p50, p95), in pipeline order.
    phases: dict[str, tuple[float, float]]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p95(self) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=20, method="inclusive")[18]


async def _subscribe(run: Running, tenant: Tenant, api_url: str) -> None:
    """The connection's webhook as connecting leaves it: a token of its own, subscribed in ONTRAPORT."""
    token = secrets.token_urlsafe(32)
    async with unit_of_work(run.sessions) as session:
        await session.execute(
            update(Connection)
            .where(Connection.id == tenant.ontraport_connection_id)
            .values(webhook_token=webhook_token_hash(token))
        )
    account = run.sandboxes.ontraport.state.sandbox.accounts[tenant.ontraport_account_id]
    account.subscribe(f"{api_url}/webhooks/ontraport/{token}", "transaction_created", "")


def _sale(rng: random.Random, contacts: list[int]) -> dict[str, object]:
    lines = rng.sample(sorted(PRODUCT_LINES), k=rng.randint(1, 3))
    return {
        "contact_id": rng.choice(contacts),
        "products": [{"product_id": product, "quantity": 1} for product in lines],
        "gateway_id": int(rng.choice(GATEWAYS)["id"]),
        "status": 1,
        "date": int(time.time()),
    }


Sale = tuple[int, int]  # (organisation's index, ONTRAPORT transaction id): ids are per ONTRAPORT account

PHASES = (
    "webhook → documents made (poll and mapper)",
    "made → invoice in Xero (publisher)",
    "invoice → payment in Xero",
)


def _p50_p95(values: list[float]) -> tuple[float, float]:
    if not values:
        return (float("nan"), float("nan"))
    if len(values) < 2:
        return (values[0], values[0])
    return (statistics.median(values), statistics.quantiles(values, n=20, method="inclusive")[18])


async def _phases(
    run: Running, tenants: list[Tenant], sent_wall: dict[Sale, float]
) -> dict[str, list[float]]:
    """Each sale's moments as the database holds them: documents made, invoice and payment published
    (PostgreSQL's transaction times, on the same clock as ``time.time()``). A poll's records carry its
    transaction's start, before it waited for its cursor and read, so poll and mapper are one phase."""
    spans: dict[str, list[float]] = {phase: [] for phase in PHASES}
    async with run.sessions() as session:
        for index, tenant in enumerate(tenants):
            rows = await session.execute(
                select(
                    SourceRecord.external_id,
                    Document.kind,
                    Document.created_at,
                    Document.published_at,
                )
                .join(Document, Document.record_id == SourceRecord.id)
                .where(
                    SourceRecord.connection_id == tenant.ontraport_connection_id,
                    Document.kind.in_((DocumentKind.invoice, DocumentKind.payment)),
                )
            )
            moments: dict[int, dict[str, float]] = {}
            for external_id, kind, made, published in rows.all():
                if not str(external_id).isdigit() or published is None:
                    continue
                sale = moments.setdefault(int(external_id), {})
                sale["made"] = min(sale.get("made", made.timestamp()), made.timestamp())
                sale[kind.value] = published.timestamp()
            for number, sale in moments.items():
                began = sent_wall.get((index, number))
                if began is None or "invoice" not in sale or "payment" not in sale:
                    continue
                points = (began, sale["made"], sale["invoice"], sale["payment"])
                for phase, start, end in zip(PHASES, points, points[1:], strict=False):
                    spans[phase].append(end - start)
    return spans


async def _watch_paid(
    run: Running,
    tenants: list[Tenant],
    sent: dict[Sale, float],
    paid: dict[Sale, float],
    sending_done: asyncio.Event,
    caught_up: asyncio.Event,
) -> None:
    """Notes when each sale's invoice is first PAID; sets ``caught_up`` once every sale sent is."""
    organisations = [run.sandboxes.organisation(tenant.tenant_id) for tenant in tenants]
    while True:
        now = time.monotonic()
        for index, organisation in enumerate(organisations):
            for invoice in list(organisation.invoices.values()):
                number = str(invoice.get("InvoiceNumber", ""))
                if invoice.get("Status") != "PAID" or not number.startswith("OP-"):
                    continue
                sale = (index, int(number.removeprefix("OP-")))
                if sale in sent and sale not in paid:
                    paid[sale] = now
        if sending_done.is_set() and len(paid) == len(sent):
            caught_up.set()
            return
        await asyncio.sleep(WATCH_SECONDS)


async def run_latency(
    options: PipelineOptions, sales: int, interval_seconds: float, organisations: int
) -> LatencyFigures:
    """``sales`` at one every ``interval_seconds``, dealt in turn to ``organisations`` tenants."""
    began = time.monotonic()
    async with running(options) as run:
        api_url = run.start_api()
        await run.api_answering(api_url)
        tenants: list[Tenant] = []
        contacts: list[list[int]] = []
        for index in range(organisations):
            # No history: the first poll starts from the latest sale, as for a shop that just connected.
            tenant = await provision(
                run.sessions, run.sandboxes, seed=SEED + index, transactions=0, start=False
            )
            await _subscribe(run, tenant, api_url)
            account = run.sandboxes.ontraport.state.sandbox.accounts[tenant.ontraport_account_id]
            contacts.append([int(contact["id"]) for contact in account.contacts])
            tenants.append(tenant)
        xero = [run.sandboxes.organisation(tenant.tenant_id) for tenant in tenants]
        calls_before = len(run.recorder.calls)
        rate_limited_before = sum(organisation.counters.rate_limited for organisation in xero)
        rng = random.Random(SEED)
        sent: dict[Sale, float] = {}
        sent_wall: dict[Sale, float] = {}
        paid: dict[Sale, float] = {}
        sending_done, caught_up = asyncio.Event(), asyncio.Event()
        watcher = asyncio.create_task(_watch_paid(run, tenants, sent, paid, sending_done, caught_up))
        base = f"{run.sandboxes.ontraport_url}/_sandbox/accounts"
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                start = time.monotonic()
                for index in range(sales):
                    # A steady schedule: a slow request does not push the later sales back.
                    await asyncio.sleep(max(0.0, start + index * interval_seconds - time.monotonic()))
                    which = index % organisations
                    at = time.monotonic()
                    response = await http.post(
                        f"{base}/{tenants[which].ontraport_account_id}/transactions",
                        json={"records": [_sale(rng, contacts[which])], "fire_event": "transaction_created"},
                    )
                    response.raise_for_status()
                    body = response.json()
                    if not body["deliveries"] or body["deliveries"][0].get("status_code") != 202:
                        raise RuntimeError(f"the webhook was not accepted: {body['deliveries']}")
                    sent[(which, int(body["ids"][0]))] = at
                    sent_wall[(which, int(body["ids"][0]))] = time.time() - (time.monotonic() - at)
                    if (index + 1) % 50 == 0:
                        print(f"  [latency] {index + 1} sales sent, {len(paid)} paid in Xero", flush=True)
            sending_done.set()
            # Sales still unpaid after this are reported below; the figures cover the paid ones.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(caught_up.wait(), timeout=120)
        finally:
            watcher.cancel()
        if len(paid) < len(sent):
            print(f"  [latency] {len(sent) - len(paid)} sales not paid in Xero within 120 s", flush=True)
        calls = run.recorder.calls[calls_before:]
        busiest = max(
            most_in_window([c.at for c in calls if c.tenant_id == tenant.tenant_id.lower()])
            for tenant in tenants
        )
        spans = await _phases(run, tenants, sent_wall)
        return LatencyFigures(
            sales=len(sent),
            interval_seconds=interval_seconds,
            organisations=organisations,
            latencies=sorted(paid[sale] - sent[sale] for sale in paid),
            rate_limited=sum(organisation.counters.rate_limited for organisation in xero)
            - rate_limited_before,
            xero_calls=len(calls),
            most_calls_in_a_minute=busiest,
            seconds=time.monotonic() - began,
            phases={phase: _p50_p95(values) for phase, values in spans.items()},
        )
