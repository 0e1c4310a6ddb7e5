from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ledgerbridge.bookkeeping.sales import (
    OfferDataError,
    TransactionError,
    TransactionStatus,
    parse_offer_data,
    parse_transaction,
)


def _offer(**parts: object) -> str:
    base: dict[str, object] = {"products": [{"id": 1, "name": "Course", "quantity": 1, "price": "10.00"}]}
    base.update(parts)
    return json.dumps(base)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("taxable", 1, True),
        ("taxable", 0, False),
        ("taxable", "1", True),
        ("taxable", "0", False),
        ("taxable", True, True),
        ("taxable", False, False),
        ("taxable", "true", True),
        ("taxable", "false", False),
        ("tax", 1, True),
        ("tax", "0", False),
        ("tax", "true", True),
        ("tax", None, False),
    ],
)
def test_product_taxable_flag_spellings(key: str, value: object, expected: bool) -> None:
    product = {"id": 1, "name": "Course", "quantity": 1, "price": "10.00", key: value}
    assert parse_offer_data(json.dumps({"products": [product]})).products[0].taxable is expected


@pytest.mark.parametrize("key", ["taxShipping", "tax_shipping"])
@pytest.mark.parametrize(("value", "expected"), [(1, True), ("0", False), (True, True), ("true", True)])
def test_tax_shipping_spellings(key: str, value: object, expected: bool) -> None:
    offer = parse_offer_data(_offer(taxes=[{"id": 4, "name": "GST", "rate": "10", key: value}]))
    assert offer.taxes[0].tax_shipping is expected
    assert offer.taxes[0].rate == Decimal(10)


def test_tax_total_spellings() -> None:
    camel = parse_offer_data(_offer(taxes=[{"id": 4, "rate": 10, "taxTotal": "1.00"}]))
    snake = parse_offer_data(_offer(taxes=[{"id": 4, "rate": 10.0, "tax_total": 1}]))
    assert camel.taxes[0].tax_total == snake.taxes[0].tax_total == Decimal(1)
    assert camel.taxes[0].name == "Tax 4"


@pytest.mark.parametrize(
    "shipping",
    [
        {"id": 2, "name": "Standard", "price": "10.00"},
        [{"id": 2, "name": "Standard", "price": "10.00"}],
        {"0": {"id": 2, "name": "Standard", "price": 10}},
    ],
)
def test_shipping_as_object_or_list(shipping: object) -> None:
    methods = parse_offer_data(_offer(shipping=shipping)).shipping
    assert len(methods) == 1
    assert (methods[0].id, methods[0].name, methods[0].price) == (2, "Standard", Decimal("10.00"))


@pytest.mark.parametrize("shipping", [None, [], {}, ""])
def test_shipping_absent(shipping: object) -> None:
    assert parse_offer_data(_offer(shipping=shipping)).shipping == ()
    assert parse_offer_data(_offer()).shipping == ()


def test_coupon_by_id_or_code() -> None:
    by_code = parse_offer_data(_offer(coupon={"code": "SPRING20", "discount": "4.00"})).coupon
    by_id = parse_offer_data(_offer(coupon={"id": "7", "discount": 4})).coupon
    assert by_code is not None
    assert by_id is not None
    assert (by_code.code, by_code.id, by_code.discount, by_code.label) == (
        "SPRING20",
        None,
        Decimal(4),
        "SPRING20",
    )
    assert (by_id.code, by_id.id, by_id.label) == (None, 7, "7")
    assert parse_offer_data(_offer(coupon=None)).coupon is None


def test_products_with_string_numbers_and_all_fields() -> None:
    offer = parse_offer_data(
        json.dumps(
            {
                "products": [
                    {
                        "id": "9",
                        "name": "Workbook",
                        "quantity": "2",
                        "price": "25.5",
                        "taxable": "1",
                        "shipping": "1",
                        "total": "51.00",
                    }
                ]
            }
        )
    )
    product = offer.products[0]
    assert (product.id, product.name, product.quantity, product.price) == (
        9,
        "Workbook",
        Decimal(2),
        Decimal("25.5"),
    )
    assert product.taxable
    assert product.shipping
    assert product.total == Decimal("51.00")


