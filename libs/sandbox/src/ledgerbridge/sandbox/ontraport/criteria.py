"""ONTRAPORT's ``condition`` parameter: parsing and evaluating it against string-valued records.

The JSON form is a list of comparisons joined by ``"AND"``/``"OR"`` strings::

    [{"field":{"field":"id"},"op":">","value":{"value":1200}}, "AND",
     {"field":{"field":"status"},"op":"IN","value":{"list":[{"value":2},{"value":3}]}}]

AND binds tighter than OR (as in the SQL ONTRAPORT builds from it); two comparisons with no joiner
between them are ANDed. The older string form (``id > 5``, ``status = 1 AND id >= 1100``,
``status IN (2,3)``) is accepted for simple comparisons. Values compare as numbers when both sides
look numeric, otherwise as strings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

OPERATORS = ("=", "<>", ">", "<", ">=", "<=", "IN")


class ConditionError(ValueError):
    """The condition cannot be read; the message says why, as ONTRAPORT's 400 does."""


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str
    values: tuple[str, ...]

    def matches(self, record: dict[str, Any]) -> bool:
        actual = record.get(self.field)
        if actual is None:
            return False
        if self.op == "IN":
            return _is_in(str(actual), self.values)
        order = _compare(actual, self.values[0])
        return {
            "=": order == 0,
            "<>": order != 0,
            ">": order > 0,
            "<": order < 0,
            ">=": order >= 0,
            "<=": order <= 0,
        }[self.op]


# OR of ANDs
Condition = list[list[Comparison]]


# Every page of a list filters the whole account through here; its values repeat from page to page, so
# each string is parsed once (a Decimal is immutable, safe to share).
@lru_cache(maxsize=1 << 16)
def _number(value: str) -> Decimal | None:
    try:
        return Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None


@lru_cache(maxsize=1024)
def _in_sets(values: tuple[str, ...]) -> tuple[frozenset[Decimal], frozenset[str], frozenset[str]]:
    """An IN list as sets: its numbers, all its values as text, and its values that are not numbers."""
    numbers = {_number(value) for value in values}
    return (
        frozenset(n for n in numbers if n is not None),
        frozenset(values),
        frozenset(value for value in values if _number(value) is None),
    )


def _is_in(text: str, values: tuple[str, ...]) -> bool:
    """``any(_compare(text, value) == 0 for value in values)`` by set lookups: a list of ids is checked
    against every record of the account."""
    numbers, texts, not_numbers = _in_sets(values)
    number = _number(text)
    if number is None:
        return text in texts
    return number in numbers or text in not_numbers


def _compare(left: Any, right: str) -> int:
    left_text = str(left)
    left_number, right_number = _number(left_text), _number(right)
    if left_number is not None and right_number is not None:
        return (left_number > right_number) - (left_number < right_number)
    return (left_text > right) - (left_text < right)


def _scalar(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise ConditionError(f"Invalid condition value: {json.dumps(value)}")
    return str(value)


def _comparison_from_json(item: Any) -> Comparison:
    if not isinstance(item, dict):
        raise ConditionError(f"Invalid condition item: {json.dumps(item)}")
    field_part = item.get("field")
    field = field_part.get("field") if isinstance(field_part, dict) else field_part
    if not isinstance(field, str) or not field:
        raise ConditionError("Invalid condition: missing field")
    op = str(item.get("op", "")).upper()
    if op not in OPERATORS:
        raise ConditionError(f"Invalid condition operator: {item.get('op')!r}")
    value_part = item.get("value")
    if op == "IN":
        listed = value_part.get("list") if isinstance(value_part, dict) else value_part
        if not isinstance(listed, list) or not listed:
            raise ConditionError("Invalid condition: IN needs a non-empty list")
        values = tuple(_scalar(v.get("value") if isinstance(v, dict) else v) for v in listed)
        return Comparison(field, op, values)
    value = value_part.get("value") if isinstance(value_part, dict) else value_part
    return Comparison(field, op, (_scalar(value),))


def _from_json(items: Any) -> Condition:
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise ConditionError("Invalid condition: expected a list")
    groups: Condition = [[]]
    expecting_comparison = True
    for item in items:
        if isinstance(item, str):
            joiner = item.strip().upper()
            if joiner not in ("AND", "OR") or expecting_comparison:
                raise ConditionError(f"Invalid condition joiner: {item!r}")
            if joiner == "OR":
                groups.append([])
            expecting_comparison = True
            continue
        groups[-1].append(_comparison_from_json(item))
        expecting_comparison = False
    if expecting_comparison and items:
        raise ConditionError("Invalid condition: ends with a joiner")
    return [group for group in groups if group]


_SIMPLE = re.compile(
    r"""^\s*`?(?P<field>[A-Za-z_][A-Za-z0-9_]*)`?\s*
        (?P<op><>|>=|<=|=|>|<|\bIN\b)\s*
        (?P<value>\(.*\)|'[^']*'|"[^"]*"|[^\s()]+)\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _from_string(text: str) -> Condition:
    groups: Condition = []
    for or_part in re.split(r"\s+OR\s+", text, flags=re.IGNORECASE):
        group = []
        for part in re.split(r"\s+AND\s+", or_part, flags=re.IGNORECASE):
            match = _SIMPLE.match(part)
            if match is None:
                raise ConditionError(f"Invalid condition: {part.strip()!r}")
            op = match["op"].upper()
            raw = match["value"]
            if op == "IN":
                if not raw.startswith("("):
                    raise ConditionError("Invalid condition: IN needs a parenthesised list")
                values = tuple(_unquote(v) for v in raw[1:-1].split(",") if v.strip())
            else:
                values = (_unquote(raw),)
            group.append(Comparison(match["field"], op, values))
        groups.append(group)
    return groups


def parse_condition(text: str | None) -> Condition:
    if text is None or not text.strip():
        return []
    stripped = text.strip()
    if stripped[0] in "[{":
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise ConditionError(f"Invalid condition JSON: {error.msg}") from error
        return _from_json(parsed)
    return _from_string(stripped)


def matches(condition: Condition, record: dict[str, Any]) -> bool:
    if not condition:
        return True
    return any(all(comparison.matches(record) for comparison in group) for group in condition)
