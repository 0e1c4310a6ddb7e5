"""How ONTRAPORT adds up a transaction: the rules every generated record follows exactly.

All money is ``Decimal`` with two places; rounding is half-up (0.315 → 0.32), as ONTRAPORT charges.

1. Line total = quantity x unit price (prices have two places, so this is exact).
   ``subtotal`` = sum of line totals, before any discount.
2. A coupon targets some lines: the products in its selection, or every line for ``all``.
   Targeted base = sum of the targeted line totals.
   Percent coupon: discount = round(base x percent / 100, 2). Flat coupon: discount = min(value, base).
   The generator only applies a coupon when all its targeted lines are taxable, or all are not, so the
   discount belongs wholly to the taxable or wholly to the non-taxable part.
3. Taxable amount = sum of taxable line totals - (discount if the targeted lines are taxable else 0).
4. A transaction has at most one tax. Its base is the taxable amount, plus shipping when the tax has
   ``taxShipping``. tax = round(base x rate / 100, 2): rounded once, on the total, never per line.
5. total = subtotal - discount + shipping + tax.

Worked example (transaction 1001): 1 x 200.00 + 2 x 25.00 = 250.00; SPRING20 = 20 % of Pro Course =
40.00; GST 10 % with taxShipping on 210.00 + 10.00 = 22.00; total 250.00 - 40.00 + 10.00 + 22.00 = 242.00.
Rounding example (transaction 1002): three lines of 1.05 at 10 %: 10 % of 3.15 = 0.315 → 0.32 (Xero's
per-line rounding would give 0.33); total 3.47.

After a partial refund (status 3) the record's ``total`` is what the customer still paid (the charge
minus the refunded amount); ``subtotal``, ``tax``, ``shipping`` and ``offer_data`` keep describing the
original charge, and ``offer_data.grandTotal`` keeps the original total, so
refunded amount = ``grandTotal`` - ``total``. Full refunds (2) and voids (4) leave every amount as charged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    return str(money(value))


@dataclass(frozen=True)
class Line:
    product_id: int
    name: str
    quantity: int
    price: Decimal
    taxable: bool
    ships: bool = False

    @property
    def total(self) -> Decimal:
        return money(self.price * self.quantity)


@dataclass(frozen=True)
class Coupon:
    coupon_id: int
    code_id: int
    code: str
    kind: str  # "percent" or "flat"
    value: Decimal
    product_ids: tuple[int, ...] | None  # None = every line

    def targets(self, lines: Sequence[Line]) -> list[Line]:
        if self.product_ids is None:
            return list(lines)
        return [line for line in lines if line.product_id in self.product_ids]


@dataclass(frozen=True)
class Tax:
    tax_id: int
    name: str
    rate: Decimal
    tax_shipping: bool


@dataclass(frozen=True)
class ShippingMethod:
    shipping_id: int
    name: str
    price: Decimal


@dataclass(frozen=True)
class Amounts:
    subtotal: Decimal
    discount: Decimal
    taxable: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal


class UnsplittableCouponError(ValueError):
    """A coupon whose targeted lines mix taxable and non-taxable products has no single tax treatment."""


def coupon_applies(coupon: Coupon, lines: Sequence[Line]) -> bool:
    targeted = coupon.targets(lines)
    return bool(targeted) and len({line.taxable for line in targeted}) == 1


def compute(
    lines: Sequence[Line], coupon: Coupon | None, tax: Tax | None, shipping: ShippingMethod | None
) -> Amounts:
    subtotal = sum((line.total for line in lines), Decimal("0.00"))
    discount = Decimal("0.00")
    discount_is_taxable = False
    if coupon is not None:
        if not coupon_applies(coupon, lines):
            raise UnsplittableCouponError(f"coupon {coupon.code} does not apply cleanly to these lines")
        targeted = coupon.targets(lines)
        base = sum((line.total for line in targeted), Decimal("0.00"))
        if coupon.kind == "percent":
            discount = money(base * coupon.value / 100)
        else:
            discount = min(money(coupon.value), base)
        discount_is_taxable = targeted[0].taxable
    taxable = sum((line.total for line in lines if line.taxable), Decimal("0.00"))
    if discount_is_taxable:
        taxable -= discount
    ship = shipping.price if shipping is not None else Decimal("0.00")
    tax_total = Decimal("0.00")
    if tax is not None:
        base = taxable + (ship if tax.tax_shipping else Decimal("0.00"))
        tax_total = money(base * tax.rate / 100)
    total = subtotal - discount + ship + tax_total
    return Amounts(
        subtotal=money(subtotal),
        discount=money(discount),
        taxable=money(taxable),
        shipping=money(ship),
        tax=tax_total,
        total=money(total),
    )
