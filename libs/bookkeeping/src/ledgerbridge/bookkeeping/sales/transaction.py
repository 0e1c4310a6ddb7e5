"""The ONTRAPORT Transaction record (object type 46), read from the API's raw dict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from typing import Any

from ledgerbridge.bookkeeping.fields import (
    FieldError,
    read_decimal,
    read_int,
    read_optional_int,
    read_text,
)
from ledgerbridge.bookkeeping.sales.offer_data import OfferData, parse_offer_data


class TransactionError(ValueError):
    """The transaction record could not be read; the message names the field and the value."""


class TransactionStatus(IntEnum):
    UNPAID = 0
    PAID = 1
    REFUNDED = 2
    PARTIALLY_REFUNDED = 3
    VOID = 4
    DECLINED = 5
    WRITTEN_OFF = 6
    PENDING = 7


@dataclass(frozen=True)
class Transaction:
    id: int
    contact_id: int
    contact_name: str | None
    date: int
    """Unix seconds."""
    status: TransactionStatus
    subtotal: Decimal
    tax: Decimal
    shipping: Decimal
    total: Decimal
    gateway_id: int | None
    order_id: int | None
    external_order_id: str | None
    gateway_transaction_id: str | None
    """The payment gateway's own id for the charge, when the record carries one."""
    offer: OfferData


def _money(record: Mapping[str, Any], field: str) -> Decimal:
    value = record.get(field)
    if value is None or value == "":
        return Decimal(0)
    return read_decimal(value, f"transaction: field {field!r} is not a number")


def parse_transaction(record: Mapping[str, Any]) -> Transaction:
    """Read a raw ONTRAPORT transaction dict; numbers may be strings.

    Raises :class:`TransactionError` for unreadable fields and
    :class:`~ledgerbridge.bookkeeping.sales.offer_data.OfferDataError` for unreadable ``offer_data``.
    """
    try:
        transaction_id = read_int(record.get("id"), "transaction: field 'id' is not a whole number")
        contact_id = read_int(
            record.get("contact_id"), "transaction: field 'contact_id' is not a whole number"
        )
        date = read_int(record.get("date"), "transaction: field 'date' is not unix seconds")
        raw_status = read_int(record.get("status"), "transaction: field 'status' is not a whole number")
        gateway_id = read_optional_int(
            record.get("gateway_id"), "transaction: field 'gateway_id' is not a whole number"
        )
        order_id = read_optional_int(
            record.get("order_id"), "transaction: field 'order_id' is not a whole number"
        )
        subtotal, tax, shipping, total = (
            _money(record, field) for field in ("subtotal", "tax", "shipping", "total")
        )
    except FieldError as error:
        raise TransactionError(str(error)) from None
    try:
        status = TransactionStatus(raw_status)
    except ValueError:
        raise TransactionError(
            f"transaction: field 'status' is not a known status 0..7 ({record.get('status')!r})"
        ) from None
    return Transaction(
        id=transaction_id,
        contact_id=contact_id,
        contact_name=read_text(record.get("contact_name")),
        date=date,
        status=status,
        subtotal=subtotal,
        tax=tax,
        shipping=shipping,
        total=total,
        gateway_id=gateway_id,
        order_id=order_id,
        external_order_id=read_text(record.get("external_order_id")),
        gateway_transaction_id=read_text(record.get("gateway_transaction_id")),
        offer=parse_offer_data(record.get("offer_data")),
    )
