"""A transaction's ONTRAPORT Purchase objects (object 17): where its coupon is when ``offer_data`` has none.

The public SDKs' offer models carry no coupon block, while every Purchase (one per product line, with
``invoice_id`` = the transaction's id) names its ``coupon_id``, ``coupon_code``, ``coupon_name`` and the
``discount`` taken off that line (SPEC §4 item 12). The coupon is read from ``offer_data`` when it is
there, otherwise from the purchases; when neither explains the gap between the lines and the total, the
invoice rules fail the record with both figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from ledgerbridge.bookkeeping.fields import (
    FieldError,
    read_decimal,
    read_optional_decimal,
    read_optional_int,
    read_text,
)
from ledgerbridge.bookkeeping.sales.offer_data import OfferCoupon, OfferDataError, parse_offer_data
from ledgerbridge.bookkeeping.sales.rules import NEVER_SYNCED
from ledgerbridge.bookkeeping.sales.transaction import Transaction, TransactionStatus


class PurchaseError(ValueError):
    """A Purchase object could not be read; the message names the purchase, the field and the value."""


@dataclass(frozen=True)
class Purchase:
    id: int | None
    product_id: int | None
    invoice_id: int | None
    coupon_id: int | None
    coupon_code: str | None
    coupon_name: str | None
    discount: Decimal


def _id(value: Any, message: str) -> int | None:
    """ONTRAPORT writes ``0`` for "none" in its id fields."""
    number = read_optional_int(value, message)
    return number or None


def _purchase(record: Mapping[str, Any], position: int) -> Purchase:
    where = f"purchase {record.get('id', position)}"
    try:
        return Purchase(
            id=_id(record.get("id"), f"{where} has no readable id"),
            product_id=_id(record.get("product_id"), f"{where}: field 'product_id' is not a whole number"),
            invoice_id=_id(record.get("invoice_id"), f"{where}: field 'invoice_id' is not a whole number"),
            coupon_id=_id(record.get("coupon_id"), f"{where}: field 'coupon_id' is not a whole number"),
            coupon_code=read_text(record.get("coupon_code")),
            coupon_name=read_text(record.get("coupon_name")),
            discount=read_optional_decimal(
                record.get("discount"), f"{where}: field 'discount' is not a number"
            )
            or Decimal(0),
        )
    except FieldError as error:
        raise PurchaseError(str(error)) from None


def parse_purchases(records: Sequence[Mapping[str, Any]]) -> tuple[Purchase, ...]:
    """Read raw Purchase dicts (values may be strings); raises :class:`PurchaseError`."""
    purchases = tuple(_purchase(record, position) for position, record in enumerate(records, start=1))
    for purchase in purchases:
        if purchase.discount < 0:
            raise PurchaseError(f"purchase {purchase.id} has a negative discount ({purchase.discount})")
    return purchases


def coupon_from_purchases(transaction_id: int, purchases: Sequence[Purchase]) -> OfferCoupon | None:
    """The coupon the purchases of one transaction carry, with the discount each product got."""
    mine = [p for p in purchases if p.invoice_id in (None, transaction_id)]
    discounted = [p for p in mine if p.discount]
    if not discounted:
        return None
    coupons = {(p.coupon_id, p.coupon_code) for p in discounted}
    if len(coupons) > 1:
        names = sorted(p.coupon_code or str(p.coupon_id) for p in discounted)
        raise PurchaseError(
            f"transaction {transaction_id}: its purchases carry several coupons ({', '.join(names)}); "
            "one invoice takes one coupon"
        )
    if any(p.product_id is None for p in discounted):
        raise PurchaseError(
            f"transaction {transaction_id}: a discounted purchase names no product, so its discount "
            "cannot be put on a line"
        )
    per_product: dict[int, Decimal] = {}
    for purchase in discounted:
        assert purchase.product_id is not None  # checked above
        per_product[purchase.product_id] = (
            per_product.get(purchase.product_id, Decimal(0)) + purchase.discount
        )
    first = discounted[0]
    return OfferCoupon(
        id=first.coupon_id,
        code=first.coupon_code or first.coupon_name,
        discount=sum(per_product.values(), Decimal(0)),
        product_ids=frozenset(per_product),
        product_discounts=tuple(sorted(per_product.items())),
    )


def with_purchases(transaction: Transaction, purchases: Sequence[Mapping[str, Any]] | None) -> Transaction:
    """The transaction with its coupon read from its purchases when ``offer_data`` names none."""
    if transaction.offer.coupon is not None or not purchases:
        return transaction
    coupon = coupon_from_purchases(transaction.id, parse_purchases(purchases))
    if coupon is None:
        return transaction
    return replace(transaction, offer=replace(transaction.offer, coupon=coupon))


def needs_purchases(record: Mapping[str, Any]) -> bool:
    """Whether a raw transaction's purchases must be read to map it: it may become an invoice, its
    ``offer_data`` names no coupon, and its figures show money taken off (subtotal + shipping + tax is
    more than the total). A partial refund lowers the total too, so those are read as well: the
    charge they are booked at must know its discount. Everything else costs no extra call."""
    try:
        status = TransactionStatus(int(str(record.get("status"))))
        offer = parse_offer_data(record.get("offer_data"))
        parts = [
            read_decimal(record.get(name) or 0, name) for name in ("subtotal", "shipping", "tax", "total")
        ]
    except (ValueError, OfferDataError, FieldError):
        return False  # unreadable: the mapping fails it with the reason, purchases would not help
    if status in NEVER_SYNCED or status is TransactionStatus.VOID or offer.coupon is not None:
        return False
    subtotal, shipping, tax, total = parts
    return subtotal + shipping + tax > total
