"""Many tenants, one poller: every ONTRAPORT connection polled once, then the same with two replicas.

The ONTRAPORT sandbox serves ``tenants`` accounts of a couple of transactions each, all already polled up
to their newest (so every poll is an idle poll); the database holds one tenant per account with an active
ONTRAPORT connection. The poller runs as a real process (``bench.counting_worker``, which counts its
database statements and CPU). All cursors are made due at one instant (the worst case: a cold start, or a
poller back from an outage), and the bench waits until every cursor's ``last_polled_at`` has moved.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.pipeline import PipelineOptions
from ledgerbridge.cli.sandboxes import sandbox_environment
from ledgerbridge.common.crypto import Cipher
from ledgerbridge.common.database import create_engine, session_factory, unit_of_work
from ledgerbridge.common.models import (
    Account,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    PollCursor,
    PollStream,
)
from ledgerbridge.sandbox.onport.app import create_app as create_onport
from ledgerbridge.sandbox.ontraport.app import create_app as create_ontraport
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.ontraport.state import Account as SandboxAccount
from ledgerbridge.sandbox.ontraport.state import CallCounter
from ledgerbridge.sandbox.server import serve_in_thread
from ledgerbridge.sandbox.xero.app import create_app as create_xero
from tests.e2e.harness import ENCRYPTION_KEY

REPO_ROOT = Path(__file__).resolve().parent.parent
CYCLE_GOAL_SECONDS = 300  # POLL_INTERVAL_SECONDS' default: every tenant polled within one cycle
INSERT_CHUNK = 1000


@dataclass
class CycleFigures:
    replicas: int
    polled: int
    seconds: float
    ontraport_calls: int
    double_polls: int  # tenants whose ONTRAPORT account was called more than once in the cycle
    statements: int
    cpu_seconds: float

    @property
    def calls_per_poll(self) -> float:
        return self.ontraport_calls / self.polled if self.polled else 0.0

    @property
    def statements_per_poll(self) -> float:
        return self.statements / self.polled if self.polled else 0.0

    @property
    def cpu_per_thousand(self) -> float:
        return self.cpu_seconds / self.polled * 1000 if self.polled else 0.0


@dataclass
class ManyTenantsFigures:
    tenants: int
    cycles: list[CycleFigures]


async def _seed(
    sessions: async_sessionmaker[AsyncSession], accounts: list[SandboxAccount], cipher: Cipher
) -> None:
    """One tenant per sandbox account; each cursor's mark at the account's newest transaction, not yet due."""
    later = datetime.now(UTC) + timedelta(days=1)
    for start in range(0, len(accounts), INSERT_CHUNK):
        async with unit_of_work(sessions) as session:
            for source in accounts[start : start + INSERT_CHUNK]:
                account = Account(id=uuid.uuid4(), company=f"Tenant {source.account_id}")
                connection = Connection(
                    id=uuid.uuid4(),
                    account_id=account.id,
                    kind=ConnectionKind.ontraport,
                    status=ConnectionStatus.active,
                    credentials=cipher.encrypt_json({"app_id": source.app_id, "api_key": source.api_key}),
                )
                session.add_all([account, connection])
                session.add(
                    PollCursor(
                        connection_id=connection.id,
                        stream=PollStream.transactions,
                        high_water_mark=str(source.summary()["max_transaction_id"]),
                        next_poll_at=later,
                    )
                )


def _figures_of(path: Path) -> tuple[int, float]:
    for _ in range(40):
        try:
            data = json.loads(path.read_text())
            return int(data["statements"]), float(data["cpu"])
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(0.25)
    raise RuntimeError(f"the poller wrote no figures to {path}")


async def _cycle(
    sessions: async_sessionmaker[AsyncSession],
    accounts: list[SandboxAccount],
    figure_files: list[Path],
    replicas: int,
) -> CycleFigures:
    for account in accounts:
        account.counter = CallCounter()
    before = [_figures_of(path) for path in figure_files]
    async with unit_of_work(sessions) as session:
        due_from = datetime.now(UTC)
        await session.execute(update(PollCursor).values(next_poll_at=due_from))
    began = time.monotonic()
    next_report = began + 15
    total = len(accounts)
    while True:
        async with sessions() as session:
            polled = int(
                await session.scalar(select(func.count()).where(PollCursor.last_polled_at >= due_from)) or 0
            )
        if polled >= total:
            break
        if time.monotonic() >= next_report:
            next_report += 15
            print(
                f"  [{replicas} replica(s)] {time.monotonic() - began:5.0f} s: {polled}/{total} polled",
                flush=True,
            )
        if time.monotonic() - began > 3 * CYCLE_GOAL_SECONDS + 10 * total / 100:
            raise TimeoutError(f"{total - polled} of {total} tenants not polled")
        await asyncio.sleep(0.5)
    seconds = time.monotonic() - began
    await asyncio.sleep(2)  # the last polls' commits, and the workers' figures files, catch up
    after = [_figures_of(path) for path in figure_files]
    return CycleFigures(
        replicas=replicas,
        polled=total,
        seconds=seconds,
        ontraport_calls=sum(a.counter.calls for a in accounts),
        double_polls=sum(1 for a in accounts if a.counter.calls > 1),
        statements=sum(a[0] - b[0] for a, b in zip(after, before, strict=True)),
        cpu_seconds=sum(a[1] - b[1] for a, b in zip(after, before, strict=True)),
    )


async def run_many_tenants(options: PipelineOptions, tenants: int) -> ManyTenantsFigures:
    ontraport_app = create_ontraport(OntraportSandboxConfig(transactions=0))
    state = ontraport_app.state.sandbox
    accounts = [state.create_account(seed=n, transactions=0, contacts=1) for n in range(tenants)]
    engine = create_engine(options.database_url, pool_size=3)
    sessions = session_factory(engine)
    log_dir = Path(tempfile.mkdtemp(prefix="ledgerbridge-bench-tenants-"))
    processes: list[subprocess.Popen[bytes]] = []
    cipher = Cipher([ENCRYPTION_KEY])
    try:
        print(f"- {tenants:,} tenants into the database", flush=True)
        await _seed(sessions, accounts, cipher)
        with (
            serve_in_thread(create_xero()) as xero_url,
            serve_in_thread(ontraport_app) as ontraport_url,
            serve_in_thread(create_onport()) as onport_url,
        ):
            env = {
                **os.environ,
                **sandbox_environment(xero_url, ontraport_url, onport_url),
                "DATABASE_URL": options.database_url,
                "REDIS_URL": options.redis_url,
                "QUEUE_PREFIX": f"lbbench-{uuid.uuid4().hex[:10]}",
                "ENCRYPTION_KEYS": ENCRYPTION_KEY,
                "SECRET_KEY": "bench-secret",
                "LEDGERBRIDGE_DATA_DIR": str(log_dir / "data"),
                # Nobody comes due again within a measured cycle: each tenant is due once per cycle.
                "POLL_INTERVAL_SECONDS": "3600",
            }
            figure_files = [log_dir / f"poller-{n}.json" for n in range(2)]

            def start(n: int) -> None:
                log = (log_dir / f"poller-{n}.log").open("ab")
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "bench.counting_worker", "poller", str(figure_files[n])],
                        env=env,
                        cwd=REPO_ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )

            try:
                cycles = []
                start(0)
                await asyncio.sleep(4)  # the worker starts up (not part of any figure)
                print("- one poller replica: every tenant due at once", flush=True)
                cycles.append(await _cycle(sessions, accounts, figure_files[:1], 1))
                start(1)
                await asyncio.sleep(4)
                print("- two poller replicas: every tenant due at once", flush=True)
                cycles.append(await _cycle(sessions, accounts, figure_files, 2))
            except BaseException:
                for n in range(len(processes)):
                    tail = (log_dir / f"poller-{n}.log").read_text(errors="replace")[-3000:]
                    print(f"poller {n} log (tail):\n{tail}", flush=True)
                raise
            finally:
                for process in processes:
                    process.terminate()
                for process in processes:
                    try:
                        process.wait(15)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait(5)
    finally:
        await engine.dispose()
        if options.keep_logs:
            print(f"  poller logs and statement counts by kind: {log_dir}", flush=True)
        else:
            shutil.rmtree(log_dir, ignore_errors=True)
    return ManyTenantsFigures(tenants=tenants, cycles=cycles)
