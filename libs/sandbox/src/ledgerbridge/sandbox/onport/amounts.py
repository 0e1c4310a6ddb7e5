"""How the Onport sandbox adds up purchases and purchase invoices.

Money is ``Decimal`` with two places, rounded half-up. ``taxRate`` is a fraction (0.1 = 10 %); a rate of
0 means the item is not taxable. Records carry amounts as JSON numbers.

Purchase item (``/purchase-items``): subtotal = round(quantity x price, 2);
tax = round(subtotal x rate, 2) when the purchase is tax exclusive, and the tax contained in the
price, round(subtotal x rate / (1 + rate), 2), when it is tax inclusive (``taxIncluded``).

Purchase invoice (``/purchase-invoices``): each invoice item bills ``quantity`` units of one purchase
item. For each invoice line: line amount = round(quantity x price, 2) and line tax by the rule above on
the line amount, rounded per line. Shipping (the purchase's shipping price) is billed on the
first invoice of a purchase only, as a ``/purchase-shipping-rates`` row (``invoiceShipping`` true,
``purchaseInvoiceId`` set); when the purchase has ``taxShipping`` it is taxed at the purchase's
``combinedTaxRate``, by the same exclusive/inclusive rule. Landed costs
(``/landed-cost-purchase-invoices``, ``amount``) are untaxed.

    subtotal = sum(line amounts)
    tax      = sum(line taxes) + shipping tax
    total    = subtotal + shipping + landed costs + tax + adjustment   (tax exclusive)
    total    = subtotal + shipping + landed costs + adjustment         (tax inclusive)

``adjustment`` is signed (negative = a deduction from the vendor, with ``adjustmentReason``). As in
Onport's API, no total is served on the invoice: a reader adds the lines up, and the sandbox keeps its
own figures beside the records (``OnportData.amounts``) so tests can check that reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | str | float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def line_tax(amount: Decimal, rate: Decimal, tax_included: bool) -> Decimal:
    if rate == 0:
        return ZERO
    if tax_included:
        return money(amount * rate / (1 + rate))
    return money(amount * rate)


@dataclass(frozen=True)
class InvoiceLine:
    quantity: int
    price: Decimal
    rate: Decimal

    @property
    def amount(self) -> Decimal:
        return money(self.price * self.quantity)


@dataclass(frozen=True)
class InvoiceAmounts:
    subtotal: Decimal
    shipping: Decimal
    tax: Decimal
    adjustment: Decimal
    landed_costs: Decimal
    total: Decimal


def invoice_amounts(
    lines: list[InvoiceLine],
    *,
    shipping: Decimal,
    shipping_rate: Decimal,
    tax_shipping: bool,
    tax_included: bool,
    adjustment: Decimal,
    landed_costs: Decimal = ZERO,
) -> InvoiceAmounts:
    subtotal = sum((line.amount for line in lines), ZERO)
    tax = sum((line_tax(line.amount, line.rate, tax_included) for line in lines), ZERO)
    if tax_shipping:
        tax += line_tax(shipping, shipping_rate, tax_included)
    total = subtotal + shipping + landed_costs + adjustment + (ZERO if tax_included else tax)
    return InvoiceAmounts(
        money(subtotal), money(shipping), money(tax), money(adjustment), money(landed_costs), money(total)
    )
