"""Money: rounding to the cent, splitting by largest remainder, and writing amounts for people."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import MAX_PREC, ROUND_HALF_UP, Context, Decimal
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

    Exact in integers: the weights are scaled to whole numbers by their finest decimal place, so
    ``total_cents * weight / weight_sum`` is a ratio of integers (the mapper splits every taxed sale).
    """
    total_numerator, total_denominator = total.as_integer_ratio()
    if (total_numerator * 100) % total_denominator:
        raise ValueError(f"{total} is not a whole number of cents")
    cents_total = total_numerator * 100 // total_denominator
    scale = -min((_exponent(weight) for weight in weights), default=0)
    scaled = [_scaled(weight, scale) for weight in weights]
    weight_sum = sum(scaled)
    if weight_sum == 0:
        raise ValueError("cannot apportion over weights that add up to zero")
    if weight_sum < 0:  # the same ratios over a positive sum, so remainders compare by their numerators
        scaled, weight_sum = [-weight for weight in scaled], -weight_sum
    numerators = [cents_total * weight for weight in scaled]
    cents = [numerator // weight_sum for numerator in numerators]
    missing = cents_total - sum(cents)
    # The dropped fraction of share i is (numerator - cents * weight_sum) / weight_sum.
    by_remainder = sorted(
        range(len(cents)), key=lambda index: (cents[index] * weight_sum - numerators[index], index)
    )
    for index in by_remainder[:missing]:
        cents[index] += 1
    return [Decimal(share).scaleb(-2) for share in cents]


_EXACT = Context(prec=MAX_PREC)
"""Shifting the decimal point in this context never rounds, however many digits a weight has."""


def _scaled(value: Decimal, scale: int) -> int:
    """``value * 10**scale`` as an exact integer (``scale`` is at least the value's decimal places)."""
    return int(value.scaleb(scale, context=_EXACT))


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"cannot apportion over {value}")
    return min(exponent, 0)
