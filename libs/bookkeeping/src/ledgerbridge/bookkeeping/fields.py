"""Readers for loosely typed ONTRAPORT values (numbers and flags that may arrive as strings).

Each reader takes a ``label`` describing where the value sits, so a failure names the field and the
offending value in words a bookkeeper can act on.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


class FieldError(ValueError):
    """A value could not be read; the message names the field and the value."""


_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f", ""})


def read_decimal(value: object, label: str) -> Decimal:
    """A finite Decimal from an int, float, Decimal or numeric string; raises FieldError otherwise."""
    if isinstance(value, bool) or value is None:
        raise FieldError(f"{label} ({value!r})")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | float | str):
        # str() of a float is its shortest round-tripping form, so 19.99 stays 19.99, not 19.989999…
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise FieldError(f"{label} ({value!r})") from None
    else:
        raise FieldError(f"{label} ({value!r})")
    if not number.is_finite():
        raise FieldError(f"{label} ({value!r})")
    return number


def read_optional_decimal(value: object, label: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return read_decimal(value, label)


def read_int(value: object, label: str) -> int:
    number = read_decimal(value, label)
    if number != number.to_integral_value():
        raise FieldError(f"{label} ({value!r})")
    return int(number)


def read_optional_int(value: object, label: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return read_int(value, label)


def read_flag(value: object, label: str) -> bool:
    """ONTRAPORT and its SDKs write flags as 1/0, "1"/"0", true/false or "true"/"false"."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        if value in (0, 1):
            return bool(value)
        raise FieldError(f"{label} ({value!r})")
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise FieldError(f"{label} ({value!r})")


def read_text(value: object) -> str | None:
    """Text as given, or None when absent or blank; numbers become their decimal text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None
