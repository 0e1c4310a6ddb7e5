"""Pure mapping of ONTRAPORT transactions to Xero documents (SPEC §4).

Entry point: :func:`map_transaction` → :data:`~ledgerbridge.bookkeeping.decisions.Decision`. No I/O: every input, including what was already published, is passed in.
"""

from ledgerbridge.bookkeeping.sales.inputs import (
    Contact,
    CouponMode,
    GatewayMapping,
    Mappings,
    MappingSettings,
    ProductMapping,
    SyncState,
    TaxException,
    TrialState,
    UntaxedMode,
    tax_combination_key,
)
from ledgerbridge.bookkeeping.sales.invoices import MAPPING_VERSION
from ledgerbridge.bookkeeping.sales.mapping import map_transaction
from ledgerbridge.bookkeeping.sales.offer_data import (
    OfferCoupon,
    OfferData,
    OfferDataError,
    OfferProduct,
    OfferShipping,
    OfferTax,
    parse_offer_data,
)
from ledgerbridge.bookkeeping.sales.purchases import PurchaseError, needs_purchases
from ledgerbridge.bookkeeping.sales.rules import contact_name_for_clash
from ledgerbridge.bookkeeping.sales.transaction import (
    Transaction,
    TransactionError,
    TransactionStatus,
    parse_transaction,
)

__all__ = [
    "MAPPING_VERSION",
    "Contact",
    "CouponMode",
    "GatewayMapping",
    "MappingSettings",
    "Mappings",
    "OfferCoupon",
    "OfferData",
    "OfferDataError",
    "OfferProduct",
    "OfferShipping",
    "OfferTax",
    "ProductMapping",
    "PurchaseError",
    "SyncState",
    "TaxException",
    "Transaction",
    "TransactionError",
    "TransactionStatus",
    "TrialState",
    "UntaxedMode",
    "contact_name_for_clash",
    "map_transaction",
    "needs_purchases",
    "parse_offer_data",
    "parse_transaction",
    "tax_combination_key",
]
