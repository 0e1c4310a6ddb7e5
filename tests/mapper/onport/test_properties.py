"""Property and sandbox tests: whatever the invoice, the bill comes to Onport's total, the Xero way.

Onport's figures are computed the sandbox's way (:mod:`ledgerbridge.sandbox.onport.amounts`: line
amount and tax rounded per line, shipping taxed at the purchase's combined rate); the bill is totalled
by ``xero_totals`` and every body is checked against Xero's official schema.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerbridge.bookkeeping.bills import BillSyncState, map_purchase_invoice
from ledgerbridge.bookkeeping.decisions import Publish
from ledgerbridge.bookkeeping.documents import DocumentKind, PublishedDocument, xero_totals
from ledgerbridge.sandbox.onport.amounts import InvoiceLine, invoice_amounts
from ledgerbridge.sandbox.onport.generator import OnportData
from tests.mapper.onport.builders import (
    MAPPINGS,
    OPTIONS,
    assert_valid,
    item,
    landed_cost,
    payload,
    sandbox_payload,
    shipping_rate,
)

RATES = ["0", "0.1", "0.2", "0.0825"]
XERO_RATES = {
    "INPUT": Decimal(10),
    "INPUT2": Decimal(20),
    "TAX001": Decimal("8.25"),
    "EXEMPTEXPENSES": Decimal(0),
}
ALL_TYPES = {
    "dropship": "310",
    "replenishment": "300",
    "automated_dropship": "310",
    "automated_replenishment": "300",
}
MAPPED = MAPPINGS.model_copy(
    update={
        "vendors": dict.fromkeys(range(1, 13), "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b"),
        "purchase_types": ALL_TYPES,
    }
)
PAY_ALL = OPTIONS.model_copy(update={"payout_accounts": {"AUD": "090", "USD": "091", "GBP": "092"}})


def _cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda cents: Decimal(cents).scaleb(-2))


@st.composite
def invoices(draw: st.DrawFn) -> tuple[dict[str, Any], Decimal, Decimal]:
    """A payload computed the sandbox's way, its total, and its adjustment."""
    included = draw(st.booleans())
    tax_shipping = draw(st.booleans())
    combined = Decimal(draw(st.sampled_from(RATES[1:])))
    rows = draw(
        st.lists(
            st.tuples(st.integers(1, 9), _cents(1, 90000), st.sampled_from(RATES)), min_size=1, max_size=6
        )
    )
    shipping = draw(_cents(0, 3000))
    landed = draw(_cents(0, 1500))
    adjustment = draw(_cents(-2000, 2000))
    lines = [InvoiceLine(quantity, price, Decimal(rate)) for quantity, price, rate in rows]
    amounts = invoice_amounts(
        lines,
        shipping=shipping,
        shipping_rate=combined,
        tax_shipping=tax_shipping,
        tax_included=included,
        adjustment=adjustment,
        landed_costs=landed,
    )
    record = payload(
        invoice={"adjustment": float(adjustment), "adjustmentReason": "Agreed"},
        shippingRates=[shipping_rate(1, float(shipping))] if shipping else [],
        landedCosts=[landed_cost(1, str(landed))] if landed else [],
        items=[
            item(index, f"Item {index}", quantity, float(price), rate)
            for index, (quantity, price, rate) in enumerate(rows)
        ],
        purchase={"taxIncluded": included, "taxShipping": tax_shipping, "combinedTaxRate": float(combined)},
        payments=[{"id": 1, "amount": float(amounts.total), "paidAt": "2025-02-01T00:00:00Z"}]
        if amounts.total > 0
        else [],
    )
    return record, amounts.total, adjustment


@given(invoices(), st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_bill_total_is_the_onport_total(
    generated: tuple[dict[str, Any], Decimal, Decimal], sync: bool
) -> None:
    record, total, adjustment = generated
    options = OPTIONS.model_copy(update={"sync_adjustments": sync})
    decision = map_purchase_invoice(record, mappings=MAPPINGS, options=options)
    assert isinstance(decision, Publish), decision
    assert_valid(decision.documents)
    bill = decision.documents[0]
    assert bill.kind is DocumentKind.bill
    owed = total if sync else total - adjustment
    assert xero_totals(bill.body, XERO_RATES).total == owed
    paid = sum(
        (d.body["Amount"] for d in decision.documents if d.kind is DocumentKind.bill_payment), Decimal(0)
    )
    assert paid == (min(total, owed) if total > 0 else 0)


def _sandbox() -> OnportData:
    data = OnportData(7, "2025-01-01T00:00:00Z")
    data.seed(40)
    return data


def test_sandbox_invoices_map_to_bills_of_their_total() -> None:
    data = _sandbox()
    options = PAY_ALL.model_copy(update={"sync_adjustments": True})
    invoices = data.tables["purchase-invoices"]
    assert len(invoices) > 20
    references = set()
    for invoice_id, invoice in invoices.items():
        decision = map_purchase_invoice(sandbox_payload(data, invoice_id), mappings=MAPPED, options=options)
        assert isinstance(decision, Publish), decision
        assert_valid(decision.documents)
        bill = decision.documents[0].body
        references.add(bill["InvoiceNumber"])
        # Onport serves no total: the sandbox's own figure is what the lines must come to.
        assert xero_totals(bill, XERO_RATES).total == data.amounts[invoice_id].total
        assert bill["CurrencyCode"] == data.purchase_currency[invoice["purchaseId"]]
        paid = sum((d.body["Amount"] for d in decision.documents[1:]), Decimal(0))
        assert paid == Decimal(str(invoice["paid"]))
        shipping = [line for line in bill["LineItems"] if line["AccountCode"] == "425"]
        assert sum((line["UnitAmount"] for line in shipping), Decimal(0)) == data.shipping_of(invoice_id)
        landed = [line for line in bill["LineItems"] if line["Description"].startswith("Landed cost")]
        assert sum((line["UnitAmount"] for line in landed), Decimal(0)) == data.landed_costs_of(invoice_id)
    assert len(references) == len(invoices)
    assert any(data.landed_costs_of(i) for i in invoices) and any(data.shipping_of(i) for i in invoices)


def test_sandbox_negative_adjustment_after_sync_is_credited() -> None:
    data = _sandbox()
    options = PAY_ALL.model_copy(update={"sync_adjustments": True})
    invoice_id = next(
        i for i, invoice in data.tables["purchase-invoices"].items() if not invoice["adjustment"]
    )
    first = map_purchase_invoice(sandbox_payload(data, invoice_id), mappings=MAPPED, options=options)
    assert isinstance(first, Publish)
    bill = first.documents[0]
    amount = xero_totals(bill.body, XERO_RATES).total
    state = BillSyncState(
        bill=PublishedDocument(xero_id="b1", number=bill.body["InvoiceNumber"], amount=amount, body=bill.body)
    )
    data.adjust(invoice_id, Decimal("-5.00"), "Late shipment penalty")
    later = map_purchase_invoice(
        sandbox_payload(data, invoice_id), mappings=MAPPED, options=options, state=state
    )
    assert isinstance(later, Publish)
    notes = [d for d in later.documents if d.kind is DocumentKind.supplier_credit_note]
    assert [xero_totals(n.body, XERO_RATES).total for n in notes] == [Decimal("5.00")]
    assert_valid(later.documents)
