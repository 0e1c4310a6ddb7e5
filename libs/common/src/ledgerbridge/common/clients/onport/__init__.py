"""Onport (Jetti) API client (SPEC.md §3.3)."""

from ledgerbridge.common.clients.onport.client import (
    DEFAULT_PAGE_SIZE,
    READ,
    WRITE,
    OnportClient,
    OnportError,
    OnportNotFoundError,
    account_limiter_key,
    onport_limiter,
)
from ledgerbridge.common.clients.onport.models import (
    AccountingIntegration,
    Currency,
    DropshipProvider,
    LandedCost,
    LandedCostCharge,
    Purchase,
    PurchaseInvoice,
    PurchaseInvoiceItem,
    PurchaseInvoicePayment,
    PurchaseItem,
    PurchaseShippingRate,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "READ",
    "WRITE",
    "AccountingIntegration",
    "Currency",
    "DropshipProvider",
    "LandedCost",
    "LandedCostCharge",
    "OnportClient",
    "OnportError",
    "OnportNotFoundError",
    "Purchase",
    "PurchaseInvoice",
    "PurchaseInvoiceItem",
    "PurchaseInvoicePayment",
    "PurchaseItem",
    "PurchaseShippingRate",
    "account_limiter_key",
    "onport_limiter",
]
