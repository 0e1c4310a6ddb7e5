"""The 10 setup steps progress as the account's data is added."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.models import Connection, ConnectionKind, ConnectionStatus, RecordStatus
from tests.api.conftest import MakeTenant, Tenant
from tests.api.seed import STRIPE_AUD_THEME, add_connection, add_record, worked_transaction

Sessions = async_sessionmaker[AsyncSession]


async def _steps(api: httpx.AsyncClient, tenant: Tenant) -> dict[str, dict[str, Any]]:
    response = await api.get("/v1/setup", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return {step["key"]: step for step in response.json()["steps"]}


async def test_setup_steps_follow_the_data(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    steps = await _steps(api, tenant)
    assert list(steps) == [
        "connect_xero",
        "choose_organisation",
        "connect_ontraport",
        "gateways",
        "products",
        "taxes",
        "coupons",
        "shipping",
        "tax_exceptions_and_invoice_options",
        "import_and_go_live",
    ]
    assert not any(step["done"] for step in steps.values())

    xero = await add_connection(
        committing, tenant.account_id, ConnectionKind.xero, status=ConnectionStatus.pending
    )
    steps = await _steps(api, tenant)
    assert steps["connect_xero"]["done"] and not steps["choose_organisation"]["done"]

    async with committing() as session, session.begin():
        row = await session.get(Connection, xero)
        assert row is not None
        row.status, row.xero_tenant_id = ConnectionStatus.active, "org-1"
    source = await add_connection(
        committing, tenant.account_id, ConnectionKind.ontraport, xero_connection_id=xero
    )
    await add_record(committing, tenant.account_id, source, "1001")
    await add_record(
        committing,
        tenant.account_id,
        source,
        "1002",
        payload={"transaction": worked_transaction("1002", gateway_id="5")},
    )
    steps = await _steps(api, tenant)
    assert steps["choose_organisation"]["done"] and steps["connect_ontraport"]["done"]
    assert steps["gateways"]["missing"] == ["3", "5"]
    assert steps["products"]["missing"] == ["1", "9"]
    assert steps["taxes"]["missing"] == ["4"]
    assert steps["coupons"]["missing"] == ["SPRING20"]
    assert steps["shipping"]["missing"] == ["2"]

    mappings = [
        {"kind": "product", "source_id": "1", "target": {"account_code": "200"}},
        {"kind": "tax", "source_id": "4", "target": {"tax_type": "OUTPUT"}},
        {"kind": "coupon", "source_id": "7", "target": {"account_code": "455"}},
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
    assert steps["products"]["missing"] == ["9"]
    assert steps["taxes"]["done"] and steps["coupons"]["done"]  # coupon 7 is SPRING20, mapped by id
    assert not steps["tax_exceptions_and_invoice_options"]["done"]

    # A default sales account (and shipping account) covers every product (and shipping method).
    patched = await api.patch(
        "/v1/settings",
        json={"ontraport": {"default_sales_account": "200", "default_shipping_account": "260"}},
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    steps = await _steps(api, tenant)
    assert steps["products"]["done"] and steps["shipping"]["done"]
    assert steps["tax_exceptions_and_invoice_options"]["done"]
    assert not steps["import_and_go_live"]["done"]

    await add_record(committing, tenant.account_id, source, "1003", status=RecordStatus.synced)
    steps = await _steps(api, tenant)
    assert steps["import_and_go_live"]["done"]
    progress = (await api.get("/v1/setup", headers=tenant.headers)).json()
    assert progress["done"] == 9 and not progress["complete"]  # gateway 5 is still unmapped
