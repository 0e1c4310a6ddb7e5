"""Xero's arithmetic: line amounts and tax per line, rounded half up to 2 dp, then summed."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0")


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def round_to(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def out(value: Decimal) -> float:
    """Money as a JSON number, the way Xero sends it."""
    return float(value)


def line_amount(
    quantity: Decimal,
    unit_amount: Decimal,
    discount_rate: Decimal | None,
    discount_amount: Decimal | None,
) -> tuple[Decimal, Decimal]:
    """(LineAmount, discount taken) for one line."""
    gross = quantity * unit_amount
    if discount_rate is not None:
        amount = cents(gross * (Decimal(100) - discount_rate) / Decimal(100))
    elif discount_amount is not None:
        amount = cents(gross - discount_amount)
    else:
        amount = cents(gross)
    return amount, cents(gross) - amount


def line_tax(amount: Decimal, rate_percent: Decimal, line_amount_types: str) -> Decimal:
    if line_amount_types == "NoTax" or rate_percent == 0:
        return ZERO
    if line_amount_types == "Inclusive":
        return cents(amount * rate_percent / (Decimal(100) + rate_percent))
    return cents(amount * rate_percent / Decimal(100))


def document_totals(lines: list[tuple[Decimal, Decimal]], line_amount_types: str) -> dict[str, Decimal]:
    """SubTotal, TotalTax and Total from (LineAmount, TaxAmount) pairs."""
    amounts = sum((amount for amount, _ in lines), ZERO)
    tax = sum((line_tax_amount for _, line_tax_amount in lines), ZERO)
    # Inclusive line amounts already contain their tax.
    subtotal = amounts - tax if line_amount_types == "Inclusive" else amounts
    return {"SubTotal": subtotal, "TotalTax": tax, "Total": subtotal + tax}
