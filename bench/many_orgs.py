"""Several organisations' backlogs at once (issue 12, point 4b).

N tenants, each with its own Xero organisation and an ONTRAPORT account of M transactions from mostly
new customers (the pipeline bench's "new customers" shape), all handed over as imports at the same
moment: first with one mapper and one publisher process, then (fresh tenants) with two of each. Per
organisation: transactions/min from its first create call to its last, so each one's own pace shows
(none starved: min and max across organisations); 429s; and the most calls the Xero sandbox received
for one organisation in any rolling 60 s, counted at the sandbox whichever replica sent them, which
says whether the per-organisation limiter holds across replicas.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections import Counter
from dataclasses import dataclass

from bench.pipeline import PipelineOptions, _statuses, _use_account_with_many_contacts
from bench.stack import Running, TenantCall, running
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.messages import PollConnection
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from tests.e2e.harness import Tenant, provision, settled

SEED = 20261205
WINDOW_SECONDS = 60.0
CALLS_PER_MINUTE_LIMIT = 60  # Xero, per organisation


@dataclass(frozen=True)
class OrgFigures:
    transactions: int
    invoices: int
    per_minute: float  # invoices / (first create call → last create call)
    rate_limited: int
    most_calls_in_a_minute: int
    failed: int  # records that ended failed (bad mapping, refused by Xero): goal 0
    first_create_after: float  # handed over → its first create call: polling and mapping before Xero


@dataclass(frozen=True)
class RoundFigures:
    replicas: int  # mapper and publisher processes each
    organisations: list[OrgFigures]
    seconds: float  # handed over → every organisation settled
    total_per_minute: float  # all organisations' invoices over the first → last create call of any
    cpu_seconds: dict[str, float]  # handed over → settled, by part of the stack (``CpuMeter``)
    load: tuple[float, float, float]  # the machine's load averages when the round settled

    @property
    def transactions(self) -> int:
        return sum(o.transactions for o in self.organisations)

    def cpu_ms_per_transaction(self, role: str | None = None) -> float:
        used = sum(self.cpu_seconds.values()) if role is None else self.cpu_seconds.get(role, 0.0)
        return used / max(self.transactions, 1) * 1000

    @property
    def machine_per_minute(self) -> float:
        """Transactions a minute this machine's cores could carry, all of them busy, at the CPU each
        transaction cost the whole stack here: the most it can show however the work is spread."""
        per_transaction = self.cpu_ms_per_transaction() / 1000
        return (os.cpu_count() or 1) * 60 / per_transaction if per_transaction else 0.0

    @property
    def min_per_minute(self) -> float:
        return min(o.per_minute for o in self.organisations)

    @property
    def max_per_minute(self) -> float:
        return max(o.per_minute for o in self.organisations)

    @property
    def median_per_minute(self) -> float:
        return statistics.median(o.per_minute for o in self.organisations)

    @property
    def rate_limited(self) -> int:
        return sum(o.rate_limited for o in self.organisations)

    @property
    def most_calls_in_a_minute(self) -> int:
        return max(o.most_calls_in_a_minute for o in self.organisations)

    @property
    def slowest_start(self) -> float:
        return max(o.first_create_after for o in self.organisations)

    @property
    def failed(self) -> int:
        return sum(o.failed for o in self.organisations)


@dataclass(frozen=True)
class ManyOrgsFigures:
    organisations: int
    transactions: int
    rounds: list[RoundFigures]
    seconds: float


def most_in_window(times: list[float], window: float = WINDOW_SECONDS) -> int:
    """The most of ``times`` inside any half-open window of ``window`` seconds (the sandbox's rolling
    minute)."""
    ordered = sorted(times)
    most = 0
    first = 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - window:
            first += 1
        most = max(most, last - first + 1)
    return most


async def _org_figures(
    run: Running, tenant: Tenant, transactions: int, calls: list[TenantCall], began: float
) -> OrgFigures:
    organisation = run.sandboxes.organisation(tenant.tenant_id)
    creates = [c.at for c in calls if c.is_create]
    # The create span is measured from call arrivals; the last call's own latency is left out.
    span = max(creates) - min(creates) if len(creates) > 1 else 0.0
    invoices = len(organisation.invoices)
    return OrgFigures(
        transactions=transactions,
        invoices=invoices,
        per_minute=invoices / span * 60 if span > 0 else 0.0,
        rate_limited=organisation.counters.rate_limited,
        most_calls_in_a_minute=most_in_window([c.at for c in calls]),
        failed=(await _statuses(run.sessions, tenant)).get("failed", 0),
        first_create_after=min(creates) - began if creates else 0.0,
    )


async def _round(run: Running, replicas: int, organisations: int, transactions: int) -> RoundFigures:
    print(
        f"- {organisations} organisations x {transactions} transactions, {replicas} mapper and "
        f"{replicas} publisher process(es): generating the ONTRAPORT accounts …",
        flush=True,
    )
    tenants: list[Tenant] = []
    for index in range(organisations):
        seed = SEED + replicas * 1000 + index
        tenant = await provision(run.sessions, run.sandboxes, seed=seed, transactions=0, start=False)
        tenants.append(
            await _use_account_with_many_contacts(run.sessions, run.sandboxes, tenant, transactions)
        )
    expected = {t.tenant_id: len(run.sandboxes.transactions(t.ontraport_account_id)) for t in tenants}
    calls_from = len(run.recorder.calls)
    cpu_before = run.cpu.sample()
    began = time.monotonic()
    async with unit_of_work(run.sessions) as session:
        for tenant in tenants:
            await add_message(
                session,
                PollConnection(connection_id=tenant.ontraport_connection_id, reason="import"),
                tenant.account_id,
            )
    deadline = began + 300 + organisations * transactions * 0.1
    next_report = began + 15
    pending = list(tenants)
    while pending:
        pending = [t for t in pending if not await settled(run.sessions, t, expected[t.tenant_id])]
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} organisations not settled after {deadline - began:.0f} s")
        if time.monotonic() >= next_report:
            next_report += 15
            invoices = sum(len(run.sandboxes.organisation(t.tenant_id).invoices) for t in tenants)
            print(
                f"  [{replicas} replica(s)] {time.monotonic() - began:5.0f} s: {invoices} invoices so far, "
                f"{organisations - len(pending)}/{organisations} organisations settled",
                flush=True,
            )
        run.cpu.sample()  # often enough to count a database backend that exits before the end
        await asyncio.sleep(1)
    seconds = time.monotonic() - began
    cpu_after = run.cpu.sample()
    cpu = {role: used - cpu_before.get(role, 0.0) for role, used in cpu_after.items()}
    calls = run.recorder.calls[calls_from:]
    by_tenant: dict[str, list[TenantCall]] = {}
    for call in calls:
        by_tenant.setdefault(call.tenant_id, []).append(call)
    figures = [
        await _org_figures(run, t, expected[t.tenant_id], by_tenant.get(t.tenant_id.lower(), []), began)
        for t in tenants
    ]
    creates = [c.at for c in calls if c.is_create]
    span = max(creates) - min(creates) if len(creates) > 1 else 0.0
    total = sum(o.invoices for o in figures)
    statuses = Counter(c.status for c in calls)
    load = os.getloadavg()
    print(f"  settled in {seconds:.0f} s; Xero answers {dict(sorted(statuses.items()))}", flush=True)
    print(
        "  CPU s used: "
        + ", ".join(f"{role} {used:.0f}" for role, used in sorted(cpu.items()))
        + f"; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}",
        flush=True,
    )
    return RoundFigures(replicas, figures, seconds, total / span * 60 if span > 0 else 0.0, cpu, load)


async def run_many_orgs(options: PipelineOptions, organisations: int) -> ManyOrgsFigures:
    began = time.monotonic()
    # Every transaction in the last ~45 days, so the poller's 60-day status re-check covers them all.
    recent = int(time.time()) - 45 * 86400
    spacing = max(1, (44 * 86400) // max(options.transactions, 1))
    ontraport = OntraportSandboxConfig(
        transactions=0, start_date=recent, seconds_between_transactions=spacing
    )
    rounds: list[RoundFigures] = []
    async with running(options, ontraport) as run:
        rounds.append(await _round(run, 1, organisations, options.transactions))
        run.add_replica("mapper", 2)
        run.add_replica("publisher", 2)
        await asyncio.sleep(3)  # the new replicas start up
        rounds.append(await _round(run, 2, organisations, options.transactions))
    return ManyOrgsFigures(organisations, options.transactions, rounds, time.monotonic() - began)
