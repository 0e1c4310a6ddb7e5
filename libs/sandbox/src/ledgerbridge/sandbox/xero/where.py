"""The practical subset of Xero's ``where`` filter language that API clients use.

Supported: ``Field==value`` and ``!= > >= < <=`` on dotted paths (``Contact.ContactID``), values that are
strings, numbers, ``true``/``false``/``null``, ``Guid("...")`` and ``DateTime(2024,1,31)``; the methods
``Contains``, ``StartsWith``, ``EndsWith`` and ``ToLower()``/``ToUpper()``; ``AND``/``OR``/``NOT`` (also
``&&``/``||``) with parentheses. String comparisons ignore case, as Xero's do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from ledgerbridge.sandbox.xero.dates import parse_date

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<op>==|!=|>=|<=|>|<|&&|\|\||\(|\)|,|\.|!)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


class WhereError(ValueError):
    """The filter could not be parsed; Xero answers 400 for these."""


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise WhereError(f"cannot parse where clause near {text[position : position + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tokens


class _DateLiteral:
    def __init__(self, value: date) -> None:
        self.value = value


def _as_date(value: Any) -> date | None:
    if isinstance(value, str) and value:
        try:
            return parse_date(value)
        except ValueError:
            return None
    return None


def _get(document: dict[str, Any], path: list[str]) -> Any:
    current: Any = document
    for part in path:
        if isinstance(current, dict):
            # Xero field names are case-insensitive in filters.
            lowered = {key.lower(): key for key in current}
            key = lowered.get(part.lower())
            current = current.get(key) if key is not None else None
        else:
            return None
    return current


def _compare(left: Any, op: str, right: Any) -> bool:
    if isinstance(right, _DateLiteral):
        left_date = _as_date(left)
        if left_date is None:
            return op == "!="
        pair: tuple[Any, Any] = (left_date, right.value)
    elif right is None:
        empty = left is None or left == ""
        return empty if op == "==" else (not empty if op == "!=" else False)
    elif isinstance(right, bool):
        pair = (bool(left) if left is not None else False, right)
    elif isinstance(right, (int, float)):
        if not isinstance(left, (int, float)):
            return op == "!="
        pair = (left, right)
    else:
        pair = (str(left).lower() if left is not None else None, str(right).lower())
        if pair[0] is None:
            return op == "!="
    a, b = pair
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == ">":
        return bool(a > b)
    if op == ">=":
        return bool(a >= b)
    if op == "<":
        return bool(a < b)
    return bool(a <= b)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise WhereError("where clause ends too early")
        self.position += 1
        return token

    def expect(self, value: str) -> None:
        _, text = self.take()
        if text != value:
            raise WhereError(f"expected {value!r}, found {text!r}")

    def keyword(self, *words: str) -> bool:
        token = self.peek()
        if token and token[1].upper() in words:
            self.position += 1
            return True
        return False

    def parse(self) -> Predicate:
        predicate = self.expression()
        leftover = self.peek()
        if leftover is not None:
            raise WhereError(f"unexpected {leftover[1]!r} in where clause")
        return predicate

    def expression(self) -> Predicate:
        terms = [self.term()]
        while self.keyword("OR", "||"):
            terms.append(self.term())
        if len(terms) == 1:
            return terms[0]
        return lambda document: any(term(document) for term in terms)

    def term(self) -> Predicate:
        factors = [self.factor()]
        while self.keyword("AND", "&&"):
            factors.append(self.factor())
        if len(factors) == 1:
            return factors[0]
        return lambda document: all(factor(document) for factor in factors)

    def factor(self) -> Predicate:
        if self.keyword("NOT", "!"):
            inner = self.factor()
            return lambda document: not inner(document)
        token = self.peek()
        if token and token[1] == "(":
            self.take()
            inner = self.expression()
            self.expect(")")
            return inner
        return self.comparison()

    def literal(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return bytes(text[1:-1], "utf-8").decode("unicode_escape")
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "name":
            lowered = text.lower()
            if lowered in ("true", "false"):
                return lowered == "true"
            if lowered == "null":
                return None
            if lowered == "guid":
                self.expect("(")
                value = self.literal()
                self.expect(")")
                return str(value)
            if lowered in ("datetime", "datetimeoffset"):
                self.expect("(")
                parts = [int(self.literal())]
                while self.peek() and self.peek() == ("op", ","):
                    self.take()
                    parts.append(int(self.literal()))
                self.expect(")")
                if len(parts) < 3:
                    raise WhereError("DateTime needs a year, month and day")
                return _DateLiteral(date(parts[0], parts[1], parts[2]))
        raise WhereError(f"expected a value, found {text!r}")

    def comparison(self) -> Predicate:
        kind, text = self.take()
        if kind != "name":
            raise WhereError(f"expected a field name, found {text!r}")
        path = [text]
        transform: Callable[[Any], Any] = lambda value: value  # noqa: E731
        method: str | None = None
        while self.peek() == ("op", "."):
            self.take()
            _, part = self.take()
            if part in ("Contains", "StartsWith", "EndsWith"):
                method = part
                break
            if part in ("ToLower", "ToUpper"):
                self.expect("(")
                self.expect(")")
                transform = str.lower if part == "ToLower" else str.upper
                continue
            path.append(part)
        if method is not None:
            self.expect("(")
            needle = str(self.literal()).lower()
            self.expect(")")
            checks: dict[str, Callable[[str], bool]] = {
                "Contains": lambda value: needle in value,
                "StartsWith": lambda value: value.startswith(needle),
                "EndsWith": lambda value: value.endswith(needle),
            }
            check = checks[method]
            return lambda document: check(str(_get(document, path) or "").lower())
        token = self.peek()
        if token is None or token[1] not in ("==", "!=", ">", ">=", "<", "<="):
            # A bare boolean field, e.g. ``IsSupplier``.
            return lambda document: bool(_get(document, path))
        op = self.take()[1]
        right = self.literal()

        def predicate(document: dict[str, Any]) -> bool:
            value = _get(document, path)
            if isinstance(value, str):
                value = transform(value)
            return _compare(value, op, right)

        return predicate


def compile_where(text: str) -> Predicate:
    return _Parser(text).parse()
