"""Every object the Onport sandbox serves matches Onport's official OpenAPI schema (issue 15, point 15):
no property the spec does not declare, every declared type respected. Checked over HTTP after each
control operation, so a new field cannot slip in through one of them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ledgerbridge.sandbox.onport.generator import RESOURCES
from ledgerbridge.sandbox.onport.openapi import record_errors, schema_name


async def every_record(client: httpx.AsyncClient, resource: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    while True:
        page = (await client.get(f"/{resource}.json", params={"limit": 250, "from": len(records)})).json()
        records.extend(page)
        if len(page) < 250:
            return records


async def assert_all_valid(client: httpx.AsyncClient) -> None:
    problems: dict[str, set[str]] = {}
    for resource in RESOURCES:
        records = await every_record(client, resource)
        assert records or resource == "landed-cost-purchase-invoice-items", resource
        for record in records:
            problems.setdefault(resource, set()).update(record_errors(resource, record))
            one = (await client.get(f"/{resource}/{record['id']}.json")).json()
            problems[resource].update(record_errors(resource, one))
    for integration in (await client.get("/accounting-integrations.json")).json():
        problems.setdefault("accounting-integrations", set()).update(
            record_errors("accounting-integrations", integration)
        )
    assert {name: sorted(found) for name, found in problems.items() if found} == {}


def test_the_check_is_strict() -> None:
    assert schema_name("purchase-invoices") == "purchase-invoice"
    errors = record_errors("purchase-invoices", {"id": 1, "total": 3.5, "paid": "no"})
    assert "<root>: Additional properties are not allowed ('total' was unexpected)" in errors
    assert "paid: 'no' is not of type 'number'" in errors
    assert record_errors("purchase-invoices", {"id": 1, "xeroId": None, "adjustment": None}) == []


async def test_seeded_data_follows_the_official_schema(client: httpx.AsyncClient) -> None:
    await assert_all_valid(client)


@pytest.mark.parametrize("seed", [3, 2024])
async def test_every_control_operation_keeps_to_the_schema(client: httpx.AsyncClient, seed: int) -> None:
    account = (await client.post("/_sandbox/accounts", json={"seed": seed, "purchases": 12})).json()
    client.headers["Authorization"] = f"Bearer {account['token']}"
    base = f"/_sandbox/accounts/{account['account_id']}"
    added = (await client.post(f"{base}/purchase-invoices", json={"count": 3})).json()
    invoice_id = added["invoice_ids"][0]
    await client.post(
        f"{base}/purchase-invoices/{invoice_id}/adjustments", json={"amount": "4", "reason": "Rush"}
    )
    await client.post(f"{base}/purchase-invoices/{invoice_id}/landed-costs")
    paid = (await client.post(f"{base}/purchase-invoices/{invoice_id}/payments")).json()
    refund = await client.post(f"{base}/purchase-invoices/{invoice_id}/refunds", json={"amount": "1.00"})
    assert refund.status_code == 200, refund.text
    cancelled = await client.post(f"{base}/purchase-invoice-payments/{paid['payment']['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    await client.put(f"/purchase-invoices/{invoice_id}.json", json={"xeroId": "abc", "accountingError": None})
    await client.post(
        "/accounting-integrations.json", json={"name": "ledgerbridge", "dropshipEndpoint": "http://x.test/d"}
    )
    await assert_all_valid(client)
