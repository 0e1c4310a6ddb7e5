"""Payments: on a sales invoice, refunding a credit note, on a bill. Payments batches, settled by Amount.

A payment has no number of its own, so after an unknown outcome it is looked for among the payments of
the document it pays: the same amount, and the same reference when both have one.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from ledgerbridge.common.clients.xero import ElementResult, XeroClient
from ledgerbridge.common.models import DocumentKind
from ledgerbridge.publisher.claimed import Claimed, Decided, Outcome, money
from ledgerbridge.publisher.kinds.base import BILL_ID, BatchedCreate, Destination, quoted_any


class _PaymentSpec(BatchedCreate):
    amount_field = "Amount"

    async def put(
        self, client: XeroClient, bodies: list[dict[str, Any]], idempotency_key: str
    ) -> list[ElementResult]:
        return await client.put_payments(bodies, idempotency_key=idempotency_key)

    async def find(self, destination: Destination, group: Sequence[Claimed]) -> Decided:
        payments = await self.payments_of_paid(destination, group)
        return {
            d.id: outcome for d, paid in zip(group, payments, strict=True) if (outcome := _matching(d, paid))
        }

    @abstractmethod
    async def payments_of_paid(
        self, destination: Destination, group: Sequence[Claimed]
    ) -> list[list[dict[str, Any]]]:
        """For each document of ``group``, the payments Xero holds on the document it pays."""


class PaymentSpec(_PaymentSpec):
    kind: ClassVar[DocumentKind] = DocumentKind.payment
    needs_published = (DocumentKind.invoice,)

    async def payments_of_paid(
        self, destination: Destination, group: Sequence[Claimed]
    ) -> list[list[dict[str, Any]]]:
        numbers = [str(d.body.get("Invoice", {}).get("InvoiceNumber")) for d in group]
        invoices = {
            str(i.get("InvoiceNumber")): i
            for i in await destination.client.get_invoices(invoice_numbers=numbers)
        }
        return [invoices.get(n, {}).get("Payments") or [] for n in numbers]


class RefundPaymentSpec(_PaymentSpec):
    kind: ClassVar[DocumentKind] = DocumentKind.refund_payment
    needs_published = (DocumentKind.credit_note,)
    after = (DocumentKind.credit_note,)

    async def payments_of_paid(
        self, destination: Destination, group: Sequence[Claimed]
    ) -> list[list[dict[str, Any]]]:
        numbers = [str(d.body.get("CreditNote", {}).get("CreditNoteNumber")) for d in group]
        notes = {
            str(n.get("CreditNoteNumber")): n
            for n in await destination.client.get_credit_notes(where=quoted_any("CreditNoteNumber", numbers))
        }
        return [notes.get(n, {}).get("Payments") or [] for n in numbers]


class BillPaymentSpec(_PaymentSpec):
    kind: ClassVar[DocumentKind] = DocumentKind.bill_payment
    needs_published = (DocumentKind.bill,)
    # A payment re-made after a refund waits for the deletion of the one it replaces, and a payment for an
    # updated bill for the update (Xero refuses a payment above the amount due).
    after = (DocumentKind.payment_delete, DocumentKind.bill)
    links = (BILL_ID,)

    async def payments_of_paid(
        self, destination: Destination, group: Sequence[Claimed]
    ) -> list[list[dict[str, Any]]]:
        # The bill as it was sent: a body mapped before its bill was in Xero names the bill by number
        # only, and the id is patched in at send time, so the lookup patches it in the same way.
        bill_ids = [
            str(body.get("Invoice", {}).get("InvoiceID")) for body in await self.bodies(destination, group)
        ]
        bills = await destination.client.get_invoices(ids=bill_ids)
        payments = {str(bill["InvoiceID"]): bill.get("Payments") or [] for bill in bills}
        return [payments.get(bill_id, []) for bill_id in bill_ids]


def _matching(document: Claimed, payments: list[dict[str, Any]]) -> Outcome | None:
    """The payment this document created, if Xero has it: same amount, and same reference when both have one."""
    amount = money(document.body.get("Amount"))
    reference = document.body.get("Reference")
    for payment in payments:
        if payment.get("Status") == "DELETED" or not payment.get("PaymentID"):
            continue
        if money(payment.get("Amount")) != amount:
            continue
        if reference and payment.get("Reference") and payment["Reference"] != reference:
            continue
        return Outcome(True, str(payment["PaymentID"]), None, amount)
    return None
