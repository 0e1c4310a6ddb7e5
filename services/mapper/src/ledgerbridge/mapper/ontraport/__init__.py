"""Pure mapping of ONTRAPORT transactions to Xero documents (SPEC §4).

Entry point: :func:`map_transaction` → :data:`Decision` (:class:`Publish`, :class:`Skip`, :class:`Fail`,
:class:`Wait`, :class:`NoChange`). No I/O: every input, including what was already published, is passed in.
"""

from ledgerbridge.mapper.documents import (
    DocumentKind,
    XeroDocument,
    XeroTotals,
    fingerprint,
    idempotency_key,
    json_default,
    to_json_ready,
    xero_totals,
)
from ledgerbridge.mapper.ontraport.decisions import Decision, Fail, NoChange, Publish, Skip, Wait
from ledgerbridge.mapper.ontraport.documents import MAPPING_VERSION
from ledgerbridge.mapper.ontraport.mapping import PLAN_LIMIT, map_transaction
from ledgerbridge.mapper.ontraport.models import (
    Contact,
    CouponMode,
    GatewayMapping,
    InvoiceStatus,
    Mappings,
    MappingSettings,
    ProductMapping,
    PublishedDocument,
    SyncState,
    TaxException,
    TrialState,
    UntaxedMode,
    XeroReference,
)
from ledgerbridge.mapper.ontraport.offer_data import (
    OfferCoupon,
    OfferData,
    OfferDataError,
    OfferProduct,
    OfferShipping,
    OfferTax,
    parse_offer_data,
)
from ledgerbridge.mapper.ontraport.rules import contact_name_for_clash
from ledgerbridge.mapper.ontraport.transaction import (
    Transaction,
    TransactionError,
    TransactionStatus,
    parse_transaction,
)

__all__ = [
    "MAPPING_VERSION",
    "PLAN_LIMIT",
    "Contact",
    "CouponMode",
    "Decision",
    "DocumentKind",
    "Fail",
    "GatewayMapping",
    "InvoiceStatus",
    "MappingSettings",
    "Mappings",
    "NoChange",
    "OfferCoupon",
    "OfferData",
    "OfferDataError",
    "OfferProduct",
    "OfferShipping",
    "OfferTax",
    "ProductMapping",
    "Publish",
    "PublishedDocument",
    "Skip",
    "SyncState",
    "TaxException",
    "Transaction",
    "TransactionError",
    "TransactionStatus",
    "TrialState",
    "UntaxedMode",
    "Wait",
    "XeroDocument",
    "XeroReference",
    "XeroTotals",
    "contact_name_for_clash",
    "fingerprint",
    "idempotency_key",
    "json_default",
    "map_transaction",
    "parse_offer_data",
    "parse_transaction",
    "to_json_ready",
    "xero_totals",
]
