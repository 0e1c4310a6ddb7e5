"""The stored Onport record the bill mapping reads, and its parser.

Payload shape (``source_records.payload`` for source ``onport``), camelCase keys as Onport sends them::

    {
      "invoice":  {...},   # /purchase-invoices record: id, purchaseId, reference, adjustment,
                           # adjustmentReason, paymentStatus, finalized, createdAt (no totals,
                           # currency or shipping: Onport keeps those on the lines and beside it)
      "items":    [{...}], # /purchase-invoice-items records: id, purchaseItemId, quantity, each with its
                           # /purchase-items record embedded as "purchaseItem" (name, quantity, price,
                           # taxRate, exchangeIso, commissionRetained, commissionTaxRetained, commissionTaxRate)
      "purchaseItems": [{...}],  # optional: the purchase items as a separate list, matched by id, for
                                 # items that do not embed theirs
      "purchase": {...},   # /purchases record: id, purchaseType, dropshipProviderId, taxIncluded,
                           # taxShipping, combinedTaxRate
      "vendor":   {...},   # /dropship-providers record: id, name, paymentDays, orderCurrencyCode
      "payments": [{...}], # /purchase-invoice-payments records: id, type, status, amount, paidAt, reference
      "shippingRates": [{...}],  # /purchase-shipping-rates of the invoice: invoiceShipping,
                                 # invoiceShippingType (addition/deduct/commission), price, serviceLevel
      "landedCosts": [{...}],    # /landed-cost-purchase-invoices of the invoice: amount, landedCostId,
                                 # with its /landed-costs record embedded as "landedCost" (name)
      "landedCostItems": [{...}] # /landed-cost-purchase-invoice-items of its lines: amount,
                                 # purchaseInvoiceItemId, "landedCost" embedded
    }

``shippingRates`` missing altogether (rather than empty) means the invoice's charges were not read
yet, e.g. an invoice pushed by Onport before our next poll: :attr:`PurchaseInvoiceRecord.charges_known`
is then False.

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
class Charge:
    """A bill line beside the products: invoiced shipping or a landed cost."""

    description: str
    amount: Decimal
    """Signed: a shipping deduction is negative."""
    kind: str
    """``shipping`` or ``landed_cost``."""


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
    charges: tuple[Charge, ...]
    charges_known: bool
    """False when the stored payload has no ``shippingRates`` (not read from Onport yet)."""
    items: tuple[InvoiceItem, ...]
    purchase_id: int
    purchase_type: str
    tax_included: bool
    tax_shipping: bool
    combined_tax_rate: Decimal
    vendor_id: int
    vendor_name: str
    vendor_email: str | None
    vendor_payment_days: int | None
    vendor_currency: str | None
    payouts: tuple[Payout, ...]

    @property
    def shipping(self) -> Decimal:
        return sum((c.amount for c in self.charges if c.kind == "shipping"), Decimal(0))


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


def _shipping(row: object, index: int) -> Charge | None:
    label = f"shippingRates[{index}]"
    rate = _object(row, label)
    kind = read_text(rate.get("invoiceShippingType")) or "addition"
    # Only invoiced shipping is billed; a "commission" rate is the marketplace's cut, not the vendor's.
    if not read_flag(rate.get("invoiceShipping", False), f"{label}.invoiceShipping") or kind == "commission":
        return None
    price = read_decimal(rate.get("price"), f"{label}.price")
    level = read_text(rate.get("serviceLevel")) or read_text(rate.get("provider"))
    name = f"Shipping: {level}" if level else "Shipping"
    return Charge(name, -price if kind == "deduct" else price, "shipping")


def _landed_cost(row: object, label: str, items: Mapping[int, str]) -> Charge:
    cost = _object(row, label)
    embedded = cost.get("landedCost")
    name = read_text(embedded.get("name")) if isinstance(embedded, Mapping) else None
    name = name or f"Landed cost {cost.get('landedCostId')}"
    item_id = read_optional_int(cost.get("purchaseInvoiceItemId"), f"{label}.purchaseInvoiceItemId")
    if item_id is not None:
        name = f"{name} ({items.get(item_id, f'line {item_id}')})"
    return Charge(f"Landed cost: {name}", read_decimal(cost.get("amount"), f"{label}.amount"), "landed_cost")


def _charges(payload: Mapping[str, Any], items: tuple[InvoiceItem, ...]) -> tuple[Charge, ...]:
    names = {item.id: item.name for item in items}
    shipping = [
        _shipping(row, i) for i, row in enumerate(_list(payload.get("shippingRates"), "shippingRates"))
    ]
    landed = [
        _landed_cost(row, f"{key}[{i}]", names)
        for key in ("landedCosts", "landedCostItems")
        for i, row in enumerate(_list(payload.get(key), key))
    ]
    return tuple(charge for charge in [*shipping, *landed] if charge is not None and charge.amount)


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
    items = tuple(
        _item(_object(row, f"items[{index}]"), index, purchase_items) for index, row in enumerate(rows)
    )
    return PurchaseInvoiceRecord(
        id=invoice_id,
        reference=reference,
        created_at=created_at,
        finalized=read_flag(invoice.get("finalized", True), "invoice.finalized"),
        payment_status=read_text(invoice.get("paymentStatus")),
        adjustment=read_optional_decimal(invoice.get("adjustment"), "invoice.adjustment") or Decimal(0),
        adjustment_reason=read_text(invoice.get("adjustmentReason")),
        charges=_charges(payload, items),
        charges_known="shippingRates" in payload,
        items=items,
        purchase_id=read_int(purchase.get("id"), "purchase.id"),
        purchase_type=purchase_type,
        tax_included=read_flag(purchase.get("taxIncluded"), "purchase.taxIncluded"),
        tax_shipping=read_flag(purchase.get("taxShipping"), "purchase.taxShipping"),
        combined_tax_rate=read_optional_decimal(purchase.get("combinedTaxRate"), "purchase.combinedTaxRate")
        or Decimal(0),
        vendor_id=vendor_id,
        vendor_name=read_text(vendor.get("name")) or f"Onport vendor {vendor_id}",
        vendor_email=read_text(vendor.get("email")),
        vendor_payment_days=read_optional_int(vendor.get("paymentDays"), "vendor.paymentDays"),
        vendor_currency=read_text(vendor.get("orderCurrencyCode")),
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
