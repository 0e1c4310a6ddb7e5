"""Tenant isolation, per endpoint: another account neither sees nor changes the first one's data."""

from __future__ import annotations

import httpx

from tests.api.conftest import MakeTenant, Tenant


async def _two(make_tenant: MakeTenant) -> tuple[Tenant, Tenant]:
    return await make_tenant(company="First"), await make_tenant(company="Second")


async def test_mappings_are_per_account(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    first, second = await _two(make_tenant)
    await api.put("/v1/mappings/product/17", json={"account_code": "200"}, headers=first.headers)

    assert (await api.get("/v1/mappings", headers=second.headers)).json()["items"] == []
    assert (await api.get("/v1/mappings?kind=product", headers=second.headers)).json()["items"] == []
    assert (await api.delete("/v1/mappings/product/17", headers=second.headers)).status_code == 404
    await api.put("/v1/mappings/product/17", json={"account_code": "999"}, headers=second.headers)
    await api.put(
        "/v1/mappings",
        json=[{"kind": "product", "source_id": "17", "target": {"account_code": "998"}}],
        headers=second.headers,
    )

    mine = (await api.get("/v1/mappings", headers=first.headers)).json()["items"]
    assert [(m["source_id"], m["target"]) for m in mine] == [("17", {"account_code": "200"})]
    theirs = (await api.get("/v1/mappings", headers=second.headers)).json()["items"]
    assert [(m["source_id"], m["target"]) for m in theirs] == [("17", {"account_code": "998"})]


async def test_settings_are_per_account(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    first, second = await _two(make_tenant)
    await api.patch("/v1/settings", json={"ontraport": {"invoice_status": "DRAFT"}}, headers=first.headers)
    await api.patch(
        "/v1/settings", json={"ontraport": {"time_zone": "Europe/London"}}, headers=second.headers
    )
    mine = (await api.get("/v1/settings", headers=first.headers)).json()["ontraport"]
    theirs = (await api.get("/v1/settings", headers=second.headers)).json()["ontraport"]
    assert (mine["invoice_status"], mine["time_zone"]) == ("DRAFT", "UTC")
    assert (theirs["invoice_status"], theirs["time_zone"]) == ("AUTHORISED", "Europe/London")


async def test_tax_exceptions_are_per_account(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    first, second = await _two(make_tenant)
    rule = {"name": "NZ", "filters": {"countries": ["NZ"]}, "tax_type": "OUTPUT2"}
    created = (await api.post("/v1/tax-exceptions", json=rule, headers=first.headers)).json()
    url = f"/v1/tax-exceptions/{created['id']}"

    assert (await api.get("/v1/tax-exceptions", headers=second.headers)).json()["items"] == []
    assert (await api.get(url, headers=second.headers)).status_code == 404
    changed = await api.put(url, json={**rule, "name": "hijacked"}, headers=second.headers)
    assert changed.status_code == 404
    assert changed.headers["content-type"] == "application/problem+json"
    assert (await api.delete(url, headers=second.headers)).status_code == 404

    assert (await api.get(url, headers=first.headers)).json()["name"] == "NZ"


async def test_plan_and_users_are_per_account(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    first, second = await _two(make_tenant)
    assert (await api.post("/v1/plan/upgrade", headers=second.headers)).json()["plan"] == "pro"
    assert (await api.get("/v1/plan", headers=first.headers)).json()["plan"] == "trial"

    invited = await api.post(
        "/v1/users",
        json={"email": "bk@example.com", "password": "a long enough secret"},
        headers=second.headers,
    )
    assert invited.json()["account_id"] == str(second.account_id)
    assert [u["email"] for u in (await api.get("/v1/users", headers=first.headers)).json()["items"]] == [
        first.email
    ]
    me = (await api.get("/v1/me", headers=second.headers)).json()
    assert me["account"]["company"] == "Second"
