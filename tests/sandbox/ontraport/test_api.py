"""The ONTRAPORT sandbox's read API: auth, envelope, paging, conditions, sorting, objects."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ledgerbridge.sandbox.ontraport.app import create_app
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.server import serve_in_thread

from .conftest import DEMO_HEADERS


def cond(*items: Any) -> str:
    return json.dumps(list(items))


def cmp(field: str, op: str, value: Any) -> dict[str, Any]:
    if op == "IN":
        return {"field": {"field": field}, "op": "IN", "value": {"list": [{"value": v} for v in value]}}
    return {"field": {"field": field}, "op": op, "value": {"value": value}}


async def all_ids(client: httpx.AsyncClient, condition: str | None = None) -> list[int]:
    ids: list[int] = []
    start = 0
    while True:
        params: dict[str, Any] = {"start": start, "range": 50}
        if condition:
            params["condition"] = condition
        page = (await client.get("/Transactions", params=params)).json()["data"]
        ids.extend(int(r["id"]) for r in page)
        if len(page) < 50:
            return ids
        start += 50


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Api-Appid": "sandbox-app"},
        {"Api-Key": "sandbox-key"},
        {"Api-Appid": "sandbox-app", "Api-Key": "x"},
    ],
)
async def test_requests_without_valid_credentials_get_401(app: FastAPI, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://op.test") as http:
        response = await http.get("/Transactions", headers=headers)
    assert response.status_code == 401
    assert "do not authenticate" in response.text
    assert app.state.sandbox.demo.counter.calls == 0


async def test_each_of_many_accounts_answers_only_to_its_own_credentials(app: FastAPI) -> None:
    state = app.state.sandbox
    accounts = [state.create_account(seed=n, transactions=0, contacts=1) for n in range(300)]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://op.test") as http:
        for account in (accounts[0], accounts[150], accounts[-1]):
            headers = {"Api-Appid": account.app_id, "Api-Key": account.api_key}
            response = await http.get("/Transactions", params={"range": 1}, headers=headers)
            assert response.json()["account_id"] == str(account.account_id)
        # Another account's key with this App ID is refused, and counted on nobody.
        crossed = {"Api-Appid": accounts[0].app_id, "Api-Key": accounts[1].api_key}
        assert (await http.get("/Transactions", headers=crossed)).status_code == 401
        assert accounts[0].counter.calls == 1 and accounts[1].counter.calls == 0
        state.reset()  # the accounts are gone, and so are their credentials
        gone = {"Api-Appid": accounts[0].app_id, "Api-Key": accounts[0].api_key}
        assert (await http.get("/Transactions", headers=gone)).status_code == 401


async def test_envelope_and_string_values(client: httpx.AsyncClient) -> None:
    response = await client.get("/Transactions", params={"range": 5})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"code", "data", "account_id"}
    assert body["code"] == 0
    assert body["account_id"] == "100001"
    assert len(body["data"]) == 5
    record = body["data"][0]
    assert all(isinstance(value, str) for value in record.values())
    assert record["date"].isdigit()
    assert isinstance(json.loads(record["offer_data"]), dict)


async def test_range_is_capped_at_50_silently(client: httpx.AsyncClient) -> None:
    response = await client.get("/Transactions", params={"range": 500})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 50


async def test_start_and_range_page_through_everything_once(client: httpx.AsyncClient) -> None:
    first = (await client.get("/Transactions", params={"start": 0, "range": 20})).json()["data"]
    second = (await client.get("/Transactions", params={"start": 20, "range": 20})).json()["data"]
    assert [int(r["id"]) for r in first + second] == list(range(1001, 1041))
    ids = await all_ids(client)
    assert ids == sorted(set(ids))
    assert len(ids) == 122  # 120 generated + the two worked examples


async def test_condition_operators(client: httpx.AsyncClient) -> None:
    assert all(i > 1100 for i in await all_ids(client, cond(cmp("id", ">", 1100))))
    assert await all_ids(client, cond(cmp("id", ">=", 1118))) == list(range(1118, 1123))
    assert await all_ids(client, cond(cmp("id", "<", 1003))) == [1001, 1002]
    assert await all_ids(client, cond(cmp("id", "<=", 1001))) == [1001]
    assert await all_ids(client, cond(cmp("id", "=", 1050))) == [1050]
    assert 1050 not in await all_ids(client, cond(cmp("id", "<>", 1050)))
    assert await all_ids(client, cond(cmp("id", "IN", [1001, 1005, 9999]))) == [1001, 1005]


async def test_condition_and_or(client: httpx.AsyncClient) -> None:
    both = await all_ids(client, cond(cmp("status", "=", 2), "AND", cmp("id", ">", 1050)))
    status_two = await all_ids(client, cond(cmp("status", "=", 2)))
    assert [i for i in status_two if i > 1100], "the seed must give refunds past 1100 for this test"
    assert both == [i for i in status_two if i > 1050]
    either = await all_ids(client, cond(cmp("id", "=", 1001), "OR", cmp("id", "=", 1010)))
    assert either == [1001, 1010]
    # AND binds tighter than OR: (id = 1001) OR (id > 1100 AND status = 2)
    mixed = await all_ids(
        client, cond(cmp("id", "=", 1001), "OR", cmp("id", ">", 1100), "AND", cmp("status", "=", 2))
    )
    assert mixed == [1001, *[i for i in status_two if i > 1100]]


async def test_condition_string_form(client: httpx.AsyncClient) -> None:
    assert await all_ids(client, "id > 1118") == [1119, 1120, 1121, 1122]
    assert await all_ids(client, "id >= 1120 AND status IN (0,1,2,3,4,5,6,7)") == [1120, 1121, 1122]


@pytest.mark.parametrize("condition", ["[{]", "id ~ 3", cond(cmp("id", "LIKE", 3)), cond("AND")])
async def test_bad_condition_is_400(client: httpx.AsyncClient, condition: str) -> None:
    response = await client.get("/Transactions", params={"condition": condition})
    assert response.status_code == 400
    assert "condition" in response.text.lower()


async def test_sort_and_sort_dir(client: httpx.AsyncClient) -> None:
    desc = (await client.get("/Transactions", params={"sort": "id", "sortDir": "desc"})).json()["data"]
    assert [int(r["id"]) for r in desc[:3]] == [1122, 1121, 1120]
    by_total = (await client.get("/Transactions", params={"sort": "total", "sortDir": "asc"})).json()["data"]
    totals = [float(r["total"]) for r in by_total]
    assert totals == sorted(totals)  # numeric, not text, order
    assert by_total[0]["id"] == "1002"  # 3.47 is the smallest charge


async def test_list_fields_restricts_fields(client: httpx.AsyncClient) -> None:
    data = (await client.get("/Transactions", params={"listFields": "id,total,status", "range": 3})).json()[
        "data"
    ]
    assert [set(r) for r in data] == [{"id", "total", "status"}] * 3


async def test_get_info_counts_under_condition(client: httpx.AsyncClient) -> None:
    everything = (await client.get("/Transactions/getInfo")).json()["data"]
    assert everything["count"] == "122"
    assert "offer_data" in everything["listFields"]
    condition = cond(cmp("status", "IN", [2, 3]))
    info = (await client.get("/Transactions/getInfo", params={"condition": condition})).json()["data"]
    assert info["count"] == str(len(await all_ids(client, condition)))


async def test_single_transaction_and_order(client: httpx.AsyncClient) -> None:
    body = (await client.get("/Transaction", params={"id": 1001})).json()
    assert body["code"] == 0
    assert body["data"]["total"] == "242.00"
    order = (await client.get("/Transaction/Order", params={"id": 1001})).json()["data"]
    assert order["offer"]["coupon"]["code"] == "SPRING20"
    assert (await client.get("/Transaction", params={"id": 999999})).status_code == 404
    assert (await client.get("/Transaction")).status_code == 400


@pytest.mark.parametrize(
    ("object_id", "expected"),
    [
        (0, "Alex"),
        (16, "Pro Course"),
        (63, "GST"),
        (64, "Standard"),
        (70, "Stripe AUD"),
        (123, "Spring sale"),
        (124, "SPRING20"),
        (46, "1001"),
    ],
)
async def test_objects_and_meta(client: httpx.AsyncClient, object_id: int, expected: str) -> None:
    data = (await client.get("/objects", params={"objectID": object_id, "range": 50})).json()["data"]
    assert any(expected in record.values() for record in data)
    meta = (await client.get("/objects/meta", params={"objectID": object_id})).json()["data"]
    assert str(object_id) in meta
    assert meta[str(object_id)]["fields"]


async def test_objects_take_conditions_and_reject_unknown_types(client: httpx.AsyncClient) -> None:
    taxes = (await client.get("/objects", params={"objectID": 63, "condition": "rate > 9"})).json()["data"]
    assert {t["name"] for t in taxes} == {"GST", "VAT"}
    gst = next(t for t in taxes if t["name"] == "GST")
    assert "taxShipping" not in gst  # not a documented field of the Tax object (63)
    assert (await client.get("/objects", params={"objectID": 9999})).status_code == 400


async def test_rate_limit_headers_and_429(clock: Any) -> None:
    app = create_app(
        OntraportSandboxConfig(transactions=5, rate_limit=3, rate_window_seconds=10), clock=clock
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://op.test", headers=DEMO_HEADERS
    ) as http:
        remaining = []
        for _ in range(3):
            response = await http.get("/Transactions")
            assert response.status_code == 200
            assert response.headers["X-Rate-Limit-Limit"] == "3"
            remaining.append(response.headers["X-Rate-Limit-Remaining"])
        assert remaining == ["2", "1", "0"]
        clock.now += 4
        throttled = await http.get("/Transactions")
        assert throttled.status_code == 429
        assert throttled.headers["X-Rate-Limit-Reset"] == "6"
        assert "Retry-After" not in throttled.headers
        clock.now += 6
        assert (await http.get("/Transactions")).status_code == 200
        calls = (await http.get("/_sandbox/accounts/100001/calls")).json()
    assert calls["calls"] == 5
    assert calls["throttled"] == 1
    assert calls["by_endpoint"] == {"GET /Transactions": 5}


async def test_isolated_accounts_have_own_credentials_data_and_counters(client: httpx.AsyncClient) -> None:
    created = (await client.post("/_sandbox/accounts", json={"seed": 99, "transactions": 7})).json()
    assert created["account_id"] != 100001
    headers = {"Api-Appid": created["app_id"], "Api-Key": created["api_key"]}
    info = (await client.get("/Transactions/getInfo", headers=headers)).json()
    assert info["account_id"] == str(created["account_id"])
    assert info["data"]["count"] == "9"
    await client.post(f"/_sandbox/accounts/{created['account_id']}/transactions", json={"count": 3})
    assert (await client.get("/Transactions/getInfo", headers=headers)).json()["data"]["count"] == "12"
    assert (await client.get("/Transactions/getInfo")).json()["data"]["count"] == "122"
    own = (await client.get(f"/_sandbox/accounts/{created['account_id']}/calls")).json()
    demo = (await client.get("/_sandbox/accounts/100001/calls")).json()
    assert own["calls"] == 2
    assert demo["calls"] == 1
    reset = (await client.post(f"/_sandbox/accounts/{created['account_id']}/calls/reset")).json()
    assert reset["calls"] == 0


async def test_sandbox_reset_drops_extra_accounts_and_changes(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await client.post("/_sandbox/accounts", json={})
    await client.post("/_sandbox/accounts/100001/transactions", json={"count": 2})
    await client.post("/_sandbox/reset")
    assert list(app.state.sandbox.accounts) == [100001]
    assert (await client.get("/Transactions/getInfo")).json()["data"]["count"] == "122"


def test_config_from_env() -> None:
    config = OntraportSandboxConfig.from_env(
        {"ONTRAPORT_SANDBOX_RATE_LIMIT": "30", "ONTRAPORT_SANDBOX_SEED": "5", "OTHER": "1"}
    )
    assert config.rate_limit == 30
    assert config.seed == 5
    assert config.rate_window_seconds == 60.0


def test_served_on_a_real_port() -> None:
    with serve_in_thread(create_app(OntraportSandboxConfig(transactions=3))) as base_url:
        response = httpx.get(f"{base_url}/Transaction", params={"id": 1002}, headers=DEMO_HEADERS)
    assert response.status_code == 200
    assert response.json()["data"]["total"] == "3.47"
    assert int(response.headers["X-Rate-Limit-Remaining"]) == 179
