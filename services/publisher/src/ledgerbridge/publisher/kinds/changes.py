"""Changes to documents already in Xero: deleting a payment, voiding an invoice. Sent one by one.

Xero has no batch call for these, and both are harmless to repeat: after an unknown outcome nothing is
looked up, the change is sent again and Xero's "already" answer settles it.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from ledgerbridge.common.models import DocumentKind
from ledgerbridge.publisher.claimed import Claimed, Decided, Outcome, refused
from ledgerbridge.publisher.kinds.base import Destination, KindSpec


class _OneByOne(KindSpec):
    async def send(self, destination: Destination, batch: Sequence[Claimed]) -> Decided:
        return {d.id: await self.change(destination, d) for d in batch}

    async def find(self, destination: Destination, group: Sequence[Claimed]) -> Decided:
        return {}  # not found: sent again, which is harmless

    @abstractmethod
    async def change(self, destination: Destination, document: Claimed) -> Outcome: ...


class PaymentDeleteSpec(_OneByOne):
    kind: ClassVar[DocumentKind] = DocumentKind.payment_delete

    async def change(self, destination: Destination, document: Claimed) -> Outcome:
        if not document.target_id:
            return Outcome(False, error="payment to delete has no PaymentID")
        result = await destination.client.delete_payment(document.target_id)
        if result.ok or any("deleted" in error.lower() for error in result.errors):
            return Outcome(True, document.target_id)
        return refused(result)


class InvoiceVoidSpec(_OneByOne):
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
