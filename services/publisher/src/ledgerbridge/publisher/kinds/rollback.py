"""Rollback documents: undoing what we made in Xero (``ledgerbridge.bookkeeping.rollback`` plans them).

Sent one by one, like every change to an existing document, and harmless to repeat: after an unknown
outcome nothing is looked up, the change is sent again and Xero's answer settles it (a payment "already
deleted", a document that "is VOIDED and cannot be modified" was undone by the attempt whose answer was
lost). So nothing is voided or deleted twice, whatever the network does.
"""

from __future__ import annotations

from typing import ClassVar

from ledgerbridge.common.clients.xero import ElementResult
from ledgerbridge.common.models import DocumentKind
from ledgerbridge.publisher.claimed import Claimed, Outcome, refused
from ledgerbridge.publisher.kinds.base import Destination
from ledgerbridge.publisher.kinds.changes import OneByOne, PaymentDeleteSpec

NUMBER_FIELDS = {"Invoices": "InvoiceNumber", "CreditNotes": "CreditNoteNumber"}


def _already(result: ElementResult, status: str) -> bool:
    """Xero's refusal that means the change is already made: the document is in ``status`` now."""
    return any(status.lower() in error.lower() for error in result.errors)


class RollbackPaymentSpec(PaymentDeleteSpec):
    kind: ClassVar[DocumentKind] = DocumentKind.rollback_payment


class RollbackDocumentSpec(OneByOne):
    kind: ClassVar[DocumentKind] = DocumentKind.rollback_document
    # A document with a payment cannot be voided (SPEC.md §3.1): the record's payments go first.
    after = (DocumentKind.rollback_payment,)

    async def change(self, destination: Destination, document: Claimed) -> Outcome:
        if not document.target_id:
            return Outcome(False, error="the document to undo has no Xero id")
        resource = str(document.body.get("Resource", "Invoices"))
        status = str(document.body.get("Status", "VOIDED"))
        number = document.body.get("Number")
        update = (
            destination.client.update_credit_note
            if resource == "CreditNotes"
            else destination.client.update_invoice
        )
        if number:
            # Renumbered first: Xero keeps a voided document's number taken, and a re-sync needs it.
            renamed = await update(document.target_id, {NUMBER_FIELDS[resource]: number})
            if not renamed.ok and not _already(renamed, status):
                return refused(renamed)
        result = await update(document.target_id, {"Status": status})
        if result.ok or _already(result, status):
            return Outcome(True, document.target_id, str(number) if number else None)
        return refused(result)
