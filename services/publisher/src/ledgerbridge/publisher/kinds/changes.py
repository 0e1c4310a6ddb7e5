"""Changes to documents already in Xero: deleting a payment, voiding an invoice, allocating a supplier
credit note to its bill. Sent one by one.

Xero has no batch call for these, and both are harmless to repeat: after an unknown outcome nothing is
looked up, the change is sent again and Xero's "already" answer settles it.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from sqlalchemy import select

from ledgerbridge.common.clients.xero import OrganisationParkedError, UnknownOutcomeError
from ledgerbridge.common.messaging.errors import TransientError
from ledgerbridge.common.models import Document, DocumentKind, DocumentStatus
from ledgerbridge.publisher.claimed import Claimed, Decided, Outcome, PartialSend, money, refused
from ledgerbridge.publisher.kinds.base import Destination, KindSpec, quoted_any


class OneByOne(KindSpec):
    async def send(self, destination: Destination, batch: Sequence[Claimed]) -> Decided:
        decided: Decided = {}
        for document in batch:
            try:
                decided[document.id] = await self.change(destination, document)
            except (UnknownOutcomeError, OrganisationParkedError, TransientError) as error:
                if not decided:
                    raise
                raise PartialSend(decided, error) from error
        return decided

    async def find(self, destination: Destination, group: Sequence[Claimed]) -> Decided:
        return {}  # not found: sent again, which is harmless

    @abstractmethod
    async def change(self, destination: Destination, document: Claimed) -> Outcome: ...


class PaymentDeleteSpec(OneByOne):
    kind: ClassVar[DocumentKind] = DocumentKind.payment_delete

    async def change(self, destination: Destination, document: Claimed) -> Outcome:
        if not document.target_id:
            return Outcome(False, error="payment to delete has no PaymentID")
        result = await destination.client.delete_payment(document.target_id)
        if result.ok or any("deleted" in error.lower() for error in result.errors):
            return Outcome(True, document.target_id)
        return refused(result)


class InvoiceVoidSpec(OneByOne):
    kind: ClassVar[DocumentKind] = DocumentKind.invoice_void
    # An invoice with a payment cannot be voided (SPEC.md §3.1): its payments go first.
    after = (DocumentKind.payment_delete, DocumentKind.payment)

    async def change(self, destination: Destination, document: Claimed) -> Outcome:
        target = str(
            document.body.get("InvoiceID") or document.body.get("InvoiceNumber") or document.target_id or ""
        )
        status = str(document.body.get("Status", "VOIDED"))
        result = await destination.client.post_invoice_status(target, status)
        if result.ok or any(status.lower() in error.lower() for error in result.errors):
            return Outcome(True, result.xero_id or target, document.body.get("InvoiceNumber"))
        return refused(result)


class CreditAllocationSpec(OneByOne):
    """Allocates the record's supplier credit note numbered ``target_id`` (created in an earlier stage, so
    its CreditNoteID is known now) to the bill named in the body."""

    kind: ClassVar[DocumentKind] = DocumentKind.credit_allocation
    needs_published = (DocumentKind.supplier_credit_note,)

    async def change(self, destination: Destination, document: Claimed) -> Outcome:
        async with destination.sessions() as session:
            note_id = await session.scalar(
                select(Document.xero_id).where(
                    Document.record_id == document.record_id,
                    Document.kind == DocumentKind.supplier_credit_note,
                    Document.status == DocumentStatus.published,
                    Document.xero_number == document.target_id,
                )
            )
        if not note_id:
            return Outcome(False, error=f"credit note {document.target_id} to allocate is not in Xero")
        amount = money(document.body.get("Amount"))
        result = await destination.client.allocate_credit_note(note_id, document.body)
        if result.ok:
            return Outcome(True, result.xero_id or note_id, document.target_id, amount)
        # An allocation whose answer was lost leaves no credit to allocate: that is this allocation.
        notes = await destination.client.get_credit_notes(
            where=quoted_any("CreditNoteNumber", [str(document.target_id)])
        )
        if any(str(n.get("CreditNoteID")) == note_id and money(n.get("RemainingCredit")) == 0 for n in notes):
            return Outcome(True, note_id, document.target_id, amount)
        return refused(result)
