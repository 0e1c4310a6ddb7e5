"""The tenant's options: stored as ``AccountOptions``, merged partial updates, validation, reference checks."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.bookkeeping.bills.inputs import DEFAULT_ONPORT_LINK
from ledgerbridge.common.account_settings import AccountOptions
from ledgerbridge.common.models import AccountSettings
from tests.api.conftest import PASSWORD, CacheReference, MakeTenant, sign_in


async def test_defaults_come_from_the_spec(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    settings = (await api.get("/v1/settings", headers=tenant.headers)).json()
    assert settings == AccountOptions().model_dump(mode="json")
    ontraport, onport = settings["ontraport"], settings["onport"]
    assert ontraport["invoice_number_template"] == "OP-{transaction_id}"
    assert ontraport["reference_template"] == "{last_name}-{invoice_id}"
    assert (ontraport["invoice_status"], ontraport["untaxed_mode"]) == ("AUTHORISED", "NoTax")
    assert (ontraport["coupon_mode"], ontraport["contact_match_by_email"]) == ("separate_line", True)
    assert ontraport["sync_unpaid"] is False
    assert (onport["auto_sync_dropship"], onport["auto_sync_replenishment"]) == (False, False)
    assert (onport["sync_adjustments"], onport["payout_accounts"]) == (False, {})


async def test_patch_merges_nested_parts_and_stores_the_workers_shape(
    api: httpx.AsyncClient,
    make_tenant: MakeTenant,
    cache_reference: CacheReference,
    committing: async_sessionmaker[AsyncSession],
) -> None:
    tenant = await make_tenant()
    await cache_reference(tenant.account_id, {"tax_types": ["EXEMPTOUTPUT"]})
    first = await api.patch(
        "/v1/settings",
        json={"ontraport": {"invoice_status": "DRAFT", "time_zone": "Australia/Sydney"}},
        headers=tenant.headers,
    )
    assert first.status_code == 200, first.text
    second = await api.patch(
        "/v1/settings",
        json={
            "ontraport": {"untaxed_mode": "TaxFreeCode", "tax_free_code": "EXEMPTOUTPUT"},
            "onport": {"payout_accounts": {"aud": "090", "usd": "091"}},
        },
        headers=tenant.headers,
    )
    assert second.status_code == 200, second.text
    assert second.json()["warnings"] == [
        "payout currency 'AUD' was not checked: the organisation's Xero data has not been fetched yet",
        "onport.payout_accounts.AUD '090' was not checked: the organisation's Xero data has not been "
        "fetched yet",
        "payout currency 'USD' was not checked: the organisation's Xero data has not been fetched yet",
        "onport.payout_accounts.USD '091' was not checked: the organisation's Xero data has not been "
        "fetched yet",
    ]
    removed = await api.patch(
        "/v1/settings", json={"onport": {"payout_accounts": {"USD": None}}}, headers=tenant.headers
    )
    assert removed.json()["warnings"] == []
    settings = (await api.get("/v1/settings", headers=tenant.headers)).json()
    assert settings["ontraport"]["invoice_status"] == "DRAFT"
    assert settings["ontraport"]["time_zone"] == "Australia/Sydney"
    assert settings["ontraport"]["untaxed_mode"] == "TaxFreeCode"
    assert settings["onport"]["payout_accounts"] == {"AUD": "090"}
    async with committing() as session:
        row = await session.get_one(AccountSettings, tenant.account_id)
    # Exactly what the mapper validates (extra fields forbidden).
    assert AccountOptions.model_validate(row.values).model_dump(mode="json") == row.values == settings


async def test_invalid_options_are_422_problems_naming_the_field(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    cases: dict[tuple[str, ...], object] = {
        ("ontraport", "time_zone"): {"ontraport": {"time_zone": "Mars/Olympus"}},
        ("ontraport", "invoice_status"): {"ontraport": {"invoice_status": "PAID"}},
        ("ontraport", "invoice_number_template"): {"ontraport": {"invoice_number_template": "OP-{secret}"}},
        ("ontraport", "nope"): {"ontraport": {"nope": True}},
        ("nope",): {"nope": True},
        ("onport", "payout_accounts", "EURO"): {"onport": {"payout_accounts": {"euro": "090"}}},
        ("onport", "bill_status"): {"onport": {"bill_status": 3}},
    }
    for field, body in cases.items():
        response = await api.patch("/v1/settings", json=body, headers=tenant.headers)
        assert response.status_code == 422, field
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["loc"] == ["body", *field], response.json()
    needs_code = await api.patch(
        "/v1/settings", json={"ontraport": {"untaxed_mode": "TaxFreeCode"}}, headers=tenant.headers
    )
    assert needs_code.status_code == 422
    assert needs_code.json()["errors"][0]["loc"] == ["body", "ontraport", "tax_free_code"]
    not_an_object = await api.patch("/v1/settings", json=["ontraport"], headers=tenant.headers)
    assert not_an_object.status_code == 422
    settings = (await api.get("/v1/settings", headers=tenant.headers)).json()
    assert settings == AccountOptions().model_dump(mode="json")


async def test_unknown_accounts_are_rejected_once_reference_data_is_cached(
    api: httpx.AsyncClient, make_tenant: MakeTenant, cache_reference: CacheReference
) -> None:
    tenant = await make_tenant()
    await cache_reference(tenant.account_id, {"account_codes": ["200"], "tax_types": ["OUTPUT"]})
    response = await api.patch(
        "/v1/settings", json={"ontraport": {"default_sales_account": "999"}}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert (
        response.json()["detail"]
        == "ontraport.default_sales_account '999' is not in the organisation's chart of accounts"
    )
    assert response.json()["errors"][0]["loc"] == ["body", "ontraport", "default_sales_account"]
    ok = await api.patch(
        "/v1/settings", json={"ontraport": {"default_sales_account": "200"}}, headers=tenant.headers
    )
    assert (ok.status_code, ok.json()["warnings"]) == (200, [])


async def test_bookkeepers_edit_settings_too(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    owner = await make_tenant()
    await api.post("/v1/users", json={"email": "bk@example.com", "password": PASSWORD}, headers=owner.headers)
    bookkeeper = {"Authorization": f"Bearer {(await sign_in(api, 'bk@example.com'))['access_token']}"}
    changed = await api.patch("/v1/settings", json={"ontraport": {"sync_unpaid": True}}, headers=bookkeeper)
    assert changed.status_code == 200
    mapped = await api.put("/v1/mappings/tax/1", json={"tax_type": "OUTPUT"}, headers=bookkeeper)
    assert mapped.status_code == 200
    assert (await api.get("/v1/settings", headers=owner.headers)).json()["ontraport"]["sync_unpaid"] is True


async def test_templates_allow_only_documented_placeholders_without_spec(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    """Finding 1: a format spec made every invoice body weigh megabytes; such templates are refused."""
    tenant = await make_tenant()
    for field in ("invoice_number_template", "reference_template"):
        for template in (
            "{transaction_id:x>5000000}",
            "{transaction_id!r}",
            "{transaction_id.__class__}",
            "{transaction_id[0]}",
            "OP-{secret}",
            "OP-{",
            "OP-}",
            "   ",
            "x" * 256,
        ):
            response = await api.patch(
                "/v1/settings", json={"ontraport": {field: template}}, headers=tenant.headers
            )
            assert response.status_code == 422, (field, template)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["errors"][0]["loc"] == ["body", "ontraport", field]
    ok = await api.patch(
        "/v1/settings",
        json={"ontraport": {"invoice_number_template": "{{OP}}-{gateway_id}-{transaction_id}"}},
        headers=tenant.headers,
    )
    assert ok.status_code == 200, ok.text


async def test_free_text_options_have_maximum_lengths(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    cases: dict[tuple[str, ...], object] = {
        ("ontraport", "tax_free_code"): {"ontraport": {"tax_free_code": "X" * 51}},
        ("ontraport", "time_zone"): {"ontraport": {"time_zone": "Z" * 65}},
        ("onport", "default_tax_code"): {"onport": {"default_tax_code": "X" * 51}},
        ("onport", "shipping_account"): {"onport": {"shipping_account": "4" * 11}},
        ("onport", "tax_codes"): {"onport": {"tax_codes": {str(n): "INPUT" for n in range(201)}}},
    }
    for field, body in cases.items():
        response = await api.patch("/v1/settings", json=body, headers=tenant.headers)
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["loc"][: len(field) + 1] == ["body", *field], response.json()


async def test_the_link_back_to_onport_is_an_https_template_with_its_own_placeholders(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    """Issue 15, point 13: Onport's API documents no web address for an invoice, so the link is a
    setting; a value the mapper could not render, or one that is no https address, is refused."""
    tenant = await make_tenant()
    for refused in (
        "http://onport.example/invoices/{invoice_id}",
        "/purchase-invoices/{invoice_id}",
        "https://onport.example/{transaction_id}",
        "https://onport.example/{invoice_id:x>9000}",
        "https://",
    ):
        response = await api.patch(
            "/v1/settings", json={"onport": {"invoice_url_template": refused}}, headers=tenant.headers
        )
        assert response.status_code == 422, refused
        assert response.json()["errors"][0]["loc"] == ["body", "onport", "invoice_url_template"]
    custom = "https://shop.onport.example/invoices/{reference}?p={purchase_id}"
    cases: list[tuple[str | None, str]] = [(custom, custom), ("", ""), (None, DEFAULT_ONPORT_LINK)]
    for template, stored in cases:
        ok = await api.patch(
            "/v1/settings", json={"onport": {"invoice_url_template": template}}, headers=tenant.headers
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["onport"]["invoice_url_template"] == stored
