"""Credit notes, sales (on an invoice) and supplier (on a bill): CreditNotes batches, found by number."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ledgerbridge.common.clients.xero import ElementResult, XeroClient
from ledgerbridge.common.models import DocumentKind
from ledgerbridge.publisher.claimed import Claimed, Decided, Outcome, money
from ledgerbridge.publisher.kinds.base import (
    CONTACT_ID,
    BatchedCreate,
    Destination,
    needs_four_decimals,
    quoted_any,
)


class _CreditNoteSpec(BatchedCreate):
    after = (DocumentKind.contact,)
    links = (CONTACT_ID,)

    async def put(
        self, client: XeroClient, bodies: list[dict[str, Any]], idempotency_key: str
    ) -> list[ElementResult]:
        return await client.put_credit_notes(
            bodies, needs_four_decimals(bodies), idempotency_key=idempotency_key
        )

    async def find(self, destination: Destination, group: Sequence[Claimed]) -> Decided:
        numbers = [str(d.body.get("CreditNoteNumber")) for d in group]
        notes = {
            str(n.get("CreditNoteNumber")): n
            for n in await destination.client.get_credit_notes(where=quoted_any("CreditNoteNumber", numbers))
        }
        return {
            d.id: Outcome(True, str(notes[n]["CreditNoteID"]), n, money(notes[n].get("Total")))
            for d, n in zip(group, numbers, strict=True)
            if n in notes
        }


class CreditNoteSpec(_CreditNoteSpec):
    kind: ClassVar[DocumentKind] = DocumentKind.credit_note
    needs_published = (DocumentKind.invoice,)
    adopts_taken_numbers = True  # a sales credit note's number is unique, like its invoice's


class SupplierCreditNoteSpec(_CreditNoteSpec):
    kind: ClassVar[DocumentKind] = DocumentKind.supplier_credit_note
    needs_published = (DocumentKind.bill,)
