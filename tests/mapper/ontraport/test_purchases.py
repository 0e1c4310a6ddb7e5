"""Coupons read from the transaction's Purchase objects when offer_data has no coupon block (SPEC §4
item 12, issue 15 point 3)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.bookkeeping.decisions import Fail, Publish
from ledgerbridge.bookkeeping.documents import DocumentKind, xero_totals
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.bookkeeping.sales import (
    GatewayMapping,
    Mappings,
    MappingSettings,
    map_transaction,
    needs_purchases,
)
from ledgerbridge.bookkeeping.sales.summary import SummaryEntry, summary_entry
from tests.mapper.ontraport.conftest import Publisher, RecordFactory

GST = {"OUTPUT": Decimal("10"), "EXEMPTOUTPUT": Decimal("0")}


def _purchase(product_id: int, discount: str, **fields: str) -> dict[str, str]:
    """A Purchase (object 17) of transaction 1001 as ONTRAPORT serves it: every value a string."""
    base = {
        "id": str(9000 + product_id),
        "invoice_id": "1001",
        "product_id": str(product_id),
        "coupon_id": "7" if discount != "0.00" else "0",
        "coupon_code_id": "3" if discount != "0.00" else "0",
        "coupon_code": "SPRING20" if discount != "0.00" else "",
        "coupon_name": "Spring sale" if discount != "0.00" else "",
        "discount": discount,
        "status": "1",
    }
    return {**base, **fields}


WORKED_PURCHASES = [_purchase(1, "40.00"), _purchase(9, "0.00")]


def _lines(body: dict[str, Any]) -> list[tuple[str, Decimal, str, str | None]]:
    return [
        (line["Description"], line["UnitAmount"], line["AccountCode"], line.get("TaxType"))
        for line in body["LineItems"]
    ]


def test_the_coupon_comes_from_the_purchases_when_offer_data_has_none(
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    offer: dict[str, Any],
    make_record: RecordFactory,
) -> None:
    del offer["coupon"]
    raw = make_record(offer)
    assert needs_purchases(raw)
    decision = publish(raw, mappings, settings, purchases=WORKED_PURCHASES)
    invoice = next(doc for doc in decision.documents if doc.kind is DocumentKind.invoice)
    assert _lines(invoice.body) == [
        ("Pro Course", Decimal("200.00"), "200", "OUTPUT"),
        ("Workbook", Decimal("25.00"), "210", "OUTPUT"),
        ("Coupon SPRING20", Decimal("-40.00"), "455", "OUTPUT"),  # mapped by the purchases' code
        ("Shipping: Standard", Decimal("10.00"), "260", "OUTPUT"),
    ]
    assert xero_totals(invoice.body, GST).total == Decimal("242.00")
    payment = next(doc for doc in decision.documents if doc.kind is DocumentKind.payment)
    assert payment.body["Amount"] == Decimal("242.00")


def test_each_product_keeps_the_discount_its_purchase_names(
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    offer: dict[str, Any],
    make_record: RecordFactory,
) -> None:
    # The Workbook is untaxed and got nothing off: all 40.00 comes off the taxed Pro Course, so the
    # coupon line is wholly taxed (a split in proportion would have put 8.00 on the untaxed side).
    del offer["coupon"]
    offer["products"][1]["taxable"] = 0
    raw = make_record(offer, tax="17.00", total="237.00")
    invoice = next(
        doc
        for doc in publish(raw, mappings, settings, purchases=WORKED_PURCHASES).documents
        if doc.kind is DocumentKind.invoice
    )
    coupons = [line for line in _lines(invoice.body) if line[0].startswith("Coupon")]
    assert coupons == [("Coupon SPRING20", Decimal("-40.00"), "455", "OUTPUT")]
    assert xero_totals(invoice.body, GST).total == Decimal("237.00")


def test_offer_data_coupon_wins_and_needs_no_purchases(
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    worked_record: dict[str, Any],
) -> None:
    assert not needs_purchases(worked_record)
    other = [_purchase(1, "40.00", coupon_code="OTHER", coupon_id="99"), _purchase(9, "0.00")]
    invoice = next(
        doc
        for doc in publish(worked_record, mappings, settings, purchases=other).documents
        if doc.kind is DocumentKind.invoice
    )
    assert ("Coupon SPRING20", Decimal("-40.00"), "455", "OUTPUT") in _lines(invoice.body)


def test_no_coupon_anywhere_fails_with_both_figures(
    mappings: Mappings, settings: MappingSettings, offer: dict[str, Any], make_record: RecordFactory
) -> None:
    del offer["coupon"]
    raw = make_record(offer)
    for purchases in (None, [], [_purchase(1, "0.00"), _purchase(9, "0.00")]):
        decision = map_transaction(
            raw, contact=None, mappings=mappings, settings=settings, purchases=purchases
        )
        assert isinstance(decision, Fail)
        assert decision.code is ReasonCode.source_figures
        assert "282.00" in decision.reason and "242.00" in decision.reason
        assert "neither its offer_data nor its purchases name a coupon" in decision.reason


def test_unreadable_or_ambiguous_purchases_fail_clearly(
    mappings: Mappings, settings: MappingSettings, offer: dict[str, Any], make_record: RecordFactory
) -> None:
    del offer["coupon"]
    raw = make_record(offer)
    cases = {
        "'discount' is not a number": [_purchase(1, "forty")],
        "several coupons": [
            _purchase(1, "30.00"),
            _purchase(9, "10.00", coupon_id="8", coupon_code="TENOFF"),
        ],
        "more than the 0.00 of products it applies to": [_purchase(5, "40.00")],
    }
    for expected, purchases in cases.items():
        decision = map_transaction(
            raw, contact=None, mappings=mappings, settings=settings, purchases=purchases
        )
        assert isinstance(decision, Fail), expected
        assert expected in decision.reason, decision.reason


def test_refunded_before_sync_books_the_discounted_charge_and_its_credit(
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    offer: dict[str, Any],
    make_record: RecordFactory,
) -> None:
    del offer["coupon"]
    raw = make_record(offer, status="2")
    decision = publish(raw, mappings, settings, purchases=WORKED_PURCHASES)
    amounts = {doc.kind: doc.body.get("Amount") for doc in decision.documents}
    assert amounts[DocumentKind.payment] == Decimal("242.00")
    assert amounts[DocumentKind.refund_payment] == Decimal("242.00")


def test_which_transactions_need_their_purchases_read(
    offer: dict[str, Any], make_record: RecordFactory
) -> None:
    del offer["coupon"]
    no_gap = make_record(offer, subtotal="250.00", tax="26.00", total="286.00")
    assert not needs_purchases(no_gap)  # the parts add up: no discount to explain, no call
    assert needs_purchases(make_record(offer))
    assert needs_purchases(make_record(offer, status="3", total="200.00"))  # charged at a discount
    for status in ("4", "5", "6", "7"):  # void, declined, written off, pending: never invoiced
        assert not needs_purchases(make_record(offer, status=status))
    assert not needs_purchases(make_record("not json"))


PROPERTY = settings(max_examples=150, deadline=None, derandomize=True)


@dataclass(frozen=True)
class Sale:
    products: list[tuple[int, Decimal, bool, Fraction]]  # quantity, price, taxable, share taken off
    rate: Decimal | None
    tax_shipping: bool
    shipping: Decimal


sales = st.builds(
    Sale,
    products=st.lists(
        st.tuples(
            st.integers(1, 5),
            st.integers(0, 50000).map(lambda cents: Decimal(cents).scaleb(-2)),
            st.booleans(),
            st.fractions(0, 1, max_denominator=20),
        ),
        min_size=1,
        max_size=5,
    ),
    rate=st.none() | st.sampled_from([Decimal("5"), Decimal("10"), Decimal("8.25"), Decimal("20")]),
    tax_shipping=st.booleans(),
    shipping=st.integers(0, 3000).map(lambda cents: Decimal(cents).scaleb(-2)),
)


def _cents(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@PROPERTY
@given(sales)
def test_a_coupon_only_in_the_purchases_books_exactly_what_was_charged(sale: Sale) -> None:
    """Whatever the products, their discounts, tax and shipping: with the coupon read from the purchases,
    Xero's total and tax are ONTRAPORT's, and purchases are asked for exactly when money was taken off."""
    lines = [quantity * price for quantity, price, _, _ in sale.products]
    discounts = [
        _cents(Fraction(line) * share) for line, (*_, share) in zip(lines, sale.products, strict=True)
    ]
    taxable = sum(
        (
            line - off
            for line, off, (_, _, taxed, _) in zip(lines, discounts, sale.products, strict=True)
            if taxed
        ),
        Decimal(0),
    )
    offer: dict[str, Any] = {
        "products": [
            {"id": 100 + n, "name": f"Product {n}", "quantity": q, "price": str(p), "taxable": int(t)}
            for n, (q, p, t, _) in enumerate(sale.products)
        ],
        "shipping": {"id": 2, "name": "Standard", "price": str(sale.shipping)} if sale.shipping else [],
    }
    tax = Decimal("0.00")
    if sale.rate is not None:
        base = taxable + (sale.shipping if sale.tax_shipping else 0)
        tax = _cents(Fraction(base) * Fraction(sale.rate) / 100)
        offer["taxes"] = [{"id": 4, "name": "Tax", "rate": str(sale.rate), "taxShipping": sale.tax_shipping}]
    subtotal, discount = sum(lines, Decimal(0)), sum(discounts, Decimal(0))
    raw = {
        "id": "1001",
        "contact_id": "55",
        "date": "1717200000",
        "status": "1",
        "subtotal": str(subtotal),
        "tax": str(tax),
        "shipping": str(sale.shipping),
        "total": str(subtotal - discount + sale.shipping + tax),
        "gateway_id": "3",
        "offer_data": json.dumps(offer),
    }
    purchases = [_purchase(100 + n, str(off)) for n, off in enumerate(discounts)]
    assert needs_purchases(raw) == (discount > 0)
    mappings = Mappings(
        taxes={4: "TAX"}, gateways={3: GatewayMapping(currency_code="AUD", payment_account_code="610")}
    )
    settings_ = MappingSettings(
        default_sales_account="200",
        default_coupon_account="450",
        default_shipping_account="260",
        tax_free_code="EXEMPT",
    )
    decision = map_transaction(raw, contact=None, mappings=mappings, settings=settings_, purchases=purchases)
    assert isinstance(decision, Publish), decision
    invoice = next(doc.body for doc in decision.documents if doc.kind is DocumentKind.invoice)
    totals = xero_totals(invoice, {"TAX": sale.rate or Decimal(0), "EXEMPT": Decimal(0)})
    assert (totals.total, totals.total_tax) == (Decimal(raw["total"]), tax)
    coupons = [line for line in invoice["LineItems"] if str(line["Description"]).startswith("Coupon")]
    assert -sum((Decimal(str(line["UnitAmount"])) for line in coupons), Decimal(0)) == discount


def test_a_summarised_sale_takes_the_coupon_its_purchases_name(
    mappings: Mappings, settings: MappingSettings, offer: dict[str, Any], make_record: RecordFactory
) -> None:
    # Summary mode (issue 13) builds its day's lines from the same sale: without the purchases the
    # entry would be 40.00 over what ONTRAPORT charged and the day's summary would not add up.
    del offer["coupon"]
    raw = make_record(offer)
    without = summary_entry(raw, record_id="r", contact=None, mappings=mappings, settings=settings)
    assert isinstance(without, Fail) and without.code is ReasonCode.source_figures
    entry = summary_entry(
        raw, record_id="r", contact=None, mappings=mappings, settings=settings, purchases=WORKED_PURCHASES
    )
    assert isinstance(entry, SummaryEntry)
    assert entry.total == Decimal("242.00")
    assert sum((group.gross for group in entry.groups), Decimal("0")) == Decimal("242.00")
