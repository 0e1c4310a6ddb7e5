"""Summary mode at Xero's real limits (issue 13, point 1): a day of ONTRAPORT sales through the three
worker processes with summary mode on, and the Xero calls they cost per transaction.

The sales all fall on one closed local day (yesterday in UTC), spread over the sandbox's gateways, so
the figure is what one day of trade costs against Xero's 1,000 calls a day of the Starter tier
(SPEC §3.1): reference data, one contact, and per gateway one invoice and one payment, all batched.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.infra import CallRecorder, by_endpoint, stopped_after
from bench.pipeline import PipelineOptions, worker_environment
from ledgerbridge.common.database import create_engine, session_factory, unit_of_work
from ledgerbridge.common.models import AccountSettings, SourceRecord
from ledgerbridge.common.models.records import SUMMARY_KIND
from ledgerbridge.sandbox.onport.app import create_app as create_onport
from ledgerbridge.sandbox.ontraport.app import create_app as create_ontraport
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.server import serve_in_thread
from ledgerbridge.sandbox.xero.app import create_app as create_xero
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from tests.e2e.harness import SERVICES, Sandboxes, Stack, poll_now, provision, summary_settled

SEED = 20261202
CALLS_PER_TRANSACTION_GOAL = 0.1  # issue 13: well under this for a day of ~1,000 sales


@dataclass(frozen=True)
class SummaryFigures:
    transactions: int
    summarised: int
    summaries: int
    xero_calls: int
    calls: Counter[str]
    seconds: float

    @property
    def calls_per_transaction(self) -> float:
        return self.xero_calls / self.transactions if self.transactions else 0.0


async def _summarised(sessions: async_sessionmaker[AsyncSession], account_id: object) -> tuple[int, int]:
    async with sessions() as session:
        summaries = await session.scalar(
            select(func.count()).where(
                SourceRecord.account_id == account_id, SourceRecord.kind == SUMMARY_KIND
            )
        )
        members = await session.scalar(
            select(func.count()).where(
                SourceRecord.account_id == account_id, SourceRecord.summary_record_id.is_not(None)
            )
        )
    return int(members or 0), int(summaries or 0)


async def run_summary_mode(options: PipelineOptions) -> SummaryFigures:
    began = time.monotonic()
    yesterday = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    spacing = max(1, 86_000 // max(options.transactions, 1))  # the whole backlog inside yesterday
    xero_app = create_xero(
        XeroSandboxConfig(
            latency_ms=max(options.latency_ms - options.jitter_ms, 0), latency_jitter_ms=2 * options.jitter_ms
        )
    )
    recorder = CallRecorder(xero_app)
    ontraport_app = create_ontraport(
        OntraportSandboxConfig(
            transactions=0, start_date=int(yesterday.timestamp()), seconds_between_transactions=spacing
        )
    )
    onport_app = create_onport()
    log_dir = Path(tempfile.mkdtemp(prefix="ledgerbridge-bench-summary-"))
    engine = create_engine(options.database_url, pool_size=3)
    sessions = session_factory(engine)
    try:
        with (
            serve_in_thread(recorder) as xero_url,
            serve_in_thread(ontraport_app) as ontraport_url,
            serve_in_thread(onport_app) as onport_url,
        ):
            sandboxes = Sandboxes(xero_app, xero_url, ontraport_app, ontraport_url, onport_app, onport_url)
            env, _ = worker_environment(sandboxes, options, options.database_url, log_dir / "data")
            with stopped_after(Stack(env, log_dir)) as stack:
                for service in SERVICES:
                    stack.start(service)
                tenant = await provision(
                    sessions, sandboxes, seed=SEED, transactions=options.transactions, start=False
                )
                async with unit_of_work(sessions) as session:
                    row = await session.get_one(AccountSettings, tenant.account_id)
                    values = {**row.values, "ontraport": {**row.values["ontraport"], "summary_mode": True}}
                    await session.execute(
                        update(AccountSettings)
                        .where(AccountSettings.account_id == tenant.account_id)
                        .values(values=values)
                    )
                expected = len(sandboxes.transactions(tenant.ontraport_account_id))
                print(f"- summary mode: {expected} ONTRAPORT transactions of one closed day", flush=True)
                calls_before = len(recorder.calls)
                await poll_now(sessions, tenant)
                deadline = time.monotonic() + 180 + expected * 0.2
                while not await summary_settled(sessions, tenant, expected):
                    if time.monotonic() > deadline:
                        raise TimeoutError("summary mode: not settled in time")
                    await asyncio.sleep(0.5)
                await asyncio.sleep(3)  # anything still on its way shows up in the call count
                summarised, summaries = await _summarised(sessions, tenant.account_id)
                calls = recorder.calls[calls_before:]
    finally:
        await engine.dispose()
        if not options.keep_logs:
            shutil.rmtree(log_dir, ignore_errors=True)
    return SummaryFigures(
        transactions=expected,
        summarised=summarised,
        summaries=summaries,
        xero_calls=len(calls),
        calls=by_endpoint(calls),
        seconds=time.monotonic() - began,
    )
