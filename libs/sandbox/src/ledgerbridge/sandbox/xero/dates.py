"""Xero's date formats: MS JSON dates out (``/Date(ms+0000)/``), several forms accepted in."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def ms_date(timestamp: float) -> str:
    return f"/Date({int(timestamp * 1000)}+0000)/"


def ms_date_of(day: date) -> str:
    return ms_date(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def date_string(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def parse_date(value: str) -> date:
    """Accepts ``2024-01-31``, ``2024-01-31T10:00:00`` and ``/Date(1706659200000+0000)/``."""
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).date()
    return date.fromisoformat(text[:10])


def utc_string(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S")
