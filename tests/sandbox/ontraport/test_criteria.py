"""The condition evaluator's shortcuts agree with ONTRAPORT's comparison rules they stand for."""

from __future__ import annotations

import random

from ledgerbridge.sandbox.ontraport.criteria import Comparison, _compare

VALUES = ["1", "01", "1.0", " 2", "2", "abc", "", "3e0", "-0", "0", "x1", "1 ", "  ", "Infinity", "12"]


def test_in_matches_exactly_when_one_of_its_values_compares_equal() -> None:
    """``IN`` looks values up in sets; it must say what comparing with each value in turn says (numbers
    as numbers when both sides are numeric, text otherwise)."""
    rng = random.Random(20261201)
    for _ in range(20_000):
        values = tuple(rng.choice(VALUES) for _ in range(rng.randint(1, 4)))
        actual = rng.choice(VALUES)
        expected = any(_compare(actual, value) == 0 for value in values)
        assert Comparison("id", "IN", values).matches({"id": actual}) is expected, (actual, values)
