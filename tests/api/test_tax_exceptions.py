"""Tax exception rules: CRUD, ordering and validation."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.models import TaxExceptionRule
from ledgerbridge.common.records.core_inputs import ontraport_mappings
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


async def test_one_schema_for_api_and_mapper_and_a_bad_stored_rule_fails_alone(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: async_sessionmaker[AsyncSession]
) -> None:
    """Finding 4 of issue 10: the API accepted gateway_ids ["abc"], the mapper required integers, and
    every record of the account failed."""
    tenant = await make_tenant()
    refused = await api.post(
        "/v1/tax-exceptions",
        json={"name": "Bad", "filters": {"gateway_ids": ["abc"]}, "tax_type": "OUTPUT"},
        headers=tenant.headers,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "filters", "gateway_ids", 0]
    good = await api.post(
        "/v1/tax-exceptions",
        json={
            "name": "Gateway 3",
            "filters": {"gateway_ids": ["3"], "product_ids": [7]},
            "tax_type": "OUTPUT",
        },
        headers=tenant.headers,
    )
    assert good.status_code == 201 and good.json()["filters"]["gateway_ids"] == [3]
    # A rule stored before the model was shared: shown with its error, skipped by the mapper, by name.
    async with committing() as session, session.begin():
        session.add(
            TaxExceptionRule(
                account_id=tenant.account_id,
                name="Legacy",
                filters={"gateway_ids": ["abc"]},
                tax_type="OUTPUT",
                priority=1,
                enabled=True,
            )
        )
    listed = (await api.get("/v1/tax-exceptions", headers=tenant.headers)).json()["items"]
    legacy = next(item for item in listed if item["name"] == "Legacy")
    assert legacy["error"].startswith("filters.gateway_ids.0:")
    assert next(item for item in listed if item["name"] == "Gateway 3")["error"] is None
    async with committing() as session:
        mappings = await ontraport_mappings(session, tenant.account_id)
    assert [rule.name for rule in mappings.tax_exceptions] == ["Gateway 3"]
    assert mappings.tax_exceptions[0].gateway_ids == frozenset({3})
