"""Property tests over generated sales: whatever the mix, Xero's total is the amount charged.

ONTRAPORT's figures are computed the ONTRAPORT way (tax on the whole taxable amount, rounded once);
the invoice is totalled the Xero way (per-line amounts and per-line tax rounded to 2 dp, unless a line
carries an explicit TaxAmount) by ``xero_totals``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerbridge.bookkeeping.decisions import Publish
from ledgerbridge.bookkeeping.documents import DocumentKind, XeroDocument, to_json_ready, xero_totals
from ledgerbridge.bookkeeping.money import apportion
from ledgerbridge.bookkeeping.sales import (
    CouponMode,
    GatewayMapping,
    Mappings,
    MappingSettings,
    ProductMapping,
    UntaxedMode,
    map_transaction,
    parse_offer_data,
)
from ledgerbridge.sandbox.xero.openapi import schema_errors

CENT = Decimal("0.01")
RATES = [Decimal(r) for r in ("5", "7.5", "8.25", "10", "12.5", "15", "20")]
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda cents: Decimal(cents).scaleb(-2))


@dataclass(frozen=True)
class Sale:
    products: list[tuple[int, Decimal, bool]]  # quantity, price, taxable
    rate: Decimal | None
    tax_shipping: bool
    shipping: list[Decimal]
    discount_share: Fraction  # of the products total
    coupon_mode: CouponMode
    untaxed_mode: UntaxedMode


sales = st.builds(
    Sale,
    products=st.lists(st.tuples(st.integers(1, 6), _cents(0, 60000), st.booleans()), min_size=1, max_size=6),
    rate=st.none() | st.sampled_from(RATES),
    tax_shipping=st.booleans(),
    shipping=st.lists(_cents(0, 4000), max_size=2),
    discount_share=st.fractions(0, 1, max_denominator=40),
    coupon_mode=st.sampled_from(CouponMode),
    untaxed_mode=st.sampled_from(UntaxedMode),
)


def _round(value: Fraction | Decimal) -> Decimal:
    exact = Fraction(value)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


def _ontraport_record(sale: Sale) -> dict[str, Any]:
    """The transaction as ONTRAPORT records it: tax computed once on the whole taxable amount."""
    line_totals = [quantity * price for quantity, price, _ in sale.products]
    subtotal = sum(line_totals, Decimal(0))
    discount = _round(Fraction(subtotal) * sale.discount_share)
    shipping = sum(sale.shipping, Decimal(0))
    taxable = sum(
        (total for total, (_, _, is_taxable) in zip(line_totals, sale.products, strict=True) if is_taxable),
        Decimal(0),
    )
    tax = Decimal("0.00")
    offer: dict[str, Any] = {
        "products": [
            {
                "id": 100 + index,
                "name": f"Product {index}",
                "quantity": quantity,
                "price": str(price),
                "taxable": int(is_taxable),
            }
            for index, (quantity, price, is_taxable) in enumerate(sale.products)
        ],
        "shipping": [
            {"id": 300 + index, "name": f"Method {index}", "price": str(price)}
            for index, price in enumerate(sale.shipping)
        ],
    }
    if sale.rate is not None:
        taxable_discount = (
            Fraction(discount) * Fraction(taxable) / Fraction(subtotal) if subtotal else Fraction(0)
        )
        base = Fraction(taxable) - taxable_discount + (Fraction(shipping) if sale.tax_shipping else 0)
        tax = _round(base * Fraction(sale.rate) / 100)
        offer["taxes"] = [
            {"id": 4, "name": "Sales tax", "rate": str(sale.rate), "taxShipping": sale.tax_shipping}
        ]
    if discount:
        offer["coupon"] = {"id": 7, "code": "SAVE", "discount": str(discount)}
    return {
        "id": 5000,
        "contact_id": 55,
        "date": 1717200000,
        "status": 1,
        "subtotal": str(subtotal),
        "tax": str(tax),
        "shipping": str(shipping),
        "total": str(subtotal - discount + shipping + tax),
        "gateway_id": 3,
        "offer_data": json.dumps(offer),
    }


MAPPINGS = Mappings(
    products={100: ProductMapping(account_code="200", item_code="P100")},
    taxes={4: "TAX"},
    gateways={3: GatewayMapping(currency_code="USD", payment_account_code="610")},
)


@PROPERTY_SETTINGS
@given(sales)
def test_invoice_total_equals_amount_charged(sale: Sale) -> None:
    raw = _ontraport_record(sale)
    settings_ = MappingSettings(
        default_sales_account="200",
        default_coupon_account="450",
        default_shipping_account="260",
        tax_free_code="EXEMPT",
        untaxed_mode=sale.untaxed_mode,
        coupon_mode=sale.coupon_mode,
    )
    decision = map_transaction(raw, contact=None, mappings=MAPPINGS, settings=settings_)
    assert isinstance(decision, Publish), decision
    documents = {doc.kind: doc for doc in decision.documents}
    invoice = documents[DocumentKind.invoice].body
    rates = {"TAX": sale.rate or Decimal(0)}
    totals = xero_totals(invoice, rates)
    charged = Decimal(raw["total"])
    assert totals.total == charged
    assert totals.total_tax == Decimal(raw["tax"])
    if Decimal(raw["tax"]):
        assert invoice["LineAmountTypes"] == "Exclusive"
        assert all(line.get("TaxType") in {"TAX", "EXEMPT"} for line in invoice["LineItems"])
    if sale.coupon_mode is CouponMode.DISCOUNT_AMOUNT:
        assert all(line["UnitAmount"] >= 0 for line in invoice["LineItems"])
    if charged:
        assert documents[DocumentKind.payment].body["Amount"] == charged
    for document in decision.documents:
        body = document.json_body()
        schema = {"invoice": "Invoices", "payment": "Payments", "contact": "Contacts"}[document.kind.value]
        assert schema_errors(schema, {schema: [body]}) == []


@PROPERTY_SETTINGS
@given(
    total=_cents(-100000, 100000),
    weights=st.lists(_cents(-5000, 50000), min_size=1, max_size=8).filter(lambda values: sum(values) != 0),
)
def test_apportion_is_exact_and_within_a_cent(total: Decimal, weights: list[Decimal]) -> None:
    shares = apportion(total, weights)
    assert sum(shares) == total
    weight_sum = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        exact = Fraction(total) * Fraction(weight) / Fraction(weight_sum)
        assert abs(Fraction(share) - exact) < Fraction(1, 100)


def _exact_apportion(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """The rule in rational arithmetic, as ``apportion`` documents it: floor each exact share to the cent,
    then a cent each to the largest dropped fractions, earlier first on ties."""
    weight_sum = sum((Fraction(weight) for weight in weights), Fraction(0))
    exact = [Fraction(total) * 100 * Fraction(weight) / weight_sum for weight in weights]
    cents = [value.numerator // value.denominator for value in exact]
    missing = int(Fraction(total) * 100) - sum(cents)
    for index in sorted(range(len(exact)), key=lambda n: (cents[n] - exact[n], n))[:missing]:
        cents[index] += 1
    return [Decimal(share).scaleb(-2) for share in cents]


@PROPERTY_SETTINGS
@given(
    total=_cents(-100000, 100000),
    weights=st.lists(
        st.tuples(st.integers(-(10**7), 10**7), st.integers(-2, 6)).map(
            lambda pair: Decimal(pair[0]).scaleb(-pair[1])
        ),
        min_size=1,
        max_size=8,
    ).filter(lambda values: sum(values) != 0),
)
def test_apportion_is_the_exact_largest_remainder_split_for_weights_of_any_precision(
    total: Decimal, weights: list[Decimal]
) -> None:
    # Weights such as line amount x rate carry up to 6 places, and may be negative or sum below zero.
    assert apportion(total, weights) == _exact_apportion(total, weights)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.text(max_size=8)
    | st.tuples(st.integers(-(10**9), 10**9), st.integers(0, 4)).map(lambda p: Decimal(p[0]).scaleb(-p[1])),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)


@PROPERTY_SETTINGS
@given(
    body=st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5),
    kind=st.sampled_from(list(DocumentKind)),
    target=st.none() | st.text(min_size=1, max_size=8),
)
def test_a_documents_fingerprint_is_the_sha256_of_its_canonical_json_and_its_text_is_its_body(
    body: dict[str, Any], kind: DocumentKind, target: str | None
) -> None:
    # Fingerprints are stored and compared across releases: the definition may not drift.
    document = XeroDocument(kind, body, target)
    material = {"target": target, **to_json_ready(body)} if target else to_json_ready(body)
    canonical = json.dumps(
        {"kind": kind.value, "body": material}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert document.fingerprint == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert json.loads(document.json_text) == document.json_body() == to_json_ready(body)


def test_known_documents_keep_the_fingerprints_earlier_releases_stored() -> None:
    invoice = XeroDocument(
        DocumentKind.invoice,
        {
            "Type": "ACCREC",
            "Contact": {"ContactNumber": "OP-55", "Name": "Zoë Smith"},
            "LineItems": [
                {
                    "Description": "Coaching",
                    "Quantity": Decimal("2"),
                    "UnitAmount": Decimal("100.00"),
                    "TaxAmount": Decimal("0.00"),
                }
            ],
            "Date": "2026-07-01",
        },
    )
    void = XeroDocument(DocumentKind.invoice_void, {"Status": "VOIDED"}, "INV-7")
    assert invoice.fingerprint == "8d03cc677befb4cc08b855cee69cc33a1d56851388e8bb15509902454def220b"
    assert void.fingerprint == "ae016ec901d74eba912653434a3aed36a10c02b1aaa40f42bb8c078517a0b4a7"


_products = st.lists(
    st.tuples(st.integers(1, 999), st.integers(1, 9), _cents(0, 99999), st.booleans()), min_size=1, max_size=4
)


@PROPERTY_SETTINGS
@given(
    products=_products,
    taxable_key=st.sampled_from(["taxable", "tax"]),
    shipping_key=st.sampled_from(["taxShipping", "tax_shipping"]),
    flag_style=st.sampled_from([int, str, bool, lambda value: str(bool(value)).lower()]),
    numbers_as_text=st.booleans(),
    shipping_as_list=st.booleans(),
    coupon_key=st.sampled_from(["id", "code"]),
)
def test_every_key_spelling_reads_the_same(
    products: list[tuple[int, int, Decimal, bool]],
    taxable_key: str,
    shipping_key: str,
    flag_style: Any,
    numbers_as_text: bool,
    shipping_as_list: bool,
    coupon_key: str,
) -> None:
    def number(value: Decimal | int) -> Any:
        return str(value) if numbers_as_text else (float(value) if isinstance(value, Decimal) else value)

    shipping = {"id": number(2), "name": "Standard", "price": number(Decimal("9.95"))}
    offer = {
        "products": [
            {
                "id": number(pid),
                "name": f"P{pid}",
                "quantity": number(qty),
                "price": number(price),
                taxable_key: flag_style(int(taxed)),
            }
            for pid, qty, price, taxed in products
        ],
        "taxes": [
            {"id": number(4), "name": "GST", "rate": number(Decimal("12.5")), shipping_key: flag_style(1)}
        ],
        "shipping": [shipping] if shipping_as_list else shipping,
        "coupon": {coupon_key: "7" if coupon_key == "id" else "SAVE7", "discount": number(Decimal("1.50"))},
    }
    parsed = parse_offer_data(json.dumps(offer))
    assert [(p.id, p.quantity, p.price, p.taxable) for p in parsed.products] == [
        (pid, Decimal(qty), price, taxed) for pid, qty, price, taxed in products
    ]
    assert (parsed.taxes[0].rate, parsed.taxes[0].tax_shipping) == (Decimal("12.5"), True)
    assert [(s.id, s.price) for s in parsed.shipping] == [(2, Decimal("9.95"))]
    assert parsed.coupon is not None
    assert parsed.coupon.discount == Decimal("1.50")
    assert parsed.coupon.label == ("7" if coupon_key == "id" else "SAVE7")
