"""The Onport poller against the Onport sandbox (in process, over ASGI) and real PostgreSQL and Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.clients.onport import OnportClient, onport_limiter
from ledgerbridge.common.models import (
    Account,
    AccountSettings,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    OutboxMessage,
    PollCursor,
    PollStream,
    SourceRecord,
)
from ledgerbridge.common.settings import PollingSettings
from ledgerbridge.poller.onport_source import OnportSource
from ledgerbridge.sandbox.onport import OnportSandboxConfig, create_app

BASE_URL = "http://onport.test"
TOKEN = "sandbox-token"
DEMO = 1
# Purchase 1007 of the demo data is never invoiced whatever the seed: tests invoice it themselves.
UNINVOICED_PURCHASE = 1007


@dataclass
class Tenant:
    account_id: uuid.UUID
    connection: Connection
    cursor: PollCursor


async def no_sleep(seconds: float) -> None:
    return None


@pytest.fixture
def sandbox() -> FastAPI:
    # Generous rates: these tests count calls, not time.
    return create_app(OnportSandboxConfig(get_per_second=1000, write_per_second=1000))


@pytest.fixture
async def http(sandbox: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox), base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def client(http: httpx.AsyncClient, redis: Redis, queue_prefix: str) -> OnportClient:
    limiter = onport_limiter(redis, TOKEN, prefix=queue_prefix, get_per_second=1000, write_per_second=1000)
    return OnportClient(http, BASE_URL, TOKEN, limiter, sleep=no_sleep)


@pytest.fixture
def source(client: OnportClient) -> OnportSource:
    return OnportSource(client)


@pytest.fixture
def polling() -> PollingSettings:
    return PollingSettings()


async def make_tenant(
    db: AsyncSession, *, auto_sync: bool = False, kind: ConnectionKind = ConnectionKind.onport
) -> Tenant:
    """An account with one active source connection and its poll cursor: Onport's purchase invoices
    (never polled yet), or ONTRAPORT's transactions (polled before: its high water mark is set)."""
    account = Account(id=uuid.uuid4(), company="Marketplace")
    db.add(account)
    await db.flush()
    if auto_sync:
        db.add(
            AccountSettings(
                account_id=account.id,
                values={"onport": {"auto_sync_dropship": True, "auto_sync_replenishment": True}},
            )
        )
    connection = Connection(
        id=uuid.uuid4(),
        account_id=account.id,
        kind=kind,
        name="Onport" if kind is ConnectionKind.onport else "ONTRAPORT",
        status=ConnectionStatus.active,
        credentials=b"",
        webhook_token=uuid.uuid4().hex,
    )
    db.add(connection)
    await db.flush()
    cursor = (
        PollCursor(connection_id=connection.id, stream=PollStream.purchase_invoices, high_water_mark=None)
        if kind is ConnectionKind.onport
        else PollCursor(connection_id=connection.id, stream=PollStream.transactions, high_water_mark="0")
    )
    db.add(cursor)
    await db.flush()
    return Tenant(account.id, connection, cursor)


def calls(sandbox: FastAPI) -> int:
    return int(sandbox.state.sandbox.accounts[DEMO].counter.calls)


def reset_calls(sandbox: FastAPI) -> None:
    account = sandbox.state.sandbox.accounts[DEMO]
    account.counter = type(account.counter)()


def table(sandbox: FastAPI, resource: str) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = sandbox.state.sandbox.accounts[DEMO].data.tables[resource]
    return found


async def control(http: httpx.AsyncClient, path: str, body: dict[str, Any] | None = None) -> Any:
    response = await http.post(f"/_sandbox/accounts/{DEMO}{path}", json=body or {})
    assert response.status_code == 200, response.text
    return response.json()


async def records(db: AsyncSession, account_id: uuid.UUID) -> dict[str, SourceRecord]:
    rows = await db.scalars(
        select(SourceRecord).where(SourceRecord.account_id == account_id, SourceRecord.source == "onport")
    )
    return {record.external_id: record for record in rows.all()}


async def map_messages(db: AsyncSession, account_id: uuid.UUID) -> list[str]:
    """Record ids of the MapRecord messages in the outbox, oldest first."""
    rows = await db.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.account_id == account_id, OutboxMessage.message_type == "record.map")
        .order_by(OutboxMessage.id)
    )
    return [str(row.body["body"]["record_id"]) for row in rows.all()]
