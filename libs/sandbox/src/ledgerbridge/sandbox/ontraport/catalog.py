"""The reference objects every sandbox account shares: gateways, products, taxes, shipping, coupons.

Ids are fixed so the worked examples (and tests elsewhere) can name them: gateway 3 is Stripe AUD,
product 1 is "Pro Course", tax 1 is GST 10 % with taxShipping, shipping 1 is "Standard", coupon code
SPRING20 is coupon 1.
"""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge.sandbox.ontraport.amounts import Coupon, Line, ShippingMethod, Tax, fmt

GATEWAYS: list[dict[str, str]] = [
    {"id": "1", "name": "PayPal USD", "type": "paypal", "currency": "USD", "status": "1"},
    {"id": "2", "name": "Braintree GBP", "type": "braintree", "currency": "GBP", "status": "1"},
    {"id": "3", "name": "Stripe AUD", "type": "stripe", "currency": "AUD", "status": "1"},
]

# (id, name, price, taxable, ships)
_PRODUCTS: list[tuple[int, str, str, bool, bool]] = [
    (1, "Pro Course", "200.00", True, False),
    (2, "Workbook", "25.00", True, True),
    (3, "Sticker Red", "1.05", True, True),
    (4, "Sticker Blue", "1.05", True, True),
    (5, "Sticker Green", "1.05", True, True),
    (6, "Coaching Call", "149.00", False, False),
    (7, "Membership (monthly)", "49.95", True, False),
    (8, "E-book", "19.99", False, False),
    (9, "Hoodie", "54.50", True, True),
    (10, "Mug", "12.75", True, True),
    (11, "Workshop Ticket", "333.33", True, False),
    (12, "Poster", "7.49", True, True),
]

PRODUCT_LINES: dict[int, Line] = {
    pid: Line(product_id=pid, name=name, quantity=1, price=Decimal(price), taxable=taxable, ships=ships)
    for pid, name, price, taxable, ships in _PRODUCTS
}

TAXES: dict[int, Tax] = {
    1: Tax(1, "GST", Decimal("10"), tax_shipping=True),
    2: Tax(2, "VAT", Decimal("20"), tax_shipping=False),
    3: Tax(3, "Texas Sales Tax", Decimal("8.25"), tax_shipping=False),
}

SHIPPING: dict[int, ShippingMethod] = {
    1: ShippingMethod(1, "Standard", Decimal("10.00")),
    2: ShippingMethod(2, "Express", Decimal("24.95")),
    3: ShippingMethod(3, "International", Decimal("37.50")),
}

COUPONS: dict[str, Coupon] = {
    "SPRING20": Coupon(1, 1, "SPRING20", "percent", Decimal("20"), (1,)),
    "TENOFF": Coupon(2, 2, "TENOFF", "flat", Decimal("10.00"), None),
    "WELCOME15": Coupon(3, 3, "WELCOME15", "percent", Decimal("15"), None),
    "MUG5": Coupon(4, 4, "MUG5", "flat", Decimal("5.00"), (10,)),
}

COUPON_NAMES = {1: "Spring sale", 2: "Ten dollars off", 3: "Welcome discount", 4: "Five off a mug"}


def product_objects(date: int) -> list[dict[str, str]]:
    return [
        {
            "id": str(line.product_id),
            "name": line.name,
            "price": fmt(line.price),
            "taxable": "1" if line.taxable else "0",
            "sku": f"SKU-{line.product_id:04d}",
            "description": "",
            "external_id": "",
            "product_group": "0",
            "owner": "1",
            "date": str(date),
            "dlm": str(date),
            "deleted": "0",
            "total_income": "0.00",
            "total_purchases": "0",
        }
        for line in PRODUCT_LINES.values()
    ]


def tax_objects() -> list[dict[str, str]]:
    return [
        {
            "id": str(tax.tax_id),
            "name": tax.name,
            "rate": str(tax.rate),
        }
        for tax in TAXES.values()
    ]


def coupon_product_objects() -> list[dict[str, str]]:
    """Which products a coupon applies to: ONTRAPORT's CouponProduct objects (125), not a coupon field."""
    names = {pid: name for pid, name, *_ in _PRODUCTS}
    rows = [
        (coupon.coupon_id, product_id)
        for coupon in COUPONS.values()
        for product_id in coupon.product_ids or ()
    ]
    return [
        {"id": str(index), "coupon_id": str(coupon_id), "product_id": str(pid), "product_name": names[pid]}
        for index, (coupon_id, pid) in enumerate(rows, 1)
    ]


def shipping_objects() -> list[dict[str, str]]:
    return [
        {"id": str(method.shipping_id), "name": method.name, "price": fmt(method.price)}
        for method in SHIPPING.values()
    ]


def coupon_objects(date: int) -> list[dict[str, str]]:
    return [
        {
            "id": str(coupon.coupon_id),
            "name": COUPON_NAMES[coupon.coupon_id],
            "type": "group",
            "discount_type": coupon.kind,
            "discount_value": fmt(coupon.value) if coupon.kind == "flat" else str(coupon.value),
            "discount_description": "",
            "product_selection": "all" if coupon.product_ids is None else "specific",
            "coupon_code": coupon.code,
            "status": "Valid",
            "valid_type": "always",
            "recurring": "0",
            "date": str(date),
            "deleted": "0",
        }
        for coupon in COUPONS.values()
    ]


def coupon_code_objects(date: int) -> list[dict[str, str]]:
    return [
        {
            "id": str(coupon.code_id),
            "coupon_id": str(coupon.coupon_id),
            "code": coupon.code,
            "contact_id": "0",
            "expiration": "0",
            "date": str(date),
            "date_redeemed": "0",
            "deleted": "0",
        }
        for coupon in COUPONS.values()
    ]
