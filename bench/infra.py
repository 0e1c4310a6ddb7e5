"""What the pipeline bench runs on: real PostgreSQL and Redis, a scratch database, sandboxes on real ports."""

from __future__ import annotations

import os
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledgerbridge.common.database import async_database_url
from ledgerbridge.common.embedded import EmbeddedServers, ensure_servers
from ledgerbridge.common.migrate import upgrade
from tests.e2e.harness import Stack

XERO_API_PREFIX = "/api.xro/2.0"
CREATES = frozenset({"Contacts", "Invoices", "Payments", "CreditNotes"})


@dataclass(frozen=True)
class XeroCall:
    started: float
    finished: float
    method: str
    endpoint: str
    status: int
    received: int = 0  # response body bytes: what Xero's paid tiers meter as data pulled from Xero

    @property
    def is_create(self) -> bool:
        return self.method in ("PUT", "POST") and self.endpoint in CREATES


@dataclass
class CallRecorder:
    """ASGI wrapper around the Xero sandbox that notes when each accounting call came and went.

    The sandbox's own counters say how many calls there were; this says when, so throughput can be
    measured from the first create call to the last.
    """

    app: ASGIApp
    calls: list[XeroCall] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(XERO_API_PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 0
        received = 0

        async def noting(message: Message) -> None:
            nonlocal status, received
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                received += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            endpoint = path[len(XERO_API_PREFIX) :].strip("/").split("/")[0]
            # list.append is atomic: the server thread writes, the bench reads a copy.
            self.calls.append(
                XeroCall(started, time.monotonic(), str(scope["method"]), endpoint, status, received)
            )

    def since(self, index: int) -> list[XeroCall]:
        return list(self.calls[index:])


def by_endpoint(calls: list[XeroCall]) -> Counter[str]:
    return Counter(f"{call.method} {call.endpoint}" for call in calls)


@contextmanager
def servers(repo_root: Path) -> Iterator[EmbeddedServers]:
    """DATABASE_URL / REDIS_URL when set, else embedded ones of the bench's own (stopped at the end)."""
    started = ensure_servers(
        repo_root / ".data" / "bench",
        os.environ.get("DATABASE_URL") or None,
        os.environ.get("REDIS_URL") or None,
    )
    try:
        yield started
    finally:
        started.stop()


def _asyncpg_dsn(url: str) -> str:
    return (
        make_url(async_database_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)
    )


@contextmanager
def stopped_after(stack: Stack) -> Iterator[Stack]:
    """The running stack for the block; stopped when it ends, and its workers' logs printed if it failed
    (a scenario that times out says why)."""
    try:
        yield stack
    except BaseException:
        print(f"worker logs (tail):\n{stack.logs()}", flush=True)
        raise
    finally:
        stack.stop()


@asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    """A fresh database migrated to head; dropped at the end, also after Ctrl-C."""
    name = f"lb_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(async_database_url(server_url)).set(database=name)
            rendered = url.render_as_string(hide_password=False)
            upgrade(rendered)
            yield rendered
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
