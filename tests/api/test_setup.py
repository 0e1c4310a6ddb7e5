"""The 10 setup steps tell the truth: ONTRAPORT's own catalogue decides when a mapping step is done."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.api.reference import cache
from ledgerbridge.common.models import Connection, ConnectionKind, ConnectionStatus, RecordStatus
from tests.api.conftest import MakeTenant, Tenant
from tests.api.seed import STRIPE_AUD_THEME, add_connection, add_record, worked_transaction

Sessions = async_sessionmaker[AsyncSession]

# ONTRAPORT's catalogue as the reference cache keeps it (the client's records, dumped as JSON).
CATALOGUE: dict[str, list[dict[str, Any]]] = {
    "products": [
        {"id": 1, "name": "Pro Course"},
        {"id": 9, "name": "Workbook"},
        {"id": 12, "name": "Poster"},
    ],
    "taxes": [{"id": 4, "name": "GST"}, {"id": 6, "name": "VAT"}],
    "coupons": [{"id": 7, "name": "Spring", "coupon_code": "SPRING20"}, {"id": 8, "coupon_code": "TENOFF"}],
    "shipping_methods": [{"id": 2, "name": "Standard"}, {"id": 3, "name": "Express"}],
    "gateways": [{"id": 3, "name": "Stripe AUD"}],
}


async def _steps(api: httpx.AsyncClient, tenant: Tenant) -> dict[str, dict[str, Any]]:
    response = await api.get("/v1/setup", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return {step["key"]: step for step in response.json()["steps"]}


async def _cache_catalogue(sessions: Sessions, connection_id: uuid.UUID) -> None:
    async with sessions() as session, session.begin():
        await cache.merge(session, connection_id, CATALOGUE)


async def test_setup_steps_follow_ontraports_catalogue(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    steps = await _steps(api, tenant)
    assert list(steps) == [
        "connect_xero",
        "connect_ontraport",
        "gateways",
        "products",
        "taxes",
        "coupons",
        "shipping",
        "tax_exceptions",
        "invoice_options",
        "import_and_go_live",
    ]
    assert not any(step["done"] for step in steps.values())
    assert all(step["summary"] for step in steps.values())

    xero = await add_connection(
        committing, tenant.account_id, ConnectionKind.xero, status=ConnectionStatus.pending
    )
    steps = await _steps(api, tenant)
    assert steps["connect_xero"]["missing"] == ["choose which Xero organisation to use"]

    async with committing() as session, session.begin():
        row = await session.get(Connection, xero)
        assert row is not None
        row.status, row.xero_tenant_id = ConnectionStatus.active, "org-1"
    source = await add_connection(
        committing, tenant.account_id, ConnectionKind.ontraport, xero_connection_id=xero
    )
    await _cache_catalogue(committing, source)
    # Right after connecting, with no sale stored yet, the catalogue alone says what is unmapped.
    steps = await _steps(api, tenant)
    assert steps["connect_xero"]["done"] and steps["connect_ontraport"]["done"]
    assert steps["gateways"]["missing"] == ["3"]
    assert steps["products"]["missing"] == ["1", "9", "12"]
    assert "3 of 3 products" in steps["products"]["summary"]
    assert steps["taxes"]["missing"] == ["4", "6"]
    assert steps["coupons"]["missing"] == ["SPRING20", "TENOFF"]
    assert steps["shipping"]["missing"] == ["2", "3"]

    # A stored sale naming a gateway the catalogue lacks counts too.
    await add_record(
        committing,
        tenant.account_id,
        source,
        "1002",
        payload={"transaction": worked_transaction("1002", gateway_id="5")},
    )
    mappings = [
        {"kind": "product", "source_id": "1", "target": {"account_code": "200"}},
        {"kind": "tax", "source_id": "4", "target": {"tax_type": "OUTPUT"}},
        {"kind": "tax", "source_id": "6", "target": {"tax_type": "OUTPUT"}},
        {"kind": "coupon", "source_id": "7", "target": {"account_code": "455"}},
        {"kind": "coupon", "source_id": "TENOFF", "target": {"account_code": "455"}},
        {
            "kind": "gateway",
            "source_id": "3",
            "target": {
                "currency_code": "AUD",
                "branding_theme_id": STRIPE_AUD_THEME,
                "payment_account_code": "610",
            },
        },
    ]
    assert (await api.put("/v1/mappings", json=mappings, headers=tenant.headers)).status_code == 200
    steps = await _steps(api, tenant)
    assert steps["gateways"]["missing"] == ["5"]
    assert steps["products"]["missing"] == ["9", "12"]
    assert steps["taxes"]["done"] and steps["coupons"]["done"]  # coupons by id and by code

    # A default sales account (and shipping account) covers every product (and shipping method).
    patched = await api.patch(
        "/v1/settings",
        json={"ontraport": {"default_sales_account": "200", "default_shipping_account": "260"}},
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    steps = await _steps(api, tenant)
    assert steps["products"]["done"] and steps["shipping"]["done"]
    assert "default sales account 200" in steps["products"]["summary"]
    # Saving options is not confirming them: the review steps wait for the person.
    assert not steps["invoice_options"]["done"] and not steps["tax_exceptions"]["done"]
    assert (await api.patch("/v1/settings", json={}, headers=tenant.headers)).status_code == 200
    assert not (await _steps(api, tenant))["invoice_options"]["done"]

    confirmed = await api.patch(
        "/v1/settings",
        json={"ontraport": {"invoice_options_confirmed": True, "tax_exceptions_reviewed": True}},
        headers=tenant.headers,
    )
    assert confirmed.status_code == 200, confirmed.text
    steps = await _steps(api, tenant)
    assert steps["invoice_options"]["done"] and steps["tax_exceptions"]["done"]
    assert not steps["import_and_go_live"]["done"]

    await add_record(committing, tenant.account_id, source, "1003", status=RecordStatus.synced)
    steps = await _steps(api, tenant)
    assert steps["import_and_go_live"]["done"]
    progress = (await api.get("/v1/setup", headers=tenant.headers)).json()
    assert progress["done"] == 9 and not progress["complete"]  # gateway 5 is still unmapped


async def test_a_catalogue_that_cannot_be_read_leaves_its_steps_open(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero, xero_tenant_id="org-1")
    # No cached catalogue and credentials that cannot be used: nothing may be claimed done.
    await add_connection(committing, tenant.account_id, ConnectionKind.ontraport, xero_connection_id=xero)
    steps = await _steps(api, tenant)
    for key in ("gateways", "products", "taxes", "coupons", "shipping"):
        assert not steps[key]["done"], key
        assert "could not be read" in steps[key]["missing"][0], steps[key]


async def test_a_tax_exception_rule_completes_the_tax_exceptions_step(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    assert not (await _steps(api, tenant))["tax_exceptions"]["done"]
    rule = {
        "name": "Overseas",
        "tax_type": "OUTPUT",
        "filters": {"countries": ["NZ"]},
    }
    created = await api.post("/v1/tax-exceptions", json=rule, headers=tenant.headers)
    assert created.status_code == 201, created.text
    assert (await _steps(api, tenant))["tax_exceptions"]["done"]


async def test_onport_has_steps_of_its_own_from_its_vendor_list(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    progress = (await api.get("/v1/setup", headers=tenant.headers)).json()
    onport = {step["key"]: step for step in progress["onport"]}
    assert list(onport) == ["onport_connect", "onport_organisation", "onport_vendors", "onport_accounts"]
    assert not any(step["done"] for step in onport.values())

    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero, xero_tenant_id="org-2")
    source = await add_connection(
        committing, tenant.account_id, ConnectionKind.onport, xero_connection_id=xero
    )
    # Credentials that cannot be used and nothing cached: the vendors step cannot be claimed.
    onport = {s["key"]: s for s in (await api.get("/v1/setup", headers=tenant.headers)).json()["onport"]}
    assert onport["onport_connect"]["done"] and onport["onport_organisation"]["done"]
    assert "could not be read" in onport["onport_vendors"]["missing"][0]

    async with committing() as session, session.begin():
        await cache.merge(session, source, {"vendors": {"1": "Acme Dropship", "2": "Beta Supplies"}})
    contact = str(uuid.uuid4())
    linked = await api.put("/v1/mappings/vendor/1", json={"contact_id": contact}, headers=tenant.headers)
    assert linked.status_code == 200, linked.text
    patched = await api.patch(
        "/v1/settings",
        json={"onport": {"default_purchases_account": "300", "default_tax_code": "INPUT2"}},
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    onport = {s["key"]: s for s in (await api.get("/v1/setup", headers=tenant.headers)).json()["onport"]}
    assert onport["onport_vendors"]["missing"] == ["2"]
    assert "1 of 2 Onport vendors" in onport["onport_vendors"]["summary"]
    assert onport["onport_accounts"]["done"]
