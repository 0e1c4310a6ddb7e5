"""The mapper service alone: a stored backlog drained by one mapper process, in records per second.

The backlog is stored the way the poller stores it (``store_transactions``, a page at a time, with the
messages it queues), the Xero organisation's reference data is already cached, and nothing else runs,
so the figure is the mapper's own: from its first message taken to its last one finished (its start-up
left out).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.pipeline import SEED, PipelineOptions, worker_environment
from ledgerbridge.common import xero_reference
from ledgerbridge.common.database import create_engine, session_factory, unit_of_work
from ledgerbridge.common.models import Connection, InboxMessage, OutboxMessage, RecordStatus, SourceRecord
from ledgerbridge.poller.ontraport_records import store_transactions
from ledgerbridge.sandbox.onport.app import create_app as create_onport
from ledgerbridge.sandbox.ontraport.app import create_app as create_ontraport
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.server import serve_in_thread
from ledgerbridge.sandbox.xero.app import create_app as create_xero
from ledgerbridge.sandbox.xero.books import public
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from tests.e2e.harness import Sandboxes, Stack, Tenant, provision

PAGE = 50  # what one ONTRAPORT page holds, so one poll's page is one store


@dataclass(frozen=True)
class MapperServiceFigures:
    records: int
    seconds: float  # the mapper's first message taken → its last finished
    statuses: dict[str, int]

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


async def _cache_reference(
    sessions: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, tenant: Tenant
) -> None:
    organisation = sandboxes.organisation(tenant.tenant_id)
    data: dict[str, Any] = {
        "accounts": [public(a) for a in organisation.accounts.values()],
        "tax_rates": [public(t) for t in organisation.tax_rates.values()],
        "branding_themes": [public(b) for b in organisation.branding_themes.values()],
        "currencies": [public(c) for c in organisation.currencies.values()],
    }
    async with unit_of_work(sessions) as session:
        await xero_reference.store(session, tenant.xero_connection_id, data)


async def _store_backlog(
    sessions: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, tenant: Tenant, count: int
) -> int:
    async with httpx.AsyncClient(timeout=300) as http:
        response = await http.post(
            f"{sandboxes.ontraport_url}/_sandbox/accounts",
            json={"seed": SEED, "transactions": count, "contacts": max(count, 60)},
        )
        response.raise_for_status()
        account_id = int(response.json()["account_id"])
    account = sandboxes.ontraport.state.sandbox.accounts[account_id]
    contacts = {int(c["id"]): c for c in account.contacts}
    transactions = list(account.transactions.values())
    rng = random.Random(SEED)
    rng.shuffle(transactions)
    by_transaction: dict[int, list[dict[str, Any]]] = {}
    for purchase in account.objects(17):
        by_transaction.setdefault(int(purchase["invoice_id"]), []).append(purchase)

    async def purchases(ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        # What the poller's client reads from ONTRAPORT (object 17), served from the sandbox's own state.
        return {n: by_transaction.get(n, []) for n in ids}

    async with unit_of_work(sessions) as session:
        connection = await session.get(Connection, tenant.ontraport_connection_id)
        assert connection is not None
    for start in range(0, len(transactions), PAGE):
        async with unit_of_work(sessions) as session:
            connection = await session.merge(connection, load=False)
            await store_transactions(
                session, connection, transactions[start : start + PAGE], contacts, purchases
            )
    return len(transactions)


async def _mapped(sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(SourceRecord)
                .where(
                    SourceRecord.account_id == tenant.account_id,
                    SourceRecord.status != RecordStatus.received,
                )
            )
            or 0
        )


async def _span(sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> tuple[float, dict[str, int]]:
    """From the mapper's first message taken (its inbox row) to its last one finished (the outbox row)."""
    async with sessions() as session:
        first = await session.scalar(
            select(func.min(InboxMessage.processed_at)).where(
                InboxMessage.consumer == "mapper", InboxMessage.account_id == tenant.account_id
            )
        )
        last = await session.scalar(
            select(func.max(OutboxMessage.finished_at)).where(
                OutboxMessage.queue == "mapper", OutboxMessage.account_id == tenant.account_id
            )
        )
        rows = await session.execute(
            select(SourceRecord.status, func.count())
            .where(SourceRecord.account_id == tenant.account_id)
            .group_by(SourceRecord.status)
        )
        statuses = {str(status): int(n) for status, n in rows.all()}
    return (last - first).total_seconds() if first and last else 0.0, statuses


async def run_mapper_service(options: PipelineOptions) -> MapperServiceFigures:
    """Store ``options.transactions`` records, then let one mapper process map them all."""
    xero_app = create_xero(XeroSandboxConfig())
    ontraport_app = create_ontraport(OntraportSandboxConfig(transactions=0))
    onport_app = create_onport()
    log_dir_path = tempfile.mkdtemp(prefix="ledgerbridge-bench-mapper-")
    engine = create_engine(options.database_url, pool_size=3)
    sessions = session_factory(engine)
    try:
        with (
            serve_in_thread(xero_app) as xero_url,
            serve_in_thread(ontraport_app) as ontraport_url,
            serve_in_thread(onport_app) as onport_url,
        ):
            sandboxes = Sandboxes(xero_app, xero_url, ontraport_app, ontraport_url, onport_app, onport_url)
            tenant = await provision(sessions, sandboxes, seed=SEED, transactions=0, start=False)
            await _cache_reference(sessions, sandboxes, tenant)
            log_dir = Path(log_dir_path)
            env, _ = worker_environment(sandboxes, options, options.database_url, log_dir / "data")
            stored = await _store_backlog(sessions, sandboxes, tenant, options.transactions)
            print(f"- scenario 'mapper service': {stored} stored records, one mapper process", flush=True)
            stack = Stack(env, log_dir)
            stack.start("mapper")
            try:
                deadline = time.monotonic() + 120 + stored * 0.1
                while await _mapped(sessions, tenant) < stored:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"mapper service: not drained:\n{stack.logs()}")
                    await asyncio.sleep(0.5)
            finally:
                stack.stop()
            seconds, statuses = await _span(sessions, tenant)
            return MapperServiceFigures(records=stored, seconds=seconds, statuses=statuses)
    finally:
        await engine.dispose()
        if not options.keep_logs:
            shutil.rmtree(log_dir_path, ignore_errors=True)
