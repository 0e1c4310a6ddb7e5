"""The Onport client against the Onport sandbox (in process), on real Redis."""

from __future__ import annotations

import asyncio
import math
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import Body, FastAPI, Request, Response
from redis.asyncio import Redis

from ledgerbridge.common.clients.onport import OnportClient, OnportNotFoundError, onport_limiter
from ledgerbridge.common.clients.ratelimit import LeakyBucketLimiter
from ledgerbridge.common.messaging.errors import PermanentError, TransientError
from ledgerbridge.sandbox.onport import OnportSandboxConfig, create_app
from ledgerbridge.sandbox.onport.filters import parse_query
from tests.clients.onport.conftest import BASE_URL, TOKEN, Recorder, Sleeps, calls, http_for, table


async def test_bearer_token_and_rejected_token(
    client: OnportClient, recorder: Recorder, http: httpx.AsyncClient, limiter: LeakyBucketLimiter
) -> None:
    assert await client.check_credentials() is True
    assert recorder.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(client)

    wrong = OnportClient(http, BASE_URL, "not-the-token", limiter, sleep=Sleeps())
    with pytest.raises(PermanentError, match="Onport rejected the API token") as raised:
        await wrong.check_credentials()
    assert "not-the-token" not in str(raised.value)


async def test_pages_until_a_short_page(
    http: httpx.AsyncClient, limiter: LeakyBucketLimiter, sandbox: FastAPI, recorder: Recorder
) -> None:
    client = OnportClient(http, BASE_URL, TOKEN, limiter, page_size=7, sleep=Sleeps())
    invoices = table(sandbox, "purchase-invoices")

    found = await client.purchase_invoices()

    assert sorted(i.id for i in found) == sorted(invoices)
    assert len(found) == len({i.id for i in found})
    assert len(recorder.requests) == len(invoices) // 7 + 1
    assert all(int(r.url.params["limit"]) == 7 for r in recorder.requests)


async def test_updated_since_finds_only_the_changes(
    client: OnportClient, sandbox: FastAPI, http: httpx.AsyncClient
) -> None:
    invoices = table(sandbox, "purchase-invoices")
    mark = max(i["updatedAt"] for i in invoices.values())

    idle = await client.purchase_invoices(updated_since=mark)
    # "Since" is inclusive (records can share a timestamp), so the newest comes back, once.
    assert [i.raw["updatedAt"] for i in idle] == [mark]
    before = calls(sandbox)["calls"]
    await client.purchase_invoices(updated_since=mark)
    assert calls(sandbox)["calls"] == before + 1

    added = await http.post(f"{BASE_URL}/_sandbox/accounts/1/purchase-invoices", json={"count": 2})
    new_ids = set(added.json()["invoice_ids"])
    changed = await client.purchase_invoices(updated_since=mark)

    assert new_ids <= {i.id for i in changed}
    assert all(i.updated_at is not None and i.updated_at.isoformat() for i in changed)


async def test_one_invoice_with_its_lines_purchase_and_vendor(client: OnportClient, sandbox: FastAPI) -> None:
    invoice_id = min(table(sandbox, "purchase-invoices"))

    invoice = await client.purchase_invoice(invoice_id)
    lines = await client.purchase_invoice_items(invoice_id)
    purchase = await client.purchase(invoice.purchase_id or 0)
    billed = await client.purchase_items(invoice_id=invoice_id)
    all_items = await client.purchase_items(purchase.id)
    vendors = await client.dropship_providers()

    assert invoice.reference and isinstance(invoice.paid, Decimal)
    assert lines and all(line.purchase_invoice_id == invoice_id for line in lines)
    assert {item.id for item in billed} == {line.purchase_item_id for line in lines}
    assert {item.id for item in billed} <= {item.id for item in all_items}
    assert all(item.purchase_id == purchase.id for item in all_items)
    assert purchase.purchase_type and purchase.dropship_provider_id in {v.id for v in vendors}
    assert invoice.raw["id"] == invoice_id
    with pytest.raises(OnportNotFoundError):
        await client.purchase_invoice(999_999)
    with pytest.raises(ValueError, match="exactly one"):
        await client.purchase_items()


async def test_payments_currencies_and_write_back(
    client: OnportClient, sandbox: FastAPI, http: httpx.AsyncClient
) -> None:
    unpaid = next(i for i in table(sandbox, "purchase-invoices").values() if i["paymentStatus"] == "notPaid")
    await http.post(f"{BASE_URL}/_sandbox/accounts/1/purchase-invoices/{unpaid['id']}/payments", json={})

    payments = await client.purchase_invoice_payments(unpaid["id"])
    since = await client.purchase_invoice_payments(updated_since=payments[0].raw["updatedAt"])
    currencies = await client.currencies()
    updated = await client.update_purchase_invoice(unpaid["id"], {"xeroId": "xero-bill-1"})

    owed = sandbox.state.sandbox.demo.data.amounts[unpaid["id"]].total
    assert len(payments) == 1 and payments[0].amount == owed
    assert payments[0].id in {p.id for p in since}
    assert {c.iso for c in currencies} == {"AUD", "USD", "GBP"}
    assert updated.xero_id == "xero-bill-1"
    assert calls(sandbox)["by_endpoint"]["PUT /purchase-invoices/{record_id}.json"] == 1


