"""The Onport sandbox's API: bearer auth, where/limit/from/order, single records, leaky bucket."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from ledgerbridge.sandbox.onport.app import create_app
from ledgerbridge.sandbox.onport.config import OnportSandboxConfig

from .conftest import DEMO_HEADERS, FakeClock

RESOURCES = [
    "purchase-invoices",
    "purchase-invoice-items",
    "purchases",
    "purchase-items",
    "dropship-providers",
    "purchase-invoice-payments",
    "currencies",
]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic sandbox-token"},
        {"Authorization": "Bearer "},
    ],
)
async def test_bad_or_missing_bearer_is_401(app: FastAPI, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://op.test") as http:
        response = await http.get("/purchase-invoices.json", headers=headers)
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401
    assert app.state.sandbox.demo.counter.calls == 0


@pytest.mark.parametrize("resource", RESOURCES)
async def test_every_resource_lists_and_gets(client: httpx.AsyncClient, resource: str) -> None:
    listed = (await client.get(f"/{resource}.json")).json()
    assert isinstance(listed, list)
    assert listed
    first = listed[0]
    single = await client.get(f"/{resource}/{first['id']}.json")
    assert single.json() == first
    assert (await client.get(f"/{resource}/999999.json")).status_code == 404


async def test_invoice_shape_follows_the_spec(client: httpx.AsyncClient) -> None:
    invoice = (await client.get("/purchase-invoices.json", params={"limit": 1})).json()[0]
    for field in (
        "id",
        "purchaseId",
        "reference",
        "adjustment",
        "adjustmentReason",
        "paymentStatus",
        "source",
        "xeroId",
        "finalized",
        "updatedAt",
        "createdAt",
        "invoicingStage",
        "commissionMethod",
        "paid",
    ):
        assert field in invoice
    assert invoice["paymentStatus"] in ("notPaid", "partiallyPaid", "paid")
    assert invoice["source"] in ("manual", "automated", "catchup")
    assert invoice["updatedAt"].endswith("Z")
    purchase = (await client.get(f"/purchases/{invoice['purchaseId']}.json")).json()
    for field in ("purchaseType", "dropshipProviderId", "taxIncluded", "taxShipping", "combinedTaxRate"):
        assert field in purchase
    item = (await client.get("/purchase-items.json", params={"limit": 1})).json()[0]
    for field in (
        "name",
        "quantity",
        "price",
        "tax",
        "taxRate",
        "exchangeIso",
        "exchangeRate",
        "purchaseId",
    ):
        assert field in item
    vendor = (await client.get("/dropship-providers/1.json")).json()
    for field in ("name", "orderCurrencyCode", "paymentDays"):
        assert field in vendor


async def test_where_limit_from_order(client: httpx.AsyncClient) -> None:
    everything = (await client.get("/purchase-invoices.json", params={"limit": 250})).json()
    assert [i["id"] for i in everything] == sorted(i["id"] for i in everything)
    page1 = (await client.get("/purchase-invoices.json", params={"limit": 5, "from": 0})).json()
    page2 = (await client.get("/purchase-invoices.json", params={"limit": 5, "from": 5})).json()
    assert [i["id"] for i in page1 + page2] == [i["id"] for i in everything[:10]]

    purchase_id = everything[0]["purchaseId"]
    mine = (await client.get("/purchase-invoices.json", params={"where[purchaseId]": purchase_id})).json()
    assert mine == [i for i in everything if i["purchaseId"] == purchase_id]

    cutoff = everything[len(everything) // 2]["updatedAt"]
    newer = (await client.get("/purchase-invoices.json", params={"where[updatedAt][gt]": cutoff})).json()
    assert newer == [i for i in everything if i["updatedAt"] > cutoff]
    assert newer
    dollar = (await client.get("/purchase-invoices.json", params={"where[updatedAt][$gt]": cutoff})).json()
    assert dollar == newer

    some = (
        await client.get("/purchase-invoices.json", params={"where[paymentStatus][in]": "paid,partiallyPaid"})
    ).json()
    assert some == [i for i in everything if i["paymentStatus"] in ("paid", "partiallyPaid")]
    finalized = (await client.get("/purchase-invoices.json", params={"where[finalized]": "true"})).json()
    assert len(finalized) == len(everything)
    untouched = (
        await client.get("/purchase-invoices.json", params={"where[adjustmentReason]": "null"})
    ).json()
    assert untouched == [i for i in everything if i["adjustmentReason"] is None]
    desc = (await client.get("/purchase-invoices.json", params={"order[paid]": "DESC", "limit": 250})).json()
    assert [i["paid"] for i in desc] == sorted((i["paid"] for i in everything), reverse=True)
    capped = (await client.get("/purchase-invoice-items.json", params={"limit": 10000})).json()
    assert len(capped) <= 250


@pytest.mark.parametrize(
    "params",
    [{"where[nope]": "1"}, {"where[id][like]": "1"}, {"limit": "ten"}, {"from": "-1"}, {"order[id]": "UP"}],
)
async def test_bad_query_is_400(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get("/purchase-invoices.json", params=params)
    assert response.status_code == 400


async def test_leaky_bucket_two_reads_or_one_write_per_second(clock: FakeClock) -> None:
    app = create_app(OnportSandboxConfig(purchases=2), clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://op.test", headers=DEMO_HEADERS
    ) as http:
        assert (await http.get("/currencies.json")).status_code == 200
        assert (await http.get("/currencies.json")).status_code == 200
        throttled = await http.get("/currencies.json")
        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "1"
        clock.now += 0.5
        assert (await http.get("/currencies.json")).status_code == 200
        assert (await http.get("/currencies.json")).status_code == 429
        clock.now += 1.0
        write = await http.put("/purchase-invoices/5001.json", json={"xeroId": "abc"})
        assert write.status_code == 200
        assert write.json()["xeroId"] == "abc"
        assert (await http.get("/currencies.json")).status_code == 429
        clock.now += 1.0
        assert (await http.get("/currencies.json")).status_code == 200
        calls = (await http.get("/_sandbox/accounts/1/calls")).json()
    assert calls["calls"] == 8
    assert calls["throttled"] == 3
    assert calls["by_endpoint"]["PUT /purchase-invoices/{record_id}.json"] == 1


async def test_only_accounting_fields_are_writable(client: httpx.AsyncClient) -> None:
    response = await client.put("/purchase-invoices/5001.json", json={"total": 1})
    assert response.status_code == 400


async def test_isolated_accounts(client: httpx.AsyncClient) -> None:
    created = (await client.post("/_sandbox/accounts", json={"seed": 3, "purchases": 4})).json()
    assert created["token"] != "sandbox-token"
    headers = {"Authorization": f"Bearer {created['token']}"}
    theirs = (await client.get("/purchases.json", headers=headers)).json()
    ours = (await client.get("/purchases.json")).json()
    assert len(theirs) == 4
    assert len(ours) == 24
    own = (await client.get(f"/_sandbox/accounts/{created['account_id']}/calls")).json()
    assert own["calls"] == 1


def test_config_from_env() -> None:
    config = OnportSandboxConfig.from_env({"ONPORT_SANDBOX_GET_PER_SECOND": "5", "ONPORT_SANDBOX_TOKEN": "t"})
    assert config.get_per_second == 5.0
    assert config.token == "t"
    assert config.write_per_second == 1.0
