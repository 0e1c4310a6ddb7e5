"""Mappings: typed targets per kind, bulk upsert, and checks against the organisation's Xero data."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common import xero_reference
from ledgerbridge.common.models import Connection
from tests.api.conftest import CacheReference, MakeTenant

THEME = "dfe23d27-a3a6-4ef3-a5ca-b9e02b142dde"


async def test_put_get_replace_and_delete(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    saved = await api.put(
        "/v1/mappings/product/17", json={"account_code": "200", "item_code": "PRO"}, headers=tenant.headers
    )
    assert saved.status_code == 200
    assert saved.json()["target"] == {"account_code": "200", "item_code": "PRO"}
    assert saved.json()["warnings"] == [
        "account_code '200' was not checked: the organisation's Xero data has not been fetched yet"
    ]
    await api.put("/v1/mappings/tax/3", json={"tax_type": "OUTPUT"}, headers=tenant.headers)
    replaced = await api.put("/v1/mappings/product/17", json={"account_code": "210"}, headers=tenant.headers)
    assert replaced.json()["target"] == {"account_code": "210"}

    everything = (await api.get("/v1/mappings", headers=tenant.headers)).json()["items"]
    assert [(m["kind"], m["source_id"], m["target"]) for m in everything] == [
        ("product", "17", {"account_code": "210"}),
        ("tax", "3", {"tax_type": "OUTPUT"}),
    ]
    taxes = (await api.get("/v1/mappings?kind=tax", headers=tenant.headers)).json()["items"]
    assert [m["source_id"] for m in taxes] == ["3"]

    assert (await api.delete("/v1/mappings/product/17", headers=tenant.headers)).status_code == 204
    gone = await api.delete("/v1/mappings/product/17", headers=tenant.headers)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert len((await api.get("/v1/mappings", headers=tenant.headers)).json()["items"]) == 1


async def test_each_kind_has_its_own_target_shape(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    gateway = await api.put(
        "/v1/mappings/gateway/3",
        json={"currency_code": "aud", "branding_theme_id": THEME, "payment_account_code": "610"},
        headers=tenant.headers,
    )
    assert gateway.status_code == 200
    assert gateway.json()["target"]["currency_code"] == "AUD"

    missing = await api.put("/v1/mappings/gateway/4", json={"currency_code": "AUD"}, headers=tenant.headers)
    assert missing.status_code == 422
    assert {tuple(e["loc"]) for e in missing.json()["errors"]} == {
        ("body", "branding_theme_id"),
        ("body", "payment_account_code"),
    }
    wrong_field = await api.put("/v1/mappings/tax/3", json={"account_code": "200"}, headers=tenant.headers)
    assert wrong_field.status_code == 422
    assert {tuple(e["loc"]) for e in wrong_field.json()["errors"]} == {
        ("body", "tax_type"),
        ("body", "account_code"),
    }
    bad_contact = await api.put(
        "/v1/mappings/vendor/9", json={"contact_id": "not-a-guid"}, headers=tenant.headers
    )
    assert bad_contact.status_code == 422
    assert bad_contact.json()["errors"][0]["loc"] == ["body", "contact_id"]
    unknown_kind = await api.put(
        "/v1/mappings/widget/1", json={"account_code": "200"}, headers=tenant.headers
    )
    assert unknown_kind.status_code == 422
    assert (await api.get("/v1/mappings", headers=tenant.headers)).json()["items"][0]["kind"] == "gateway"


async def test_bulk_upsert_is_all_or_nothing(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    await api.put("/v1/mappings/coupon/SPRING20", json={"account_code": "260"}, headers=tenant.headers)
    bad = await api.put(
        "/v1/mappings",
        json=[
            {"kind": "product", "source_id": "1", "target": {"account_code": "200"}},
            {"kind": "vendor", "source_id": "7", "target": {}},
            {"kind": "product", "source_id": "1", "target": {"account_code": "201"}},
        ],
        headers=tenant.headers,
    )
    assert bad.status_code == 422
    assert [e["loc"] for e in bad.json()["errors"]] == [
        ["body", 1, "target", "contact_id"],
        ["body", 2, "source_id"],
    ]
    assert len((await api.get("/v1/mappings", headers=tenant.headers)).json()["items"]) == 1

    good = await api.put(
        "/v1/mappings",
        json=[
            {"kind": "product", "source_id": "1", "target": {"account_code": "200"}},
            {"kind": "coupon", "source_id": "SPRING20", "target": {"account_code": "270"}},
            {"kind": "purchase_type", "source_id": "dropship", "target": {"account_code": "310"}},
            {"kind": "shipping", "source_id": "2", "target": {"account_code": "210"}},
        ],
        headers=tenant.headers,
    )
    assert good.status_code == 200
    assert len(good.json()["items"]) == 4
    stored = {
        (m["kind"], m["source_id"]): m["target"]
        for m in (await api.get("/v1/mappings", headers=tenant.headers)).json()["items"]
    }
    assert stored[("coupon", "SPRING20")] == {"account_code": "270"}
    assert len(stored) == 4


async def test_targets_are_checked_against_cached_reference_data(
    api: httpx.AsyncClient, make_tenant: MakeTenant, cache_reference: CacheReference
) -> None:
    tenant = await make_tenant()
    await cache_reference(
        tenant.account_id,
        {
            "account_codes": ["200", "610"],
            "tax_types": ["OUTPUT"],
            "currency_codes": ["AUD"],
            "branding_theme_ids": [THEME],
        },
    )
    unknown = await api.put("/v1/mappings/product/17", json={"account_code": "999"}, headers=tenant.headers)
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["detail"] == "account_code '999' is not in the organisation's chart of accounts"
    assert unknown.json()["errors"][0]["loc"] == ["body", "account_code"]

    known = await api.put("/v1/mappings/product/17", json={"account_code": "200"}, headers=tenant.headers)
    assert (known.status_code, known.json()["warnings"]) == (200, [])

    gateway = await api.put(
        "/v1/mappings/gateway/3",
        json={"currency_code": "NZD", "branding_theme_id": THEME, "payment_account_code": "611"},
        headers=tenant.headers,
    )
    assert gateway.status_code == 422
    assert [e["msg"] for e in gateway.json()["errors"]] == [
        "currency_code 'NZD' is not one of the organisation's currencies",
        "payment_account_code '611' is not an account Xero takes payments to (a bank account, or one with payments enabled)",
    ]
    # Contacts were never fetched: accepted, with a warning saying so.
    vendor = await api.put(
        "/v1/mappings/vendor/5",
        json={"contact_id": "4a1c9f2e-0d3b-4b8e-9b5a-6f0e2d7c8a91"},
        headers=tenant.headers,
    )
    assert vendor.status_code == 200
    assert "contact_id" in vendor.json()["warnings"][0]

    bulk = await api.put(
        "/v1/mappings",
        json=[
            {"kind": "tax", "source_id": "1", "target": {"tax_type": "OUTPUT"}},
            {"kind": "tax", "source_id": "2", "target": {"tax_type": "BOGUS"}},
        ],
        headers=tenant.headers,
    )
    assert bulk.status_code == 422
    assert bulk.json()["errors"] == [
        {
            "loc": ["body", 1, "target", "tax_type"],
            "msg": "tax_type 'BOGUS' is not one of the organisation's tax rates that apply to sales",
            "type": "unknown_reference",
        }
    ]
    assert (await api.get("/v1/mappings?kind=tax", headers=tenant.headers)).json()["items"] == []


async def test_mappings_require_sign_in(api: httpx.AsyncClient) -> None:
    assert (await api.get("/v1/mappings")).status_code == 401
    assert (await api.put("/v1/mappings/tax/1", json={"tax_type": "OUTPUT"})).status_code == 401


async def test_a_gateway_pays_only_into_an_account_xero_takes_payments_to(
    api: httpx.AsyncClient,
    make_tenant: MakeTenant,
    cache_reference: CacheReference,
    committing: async_sessionmaker[AsyncSession],
) -> None:
    # Tried as a new user would: payment account 200 (a sales account) was accepted, and the sync then
    # left an approved, unpaid invoice in Xero. Xero's own account types now decide.
    tenant = await make_tenant()
    await cache_reference(tenant.account_id, {"account_codes": ["200"]})
    async with committing() as session, session.begin():
        connection = await session.scalar(
            select(Connection).where(Connection.account_id == tenant.account_id)
        )
        assert connection is not None
        await xero_reference.store(
            session,
            connection.id,
            {
                "accounts": [
                    {"Code": "200", "Type": "REVENUE", "Status": "ACTIVE", "EnablePaymentsToAccount": False},
                    {"Code": "610", "Type": "BANK", "Status": "ACTIVE"},
                    {"Code": "615", "Type": "CURRLIAB", "Status": "ACTIVE", "EnablePaymentsToAccount": True},
                ],
                "currencies": [{"Code": "AUD"}],
                "branding_themes": [{"BrandingThemeID": THEME}],
                "tax_rates": [
                    {"TaxType": "OUTPUT", "Status": "ACTIVE", "CanApplyToRevenue": True},
                    {"TaxType": "INPUT", "Status": "ACTIVE", "CanApplyToRevenue": False},
                ],
            },
        )
    target = {"currency_code": "AUD", "branding_theme_id": THEME, "payment_account_code": "200"}
    refused = await api.put("/v1/mappings/gateway/3", json=target, headers=tenant.headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "payment_account_code"]
    for account in ("610", "615"):
        accepted = await api.put(
            "/v1/mappings/gateway/3", json={**target, "payment_account_code": account}, headers=tenant.headers
        )
        assert accepted.status_code == 200, accepted.text
    purchase_tax = await api.put("/v1/mappings/tax/4", json={"tax_type": "INPUT"}, headers=tenant.headers)
    assert purchase_tax.status_code == 422
    assert "apply to sales" in purchase_tax.json()["detail"]
