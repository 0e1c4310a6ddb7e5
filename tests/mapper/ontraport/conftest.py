"""Shared builders for the ONTRAPORT → Xero mapping tests (the SPEC §4 worked example's set-up)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from ledgerbridge.bookkeeping.decisions import Fail, Publish
from ledgerbridge.bookkeeping.documents import XeroDocument
from ledgerbridge.bookkeeping.sales import (
    Contact,
    GatewayMapping,
    Mappings,
    MappingSettings,
    ProductMapping,
    map_transaction,
)
from ledgerbridge.sandbox.xero.openapi import schema_errors

STRIPE_AUD_THEME = "5b9f0a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
PAYPAL_USD_THEME = "7c8d9e0f-1a2b-4c3d-9e4f-5a6b7c8d9e0f"

RecordFactory = Callable[..., dict[str, Any]]
Publisher = Callable[..., Publish]
Failer = Callable[..., str]


def _worked_offer() -> dict[str, Any]:
    """SPEC §4 worked example: Pro Course 200, 2 x Workbook 25, SPRING20 -40, Standard shipping 10, GST 10%."""
    return {
        "products": [
            {
                "id": 1,
                "name": "Pro Course",
                "quantity": 1,
                "price": "200.00",
                "taxable": 1,
                "total": "200.00",
            },
            {"id": 9, "name": "Workbook", "quantity": 2, "price": "25.00", "taxable": 1, "total": "50.00"},
        ],
        "taxes": [{"id": 4, "name": "GST", "rate": "10", "taxShipping": 1, "taxTotal": "22.00"}],
        "shipping": {"id": 2, "name": "Standard", "price": "10.00"},
        "coupon": {"id": 7, "code": "SPRING20", "discount": "40.00"},
    }


def _record(offer: dict[str, Any] | str, **fields: Any) -> dict[str, Any]:
    """A raw ONTRAPORT transaction as the API returns it (numbers as strings)."""
    base: dict[str, Any] = {
        "id": "1001",
        "contact_id": "55",
        "contact_name": "Jane Smith",
        "date": "1717200000",  # 2024-06-01 00:00 UTC = 2024-06-01 10:00 in Sydney
        "status": "1",
        "subtotal": "250.00",
        "tax": "22.00",
        "shipping": "10.00",
        "total": "242.00",
        "gateway_id": "3",
        "invoice_id": "77",
        "order_id": "0",
        "external_order_id": "",
        "offer_data": offer if isinstance(offer, str) else json.dumps(offer),
    }
    base.update({key: str(value) for key, value in fields.items()})
    return base


@pytest.fixture
def offer() -> dict[str, Any]:
    """A fresh copy of the worked example's offer_data, to modify."""
    return _worked_offer()


@pytest.fixture
def make_record() -> RecordFactory:
    """``make_record(offer, **fields)``: a raw transaction (worked example figures unless overridden)."""
    return _record


@pytest.fixture
def worked_record() -> dict[str, Any]:
    return _record(_worked_offer())


@pytest.fixture
def contact() -> Contact:
    return Contact(id=55, first_name="Jane", last_name="Smith", email="jane@example.com.au", country="AU")


@pytest.fixture
def mappings() -> Mappings:
    return Mappings(
        products={
            1: ProductMapping(account_code="200"),
            9: ProductMapping(account_code="210", item_code="WB"),
        },
        coupons={"SPRING20": "455"},
        taxes={4: "OUTPUT"},
        shipping={2: "260"},
        gateways={
            3: GatewayMapping(
                currency_code="AUD", branding_theme_id=STRIPE_AUD_THEME, payment_account_code="610"
            ),
            5: GatewayMapping(
                currency_code="USD", branding_theme_id=PAYPAL_USD_THEME, payment_account_code="615"
            ),
        },
    )


@pytest.fixture
def settings() -> MappingSettings:
    return MappingSettings(
        default_sales_account="200",
        default_coupon_account="450",
        default_shipping_account="260",
        tax_free_code="EXEMPTOUTPUT",
        time_zone="Australia/Sydney",
    )


_SCHEMAS = {
    "invoice": ("Invoices", "Invoices"),
    "invoice_void": ("Invoices", "Invoices"),
    "payment": ("Payments", "Payments"),
    "refund_payment": ("Payments", "Payments"),
    "payment_delete": ("Payments", "Payments"),
    "credit_note": ("CreditNotes", "CreditNotes"),
    "contact": ("Contacts", "Contacts"),
}


def _assert_valid_for_xero(document: XeroDocument) -> None:
    """The body validates against the official Xero schema and survives a JSON round trip."""
    schema, key = _SCHEMAS[document.kind.value]
    body = document.json_body()
    assert json.loads(json.dumps(body)) == body
    assert schema_errors(schema, {key: [body]}) == []


@pytest.fixture
def publish() -> Publisher:
    """``publish(raw, mappings, settings, **kwargs)``: map, expect Publish, validate every body for Xero."""

    def run(raw: dict[str, Any], mappings: Mappings, settings: MappingSettings, **kwargs: Any) -> Publish:
        decision = map_transaction(
            raw, contact=kwargs.pop("contact", None), mappings=mappings, settings=settings, **kwargs
        )
        assert isinstance(decision, Publish), decision
        for document in decision.documents:
            _assert_valid_for_xero(document)
        return decision

    return run


@pytest.fixture
def fail() -> Failer:
    """``fail(raw, mappings, settings, **kwargs)``: map, expect Fail, return its reason."""

    def run(raw: dict[str, Any], mappings: Mappings, settings: MappingSettings, **kwargs: Any) -> str:
        decision = map_transaction(
            raw, contact=kwargs.pop("contact", None), mappings=mappings, settings=settings, **kwargs
        )
        assert isinstance(decision, Fail), decision
        return decision.reason

    return run
