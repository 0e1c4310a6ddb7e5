"""Polling ONTRAPORT reads a transaction's Purchase objects only when its coupon is nowhere else (SPEC §4
item 12): new or changed transactions whose offer_data names no coupon and whose figures show money
taken off. An idle poll still costs one call."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.sales import needs_purchases
from ledgerbridge.common.clients.ontraport import OntraportClient, ontraport_limiter
from ledgerbridge.common.models import (
    Account,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    PollCursor,
    PollStream,
    SourceRecord,
)
from ledgerbridge.common.settings import PollingSettings
from ledgerbridge.poller.ontraport_poll import poll
from ledgerbridge.poller.ontraport_source import OntraportSource
from ledgerbridge.sandbox.ontraport import OntraportSandboxConfig, create_app

BASE_URL = "http://ontraport.test"
APP_ID = "sandbox-app"
API_KEY = "sandbox-key"


async def no_sleep(seconds: float) -> None:
    return None


@pytest.fixture
def sandbox() -> FastAPI:
    # Recent sales, so a refund falls in the poller's re-read window.
    recent = int(time.time()) - 30 * 86400
    return create_app(
        OntraportSandboxConfig(
            transactions=40, rate_limit=10_000, start_date=recent, seconds_between_transactions=3600
        )
    )


@pytest.fixture
def sent() -> list[httpx.Request]:
    return []


@pytest.fixture
async def source(
    sandbox: FastAPI, redis: Redis, queue_prefix: str, sent: list[httpx.Request]
) -> AsyncIterator[OntraportSource]:
    async def record(request: httpx.Request) -> None:
        sent.append(request)

    transport = httpx.ASGITransport(app=sandbox)
    async with httpx.AsyncClient(transport=transport, event_hooks={"request": [record]}) as http:
        limiter = ontraport_limiter(redis, APP_ID, prefix=queue_prefix, calls_per_minute=10_000)
        yield OntraportSource(OntraportClient(http, BASE_URL, APP_ID, API_KEY, limiter, sleep=no_sleep))


def purchase_calls(sent: list[httpx.Request]) -> int:
    """Requests for Purchase objects (objectID 17); contacts use the same route with objectID 0."""
    return sum(1 for request in sent if request.url.params.get("objectID") == "17")


async def _connection(db: AsyncSession) -> tuple[Connection, PollCursor]:
    account = Account(id=uuid.uuid4(), company="Shop")
    db.add(account)
    await db.flush()
    connection = Connection(
        id=uuid.uuid4(),
        account_id=account.id,
        kind=ConnectionKind.ontraport,
        status=ConnectionStatus.active,
        credentials=b"",
        webhook_token=uuid.uuid4().hex,
    )
    db.add(connection)
    await db.flush()
    cursor = PollCursor(connection_id=connection.id, stream=PollStream.transactions, high_water_mark="0")
    db.add(cursor)
    await db.flush()
    return connection, cursor


async def test_purchases_are_read_only_for_hidden_coupons_and_kept_across_changes(
    db: AsyncSession, source: OntraportSource, sandbox: FastAPI, sent: list[httpx.Request]
) -> None:
    connection, cursor = await _connection(db)
    polling = PollingSettings()
    assert await poll(db, connection, cursor, source, polling) == 42
    assert purchase_calls(sent) == 1  # one request for every transaction that needs them

    stored = {
        r.external_id: r
        for r in await db.scalars(select(SourceRecord).where(SourceRecord.connection_id == connection.id))
    }
    hidden = [r for r in stored.values() if "purchases" in r.payload]
    assert hidden, "the sandbox's odd ids carry their coupon only in the purchases"
    for record in stored.values():
        transaction = record.payload["transaction"]
        assert ("purchases" in record.payload) == needs_purchases(transaction)
    for record in hidden:
        offer = json.loads(record.payload["transaction"]["offer_data"])
        assert "coupon" not in offer
        assert {p["invoice_id"] for p in record.payload["purchases"]} == {record.external_id}
        assert sorted(p["product_id"] for p in record.payload["purchases"]) == sorted(
            str(p["id"]) for p in offer["products"]
        )
    assert "purchases" not in stored["1001"].payload  # its coupon is in offer_data

    # Nothing changed: the poll is the one transactions request, purchases are not read again.
    calls_before = len(sent)
    assert await poll(db, connection, cursor, source, polling) == 0
    assert len(sent) - calls_before == 1
    assert purchase_calls(sent) == 1

    # A refund changes the transaction: it is stored again with the purchases it already had.
    refunded = next(r for r in hidden if r.payload["transaction"]["status"] == "1")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox)) as control:
        account = sandbox.state.sandbox.config.account_id
        answer = await control.post(
            f"{BASE_URL}/_sandbox/accounts/{account}/transactions/{refunded.external_id}/status",
            json={"status": 2},
        )
        assert answer.status_code == 200, answer.text
    kept = refunded.payload["purchases"]
    for _ in range(3):  # the re-read window is walked a slice per poll
        await poll(db, connection, cursor, source, polling)
    await db.refresh(refunded)
    assert refunded.payload["transaction"]["status"] == "2"
    assert refunded.payload["purchases"] == kept
    assert purchase_calls(sent) == 1
    assert sum(Decimal(p["discount"]) for p in kept) > 0