def test_float_prices_keep_their_decimal_value() -> None:
    product = parse_offer_data(json.dumps({"products": [{"id": 1, "price": 19.99}]})).products[0]
    assert product.price == Decimal("19.99")
    assert product.quantity == 1
    assert product.name == "Product 1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            json.dumps({"products": [{"id": 1, "price": 1}, {"id": 2, "price": "abc"}]}),
            "offer_data: product 2 has no readable price ('abc')",
        ),
        (json.dumps({"products": [{"id": 1}]}), "offer_data: product 1 has no price"),
        (
            json.dumps({"products": [{"id": 1, "price": 1, "quantity": "two"}]}),
            "product 1 has no readable quantity",
        ),
        (json.dumps({"products": [{"id": 1, "price": 1, "quantity": 0}]}), "quantity that is not positive"),
        (
            json.dumps({"products": [{"id": 1, "price": 1, "taxable": "maybe"}]}),
            "unreadable taxable flag ('maybe')",
        ),
        (
            json.dumps({"products": [{"id": 1, "price": 1}], "taxes": [{"id": 4}]}),
            "offer_data: tax 1 has no rate",
        ),
        (json.dumps({"taxes": [{"id": 4, "rate": "ten"}]}), "offer_data: tax 1 has no readable rate ('ten')"),
        (
            json.dumps({"shipping": {"id": 2, "name": "Std", "price": "x"}}),
            "shipping 1 has no readable price ('x')",
        ),
        (json.dumps({"coupon": {"code": "A"}}), "offer_data: coupon has no discount"),
        (
            json.dumps({"coupon": {"code": "A", "discount": "lots"}}),
            "coupon has no readable discount ('lots')",
        ),
        (json.dumps({"coupon": "A"}), "offer_data: coupon is not an object ('A')"),
        (json.dumps({"products": "many"}), "offer_data: product is neither an object nor a list ('many')"),
        (json.dumps({"products": [1]}), "offer_data: product 1 is not an object (1)"),
        (json.dumps([1, 2]), "offer_data: is not a JSON object"),
        ("{not json", "offer_data: is not valid JSON"),
        ("", "offer_data: is empty"),
    ],
)
def test_unreadable_offer_data_names_field_and_value(text: str, message: str) -> None:
    with pytest.raises(OfferDataError) as raised:
        parse_offer_data(text)
    assert message in str(raised.value)


def test_transaction_parse_tolerates_string_numbers() -> None:
    transaction = parse_transaction(
        {
            "id": "1001",
            "contact_id": 55,
            "contact_name": "Jane Smith",
            "date": "1717200000",
            "status": "3",
            "subtotal": "250.00",
            "tax": 22,
            "shipping": "10",
            "total": 242.0,
            "gateway_id": "3",
            "invoice_id": "77",
            "order_id": None,
            "external_order_id": "",
            "offer_data": _offer(),
        }
    )
    assert transaction.id == 1001
    assert transaction.status is TransactionStatus.PARTIALLY_REFUNDED
    assert (transaction.subtotal, transaction.tax, transaction.shipping, transaction.total) == (
        Decimal(250),
        Decimal(22),
        Decimal(10),
        Decimal(242),
    )
    assert transaction.order_id is None
    assert transaction.external_order_id is None
    assert transaction.offer.products[0].name == "Course"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("total", "12,50", "transaction: field 'total' is not a number ('12,50')"),
        ("status", "9", "not a known status 0..7 ('9')"),
        ("id", "abc", "transaction: field 'id' is not a whole number ('abc')"),
        ("date", "1.5", "transaction: field 'date' is not unix seconds ('1.5')"),
    ],
)
def test_transaction_parse_errors(field: str, value: str, message: str) -> None:
    raw = {"id": "1", "contact_id": "2", "date": "0", "status": "1", "offer_data": _offer(), field: value}
    with pytest.raises(TransactionError) as raised:
        parse_transaction(raw)
    assert message in str(raised.value)
