"""Every object the ONTRAPORT sandbox serves carries only fields ONTRAPORT documents (issue 15, point 15):
the field lists of ``../shared/specs/ontraport/fields.json`` (a public client mirroring the docs) plus
the ``id`` every object has. Contacts and gateways have no list there and are not checked."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from typing import Any

import httpx
import pytest

from ledgerbridge.sandbox.specs import ontraport_fields_path

LISTS = {
    16: "product_object_16",
    17: "purchase_object_17",
    46: "transaction_object_46",
    63: "tax_object_63",
    64: "shipping_method_object_64",
    65: "offer_object_65",
    123: "coupon_object_123",
    124: "coupon_code_object_124",
    125: "coupon_product_object_125",
}


@cache
def documented(object_id: int) -> frozenset[str]:
    lists = json.loads(ontraport_fields_path().read_text())
    return frozenset({"id", *(entry["field"] for entry in lists[LISTS[object_id]])})


async def served(client: httpx.AsyncClient, object_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        params: dict[str, str | int] = {"objectID": object_id, "start": len(found), "range": 50}
        response = await client.get("/objects", params=params)
        if response.status_code == 400 and not found:
            return []  # an object type this sandbox does not serve
        page = response.json()["data"]
        found.extend(page)
        if len(page) < 50:
            return found


def undocumented(object_id: int, records: list[dict[str, Any]]) -> set[str]:
    return {name for record in records for name in record} - documented(object_id)


@pytest.mark.parametrize("object_id", sorted(LISTS))
async def test_objects_carry_only_documented_fields(client: httpx.AsyncClient, object_id: int) -> None:
    records = await served(client, object_id)
    assert undocumented(object_id, records) == set()


async def test_purchases_are_served_and_carry_coupons_in_both_shapes(client: httpx.AsyncClient) -> None:
    """Every transaction made from products has its Purchase objects (17), one per product line, tied by
    ``invoice_id``; some coupons show in offer_data, some only in the purchases (SPEC §4 item 12)."""
    purchases = await served(client, 17)
    assert purchases and undocumented(17, purchases) == set()
    transactions = (await client.get("/Transactions", params={"range": 50})).json()["data"]
    by_invoice: dict[str, list[dict[str, Any]]] = {}
    for purchase in purchases:
        by_invoice.setdefault(purchase["invoice_id"], []).append(purchase)
    shapes = set()
    for transaction in transactions:
        offer = json.loads(transaction["offer_data"])
        mine = by_invoice[transaction["id"]]
        assert sorted(p["product_id"] for p in mine) == sorted(str(p["id"]) for p in offer["products"])
        discount = sum(Decimal(p["discount"]) for p in mine)
        if discount:
            shapes.add("offer_data" if "coupon" in offer else "purchases")
            if "coupon" in offer:
                assert Decimal(offer["coupon"]["discount"]) == discount
    assert shapes == {"offer_data", "purchases"}


async def test_transactions_carry_no_invoice_id(client: httpx.AsyncClient) -> None:
    # The invoice number is the transaction's id (SPEC §4 item 3); ONTRAPORT documents no invoice_id.
    listed = (await client.get("/Transactions", params={"range": 50})).json()["data"]
    one = (await client.get("/Transaction", params={"id": listed[0]["id"]})).json()["data"]
    assert listed and undocumented(46, [*listed, one]) == set()
    assert all("invoice_id" not in record for record in [*listed, one])
