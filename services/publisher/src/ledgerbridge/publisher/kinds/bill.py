"""Bills (ACCPAY invoices): Invoices batches; Xero lets bill numbers repeat, so finding one needs more."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import select

from ledgerbridge.common.clients.xero import ElementResult, XeroClient
from ledgerbridge.common.models import Document, DocumentKind, DocumentStatus
from ledgerbridge.publisher.claimed import Claimed, Decided, Outcome, money
from ledgerbridge.publisher.kinds.base import CONTACT_ID, BatchedCreate, Destination, needs_four_decimals
from ledgerbridge.publisher.kinds.invoice import GONE


class BillSpec(BatchedCreate):
    kind: ClassVar[DocumentKind] = DocumentKind.bill
    after = (DocumentKind.contact,)
    links = (CONTACT_ID,)

    async def put(
        self, client: XeroClient, bodies: list[dict[str, Any]], idempotency_key: str
    ) -> list[ElementResult]:
        return await client.put_invoices(bodies, needs_four_decimals(bodies), idempotency_key=idempotency_key)

    async def send(self, destination: Destination, batch: Sequence[Claimed]) -> Decided:
        """New bills go in a batch; a bill updated after an adjustment names its InvoiceID (``target_id``)
        and is POSTed by itself."""
        updates = [d for d in batch if d.target_id]
        creates = [d for d in batch if not d.target_id]
        found: Decided = {}
        for document in updates:
            result = await destination.client.update_invoice(str(document.target_id), document.body)
            found[document.id] = self.settle(result)
        return found | (await super().send(destination, creates) if creates else {})

    async def find(self, destination: Destination, group: Sequence[Claimed]) -> Decided:
        """A bill is ours when number and supplier match and no other document of ours already holds it:
        Xero lets bill numbers repeat, so a number alone proves nothing."""
        bodies = await self.bodies(destination, group)
        numbers = [str(body.get("InvoiceNumber")) for body in bodies]
        candidates = [
            bill
            for bill in await destination.client.get_invoices(invoice_numbers=numbers)
            if bill.get("Type") == "ACCPAY" and bill.get("Status") not in GONE
        ]
        held = await _held_bills(destination, [str(bill["InvoiceID"]) for bill in candidates])
        candidates = [bill for bill in candidates if str(bill["InvoiceID"]) not in held]
        found: Decided = {}
        for document, body in zip(group, bodies, strict=True):
            for bill in candidates:
                if bill.get("InvoiceNumber") == body.get("InvoiceNumber") and _same_contact(bill, body):
                    candidates.remove(bill)  # one bill in Xero answers for one document of ours
                    found[document.id] = Outcome(
                        True, str(bill["InvoiceID"]), str(bill["InvoiceNumber"]), money(bill.get("Total"))
                    )
                    break
        return found


def _same_contact(bill: dict[str, Any], body: dict[str, Any]) -> bool:
    contact = body.get("Contact", {})
    return bool(
        bill.get("Contact", {}).get("ContactID") == contact.get("ContactID")
        or (
            contact.get("ContactNumber")
            and bill.get("Contact", {}).get("ContactNumber") == contact.get("ContactNumber")
        )
    )


async def _held_bills(destination: Destination, xero_ids: list[str]) -> set[str | None]:
    """Which of these Xero bills an earlier document of ours already stands for."""
    async with destination.sessions() as session:
        return set(
            (
                await session.scalars(
                    select(Document.xero_id).where(
                        Document.kind == DocumentKind.bill,
                        Document.status == DocumentStatus.published,
                        Document.xero_id.in_(xero_ids),
                    )
                )
            ).all()
        )
