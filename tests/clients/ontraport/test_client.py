"""The ONTRAPORT client against the ONTRAPORT sandbox (in process), on real Redis."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from ledgerbridge.bookkeeping.sales.transaction import TransactionStatus
from ledgerbridge.common.clients.ontraport import (
    MAX_RANGE,
    OntraportClient,
    OntraportError,
    OntraportNotFoundError,
    field,
)
from ledgerbridge.common.clients.ratelimit import RollingWindowLimiter
from ledgerbridge.common.messaging.errors import PermanentError
from tests.clients.ontraport.conftest import API_KEY, APP_ID, BASE_URL, Recorder, Sleeps, calls


async def test_every_request_carries_the_credentials_and_the_envelope_is_unwrapped(
    client: OntraportClient, recorder: Recorder, sandbox: FastAPI
) -> None:
    check = await client.check_credentials()

    assert check.account_id == "100001"
    assert check.transactions == sandbox.state.sandbox.demo.summary()["transactions"] == 122
    assert calls(sandbox)["calls"] == 1
    (request,) = recorder.requests
    assert request.headers["Api-Appid"] == APP_ID
    assert request.headers["Api-Key"] == API_KEY
    assert API_KEY not in repr(client)


async def test_rejected_credentials_are_a_permanent_error(
    http: httpx.AsyncClient, limiter: RollingWindowLimiter
) -> None:
    client = OntraportClient(http, BASE_URL, APP_ID, "wrong-key", limiter, sleep=Sleeps())

    with pytest.raises(PermanentError, match="ONTRAPORT rejected the API credentials") as raised:
        await client.check_credentials()

    assert "wrong-key" not in str(raised.value)


async def test_pages_through_every_transaction_never_asking_for_more_than_50(
    client: OntraportClient, recorder: Recorder, sandbox: FastAPI
) -> None:
    seen = [t async for t in client.iter_transactions(page_size=500)]

    expected = sorted(sandbox.state.sandbox.demo.transactions)
    assert [t.id for t in seen] == expected
    assert len(seen) == 122
    assert recorder.params("range") == ["50", "50", "50"]
    assert calls(sandbox)["calls"] == 3


async def test_a_page_asked_for_with_a_huge_range_is_asked_for_as_50(
    client: OntraportClient, recorder: Recorder
) -> None:
    page = await client.transactions_page(0, 1000)
    after = await client.transactions_after(0, limit=999)

    assert len(page) == len(after) == MAX_RANGE
    assert recorder.params("range") == ["50", "50"]
    assert [t.id for t in page] == sorted(t.id for t in page)


async def test_an_idle_poll_costs_exactly_one_call(client: OntraportClient, sandbox: FastAPI) -> None:
    mark = sandbox.state.sandbox.demo.summary()["max_transaction_id"]

    assert await client.transactions_after(mark) == []
    assert calls(sandbox)["calls"] == 1


async def test_new_transactions_above_the_mark_come_oldest_first(
    client: OntraportClient, sandbox: FastAPI, http: httpx.AsyncClient
) -> None:
    mark = sandbox.state.sandbox.demo.summary()["max_transaction_id"]
    added = await http.post("http://ontraport.test/_sandbox/accounts/100001/transactions", json={"count": 3})
    ids = added.json()["ids"]

    found = await client.transactions_after(mark)

    assert [t.id for t in found] == sorted(ids)
    first = found[0]
    assert first.total is not None and isinstance(first.total, Decimal)
    assert first.date is not None and first.occurred_at is not None
    assert first.raw["id"] == str(first.id)
    assert isinstance(json.loads(first.offer_data or ""), dict)


async def test_criteria_select_like_the_json_condition_syntax(
    client: OntraportClient, sandbox: FastAPI
) -> None:
    records = sandbox.state.sandbox.demo.transactions.values()
    refunded = field("status").is_in([TransactionStatus.REFUNDED, TransactionStatus.PARTIALLY_REFUNDED])
    condition = (field("id").gt(1200) & refunded) | field("status").eq(TransactionStatus.VOID)

    assert condition.to_json()[:2] == [
        {"field": {"field": "id"}, "op": ">", "value": {"value": 1200}},
        "AND",
    ]
    assert condition.to_json()[2] == {
        "field": {"field": "status"},
        "op": "IN",
        "value": {"list": [{"value": 2}, {"value": 3}]},
    }
    expected = sorted(
        int(r["id"])
        for r in records
        if (int(r["id"]) > 1200 and r["status"] in ("2", "3")) or r["status"] == "4"
    )
    found = [t.id async for t in client.iter_transactions(condition)]

    assert found == expected
    assert await client.count_transactions(condition) == len(expected)


async def test_transactions_between_dates_pages_by_id(client: OntraportClient, sandbox: FastAPI) -> None:
    records = list(sandbox.state.sandbox.demo.transactions.values())
    dates = sorted(int(r["date"]) for r in records)
    date_from, date_to = dates[10], dates[90]

    found = [t async for t in client.transactions_between(date_from, date_to)]

    assert len(found) == sum(1 for r in records if date_from <= int(r["date"]) <= date_to)
    assert all(date_from <= (t.date or 0) <= date_to for t in found)
    assert [t.id for t in found] == sorted({t.id for t in found})


async def test_one_transaction_its_order_and_a_missing_one(client: OntraportClient, sandbox: FastAPI) -> None:
    transaction_id = min(sandbox.state.sandbox.demo.transactions)

    transaction = await client.transaction(transaction_id)
    order = await client.transaction_order(transaction_id)

    assert transaction.id == transaction_id
    assert order.transaction_id == transaction_id
    assert order.offer is not None and "products" in order.offer
    with pytest.raises(OntraportNotFoundError):
        await client.transaction(999_999)


async def test_reference_objects_are_typed(client: OntraportClient) -> None:
    products = await client.products()
    taxes = await client.taxes()
    shipping = await client.shipping_methods()
    coupons = await client.coupons()
    codes = await client.coupon_codes()
    gateways = await client.gateways()
    contact = await client.contact(1)

    assert len(products) == 12 and products[0].name == "Pro Course"
    assert products[0].price == Decimal("200.00") and products[0].taxable is True
    gst = next(t for t in taxes if t.name == "GST")
    # taxShipping is not a documented field of the Tax object: it is read from offer_data instead.
    assert gst.rate == Decimal("10") and gst.tax_shipping is None
    assert [s.name for s in shipping] == ["Standard", "Express", "International"]
    assert {c.coupon_code for c in coupons} >= {"SPRING20"}
    assert {c.code for c in codes} >= {"SPRING20"}
    assert {g.currency for g in gateways} == {"USD", "GBP", "AUD"}
    assert contact.firstname == "Alex" and contact.email


async def test_objects_page_through_large_object_sets(
    http: httpx.AsyncClient, limiter: RollingWindowLimiter, recorder: Recorder
) -> None:
    client = OntraportClient(http, BASE_URL, APP_ID, API_KEY, limiter, sleep=Sleeps())

    contacts = [c async for c in client.objects(0, page_size=15)]

    assert [int(c["id"]) for c in contacts] == list(range(1, 41))
    assert recorder.params("range") == ["15", "15", "15"]


async def test_webhook_subscriptions(client: OntraportClient) -> None:
    created = await client.subscribe_webhook(
        "https://hooks.example/ontraport/secret-token", "transaction_created", '{"format":"notify"}'
    )
    assert created.id > 0 and created.event == "transaction_created"
    assert [w.id for w in await client.webhooks()] == [created.id]

    await client.unsubscribe_webhook(created.id)

    assert await client.webhooks() == []
    with pytest.raises(OntraportNotFoundError):
        await client.unsubscribe_webhook(created.id)


async def test_a_bad_condition_is_a_clear_permanent_error(client: OntraportClient) -> None:
    with pytest.raises(OntraportError, match="refused with 400"):
        await client.transactions_page(0, 10, "[{]")


async def test_shared_limiter_key_is_per_account(redis: Redis, queue_prefix: str) -> None:
    from ledgerbridge.common.clients.ontraport import account_limiter_key

    key = account_limiter_key(APP_ID, queue_prefix)
    assert key.startswith(f"{queue_prefix}:ratelimit:ontraport:")
    assert APP_ID not in key
    assert key != account_limiter_key("another-app", queue_prefix)


async def test_purchases_of_transactions_come_in_one_call_per_50(
    client: OntraportClient, recorder: Recorder
) -> None:
    # SPEC §4 item 12: the Purchase objects (17) of a transaction carry its coupon line by line.
    purchases = await client.purchases_of([1001, 1002, 1001])
    assert len(recorder.requests) == 1
    assert recorder.params("objectID") == ["17"]
    worked = sorted((p.product_id or 0, p.discount, p.coupon_code) for p in purchases if p.invoice_id == 1001)
    assert worked == [(1, Decimal("40.00"), "SPRING20"), (2, Decimal("0.00"), "")]
    assert sorted(p.product_id or 0 for p in purchases if p.invoice_id == 1002) == [3, 4, 5]
    assert await client.purchases_of([]) == []
    assert len(recorder.requests) == 1  # no ids, no call
