"""Pure mapping of Onport purchase invoices to Xero bills, supplier credit notes and bill payments (SPEC §5).

Entry point: :func:`map_purchase_invoice` → :data:`~ledgerbridge.bookkeeping.decisions.Decision`.
No I/O: every input, including what was already published for the invoice, is passed in.
"""

from ledgerbridge.bookkeeping.bills.inputs import (
    BillMappings,
    BillOptions,
    BillSyncState,
    TaxMappings,
)
from ledgerbridge.bookkeeping.bills.mapping import (
    MAPPING_VERSION,
    map_purchase_invoice,
    payout_reference,
)
from ledgerbridge.bookkeeping.bills.record import (
    InvoiceItem,
    Payout,
    PurchaseInvoiceError,
    PurchaseInvoiceRecord,
    parse_purchase_invoice,
)

__all__ = [
    "MAPPING_VERSION",
    "BillMappings",
    "BillOptions",
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
