"""Onport's collection query parameters: ``where[field]=value``, ``where[field][op]=value``,
``order[field]=ASC|DESC``, ``limit`` and ``from`` (an offset).

Operators: ``eq`` (the default), ``ne``, ``gt``, ``gte``, ``lt``, ``lte``, ``in`` and ``notIn``
(comma-separated values); a leading ``$`` (``where[updatedAt][$gt]``) is accepted too. ``null`` matches
a missing value. Values compare by the record's type: numbers numerically, booleans as
``true``/``false``/``1``/``0``, ISO timestamps as instants, other text as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "notIn")
_WHERE = re.compile(r"^where\[(?P<field>[A-Za-z0-9_]+)\](?:\[\$?(?P<op>[A-Za-z]+)\])?$")
_ORDER = re.compile(r"^order\[(?P<field>[A-Za-z0-9_]+)\]$")


class FilterError(ValueError):
    """A query parameter the API would reject; the message says which."""


@dataclass(frozen=True)
class Where:
    field: str
    op: str
    value: str

    def matches(self, record: dict[str, Any]) -> bool:
        actual = record.get(self.field)
        if self.op in ("in", "notIn"):
            found = any(_compare(actual, v.strip()) == 0 for v in self.value.split(","))
            return found if self.op == "in" else not found
        order = _compare(actual, self.value)
        if order is None:
            return self.op == "ne"
        return {
            "eq": order == 0,
            "ne": order != 0,
            "gt": order > 0,
            "gte": order >= 0,
            "lt": order < 0,
            "lte": order <= 0,
        }[self.op]


def _sign(left: Any, right: Any) -> int:
    return int(left > right) - int(left < right)


def _compare(actual: Any, wanted: str) -> int | None:
    """-1/0/1 comparing the record's value with the query's text; None when they cannot be compared."""
    if actual is None:
        return 0 if wanted.lower() == "null" else None
    if isinstance(actual, bool):
        lowered = wanted.lower()
        if lowered not in ("true", "false", "1", "0"):
            return None
        return _sign(actual, lowered in ("true", "1"))
    if isinstance(actual, int | float):
        try:
            return _sign(Decimal(str(actual)), Decimal(wanted))
        except InvalidOperation:
            return None
    text = str(actual)
    moments = _as_instant(text), _as_instant(wanted)
    if moments[0] is not None and moments[1] is not None:
        return _sign(moments[0], moments[1])
    return _sign(text, wanted)


def _as_instant(text: str) -> datetime | None:
    if len(text) < 10 or not text[:4].isdigit() or text[4] != "-":
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment


@dataclass(frozen=True)
class Query:
    where: list[Where]
    order: list[tuple[str, bool]]  # (field, descending)
    limit: int
    offset: int

    def apply(self, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        selected = [r for r in records if all(w.matches(r) for w in self.where)]
        for field, descending in reversed(self.order or [("id", False)]):
            selected.sort(key=_sort_key(field), reverse=descending)
        return selected[self.offset : self.offset + self.limit]


def _sort_key(field: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    def key(record: dict[str, Any]) -> tuple[bool, Any]:
        # None sorts first ascending; the flag keeps records with and without a value comparable.
        value = record.get(field)
        return (value is not None, value)

    return key


def _integer(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FilterError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise FilterError(f"{name} must not be negative")
    return value


def parse_query(
    params: dict[str, str], known_fields: set[str] | None, default_limit: int, max_limit: int
) -> Query:
    where, order = [], []
    for key, value in params.items():
        match = _WHERE.match(key)
        if match:
            field, op = match["field"], match["op"] or "eq"
            if op not in OPERATORS:
                raise FilterError(f"unknown operator {op!r} in {key}")
            if known_fields is not None and field not in known_fields:
                raise FilterError(f"unknown field {field!r} in {key}")
            where.append(Where(field, op, value))
            continue
        match = _ORDER.match(key)
        if match:
            if value.upper() not in ("ASC", "DESC"):
                raise FilterError(f"{key} must be ASC or DESC")
            order.append((match["field"], value.upper() == "DESC"))
    limit = min(_integer(params, "limit", default_limit), max_limit)
    return Query(where, order, limit, _integer(params, "from", 0))
