"""Webhook subscriptions and form-encoded pings delivered to a receiver on a real port."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request

from ledgerbridge.sandbox.server import serve_in_thread


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, str]], list[str]]]:
    received: list[dict[str, str]] = []
    content_types: list[str] = []
    app = FastAPI()

    @app.post("/hook/{token}")
    async def hook(token: str, request: Request) -> dict[str, str]:
        form = await request.form()
        received.append({"token": token, **{k: str(v) for k, v in form.items()}})
        content_types.append(request.headers["content-type"])
        return {}

    with serve_in_thread(app) as base_url:
        yield base_url, received, content_types


async def test_subscribe_list_unsubscribe(client: httpx.AsyncClient) -> None:
    form = await client.post(
        "/Webhook/subscribe", data={"url": "https://example.test/a", "event": "transaction_created"}
    )
    assert form.status_code == 200
    created = form.json()["data"]
    as_json = await client.post(
        "/Webhook/subscribe",
        json={"url": "https://example.test/b", "event": "transaction_created_with_product(1)"},
    )
    assert as_json.status_code == 200
    listed = (await client.get("/Webhooks")).json()["data"]
    assert [w["url"] for w in listed] == ["https://example.test/a", "https://example.test/b"]
    assert (
        await client.request("DELETE", "/Webhook/unsubscribe", params={"id": created["id"]})
    ).status_code == 200
    assert [w["url"] for w in (await client.get("/Webhooks")).json()["data"]] == ["https://example.test/b"]
    assert (await client.request("DELETE", "/Webhook/unsubscribe", params={"id": 999})).status_code == 404
    assert (await client.post("/Webhook/subscribe", data={"url": "nope"})).status_code == 400


async def test_pings_are_form_encoded_and_follow_product_events(
    client: httpx.AsyncClient, receiver: tuple[str, list[dict[str, str]], list[str]]
) -> None:
    base_url, received, content_types = receiver
    await client.post(
        "/Webhook/subscribe", data={"url": f"{base_url}/hook/all", "event": "transaction_created"}
    )
    await client.post(
        "/Webhook/subscribe",
        data={"url": f"{base_url}/hook/pro", "event": "transaction_created_with_product(1)"},
    )
    fired = await client.post("/_sandbox/accounts/100001/webhooks/fire", json={"transaction_id": 1001})
    assert fired.status_code == 200
    assert [d["status_code"] for d in fired.json()["deliveries"]] == [200, 200]
    assert {r["token"] for r in received} == {"all", "pro"}
    ping = next(r for r in received if r["token"] == "all")
    assert ping["object_id"] == "46"
    assert ping["id"] == "1001"
    assert ping["event"] == "transaction_created"
    assert ping["total"] == "242.00"
    assert all(ct.startswith("application/x-www-form-urlencoded") for ct in content_types)

    received.clear()
    # 1002 has no Pro Course, so only the catch-all subscription hears about it.
    await client.post("/_sandbox/accounts/100001/webhooks/fire", json={"transaction_id": 1002})
    assert [r["token"] for r in received] == ["all"]

    received.clear()
    added = await client.post(
        "/_sandbox/accounts/100001/transactions",
        json={"records": [{"products": [{"product_id": 1}]}], "fire_event": "transaction_created"},
    )
    new_id = added.json()["ids"][0]
    assert sorted(r["token"] for r in received) == ["all", "pro"]
    assert {r["id"] for r in received} == {str(new_id)}
    deliveries = (await client.get("/_sandbox/accounts/100001/webhooks/deliveries")).json()
    assert len(deliveries) == 5


async def test_unreachable_receiver_is_reported_not_raised(client: httpx.AsyncClient) -> None:
    await client.post(
        "/Webhook/subscribe", data={"url": "http://127.0.0.1:9/x", "event": "transaction_created"}
    )
    fired = (
        await client.post("/_sandbox/accounts/100001/webhooks/fire", json={"transaction_id": 1001})
    ).json()
    assert fired["deliveries"][0]["status_code"] is None
    assert fired["deliveries"][0]["error"]
