"""Generated ONTRAPORT data: determinism, coverage of statuses and key variants, and exact amounts.

The amount check re-derives every figure from ``offer_data`` alone, reading any key variant, by the
rules documented in ``ledgerbridge.sandbox.ontraport.amounts``.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.ontraport.state import OntraportState


def r2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def truthy(value: Any) -> bool:
    return value in (True, "1", "true", 1)


def check_amounts(record: dict[str, str], purchases: list[dict[str, str]] | None = None) -> None:
    """The record adds up; a coupon only in its purchases (``purchases``, when given) counts too."""
    offer = json.loads(record["offer_data"])
    products = offer["products"]
    subtotal = Decimal(0)
    for product in products:
        line = Decimal(product["quantity"]) * Decimal(product["price"])
        assert Decimal(product["total"]) == line
        subtotal += line
    discount = Decimal(0)
    discount_taxable = False
    coupon = offer.get("coupon")
    if coupon:
        targeted = [
            p for p in products if coupon["product_selection"] == "all" or p["id"] in coupon["products"]
        ]
        base = sum((Decimal(p["total"]) for p in targeted), Decimal(0))
        if coupon["type"] == "percent":
            expected_discount = r2(base * Decimal(coupon["value"]) / 100)
        else:
            expected_discount = min(Decimal(coupon["value"]), base)
        discount = Decimal(coupon["discount"])
        assert discount == expected_discount
        flags = {truthy(p.get("taxable", p.get("tax"))) for p in targeted}
        assert len(flags) == 1
        discount_taxable = flags.pop()
    elif purchases:
        discounted = [p for p in purchases if Decimal(p["discount"])]
        discount = sum((Decimal(p["discount"]) for p in discounted), Decimal(0))
        by_id = {p["id"]: p for p in products}
        flags = {
            truthy(by_id[p["product_id"]].get("taxable", by_id[p["product_id"]].get("tax")))
            for p in discounted
        }
        assert len(flags) <= 1
        discount_taxable = bool(flags) and flags.pop()
        for purchase in purchases:
            line = Decimal(purchase["quantity"]) * Decimal(purchase["price"])
            assert Decimal(purchase["total_price"]) == line - Decimal(purchase["discount"])
    shipping_entry = offer.get("shipping")
    if isinstance(shipping_entry, list):
        shipping_entry = shipping_entry[0] if shipping_entry else None
    shipping = Decimal(shipping_entry["price"]) if shipping_entry else Decimal(0)
    taxable = sum(
        (Decimal(p["total"]) for p in products if truthy(p.get("taxable", p.get("tax")))), Decimal(0)
    ) - (discount if discount_taxable else Decimal(0))
    tax = Decimal(0)
    assert len(offer["taxes"]) <= 1
    for entry in offer["taxes"]:
        taxes_shipping = truthy(entry.get("taxShipping", entry.get("tax_shipping")))
        tax = r2((taxable + (shipping if taxes_shipping else 0)) * Decimal(entry["rate"]) / 100)
        assert Decimal(entry["taxTotal"]) == tax
    charged = subtotal - discount + shipping + tax
    assert Decimal(record["subtotal"]) == subtotal
    assert Decimal(record["shipping"]) == shipping
    assert Decimal(record["tax"]) == tax
    assert Decimal(offer["grandTotal"]) == charged
    if record["status"] == "3":
        assert Decimal(0) < Decimal(record["total"]) < charged
    else:
        assert Decimal(record["total"]) == charged


def variants(record: dict[str, str]) -> set[str]:
    offer = json.loads(record["offer_data"])
    found = set()
    for product in offer["products"]:
        found |= {key for key in ("taxable", "tax") if key in product}
    for tax in offer["taxes"]:
        found |= {key for key in ("taxShipping", "tax_shipping") if key in tax}
    if "shipping" in offer:
        found.add("shipping:list" if isinstance(offer["shipping"], list) else "shipping:object")
    return found


ALL_VARIANTS = {"taxable", "tax", "taxShipping", "tax_shipping", "shipping:list", "shipping:object"}


@pytest.mark.parametrize("seed", [1, 2, 3, 42, 1234])
def test_every_generated_transaction_adds_up(seed: int) -> None:
    state = OntraportState(OntraportSandboxConfig(seed=seed, transactions=300), clock=lambda: 0.0)
    records = list(state.demo.transactions.values())
    assert len(records) == 302
    purchases: dict[str, list[dict[str, str]]] = {}
    for purchase in state.demo.objects(17):
        purchases.setdefault(purchase["invoice_id"], []).append(purchase)
    for record in records:
        check_amounts(record, purchases[record["id"]])
    hidden = [r for r in records if "coupon" not in json.loads(r["offer_data"])]
    assert any(Decimal(p["discount"]) for r in hidden for p in purchases[r["id"]])


def test_same_seed_same_data_different_seed_different_data() -> None:
    one = OntraportState(OntraportSandboxConfig(seed=5, transactions=50), clock=lambda: 0.0).demo
    two = OntraportState(OntraportSandboxConfig(seed=5, transactions=50), clock=lambda: 0.0).demo
    other = OntraportState(OntraportSandboxConfig(seed=6, transactions=50), clock=lambda: 0.0).demo
    assert one.transactions == two.transactions
    assert one.contacts == two.contacts
    assert one.transactions != other.transactions


@pytest.mark.parametrize("count", [8, 150])
def test_every_status_and_every_offer_key_variant_is_present(count: int) -> None:
    demo = OntraportState(OntraportSandboxConfig(seed=11, transactions=count), clock=lambda: 0.0).demo
    records = list(demo.transactions.values())
    assert {r["status"] for r in records} == {str(s) for s in range(8)}
    assert set().union(*(variants(r) for r in records)) == ALL_VARIANTS
    if count > 8:
        statuses = [r["status"] for r in records]
        assert statuses.count("1") > len(records) / 2
        assert any(int(json.loads(r["offer_data"])["products"][0]["quantity"]) > 1 for r in records)
        assert any("coupon" in json.loads(r["offer_data"]) for r in records)
        assert len({r["gateway_id"] for r in records}) == 3


def test_worked_example_1001() -> None:
    record = OntraportState(OntraportSandboxConfig(transactions=0), clock=lambda: 0.0).demo.transactions[1001]
    assert (record["subtotal"], record["tax"], record["shipping"], record["total"]) == (
        "250.00",
        "22.00",
        "10.00",
        "242.00",
    )
    assert record["gateway_id"] == "3"
    offer = json.loads(record["offer_data"])
    assert [(p["name"], p["quantity"], p["price"]) for p in offer["products"]] == [
        ("Pro Course", "1", "200.00"),
        ("Workbook", "2", "25.00"),
    ]
    assert offer["coupon"]["code"] == "SPRING20"
    assert offer["coupon"]["discount"] == "40.00"
    assert offer["taxes"][0]["rate"] == "10"
    assert offer["taxes"][0]["taxShipping"] is True
    assert offer["shipping"] == {"id": "1", "name": "Standard", "price": "10.00"}
    check_amounts(record)


def test_rounding_example_1002() -> None:
    record = OntraportState(OntraportSandboxConfig(transactions=0), clock=lambda: 0.0).demo.transactions[1002]
    offer = json.loads(record["offer_data"])
    assert [p["price"] for p in offer["products"]] == ["1.05"] * 3
    assert (record["subtotal"], record["tax"], record["total"]) == ("3.15", "0.32", "3.47")
    check_amounts(record)


async def test_explicit_and_raw_transactions(client: httpx.AsyncClient) -> None:
    body = {
        "records": [
            {
                "products": [
                    {"product_id": 9, "quantity": 3},
                    {"name": "Custom", "price": "9.99", "taxable": False},
                    {"product_id": 10, "quantity": 2},
                ],
                "tax_id": 3,
                "shipping_id": 2,
                "coupon_code": "MUG5",
                "status": 1,
                "variant": {"taxable_key": "tax", "shipping_as_list": True},
            }
        ],
        "raw": [{"status": 1, "total": "5.00", "offer_data": "not json"}],
    }
    response = await client.post("/_sandbox/accounts/100001/transactions", json=body)
    assert response.status_code == 200, response.text
    explicit_id, raw_id = response.json()["ids"]
    explicit = (await client.get("/Transaction", params={"id": explicit_id})).json()["data"]
    check_amounts(explicit)
    assert variants(explicit) >= {"tax", "shipping:list"}
    raw = (await client.get("/Transaction", params={"id": raw_id})).json()["data"]
    assert raw["offer_data"] == "not json"
    assert json.loads(explicit["offer_data"])["coupon"]["discount"] == "5.00"
    bad = await client.post("/_sandbox/accounts/100001/transactions", json={"records": [{"products": []}]})
    assert bad.status_code == 400
    # A whole-order coupon over taxable and untaxed lines has no single tax treatment: refused.
    mixed = {"products": [{"product_id": 9}, {"product_id": 8}], "coupon_code": "TENOFF"}
    refused = await client.post("/_sandbox/accounts/100001/transactions", json={"records": [mixed]})
    assert refused.status_code == 400


async def test_status_changes_refund_partial_refund_void(client: httpx.AsyncClient, app: FastAPI) -> None:
    base = "/_sandbox/accounts/100001/transactions/1001/status"
    partial = await client.post(base, json={"status": 3, "refunded": "50.00"})
    assert partial.status_code == 200
    record = partial.json()["transaction"]
    assert (record["status"], record["total"], record["subtotal"]) == ("3", "192.00", "250.00")
    assert json.loads(record["offer_data"])["grandTotal"] == "242.00"
    again = (await client.post(base, json={"status": 3, "refunded": "2.00"})).json()["transaction"]
    assert again["total"] == "190.00"
    too_much = await client.post(base, json={"status": 3, "refunded": "500.00"})
    assert too_much.status_code == 400
    refunded = (await client.post(base, json={"status": 2})).json()["transaction"]
    assert (refunded["status"], refunded["total"]) == ("2", "242.00")
    voided = (
        await client.post("/_sandbox/accounts/100001/transactions/1002/status", json={"status": 4})
    ).json()
    assert voided["transaction"]["status"] == "4"
    seen = (await client.get("/Transactions", params={"condition": "status IN (2,4)", "range": 50})).json()[
        "data"
    ]
    assert {"1001", "1002"} <= {r["id"] for r in seen}
    missing = await client.post("/_sandbox/accounts/100001/transactions/99999/status", json={"status": 2})
    assert missing.status_code == 404
    assert app.state.sandbox.demo.counter.calls == 1  # control routes are not counted
