"""Tax exception rules: CRUD, ordering and validation."""

from __future__ import annotations

import uuid

import httpx

from tests.api.conftest import CacheReference, MakeTenant

RULE = {
    "name": "NZ customers",
    "filters": {"countries": ["nz"], "email_domains": ["Example.ORG"]},
    "tax_type": "OUTPUT2",
    "priority": 10,
}


async def test_create_list_replace_delete(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    created = await api.post("/v1/tax-exceptions", json=RULE, headers=tenant.headers)
    assert created.status_code == 201
    rule = created.json()
    assert rule["filters"]["countries"] == ["NZ"]
    assert rule["filters"]["email_domains"] == ["example.org"]
    assert rule["enabled"] is True
    assert rule["warnings"] == [
        "tax_type 'OUTPUT2' was not checked: the organisation's Xero data has not been fetched yet"
    ]
    later = await api.post(
        "/v1/tax-exceptions",
        json={"name": "Gateway 3", "filters": {"gateway_ids": ["3"]}, "tax_type": "OUTPUT", "priority": 5},
        headers=tenant.headers,
    )
    listed = (await api.get("/v1/tax-exceptions", headers=tenant.headers)).json()["items"]
    assert [item["name"] for item in listed] == ["Gateway 3", "NZ customers"]  # by priority

    replaced = await api.put(
        f"/v1/tax-exceptions/{rule['id']}",
        json={**RULE, "filters": {"emails": ["Someone@Example.com"]}, "enabled": False},
        headers=tenant.headers,
    )
    assert replaced.status_code == 200
    assert replaced.json()["filters"]["emails"] == ["someone@example.com"]
    assert replaced.json()["filters"]["countries"] == []
    fetched = (await api.get(f"/v1/tax-exceptions/{rule['id']}", headers=tenant.headers)).json()
    assert fetched["enabled"] is False

    assert (
        await api.delete(f"/v1/tax-exceptions/{later.json()['id']}", headers=tenant.headers)
    ).status_code == 204
    assert (
        await api.get(f"/v1/tax-exceptions/{later.json()['id']}", headers=tenant.headers)
    ).status_code == 404
    assert len((await api.get("/v1/tax-exceptions", headers=tenant.headers)).json()["items"]) == 1


async def test_a_rule_needs_a_filter_and_a_known_tax_type(
    api: httpx.AsyncClient, make_tenant: MakeTenant, cache_reference: CacheReference
) -> None:
    tenant = await make_tenant()
    no_filter = await api.post("/v1/tax-exceptions", json={**RULE, "filters": {}}, headers=tenant.headers)
    assert no_filter.status_code == 422
    assert no_filter.json()["errors"][0]["loc"] == ["body", "filters"]
    assert "at least one filter" in no_filter.json()["detail"]
    bad_country = await api.post(
        "/v1/tax-exceptions", json={**RULE, "filters": {"countries": ["NZL"]}}, headers=tenant.headers
    )
    assert bad_country.status_code == 422
    assert bad_country.json()["errors"][0]["loc"] == ["body", "filters", "countries", 0]

    await cache_reference(tenant.account_id, {"tax_types": ["OUTPUT"]})
    unknown = await api.post("/v1/tax-exceptions", json=RULE, headers=tenant.headers)
    assert unknown.status_code == 422
    assert (
        unknown.json()["detail"]
        == "tax_type 'OUTPUT2' is not one of the organisation's tax rates that apply to sales"
    )
    assert (await api.get("/v1/tax-exceptions", headers=tenant.headers)).json()["items"] == []
    missing = await api.put(
        f"/v1/tax-exceptions/{uuid.uuid4()}", json={**RULE, "tax_type": "OUTPUT"}, headers=tenant.headers
    )
    assert missing.status_code == 404