async def test_shared_leaky_bucket_never_provokes_a_429(redis: Redis, queue_prefix: str) -> None:
    # Ten times Onport's rates so the test is quick; same shape: one bucket, writes cost twice reads.
    app = create_app(OnportSandboxConfig(purchases=3, get_per_second=20, write_per_second=10))
    async with http_for(app) as http:
        clients = [
            OnportClient(
                http,
                BASE_URL,
                TOKEN,
                onport_limiter(redis, TOKEN, prefix=queue_prefix, get_per_second=20, write_per_second=10),
            )
            for _ in range(2)
        ]
        invoice_id = min(table(app, "purchase-invoices"))
        reads = [clients[i % 2].currencies() for i in range(40)]
        writes = [
            clients[i % 2].update_purchase_invoice(invoice_id, {"externalId": str(i)}) for i in range(5)
        ]
        started = time.monotonic()
        await asyncio.gather(*reads, *writes)
        elapsed = time.monotonic() - started

    assert calls(app)["calls"] == 45
    assert calls(app)["throttled"] == 0
    # 40 reads x 0.05 s + 5 writes x 0.1 s of work, less the one-second burst.
    assert elapsed >= 1.4


async def test_a_429_waits_and_retries_then_gives_up(redis: Redis, queue_prefix: str) -> None:
    app = create_app(OnportSandboxConfig(purchases=3))
    async with http_for(app) as http:
        # Someone else's write fills the account's bucket.
        await http.put(
            f"{BASE_URL}/purchase-invoices/{min(table(app, 'purchase-invoices'))}.json",
            json={"externalId": "x"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        impatient = OnportClient(
            http,
            BASE_URL,
            TOKEN,
            onport_limiter(redis, TOKEN, prefix=f"{queue_prefix}-a"),
            max_rate_limit_wait_seconds=0.5,
        )
        with pytest.raises(TransientError) as raised:
            await impatient.currencies()
        assert raised.value.retry_after == 1

        patient = OnportClient(
            http, BASE_URL, TOKEN, onport_limiter(redis, TOKEN, prefix=f"{queue_prefix}-b")
        )
        await http.post(f"{BASE_URL}/_sandbox/accounts/1/calls/reset")
        await http.put(
            f"{BASE_URL}/purchase-invoices/{min(table(app, 'purchase-invoices'))}.json",
            json={"externalId": "y"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        started = time.monotonic()
        currencies = await patient.currencies()

    assert len(currencies) == 3
    assert calls(app)["throttled"] == 1
    assert time.monotonic() - started >= 0.9


def _records_app(records: list[dict[str, Any]]) -> FastAPI:
    """A stand-in collection that filters and pages with the sandbox's own query rules."""
    app = FastAPI()
    app.state.hits = 0

    @app.get("/purchase-invoices.json")
    def invoices(request: Request) -> list[dict[str, Any]]:
        app.state.hits += 1
        return parse_query(dict(request.query_params), None, 50, 250).apply(records)

    return app


async def test_changes_sharing_one_timestamp_are_all_seen_once(limiter: LeakyBucketLimiter) -> None:
    records = [{"id": i, "updatedAt": "2025-03-01T00:00:00.000Z"} for i in range(1, 8)]
    records += [{"id": 8, "updatedAt": "2025-03-02T00:00:00.000Z"}]
    app = _records_app(records)
    async with http_for(app) as http:
        client = OnportClient(http, BASE_URL, TOKEN, limiter, page_size=3, sleep=Sleeps())
        found = await client.purchase_invoices(updated_since="2025-03-01T00:00:00.000Z")

    assert [i.id for i in found] == list(range(1, 9))
    assert app.state.hits == math.ceil(8 / 3)


async def test_5xx_is_retried(limiter: LeakyBucketLimiter) -> None:
    app = FastAPI()
    app.state.hits = 0

    @app.get("/currencies.json")
    def currencies() -> Response:
        app.state.hits += 1
        if app.state.hits < 3:
            return Response("busy", status_code=503)
        return Response('[{"id":1,"iso":"AUD","exchangeRate":1.0}]', media_type="application/json")

    sleeps = Sleeps()
    async with http_for(app) as http:
        client = OnportClient(http, BASE_URL, TOKEN, limiter, sleep=sleeps)
        found = await client.currencies()

    assert [c.iso for c in found] == ["AUD"]
    assert app.state.hits == 3 and len(sleeps.calls) == 2


async def test_registers_the_push_urls_of_the_accounting_integration(limiter: LeakyBucketLimiter) -> None:
    # The sandbox only sets these through its control API; this stands in for the documented
    # /accounting-integrations.json endpoints of the real API.
    app = FastAPI()
    stored: dict[int, dict[str, Any]] = {}

    @app.post("/accounting-integrations.json")
    def create(body: dict[str, Any] = Body()) -> dict[str, Any]:  # noqa: B008
        stored[len(stored) + 1] = {"id": len(stored) + 1, **body}
        return stored[len(stored)]

    @app.put("/accounting-integrations/{integration_id}.json")
    def update(integration_id: int, body: dict[str, Any] = Body()) -> dict[str, Any]:  # noqa: B008
        stored[integration_id].update(body)
        return stored[integration_id]

    @app.get("/accounting-integrations.json")
    def listed() -> list[dict[str, Any]]:
        return list(stored.values())

    async with http_for(app) as http:
        client = OnportClient(http, BASE_URL, TOKEN, limiter, sleep=Sleeps())
        created = await client.register_accounting_integration(
            "ledgerbridge", dropship_url="https://lb.example/d/tok", replenishment_url=None
        )
        updated = await client.register_accounting_integration(
            "ledgerbridge",
            dropship_url="https://lb.example/d/tok",
            replenishment_url="https://lb.example/r/tok",
            integration_id=created.id,
        )
        listed_now = await client.accounting_integrations()

    assert created.dropship_endpoint == "https://lb.example/d/tok" and created.replenishment_endpoint is None
    assert updated.replenishment_endpoint == "https://lb.example/r/tok"
    assert [i.id for i in listed_now] == [created.id]
