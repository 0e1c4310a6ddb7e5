"""ONTRAPORT API client (SPEC.md §3.2)."""

from ledgerbridge.common.clients.ontraport.client import (
    MAX_RANGE,
    ObjectType,
    OntraportClient,
    OntraportError,
    OntraportNotFoundError,
)
from ledgerbridge.common.clients.ontraport.criteria import Criteria, Field, field
from ledgerbridge.common.clients.ontraport.limits import (
    DEFAULT_CALLS_PER_MINUTE,
    account_limiter_key,
    ontraport_limiter,
)
from ledgerbridge.common.clients.ontraport.models import (
    AccountCheck,
    Contact,
    Coupon,
    CouponCode,
    Gateway,
    Product,
    ShippingMethod,
    Tax,
    Transaction,
    TransactionOrder,
    TransactionsInfo,
    Webhook,
)

__all__ = [
    "DEFAULT_CALLS_PER_MINUTE",
    "MAX_RANGE",
    "AccountCheck",
    "Contact",
    "Coupon",
    "CouponCode",
    "Criteria",
    "Field",
    "Gateway",
    "ObjectType",
    "OntraportClient",
    "OntraportError",
    "OntraportNotFoundError",
    "Product",
    "ShippingMethod",
    "Tax",
    "Transaction",
    "TransactionOrder",
    "TransactionsInfo",
    "Webhook",
    "account_limiter_key",
    "field",
    "ontraport_limiter",
]
