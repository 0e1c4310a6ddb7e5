"""Issue 13's options through the API: tracking on product and gateway mappings, checked against the
organisation's tracking categories, and the lock-date setting."""

from __future__ import annotations

import httpx

from tests.api.conftest import CacheReference, MakeTenant

THEME = "dfe23d27-a3a6-4ef3-a5ca-b9e02b142dde"
GATEWAY = {"currency_code": "AUD", "branding_theme_id": THEME, "payment_account_code": "610"}


async def test_tracking_is_saved_on_products_and_gateways_and_checked_against_xero(
    api: httpx.AsyncClient, make_tenant: MakeTenant, cache_reference: CacheReference
) -> None:
    tenant = await make_tenant()
    unchecked = await api.put(
        "/v1/mappings/product/17",
        json={"account_code": "200", "tracking": [{"name": "Region", "option": "North"}]},
        headers=tenant.headers,
    )
    assert unchecked.status_code == 200, unchecked.text
    assert "tracking 'Region: North' was not checked" in " ".join(unchecked.json()["warnings"])

    await cache_reference(
        tenant.account_id,
        {
            "account_codes": ["200", "610"],
            "branding_theme_ids": [THEME],
            "currency_codes": ["AUD"],
            "tracking_categories": ["Region=North,South", "Channel=Online"],
        },
    )
    product = await api.put(
        "/v1/mappings/product/17",
        json={"account_code": "200", "tracking": [{"name": "region", "option": "north"}]},
        headers=tenant.headers,
    )
    assert product.status_code == 200, product.text
    assert product.json()["warnings"] == []
    assert product.json()["target"]["tracking"] == [{"name": "region", "option": "north"}]
    gateway = await api.put(
        "/v1/mappings/gateway/3",
        json={**GATEWAY, "tracking": [{"name": "Channel", "option": "Online"}]},
        headers=tenant.headers,
    )
    assert gateway.status_code == 200, gateway.text
    listed = (await api.get("/v1/mappings?kind=gateway", headers=tenant.headers)).json()["items"]
    assert listed[0]["target"]["tracking"] == [{"name": "Channel", "option": "Online"}]

    unknown = await api.put(
        "/v1/mappings/product/18",
        json={"account_code": "200", "tracking": [{"name": "Region", "option": "West"}]},
        headers=tenant.headers,
    )
    assert unknown.status_code == 422
    problem = unknown.json()
    assert problem["errors"][0]["loc"] == ["body", "tracking", 0]
    assert "tracking 'Region: West' is not an active option" in problem["detail"]
    assert "/tracking-categories" in problem["detail"]  # where to find the valid ones

    three = await api.put(
        "/v1/mappings/gateway/4",
        json={
            **GATEWAY,
            "tracking": [
                {"name": "Region", "option": "North"},
                {"name": "Channel", "option": "Online"},
                {"name": "Brand", "option": "Own"},
            ],
        },
        headers=tenant.headers,
    )
    assert three.status_code == 422
    assert three.json()["errors"][0]["loc"] == ["body", "tracking"]
    twice = await api.put(
        "/v1/mappings/product/19",
        json={
            "account_code": "200",
            "tracking": [{"name": "Region", "option": "North"}, {"name": "REGION", "option": "South"}],
        },
        headers=tenant.headers,
    )
    assert twice.status_code == 422
    assert "choose each tracking category once" in twice.json()["detail"]
    # Bulk saves check tracking the same way, all or nothing.
    bulk = await api.put(
        "/v1/mappings",
        json=[
            {"kind": "product", "source_id": "20", "target": {"account_code": "200"}},
            {
                "kind": "product",
                "source_id": "21",
                "target": {"account_code": "200", "tracking": [{"name": "Nope", "option": "X"}]},
            },
        ],
        headers=tenant.headers,
    )
    assert bulk.status_code == 422
    assert bulk.json()["errors"][0]["loc"] == ["body", 1, "target", "tracking", 0]
    ids = {m["source_id"] for m in (await api.get("/v1/mappings", headers=tenant.headers)).json()["items"]}
    assert ids == {"17", "3"}


async def test_the_lock_date_setting_defaults_to_hold(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    settings = (await api.get("/v1/settings", headers=tenant.headers)).json()
    assert settings["ontraport"]["locked_period"] == "hold"
    changed = await api.patch(
        "/v1/settings", json={"ontraport": {"locked_period": "first_open_day"}}, headers=tenant.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["ontraport"]["locked_period"] == "first_open_day"
    wrong = await api.patch(
        "/v1/settings", json={"ontraport": {"locked_period": "later"}}, headers=tenant.headers
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["loc"][-1] == "locked_period"
