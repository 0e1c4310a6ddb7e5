"""The stored Onport record the bill mapping reads, and its parser.

Payload shape (``source_records.payload`` for source ``onport``), camelCase keys as Onport sends them::

    {
      "invoice":  {...},   # /purchase-invoices record: id, purchaseId, reference, adjustment,
                           # adjustmentReason, paymentStatus, finalized, createdAt, and when Onport
                           # sends them: shipping, subtotal, tax, total, currency
      "items":    [{...}], # /purchase-invoice-items records: id, purchaseItemId, quantity, each with its
                           # /purchase-items record embedded as "purchaseItem" (name, quantity, price,
                           # taxRate, exchangeIso, commissionRetained, commissionTaxRetained, commissionTaxRate)
      "purchaseItems": [{...}],  # optional: the purchase items as a separate list, matched by id, for
                                 # items that do not embed theirs
      "purchase": {...},   # /purchases record: id, purchaseType, dropshipProviderId, taxIncluded,
                           # taxShipping, combinedTaxRate, currency
      "vendor":   {...},   # /dropship-providers record: id, name, email, paymentDays, currency
      "payments": [{...}]  # /purchase-invoice-payments records: id, type, status, amount, paidAt, reference
    }

Numbers may arrive as JSON numbers or numeric strings; ``taxRate`` is a fraction (0.1 = 10 %).
Anything unreadable raises :class:`PurchaseInvoiceError` naming the field and the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.bookkeeping.fields import (
    FieldError,
    read_decimal,
    read_flag,
    read_int,
    read_optional_decimal,
    read_optional_int,
    read_text,
)


class PurchaseInvoiceError(ValueError):
    """The stored record cannot be read; the message names the field."""


@dataclass(frozen=True)
class InvoiceItem:
    id: int
    name: str
    quantity: Decimal
    """Units billed on this invoice (may be part of the purchase item's quantity)."""
    price: Decimal
    tax_rate: Decimal
    """Fraction, 0 when untaxed."""
    currency: str | None
    item_quantity: Decimal
    """The purchase item's whole quantity (commission is per purchase item)."""
    commission: Decimal
    commission_tax: Decimal
    commission_tax_rate: Decimal


@dataclass(frozen=True)
class Payout:
    id: int
    amount: Decimal
    paid_at: datetime | None
    reference: str | None
    kind: str
    """Onport ``type``: payment, overpayment, correction, refund, refundCommission."""
    active: bool


@dataclass(frozen=True)
class PurchaseInvoiceRecord:
    id: int
    reference: str
    created_at: datetime
    finalized: bool
    payment_status: str | None
    adjustment: Decimal
    adjustment_reason: str | None
    shipping: Decimal
    subtotal: Decimal | None
    tax: Decimal | None
    total: Decimal | None
    currency: str | None
    """The invoice's own currency field, when Onport sends one."""
    items: tuple[InvoiceItem, ...]
    purchase_id: int
    purchase_type: str
    tax_included: bool
    tax_shipping: bool
    combined_tax_rate: Decimal
    purchase_currency: str | None
    vendor_id: int
    vendor_name: str
    vendor_email: str | None
    vendor_payment_days: int | None
    vendor_currency: str | None
    payouts: tuple[Payout, ...]


def _object(value: object, label: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PurchaseInvoiceError(f"{label} is missing or not an object ({value!r})")
    return value


def _list(value: object, label: str) -> Sequence[Any]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise PurchaseInvoiceError(f"{label} is not a list ({value!r})")
    return value


def _stamp(value: object, label: str) -> datetime | None:
    text = read_text(value)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PurchaseInvoiceError(f"{label} is not a date and time ({value!r})") from None


def _item(row: Mapping[str, Any], index: int, purchase_items: Mapping[int, Mapping[str, Any]]) -> InvoiceItem:
    label = f"items[{index}]"
    item_id = read_int(row.get("id"), f"{label}.id")
    embedded = row.get("purchaseItem")
    if embedded is None:
        purchase_item_id = read_optional_int(row.get("purchaseItemId"), f"{label}.purchaseItemId")
        embedded = purchase_items.get(purchase_item_id) if purchase_item_id is not None else None
        if embedded is None:
            raise PurchaseInvoiceError(
                f"{label}.purchaseItem is missing and purchase item {purchase_item_id} is not in purchaseItems"
            )
    item = _object(embedded, f"{label}.purchaseItem")
    inner = f"{label}.purchaseItem"
    item_quantity = read_decimal(item.get("quantity"), f"{inner}.quantity")
    quantity = read_optional_decimal(row.get("quantity"), f"{label}.quantity")
    return InvoiceItem(
        id=item_id,
        name=read_text(item.get("name")) or f"Purchase item {item.get('id')}",
        quantity=item_quantity if quantity is None else quantity,
        price=read_decimal(item.get("price"), f"{inner}.price"),
        tax_rate=read_optional_decimal(item.get("taxRate"), f"{inner}.taxRate") or Decimal(0),
        currency=read_text(item.get("exchangeIso")),
        item_quantity=item_quantity,
        commission=read_optional_decimal(item.get("commissionRetained"), f"{inner}.commissionRetained")
        or Decimal(0),
        commission_tax=read_optional_decimal(
            item.get("commissionTaxRetained"), f"{inner}.commissionTaxRetained"
        )
        or Decimal(0),
        commission_tax_rate=read_optional_decimal(item.get("commissionTaxRate"), f"{inner}.commissionTaxRate")
        or Decimal(0),
    )


def _payout(row: object, index: int) -> Payout:
    label = f"payments[{index}]"
    payment = _object(row, label)
    return Payout(
        id=read_int(payment.get("id"), f"{label}.id"),
        amount=read_decimal(payment.get("amount"), f"{label}.amount"),
        paid_at=_stamp(payment.get("paidAt") or payment.get("createdAt"), f"{label}.paidAt"),
        reference=read_text(payment.get("reference")) or read_text(payment.get("transferId")),
        kind=read_text(payment.get("type")) or "payment",
        active=(read_text(payment.get("status")) or "active") == "active",
    )


def _parse(payload: Mapping[str, Any]) -> PurchaseInvoiceRecord:
    invoice = _object(payload.get("invoice"), "invoice")
    purchase = _object(payload.get("purchase"), "purchase")
    vendor = _object(payload.get("vendor"), "vendor")
    purchase_items = {
        read_int(_object(row, "purchaseItems[]").get("id"), "purchaseItems[].id"): row
        for row in _list(payload.get("purchaseItems"), "purchaseItems")
    }
    rows = _list(payload.get("items"), "items")
    if not rows:
        raise PurchaseInvoiceError("items is empty: a purchase invoice needs at least one line")
    invoice_id = read_int(invoice.get("id"), "invoice.id")
    reference = read_text(invoice.get("reference"))
    if reference is None:
        raise PurchaseInvoiceError(f"invoice.reference is missing on purchase invoice {invoice_id}")
    created_at = _stamp(invoice.get("createdAt"), "invoice.createdAt")
    if created_at is None:
        raise PurchaseInvoiceError(f"invoice.createdAt is missing on purchase invoice {invoice_id}")
    purchase_type = read_text(purchase.get("purchaseType"))
    if purchase_type is None:
        raise PurchaseInvoiceError(f"purchase.purchaseType is missing on purchase {purchase.get('id')}")
    vendor_id = read_int(vendor.get("id"), "vendor.id")
    return PurchaseInvoiceRecord(
        id=invoice_id,
        reference=reference,
        created_at=created_at,
        finalized=read_flag(invoice.get("finalized", True), "invoice.finalized"),
        payment_status=read_text(invoice.get("paymentStatus")),
        adjustment=read_optional_decimal(invoice.get("adjustment"), "invoice.adjustment") or Decimal(0),
        adjustment_reason=read_text(invoice.get("adjustmentReason")),
        shipping=read_optional_decimal(invoice.get("shipping"), "invoice.shipping") or Decimal(0),
        subtotal=read_optional_decimal(invoice.get("subtotal"), "invoice.subtotal"),
        tax=read_optional_decimal(invoice.get("tax"), "invoice.tax"),
        total=read_optional_decimal(invoice.get("total"), "invoice.total"),
        currency=read_text(invoice.get("currency")),
        items=tuple(
            _item(_object(row, f"items[{index}]"), index, purchase_items) for index, row in enumerate(rows)
        ),
        purchase_id=read_int(purchase.get("id"), "purchase.id"),
        purchase_type=purchase_type,
        tax_included=read_flag(purchase.get("taxIncluded"), "purchase.taxIncluded"),
        tax_shipping=read_flag(purchase.get("taxShipping"), "purchase.taxShipping"),
        combined_tax_rate=read_optional_decimal(purchase.get("combinedTaxRate"), "purchase.combinedTaxRate")
        or Decimal(0),
        purchase_currency=read_text(purchase.get("currency")),
        vendor_id=vendor_id,
        vendor_name=read_text(vendor.get("name")) or f"Onport vendor {vendor_id}",
        vendor_email=read_text(vendor.get("email")),
        vendor_payment_days=read_optional_int(vendor.get("paymentDays"), "vendor.paymentDays"),
        vendor_currency=read_text(vendor.get("currency")),
        payouts=tuple(
            _payout(row, index) for index, row in enumerate(_list(payload.get("payments"), "payments"))
        ),
    )


def parse_purchase_invoice(payload: Mapping[str, Any]) -> PurchaseInvoiceRecord:
    """Read a stored Onport record (shape in the module docstring); raises :class:`PurchaseInvoiceError`."""
    try:
        return _parse(payload)
    except FieldError as error:
        raise PurchaseInvoiceError(f"Unreadable value: {error}") from None
