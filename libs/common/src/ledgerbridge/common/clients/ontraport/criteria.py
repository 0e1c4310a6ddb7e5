"""ONTRAPORT's JSON ``condition`` syntax, built from Python rather than from hand-written JSON strings.

    field("id").gt(1200) & field("status").is_in([2, 3])
    -> [{"field":{"field":"id"},"op":">","value":{"value":1200}}, "AND",
        {"field":{"field":"status"},"op":"IN","value":{"list":[{"value":2},{"value":3}]}}]

A :class:`Criteria` is an OR of AND-groups, written out flat with ``"AND"``/``"OR"`` joiners: ONTRAPORT
turns the list into SQL, where AND binds tighter than OR, so the flat form means what the groups say.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Scalar = int | str | Decimal


def _value(value: Scalar) -> int | str:
    if isinstance(value, bool):
        # bool is an int; ONTRAPORT stores flags as 0/1.
        return int(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str
    values: tuple[int | str, ...]

    def to_json(self) -> dict[str, Any]:
        if self.op == "IN":
            value: dict[str, Any] = {"list": [{"value": v} for v in self.values]}
        else:
            value = {"value": self.values[0]}
        return {"field": {"field": self.field}, "op": self.op, "value": value}


@dataclass(frozen=True)
class Criteria:
    groups: tuple[tuple[Comparison, ...], ...]
    """OR of AND-groups."""

    def __and__(self, other: Criteria) -> Criteria:
        # (a OR b) AND (c OR d) = ac OR ad OR bc OR bd: distribute so the flat form stays right.
        return Criteria(tuple(left + right for left in self.groups for right in other.groups))

    def __or__(self, other: Criteria) -> Criteria:
        return Criteria(self.groups + other.groups)

    def to_json(self) -> list[Any]:
        items: list[Any] = []
        for group_index, group in enumerate(self.groups):
            if group_index:
                items.append("OR")
            for index, comparison in enumerate(group):
                if index:
                    items.append("AND")
                items.append(comparison.to_json())
        return items

    def __str__(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))


@dataclass(frozen=True)
class Field:
    name: str

    def _compare(self, op: str, value: Scalar) -> Criteria:
        return Criteria(((Comparison(self.name, op, (_value(value),)),),))

    def eq(self, value: Scalar) -> Criteria:
        return self._compare("=", value)

    def ne(self, value: Scalar) -> Criteria:
        return self._compare("<>", value)

    def gt(self, value: Scalar) -> Criteria:
        return self._compare(">", value)

    def gte(self, value: Scalar) -> Criteria:
        return self._compare(">=", value)

    def lt(self, value: Scalar) -> Criteria:
        return self._compare("<", value)

    def lte(self, value: Scalar) -> Criteria:
        return self._compare("<=", value)

    def is_in(self, values: Iterable[Scalar]) -> Criteria:
        listed = tuple(_value(v) for v in values)
        if not listed:
            raise ValueError(f"IN needs at least one value for {self.name}")
        return Criteria(((Comparison(self.name, "IN", listed),),))


def field(name: str) -> Field:
    return Field(name)


def condition_param(condition: Criteria | str | None) -> str | None:
    """The ``condition`` query value: built criteria as JSON, a string as given (the older SQL-ish form)."""
    if condition is None:
        return None
    return str(condition)
