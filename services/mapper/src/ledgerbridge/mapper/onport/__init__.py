"""Pure mapping of Onport purchase invoices to Xero bills, supplier credit notes and bill payments (SPEC §5).

Entry point: :func:`map_purchase_invoice` → :data:`~ledgerbridge.mapper.ontraport.decisions.Decision`.
No I/O: every input, including what was already published for the invoice, is passed in.
"""

from ledgerbridge.mapper.onport.mapping import (
    MAPPING_VERSION,
    NOT_FINALIZED,
    VENDOR_UNLINKED,
    map_purchase_invoice,
    payout_reference,
)
from ledgerbridge.mapper.onport.models import (
    BillMappings,
    BillOptions,
    BillReference,
    BillSyncState,
    TaxMappings,
)
from ledgerbridge.mapper.onport.record import (
    InvoiceItem,
    Payout,
    PurchaseInvoiceError,
    PurchaseInvoiceRecord,
    parse_purchase_invoice,
)

__all__ = [
    "MAPPING_VERSION",
    "NOT_FINALIZED",
    "VENDOR_UNLINKED",
    "BillMappings",
    "BillOptions",
    "BillReference",
    "BillSyncState",
    "InvoiceItem",
    "Payout",
    "PurchaseInvoiceError",
    "PurchaseInvoiceRecord",
    "TaxMappings",
    "map_purchase_invoice",
    "parse_purchase_invoice",
    "payout_reference",
]
