"""The shape of a document kind's spec, and what most kinds share: a batched create into one Xero endpoint.

A spec holds all the publisher knows about one kind: which documents it waits for, which Xero ids of
those documents are patched into its body, how a batch is sent, how a document is found in Xero after
an unknown outcome, and how Xero's answer settles it (id, number, amount).
"""

from __future__ import annotations

import hashlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.clients.xero import ElementResult, XeroClient
from ledgerbridge.common.models import Document, DocumentKind, DocumentStatus
from ledgerbridge.publisher.claimed import Claimed, Decided, Outcome, money, refused


@dataclass(frozen=True)
class Destination:
    """The Xero organisation a run publishes to: its client, and the database holding what we sent it."""

    client: XeroClient
    sessions: async_sessionmaker[AsyncSession]
    connection_id: uuid.UUID


@dataclass(frozen=True)
class IdLink:
    """The Xero id of a document this kind depends on, patched into its body before sending.

    A reference by number (``{"ContactNumber": ...}``, ``{"InvoiceNumber": ...}``) becomes
    ``{id_key: xero_id}`` once the record's ``source`` document is published.
    """

    source: DocumentKind
    field: str
    id_key: str


# By ContactID, the document lands on the contact we made or adopted (even one renamed for a name clash),
# not on whichever contact Xero would match by the name and number it was mapped with.
CONTACT_ID = IdLink(DocumentKind.contact, "Contact", "ContactID")
# A payment on a bill must name the bill by id: bill numbers are not unique in Xero.
BILL_ID = IdLink(DocumentKind.bill, "Invoice", "InvoiceID")


class KindSpec(ABC):
    """Everything the publisher knows about one kind of document."""

    kind: ClassVar[DocumentKind]
    needs_published: ClassVar[tuple[DocumentKind, ...]] = ()  # on the same record: published, if it has one
    after: ClassVar[tuple[DocumentKind, ...]] = ()  # none of these unfinished on the same record
    links: ClassVar[tuple[IdLink, ...]] = ()

    @abstractmethod
    async def send(self, destination: Destination, batch: Sequence[Claimed]) -> Decided:
        """Send a claimed batch; every document of it gets an outcome."""

    @abstractmethod
    async def find(self, destination: Destination, group: Sequence[Claimed]) -> Decided:
        """The documents of ``group`` Xero already holds, after a send whose outcome is unknown.

        Those left out are not in Xero: they go back to pending and are sent again.
        """

    async def bodies(self, destination: Destination, batch: Sequence[Claimed]) -> list[dict[str, Any]]:
        """The bodies to send, with the Xero ids earlier stages got patched in (``links``)."""
        if not self.links:
            return [dict(document.body) for document in batch]
        async with destination.sessions() as session:
            rows = await session.execute(
                select(Document.record_id, Document.kind, Document.xero_id).where(
                    Document.record_id.in_({d.record_id for d in batch}),
                    Document.kind.in_({link.source for link in self.links}),
                    Document.status == DocumentStatus.published,
                )
            )
            found = {(record_id, kind): xero_id for record_id, kind, xero_id in rows.all()}
        bodies = []
        for document in batch:
            body = dict(document.body)
            for link in self.links:
                xero_id = found.get((document.record_id, link.source))
                # A body naming the id already keeps it: a record may hold several bills (an -ADJ bill).
                if link.field in body and xero_id and link.id_key not in body[link.field]:
                    body[link.field] = {link.id_key: xero_id}
            bodies.append(body)
        return bodies


class BatchedCreate(KindSpec):
    """A kind created in batches through one PUT endpoint, each element settled from Xero's answer."""

    amount_field: ClassVar[str] = "Total"  # the field of Xero's answer that is the document's amount
    # Whether a number Xero says it "already" holds may be ours, from an attempt whose answer was lost.
    # Only numbers Xero keeps unique can be adopted that way: a sales document's, not a bill's.
    adopts_taken_numbers: ClassVar[bool] = False

    @abstractmethod
    async def put(
        self, client: XeroClient, bodies: list[dict[str, Any]], idempotency_key: str
    ) -> list[ElementResult]:
        """The one Xero call that creates the whole batch."""

    def settle(self, result: ElementResult) -> Outcome:
        if not result.ok:
            return refused(result)
        return Outcome(True, result.xero_id, result.number, money(result.body.get(self.amount_field)))

    async def send(self, destination: Destination, batch: Sequence[Claimed]) -> Decided:
        bodies = await self.bodies(destination, batch)
        results = await self.put(destination.client, bodies, batch_key(batch))
        decided = {d.id: self.settle(result) for d, result in zip(batch, results, strict=True)}
        if self.adopts_taken_numbers:
            taken = [
                d for d in batch if not decided[d.id].published and "already" in (decided[d.id].error or "")
            ]
            if taken:
                found = await self.find(destination, taken)
                decided.update({doc_id: outcome for doc_id, outcome in found.items() if outcome.published})
        return decided


def batch_key(documents: Sequence[Claimed]) -> str:
    """One Idempotency-Key per batch content: a quick retry of the same batch is answered from Xero's memory."""
    digest = hashlib.sha256("\n".join(sorted(d.idempotency_key for d in documents)).encode()).hexdigest()
    return f"lb:batch:{digest}"


def needs_four_decimals(bodies: Sequence[dict[str, Any]]) -> bool:
    """Whether a unit price carries more than two decimals, which Xero rounds away unless told ``unitdp=4``."""
    return any(
        Decimal(str(line.get("UnitAmount", 0))).as_tuple().exponent < -2  # type: ignore[operator]
        for body in bodies
        for line in body.get("LineItems", [])
    )


def quoted_any(field: str, values: Sequence[str]) -> str:
    """A Xero ``where`` matching any of ``values``; quotes are dropped, as Xero's filter cannot escape them."""
    return " OR ".join(f'{field}=="{value.replace(chr(34), "")}"' for value in values)
