"""The storage of one sandbox Onport account: its tables, ids and timestamps.

Records are served as stored, so they hold only fields Onport's OpenAPI declares; what Onport keeps
nowhere on a record (a purchase's currency and shipping price, a vendor's kind, an invoice's totals)
lives in side tables here that the API never serves.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ledgerbridge.sandbox.onport.amounts import InvoiceAmounts

RESOURCES = (
    "currencies",
    "dropship-providers",
    "purchases",
    "purchase-items",
    "purchase-invoices",
    "purchase-invoice-items",
    "purchase-invoice-payments",
    "purchase-shipping-rates",
    "landed-costs",
    "landed-cost-purchase-invoices",
    "landed-cost-purchase-invoice-items",
)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def number(value: Decimal) -> float:
    return float(value)


class Tables:
    """The tables of one account and the way records get ids and stamps."""

    def __init__(self, seed: int, start_date: str) -> None:
        self.rng = random.Random(seed)
        self.tables: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in RESOURCES}
        self._next_ids = dict.fromkeys(RESOURCES, 1)
        self._next_ids["purchases"] = 1001
        self._next_ids["purchase-invoices"] = 5001
        self._cursor = parse_iso(start_date)
        self._seeding = True
        self._last_stamp = self._cursor
        # What the schema has no field for, kept beside the records (never served).
        self.vendor_kinds: dict[int, str] = {}
        self.purchase_currency: dict[int, str] = {}
        self.purchase_shipping: dict[int, Decimal] = {}
        self.amounts: dict[int, InvoiceAmounts] = {}

    # -- time and ids -------------------------------------------------------------------------------
    def _stamp(self) -> str:
        """Generated history uses synthetic dates; later changes use the real clock, never going back,
        so ``where[updatedAt][gt]=<last seen>`` always finds them."""
        moment = self._cursor if self._seeding else datetime.now(UTC)
        moment = max(moment, self._last_stamp + timedelta(milliseconds=1))
        self._last_stamp = moment
        return iso(moment)

    def _insert(self, resource: str, record: dict[str, Any]) -> dict[str, Any]:
        record_id = self._next_ids[resource]
        self._next_ids[resource] += 1
        stamp = self._stamp()
        full = {"id": record_id, **record, "createdAt": stamp, "updatedAt": stamp}
        self.tables[resource][record_id] = full
        return full

    def touch(self, record: dict[str, Any]) -> None:
        record["updatedAt"] = self._stamp()

    def _items_of(self, resource: str, key: str, owner_id: int) -> list[dict[str, Any]]:
        return [r for r in self.tables[resource].values() if r[key] == owner_id]
