"""Sales invoices: created in Invoices batches, found again by their number, which Xero keeps unique."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ledgerbridge.common.clients.xero import ElementResult, XeroClient
from ledgerbridge.common.models import DocumentKind
from ledgerbridge.publisher.claimed import Claimed, Decided, Outcome, money
from ledgerbridge.publisher.kinds.base import CONTACT_ID, BatchedCreate, Destination, needs_four_decimals

GONE = ("DELETED", "VOIDED")  # an invoice in one of these states no longer stands for the sale


class InvoiceSpec(BatchedCreate):
    kind: ClassVar[DocumentKind] = DocumentKind.invoice
    after = (DocumentKind.contact,)
    links = (CONTACT_ID,)
    adopts_taken_numbers = True

    async def put(
        self, client: XeroClient, bodies: list[dict[str, Any]], idempotency_key: str
    ) -> list[ElementResult]:
        return await client.put_invoices(bodies, needs_four_decimals(bodies), idempotency_key=idempotency_key)

    async def find(self, destination: Destination, group: Sequence[Claimed]) -> Decided:
        numbers = [str(d.body.get("InvoiceNumber")) for d in group]
        invoices = {
            str(i.get("InvoiceNumber")): i
            for i in await destination.client.get_invoices(invoice_numbers=numbers)
        }
        return {
            d.id: Outcome(True, str(invoices[n]["InvoiceID"]), n, money(invoices[n].get("Total")))
            for d, n in zip(group, numbers, strict=True)
            if n in invoices and invoices[n].get("Status") not in GONE
        }
