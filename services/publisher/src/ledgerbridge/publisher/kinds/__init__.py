"""One spec per document kind, in the order documents go to Xero.

Contacts first, then invoices, then payments, then credit notes and their refunds, then bills with their
payment deletions, payments and supplier credit notes (with their allocations), then voids (SPEC.md §3.1: a payment needs an
AUTHORISED invoice; an invoice with a payment cannot be voided), then a rollback's payment deletions and
the voids or deletions of its documents. Each spec's ``needs_published`` and
``after`` name only kinds earlier in this order, so one pass over it can drain a record.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ledgerbridge.common.models import DocumentKind
from ledgerbridge.publisher.kinds.base import Destination, KindSpec
from ledgerbridge.publisher.kinds.bill import BillSpec
from ledgerbridge.publisher.kinds.changes import CreditAllocationSpec, InvoiceVoidSpec, PaymentDeleteSpec
from ledgerbridge.publisher.kinds.contact import ContactSpec
from ledgerbridge.publisher.kinds.credit_note import CreditNoteSpec, SupplierCreditNoteSpec
from ledgerbridge.publisher.kinds.invoice import InvoiceSpec
from ledgerbridge.publisher.kinds.payment import BillPaymentSpec, PaymentSpec, RefundPaymentSpec
from ledgerbridge.publisher.kinds.rollback import RollbackDocumentSpec, RollbackPaymentSpec

SEND_ORDER: tuple[KindSpec, ...] = (
    ContactSpec(),
    InvoiceSpec(),
    PaymentSpec(),
    CreditNoteSpec(),
    RefundPaymentSpec(),
    BillSpec(),
    # Before bill payments: a payout refunded in Onport deletes its payment before the one re-made.
    PaymentDeleteSpec(),
    BillPaymentSpec(),
    SupplierCreditNoteSpec(),
    CreditAllocationSpec(),
    InvoiceVoidSpec(),
    RollbackPaymentSpec(),
    RollbackDocumentSpec(),
)

SPECS: Mapping[DocumentKind, KindSpec] = MappingProxyType({spec.kind: spec for spec in SEND_ORDER})

# A kind without a spec would never be claimed and wait forever: fail at import instead.
if set(SPECS) != set(DocumentKind) or len(SPECS) != len(SEND_ORDER):
    raise RuntimeError("every DocumentKind needs exactly one spec in SEND_ORDER")

__all__ = ["SEND_ORDER", "SPECS", "Destination", "KindSpec"]
