"""The Onport (Jetti) records we read, typed for the fields we use.

Onport answers camelCase JSON; amounts come as numbers (sometimes strings) and are read as ``Decimal``.
Every other field is kept (``extra="allow"``); ``raw`` is the record exactly as received.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AliasGenerator, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

from ledgerbridge.common.clients.partner import PartnerRecord


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, float):
        # Through str, so 0.1 stays 0.1 rather than its binary approximation.
        return str(value)
    return value


Money = Annotated[Decimal | None, BeforeValidator(_blank_to_none)]
Int = Annotated[int | None, BeforeValidator(_blank_to_none)]
Stamp = Annotated[datetime | None, BeforeValidator(_blank_to_none)]


class OnportRecord(PartnerRecord):
    model_config = ConfigDict(
        extra="allow", populate_by_name=True, alias_generator=AliasGenerator(validation_alias=to_camel)
    )

    id: int
    created_at: Stamp = None
    updated_at: Stamp = None


class PurchaseInvoice(OnportRecord):
    purchase_id: Int = None
    reference: str | None = None
    """The vendor's invoice number."""
    adjustment: Money = None
    adjustment_reason: str | None = None
    payment_status: str | None = None
    paid: Money = None
    source: str | None = None
    xero_id: str | None = None
    finalized: bool | None = None
    currency: str | None = None
    shipping: Money = None
    subtotal: Money = None
    tax: Money = None
    total: Money = None


class PurchaseInvoiceItem(OnportRecord):
    purchase_invoice_id: Int = None
    purchase_item_id: Int = None
    quantity: Money = None


class Purchase(OnportRecord):
    reference: str | None = None
    purchase_type: str | None = None
    """dropship, replenishment, automated_dropship, automated_replenishment…"""
    dropship_provider_id: Int = None
    currency: str | None = None
    tax_included: bool | None = None
    tax_shipping: bool | None = None
    combined_tax_rate: Money = None
    shipping: Money = None
    subtotal: Money = None
    tax: Money = None
    total: Money = None
    date_ordered: Stamp = None


class PurchaseItem(OnportRecord):
    purchase_id: Int = None
    purchase_invoice_id: Int = None
    name: str | None = None
    quantity: Money = None
    price: Money = None
    subtotal: Money = None
    taxable: bool | None = None
    tax: Money = None
    tax_rate: Money = None
    exchange_iso: str | None = None
    exchange_rate: Money = None
    quantity_invoiced: Money = None


class DropshipProvider(OnportRecord):
    name: str | None = None
    order_currency_code: str | None = None
    email: str | None = None
    currency: str | None = None
    payment_days: Int = None
    terms: str | None = None
    type: str | None = None
    status: str | None = None
    country: str | None = None
    tax_included: bool | None = None
    tax_shipping: bool | None = None
    xero_id: str | None = None


class PurchaseInvoicePayment(OnportRecord):
    purchase_invoice_id: Int = None
    type: str | None = None
    status: str | None = None
    amount: Money = None
    exchange_rate: Money = None
    paid_at: Stamp = None
    reference: str | None = None
    transfer_id: str | None = None
    xero_id: str | None = None


class PurchaseShippingRate(OnportRecord):
    """Shipping on a purchase; ``invoice_shipping`` rows with a ``purchase_invoice_id`` are invoiced."""

    purchase_id: Int = None
    purchase_invoice_id: Int = None
    invoice_shipping: bool | None = None
    invoice_shipping_type: str | None = None
    """addition, deduct or commission."""
    price: Money = None


class LandedCostCharge(OnportRecord):
    """A landed cost on an invoice (``/landed-cost-purchase-invoices``) or one of its lines
    (``/landed-cost-purchase-invoice-items``)."""

    landed_cost_id: Int = None
    purchase_invoice_id: Int = None
    purchase_invoice_item_id: Int = None
    amount: Money = None


class LandedCost(OnportRecord):
    name: str | None = None
    type: str | None = None


class Currency(OnportRecord):
    name: str | None = None
    iso: str | None = None
    symbol: str | None = None
    exchange_rate: Money = None


class AccountingIntegration(OnportRecord):
    """Onport's "custom accounting integration": where it pushes invoices, per purchase kind."""

    name: str | None = None
    dropship_endpoint: str | None = None
    replenishment_endpoint: str | None = None
    sale_endpoint: str | None = None
