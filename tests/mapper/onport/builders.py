"""Builders for the Onport → Xero bill tests: a stored purchase-invoice payload and the tenant's set-up."""

from __future__ import annotations

from typing import Any

from ledgerbridge.bookkeeping.bills import BillMappings, BillOptions, TaxMappings
from ledgerbridge.bookkeeping.documents import XeroDocument
from ledgerbridge.sandbox.onport.generator import OnportData
from ledgerbridge.sandbox.xero.openapi import schema_errors

SUPPLIER_ID = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b"
MAPPINGS = BillMappings(
    vendors={12: SUPPLIER_ID},
    purchase_types={"dropship": "310", "replenishment": "300", "automated_dropship": "310"},
    taxes=TaxMappings(
        rates={"0.1": "INPUT", "0.2": "INPUT2", "0.0825": "TAX001"},
        tax_free_code="EXEMPTEXPENSES",
    ),
)
OPTIONS = BillOptions(shipping_account="425", adjustment_account="429", payout_accounts={"AUD": "090"})
SCHEMAS = {
    "contact": "Contacts",
    "bill": "Invoices",
    "bill_payment": "Payments",
    "supplier_credit_note": "CreditNotes",
    "payment_delete": "Payments",
    "credit_allocation": "Allocations",
}


def item(item_id: int, name: str, quantity: Any, price: Any, rate: Any = 0.1, **extra: Any) -> dict[str, Any]:
    """A purchase-invoice item with its purchase item embedded (the sandbox's push shape)."""
    purchase_item = {
        "id": 100 + item_id,
        "purchaseId": 1001,
        "name": name,
        "quantity": extra.pop("item_quantity", quantity),
        "price": price,
        "taxRate": rate,
        "taxable": rate not in (0, "0"),
        "exchangeIso": extra.pop("currency", "AUD"),
        **extra,
    }
    return {
        "id": item_id,
        "purchaseItemId": 100 + item_id,
        "quantity": quantity,
        "purchaseItem": purchase_item,
    }


def payload(**overrides: Any) -> dict[str, Any]:
    """Dropship invoice INV-5001 for vendor 12: 2 x 10.00 + 1 x 5.50 at 10 %, shipping 7.50 taxed.

    Lines 20.00 (tax 2.00) and 5.50 (0.55); shipping 7.50 (0.75): subtotal 25.50, tax 3.30, total 36.30.
    """
    record: dict[str, Any] = {
        "invoice": {
            "id": 5001,
            "purchaseId": 1001,
            "reference": "INV-5001",
            "adjustment": 0.0,
            "adjustmentReason": None,
            "paymentStatus": "notPaid",
            "finalized": True,
            "createdAt": "2025-01-01T19:00:00.000Z",
        },
        "items": [item(1, "Soy Candle 200g", 2, 10.0), item(2, "Tea Towel", "1", "5.50")],
        "purchase": {
            "id": 1001,
            "purchaseType": "dropship",
            "dropshipProviderId": 12,
            "taxIncluded": False,
            "taxShipping": True,
            "combinedTaxRate": 0.1,
        },
        "vendor": {"id": 12, "name": "Acme Supplies", "email": "ap@acme.example", "paymentDays": 14},
        "payments": [],
        "shippingRates": [shipping_rate(1, 7.5)],
        "landedCosts": [],
        "landedCostItems": [],
    }
    for part, fields in overrides.items():
        if isinstance(fields, dict):
            record[part] = {**record[part], **fields}
        else:
            record[part] = fields
    return record


def shipping_rate(rate_id: int, price: Any, kind: str = "addition", **extra: Any) -> dict[str, Any]:
    """An invoiced ``/purchase-shipping-rates`` row of INV-5001."""
    return {
        "id": rate_id,
        "purchaseId": 1001,
        "purchaseInvoiceId": 5001,
        "ratePurpose": "invoice",
        "invoiceShipping": True,
        "invoiceShippingType": kind,
        "price": price,
        **extra,
    }


def landed_cost(row_id: int, amount: Any, name: str = "Import duty", **extra: Any) -> dict[str, Any]:
    """A ``/landed-cost-purchase-invoices`` row of INV-5001 with its landed cost embedded."""
    return {
        "id": row_id,
        "purchaseInvoiceId": 5001,
        "landedCostId": 1,
        "amount": amount,
        "landedCost": {"id": 1, "name": name, "type": "purchase"},
        **extra,
    }


def payout(payment_id: int, amount: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": payment_id,
        "purchaseInvoiceId": 5001,
        "type": "payment",
        "status": "active",
        "amount": amount,
        "paidAt": "2025-01-10T03:00:00.000Z",
        "reference": f"PAYOUT-{payment_id:05d}",
        **extra,
    }


def sandbox_payload(data: OnportData, invoice_id: int) -> dict[str, Any]:
    """The stored payload for one of the sandbox's invoices, built from its tables."""
    embedded = data.embedded_invoice(invoice_id)
    invoice = {
        key: value
        for key, value in embedded.items()
        if key not in ("purchaseInvoiceItems", "purchase", "dropshipProvider")
    }

    def of_invoice(resource: str) -> list[dict[str, Any]]:
        return [r for r in data.tables[resource].values() if r.get("purchaseInvoiceId") == invoice_id]

    landed = [
        {**row, "landedCost": data.tables["landed-costs"][row["landedCostId"]]}
        for row in of_invoice("landed-cost-purchase-invoices")
    ]
    return {
        "invoice": invoice,
        "items": embedded["purchaseInvoiceItems"],
        "purchase": embedded["purchase"],
        "vendor": embedded["dropshipProvider"],
        "payments": of_invoice("purchase-invoice-payments"),
        "shippingRates": of_invoice("purchase-shipping-rates"),
        "landedCosts": landed,
        "landedCostItems": [],
    }


def assert_valid(documents: tuple[XeroDocument, ...]) -> None:
    for document in documents:
        schema = SCHEMAS[document.kind.value]
        assert schema_errors(schema, {schema: [document.json_body()]}) == [], document.body
