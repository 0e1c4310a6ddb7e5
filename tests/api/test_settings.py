"""The tenant's options: defaults, partial updates, validation, and reference checks."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.models import AccountSettings
from tests.api.conftest import PASSWORD, CacheReference, MakeTenant, sign_in


async def test_defaults_come_from_the_spec(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    settings = (await api.get("/v1/settings", headers=tenant.headers)).json()
    assert settings["invoice_number_template"] == "OP-{transaction_id}"
    assert settings["reference_template"] == "{last_name}-{invoice_id}"
    assert settings["invoice_status"] == "AUTHORISED"
    assert settings["untaxed_mode"] == "NoTax"
    assert settings["coupon_mode"] == "separate_line"
    assert settings["match_contacts_by_email"] is True
    assert settings["sync_unpaid"] is False
    assert settings["onport_auto_sync_dropship"] is False
    assert settings["onport_auto_sync_replenishment"] is False
    assert settings["onport_adjustments"] is False
    assert settings["payout_account_codes"] == {}


async def test_patch_changes_only_what_is_sent_and_keeps_the_reference_cache(
    api: httpx.AsyncClient,
    make_tenant: MakeTenant,
    cache_reference: CacheReference,
    committing: async_sessionmaker[AsyncSession],
) -> None:
    tenant = await make_tenant()
    await cache_reference(tenant.account_id, {"tax_types": ["EXEMPTOUTPUT"]})
    first = await api.patch(
        "/v1/settings",
        json={"invoice_status": "DRAFT", "time_zone": "Australia/Sydney"},
        headers=tenant.headers,
    )
    assert first.status_code == 200
    second = await api.patch(
        "/v1/settings",
        json={
            "untaxed_mode": "TaxFreeCode",
            "tax_free_tax_type": "EXEMPTOUTPUT",
            "payout_account_codes": {"aud": "090"},
        },
        headers=tenant.headers,
    )
    assert second.status_code == 200
    assert second.json()["warnings"] == [
        "payout currency 'AUD' was not checked: the organisation's Xero data has not been fetched yet",
        "payout_account_codes.AUD '090' was not checked: the organisation's Xero data has not been fetched yet",
    ]
    settings = (await api.get("/v1/settings", headers=tenant.headers)).json()
    assert (settings["invoice_status"], settings["time_zone"], settings["untaxed_mode"]) == (
        "DRAFT",
        "Australia/Sydney",
        "TaxFreeCode",
    )
    assert settings["payout_account_codes"] == {"AUD": "090"}
    async with committing() as session:
        row = await session.get_one(AccountSettings, tenant.account_id)
    assert row.values["xero_reference"] == {"tax_types": ["EXEMPTOUTPUT"]}


async def test_invalid_options_are_422_problems_naming_the_field(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    cases = {
        "time_zone": {"time_zone": "Mars/Olympus"},
        "invoice_status": {"invoice_status": "PAID"},
        "invoice_number_template": {"invoice_number_template": "OP-{secret}"},
        "nope": {"nope": True},
    }
    for field, body in cases.items():
        response = await api.patch("/v1/settings", json=body, headers=tenant.headers)
        assert response.status_code == 422, field
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["loc"] == ["body", field]
    needs_code = await api.patch("/v1/settings", json={"untaxed_mode": "TaxFreeCode"}, headers=tenant.headers)
    assert needs_code.status_code == 422
    assert "tax_free_tax_type" in needs_code.json()["detail"]
    assert (await api.get("/v1/settings", headers=tenant.headers)).json()["untaxed_mode"] == "NoTax"


async def test_unknown_accounts_are_rejected_once_reference_data_is_cached(
    api: httpx.AsyncClient, make_tenant: MakeTenant, cache_reference: CacheReference
) -> None:
    tenant = await make_tenant()
    await cache_reference(tenant.account_id, {"account_codes": ["200"], "tax_types": ["OUTPUT"]})
    response = await api.patch(
        "/v1/settings", json={"default_sales_account_code": "999"}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert (
        response.json()["detail"]
        == "default_sales_account_code '999' is not in the organisation's chart of accounts"
    )
    ok = await api.patch("/v1/settings", json={"default_sales_account_code": "200"}, headers=tenant.headers)
    assert (ok.status_code, ok.json()["warnings"]) == (200, [])


async def test_bookkeepers_edit_settings_too(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    owner = await make_tenant()
    await api.post("/v1/users", json={"email": "bk@example.com", "password": PASSWORD}, headers=owner.headers)
    bookkeeper = {"Authorization": f"Bearer {(await sign_in(api, 'bk@example.com'))['access_token']}"}
    assert (
        await api.patch("/v1/settings", json={"sync_unpaid": True}, headers=bookkeeper)
    ).status_code == 200
    mapped = await api.put("/v1/mappings/tax/1", json={"tax_type": "OUTPUT"}, headers=bookkeeper)
    assert mapped.status_code == 200
    assert (await api.get("/v1/settings", headers=owner.headers)).json()["sync_unpaid"] is True
