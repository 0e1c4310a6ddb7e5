"""Money: rounding to the cent, splitting by largest remainder, and writing amounts for people."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

CENT = Decimal("0.01")


def round_cents(amount: Decimal) -> Decimal:
    """Half up to 2 dp (how Xero, ONTRAPORT and Onport all round money)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(amount: Any) -> str:
    """Money as a bookkeeper reads it in a message: 242.00."""
    return f"{amount:.2f}"


def apportion(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` (whole cents) over ``weights`` in proportion, by largest remainder.

    Each share starts as ``total * weight / sum(weights)`` in exact rational arithmetic, is floored to
    the cent, and the cents still missing go one each to the shares with the largest dropped fraction
    (earlier position first on ties). The shares are whole cents and add up to ``total`` exactly.
    Weights may be negative (discount lines); their sum must not be zero.
    """
    weight_sum = sum((Fraction(weight) for weight in weights), Fraction(0))
    if weight_sum == 0:
        raise ValueError("cannot apportion over weights that add up to zero")
    total_cents = Fraction(total) * 100
    if total_cents.denominator != 1:
        raise ValueError(f"{total} is not a whole number of cents")
    exact = [total_cents * Fraction(weight) / weight_sum for weight in weights]
    cents = [value.numerator // value.denominator for value in exact]
    missing = int(total_cents) - sum(cents)
    by_remainder = sorted(range(len(exact)), key=lambda index: (cents[index] - exact[index], index))
    for index in by_remainder[:missing]:
        cents[index] += 1
    return [Decimal(share).scaleb(-2) for share in cents]
