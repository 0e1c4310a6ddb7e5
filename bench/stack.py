"""The sandboxes on real ports and the workers as real processes, for the scenarios that start their own.

The same shape as the pipeline bench (``bench/pipeline.py``): Xero at its real limits with the bench's
latency, ONTRAPORT and Onport sandboxes, the poller, mapper and publisher each a process of its own;
and, where a scenario asks, extra replicas of a service and the API as a process.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bench.infra import CREATES, XERO_API_PREFIX, stopped_after
from bench.pipeline import PipelineOptions, worker_environment
from ledgerbridge.common.database import create_engine, session_factory
from ledgerbridge.sandbox.onport.app import create_app as create_onport
from ledgerbridge.sandbox.ontraport.app import create_app as create_ontraport
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.server import free_port, serve_in_thread
from ledgerbridge.sandbox.xero.app import create_app as create_xero
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from tests.e2e.harness import SERVICES, Sandboxes, Stack


@dataclass(frozen=True)
class TenantCall:
    at: float  # when the call reached the Xero sandbox (monotonic)
    tenant_id: str
    status: int
    is_create: bool


@dataclass
class TenantRecorder:
    """ASGI wrapper around the Xero sandbox noting each accounting call's organisation (``xero-tenant-id``),
    so calls per organisation per rolling minute can be counted whichever replica made them."""

    app: ASGIApp
    calls: list[TenantCall] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(XERO_API_PREFIX):
            await self.app(scope, receive, send)
            return
        at = time.monotonic()
        headers = dict(scope.get("headers") or [])
        tenant_id = headers.get(b"xero-tenant-id", b"").decode().lower()
        endpoint = path[len(XERO_API_PREFIX) :].strip("/").split("/")[0]
        status = 0

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            create = str(scope["method"]) in ("PUT", "POST") and endpoint in CREATES
            # list.append is atomic: the server thread writes, the bench reads a copy.
            self.calls.append(TenantCall(at, tenant_id, status, create))


@dataclass
class CpuMeter:
    """CPU seconds used so far by each part of the stack, read from Linux's /proc: the bench process
    (the sandboxes serve from its threads), the workers by service (replicas together), and the
    PostgreSQL backends serving the bench's database. Sampled often, so a backend that has exited still
    counts with what it used last seen."""

    stack: Stack
    database: str
    _seen: dict[int, tuple[str, float]] = field(default_factory=dict)

    def sample(self) -> dict[str, float]:
        self._note(os.getpid(), "bench (sandboxes)")
        for name, process in self.stack.processes.items():
            self._note(process.pid, name.split("-")[0])
        marker = f" {self.database} ".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if command.startswith(b"postgres:") and marker in command.replace(b"\0", b" "):
                self._note(int(entry.name), "postgres")
        totals: dict[str, float] = {}
        for role, seconds in self._seen.values():
            totals[role] = totals.get(role, 0.0) + seconds
        return totals

    def _note(self, pid: int, role: str) -> None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return
        # utime and stime, in clock ticks.
        self._seen[pid] = (role, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))


@dataclass
class Running:
    sandboxes: Sandboxes
    recorder: TenantRecorder
    stack: Stack
    sessions: async_sessionmaker[AsyncSession]
    settings_changed: dict[str, str]
    cpu: CpuMeter

    def add_replica(self, service: str, number: int) -> None:
        """Another process of ``service``, kept (and stopped) by the stack under ``service-number``."""
        log = (self.stack.log_dir / f"{service}-{number}.log").open("ab")
        self.stack.processes[f"{service}-{number}"] = subprocess.Popen(
            [sys.executable, "-m", "ledgerbridge.cli.main", "worker", service],
            env=self.stack.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_api(self) -> str:
        """The API as a process on a free local port; its base URL (see :meth:`api_answering`)."""
        port = free_port("127.0.0.1")
        log = (self.stack.log_dir / "api.log").open("ab")
        self.stack.processes["api"] = subprocess.Popen(
            [sys.executable, "-m", "ledgerbridge.cli.main", "api", "--port", str(port)],
            env=self.stack.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return f"http://127.0.0.1:{port}"

    async def api_answering(self, url: str) -> None:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as http:
            while True:
                try:
                    if (await http.get(f"{url}/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the API did not answer within 60 s\n{self.stack.logs()}")
                await asyncio.sleep(0.3)


@asynccontextmanager
async def running(
    options: PipelineOptions, ontraport: OntraportSandboxConfig | None = None
) -> AsyncIterator[Running]:
    xero_app = create_xero(
        XeroSandboxConfig(
            latency_ms=max(options.latency_ms - options.jitter_ms, 0), latency_jitter_ms=2 * options.jitter_ms
        )
    )
    recorder = TenantRecorder(xero_app)
    ontraport_app = create_ontraport(ontraport or OntraportSandboxConfig(transactions=0))
    onport_app = create_onport()
    log_dir = Path(tempfile.mkdtemp(prefix="ledgerbridge-bench-"))
    engine = create_engine(options.database_url, pool_size=3)
    try:
        with ExitStack() as threads:
            sandboxes = Sandboxes(
                xero=xero_app,
                xero_url=threads.enter_context(serve_in_thread(recorder)),
                ontraport=ontraport_app,
                ontraport_url=threads.enter_context(serve_in_thread(ontraport_app)),
                onport=onport_app,
                onport_url=threads.enter_context(serve_in_thread(onport_app)),
            )
            env, changed = worker_environment(sandboxes, options, options.database_url, log_dir / "data")
            with stopped_after(Stack(env, log_dir)) as stack:
                for service in SERVICES:
                    stack.start(service)
                await asyncio.sleep(3)  # the workers start up (not part of any figure)
                database = make_url(options.database_url).database or ""
                yield Running(
                    sandboxes, recorder, stack, session_factory(engine), changed, CpuMeter(stack, database)
                )
    finally:
        await engine.dispose()
        if options.keep_logs:
            print(f"Worker logs: {log_dir}")
        else:
            shutil.rmtree(log_dir, ignore_errors=True)
