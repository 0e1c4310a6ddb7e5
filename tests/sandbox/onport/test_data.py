"""Generated Onport data and the control endpoints: amounts, invoicing in parts, adjustments, payouts,
determinism, and the accounting-integration push delivered to a receiver on a real port."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from ledgerbridge.sandbox.onport.config import OnportSandboxConfig
from ledgerbridge.sandbox.onport.state import OnportState
from ledgerbridge.sandbox.server import serve_in_thread


def r2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def d(value: Any) -> Decimal:
    return Decimal(str(value))


def tax_of(amount: Decimal, rate: Decimal, included: bool) -> Decimal:
    if rate == 0:
        return Decimal("0.00")
    return r2(amount * rate / (1 + rate)) if included else r2(amount * rate)


def invoiced_shipping(tables: dict[str, dict[int, dict[str, Any]]], invoice_id: int) -> Decimal:
    rates = tables["purchase-shipping-rates"].values()
    return sum((d(r["price"]) for r in rates if r["purchaseInvoiceId"] == invoice_id), Decimal(0))


def expected_invoice(
    tables: dict[str, dict[int, dict[str, Any]]], invoice: dict[str, Any]
) -> dict[str, Decimal]:
    purchase = tables["purchases"][invoice["purchaseId"]]
    included = purchase["taxIncluded"]
    subtotal = tax = Decimal(0)
    for row in tables["purchase-invoice-items"].values():
        if row["purchaseInvoiceId"] != invoice["id"]:
            continue
        item = tables["purchase-items"][row["purchaseItemId"]]
        amount = r2(d(item["price"]) * row["quantity"])
        subtotal += amount
        tax += tax_of(amount, d(item["taxRate"]), included)
    shipping = invoiced_shipping(tables, invoice["id"])
    if purchase["taxShipping"]:
        tax += tax_of(shipping, d(purchase["combinedTaxRate"]), included)
    landed = tables["landed-cost-purchase-invoices"].values()
    landed_costs = sum(
        (d(r["amount"]) for r in landed if r["purchaseInvoiceId"] == invoice["id"]), Decimal(0)
    )
    total = subtotal + shipping + landed_costs + d(invoice["adjustment"]) + (0 if included else tax)
    return {"subtotal": subtotal, "tax": tax, "total": total}


async def fetch_all(client: httpx.AsyncClient, resource: str) -> dict[int, dict[str, Any]]:
    records: dict[int, dict[str, Any]] = {}
    offset = 0
    while True:
        page = (await client.get(f"/{resource}.json", params={"limit": 20, "from": offset})).json()
        records.update({r["id"]: r for r in page})
        if len(page) < 20:
            return records
        offset += 20


@pytest.mark.parametrize("seed", [1, 7, 99, 2024])
def test_every_invoice_adds_up(seed: int) -> None:
    data = OnportState(OnportSandboxConfig(seed=seed, purchases=60), clock=lambda: 0.0).demo.data
    invoices = data.tables["purchase-invoices"].values()
    assert len(invoices) > 40
    shipping_seen: set[int] = set()
    for invoice in invoices:
        expected = expected_invoice(data.tables, invoice)
        amounts = data.amounts[invoice["id"]]
        assert amounts.subtotal == expected["subtotal"]
        assert amounts.tax == expected["tax"]
        assert amounts.total == expected["total"]
        if invoiced_shipping(data.tables, invoice["id"]) > 0:
            # Shipping is billed once per purchase, on its first invoice.
            assert invoice["purchaseId"] not in shipping_seen
            shipping_seen.add(invoice["purchaseId"])
    for item in data.tables["purchase-items"].values():
        purchase = data.tables["purchases"][item["purchaseId"]]
        subtotal = r2(d(item["price"]) * item["quantity"])
        assert d(item["subtotal"]) == subtotal
        assert d(item["tax"]) == tax_of(subtotal, d(item["taxRate"]), purchase["taxIncluded"])


def test_generation_is_deterministic_by_seed() -> None:
    def tables(seed: int) -> dict[str, Any]:
        return OnportState(OnportSandboxConfig(seed=seed), clock=lambda: 0.0).demo.data.tables

    assert tables(5) == tables(5)
    assert tables(5)["purchase-items"] != tables(6)["purchase-items"]


async def test_seeded_variety(client: httpx.AsyncClient, app: FastAPI) -> None:
    purchases = await fetch_all(client, "purchases")
    invoices = await fetch_all(client, "purchase-invoices")
    vendors = await fetch_all(client, "dropship-providers")
    payments = await fetch_all(client, "purchase-invoice-payments")
    currencies = await fetch_all(client, "currencies")
    assert {c["iso"] for c in currencies.values()} == {"AUD", "USD", "GBP"}
    kinds = app.state.sandbox.demo.data.vendor_kinds
    assert {(kinds[v["id"]], v["orderCurrencyCode"]) for v in vendors.values()} == {
        (kind, cur) for kind in ("dropship", "replenishment") for cur in ("AUD", "USD", "GBP")
    }
    assert {p["purchaseType"] for p in purchases.values()} == {
        "dropship",
        "replenishment",
        "automated_dropship",
        "automated_replenishment",
    }
    for purchase in purchases.values():
        vendor = vendors[purchase["dropshipProviderId"]]
        assert purchase["purchaseType"].endswith(kinds[vendor["id"]])
    assert {p["taxIncluded"] for p in purchases.values()} == {True, False}
    assert {p["invoiceStatus"] for p in purchases.values()} >= {"notInvoiced", "invoiced"}
    adjustments = [i for i in invoices.values() if i["adjustment"] != 0]
    assert any(i["adjustment"] > 0 for i in adjustments)
    assert any(i["adjustment"] < 0 for i in adjustments)
    assert all(i["adjustmentReason"] for i in adjustments)
    assert {i["paymentStatus"] for i in invoices.values()} == {"paid", "partiallyPaid", "notPaid"}
    assert payments


async def test_orders_invoiced_in_parts(client: httpx.AsyncClient) -> None:
    invoices = await fetch_all(client, "purchase-invoices")
    rows = await fetch_all(client, "purchase-invoice-items")
    items = await fetch_all(client, "purchase-items")
    per_purchase: dict[int, list[int]] = defaultdict(list)
    for invoice in invoices.values():
        per_purchase[invoice["purchaseId"]].append(invoice["id"])
    split = [p for p, ids in per_purchase.items() if len(ids) > 1]
    assert len(split) >= 2
    invoiced: dict[int, int] = defaultdict(int)
    invoices_per_item: dict[int, set[int]] = defaultdict(set)
    for row in rows.values():
        invoiced[row["purchaseItemId"]] += row["quantity"]
        invoices_per_item[row["purchaseItemId"]].add(row["purchaseInvoiceId"])
    for item_id, quantity in invoiced.items():
        assert quantity == items[item_id]["quantityInvoiced"] <= items[item_id]["quantity"]
    # One item's quantity spread over two invoices.
    spread = [i for i, ids in invoices_per_item.items() if len(ids) > 1]
    assert spread
    for purchase_id in split:
        references = {invoices[i]["reference"] for i in per_purchase[purchase_id]}
        assert len(references) == len(per_purchase[purchase_id])


async def test_payouts_match_invoices(client: httpx.AsyncClient, app: FastAPI) -> None:
    amounts = app.state.sandbox.demo.data.amounts
    invoices = await fetch_all(client, "purchase-invoices")
    payments = await fetch_all(client, "purchase-invoice-payments")
    paid: dict[int, Decimal] = defaultdict(Decimal)
    for payment in payments.values():
        assert payment["type"] == "payment"
        assert payment["status"] == "active"
        paid[payment["purchaseInvoiceId"]] += d(payment["amount"])
    for invoice in invoices.values():
        assert d(invoice["paid"]) == paid.get(invoice["id"], Decimal(0))
        if invoice["paymentStatus"] == "paid":
            assert paid[invoice["id"]] == amounts[invoice["id"]].total
        elif invoice["paymentStatus"] == "partiallyPaid":
            assert 0 < paid[invoice["id"]] < amounts[invoice["id"]].total


async def test_control_add_adjust_and_pay(client: httpx.AsyncClient, app: FastAPI) -> None:
    before = (
        await client.get("/purchase-invoices.json", params={"order[updatedAt]": "DESC", "limit": 1})
    ).json()
    mark = before[0]["updatedAt"]
    added = (
        await client.post("/_sandbox/accounts/1/purchase-invoices", json={"count": 2, "vendor_id": 2})
    ).json()
    assert len(added["purchase_ids"]) == 2
    assert len(added["invoice_ids"]) >= 2
    invoice_id = added["invoice_ids"][0]

    adjusted = (
        await client.post(
            f"/_sandbox/accounts/1/purchase-invoices/{invoice_id}/adjustments",
            json={"amount": "-3.10", "reason": "Short shipped"},
        )
    ).json()
    assert adjusted["adjustment"] == -3.1
    assert adjusted["adjustmentReason"] == "Short shipped"
    tables = app.state.sandbox.demo.data.tables
    total = app.state.sandbox.demo.data.amounts[invoice_id].total
    assert total == expected_invoice(tables, adjusted)["total"]

    partial = (
        await client.post(
            f"/_sandbox/accounts/1/purchase-invoices/{invoice_id}/payments", json={"amount": "1.00"}
        )
    ).json()
    assert partial["invoice"]["paymentStatus"] == "partiallyPaid"
    rest = (await client.post(f"/_sandbox/accounts/1/purchase-invoices/{invoice_id}/payments")).json()
    assert rest["invoice"]["paymentStatus"] == "paid"
    assert d(rest["payment"]["amount"]) == total - 1
    nothing_left = await client.post(f"/_sandbox/accounts/1/purchase-invoices/{invoice_id}/payments")
    assert nothing_left.status_code == 400

    changed = (await client.get("/purchase-invoices.json", params={"where[updatedAt][gt]": mark})).json()
    assert set(added["invoice_ids"]) <= {i["id"] for i in changed}
    payouts = (
        await client.get("/purchase-invoice-payments.json", params={"where[purchaseInvoiceId]": invoice_id})
    ).json()
    assert [p["amount"] for p in payouts] == [1.0, rest["payment"]["amount"]]

    uninvoiced = next(p for p in tables["purchases"].values() if p["invoiceStatus"] == "notInvoiced")
    finished = (
        await client.post("/_sandbox/accounts/1/purchase-invoices", json={"purchase_id": uninvoiced["id"]})
    ).json()
    assert len(finished["invoice_ids"]) == 1
    assert tables["purchases"][uninvoiced["id"]]["invoiceStatus"] == "invoiced"
    again = await client.post(
        "/_sandbox/accounts/1/purchase-invoices", json={"purchase_id": uninvoiced["id"]}
    )
    assert again.status_code == 400


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    received: list[tuple[str, dict[str, Any]]] = []
    app = FastAPI()

    @app.post("/onport/{kind}")
    async def accept(kind: str, request: Request) -> Response:
        received.append((kind, await request.json()))
        return Response(status_code=202 if kind == "dropship" else 200)

    with serve_in_thread(app) as base_url:
        yield base_url, received


async def test_push_goes_to_the_url_for_the_purchase_type(
    client: httpx.AsyncClient, app: FastAPI, receiver: tuple[str, list[tuple[str, dict[str, Any]]]]
) -> None:
    base_url, received = receiver
    tables = app.state.sandbox.demo.data.tables
    by_type: dict[str, int] = {}
    for invoice in tables["purchase-invoices"].values():
        by_type.setdefault(tables["purchases"][invoice["purchaseId"]]["purchaseType"], invoice["id"])

    no_url = await client.post(f"/_sandbox/accounts/1/purchase-invoices/{by_type['dropship']}/push")
    assert no_url.status_code == 409

    await client.put(
        "/_sandbox/accounts/1/accounting-integration",
        json={
            "dropship_url": f"{base_url}/onport/dropship",
            "replenishment_url": f"{base_url}/onport/replenishment",
        },
    )
    results = {}
    for purchase_type, invoice_id in sorted(by_type.items()):
        results[purchase_type] = (
            await client.post(f"/_sandbox/accounts/1/purchase-invoices/{invoice_id}/push")
        ).json()
    assert results["dropship"]["status_code"] == 202
    assert results["automated_dropship"]["status_code"] == 202
    assert results["replenishment"]["status_code"] == 200
    assert results["automated_replenishment"]["status_code"] == 200
    kinds = {payload["id"]: kind for kind, payload in received}
    assert kinds[by_type["automated_replenishment"]] == "replenishment"
    assert kinds[by_type["automated_dropship"]] == "dropship"

    payload = next(p for _, p in received if p["id"] == by_type["dropship"])
    assert payload["reference"] == tables["purchase-invoices"][by_type["dropship"]]["reference"]
    assert payload["purchase"]["id"] == payload["purchaseId"]
    assert payload["dropshipProvider"]["id"] == payload["purchase"]["dropshipProviderId"]
    assert payload["purchaseInvoiceItems"]
    assert all(row["purchaseItem"]["id"] == row["purchaseItemId"] for row in payload["purchaseInvoiceItems"])

    pushed = (
        await client.post("/_sandbox/accounts/1/purchase-invoices", json={"count": 1, "push": True})
    ).json()
    assert [p["status_code"] for p in pushed["pushes"]] in (
        [200] * len(pushed["invoice_ids"]),
        [202] * len(pushed["invoice_ids"]),
    )
    history = (await client.get("/_sandbox/accounts/1/pushes")).json()
    assert len(history) == 4 + len(pushed["invoice_ids"])
