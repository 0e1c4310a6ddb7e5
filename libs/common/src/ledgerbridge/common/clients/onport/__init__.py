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
    Purchase,
    PurchaseInvoice,
    PurchaseInvoiceItem,
    PurchaseInvoicePayment,
    PurchaseItem,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "READ",
    "WRITE",
    "AccountingIntegration",
    "Currency",
    "DropshipProvider",
    "OnportClient",
    "OnportError",
    "OnportNotFoundError",
    "Purchase",
    "PurchaseInvoice",
    "PurchaseInvoiceItem",
    "PurchaseInvoicePayment",
    "PurchaseItem",
    "account_limiter_key",
    "onport_limiter",
]
