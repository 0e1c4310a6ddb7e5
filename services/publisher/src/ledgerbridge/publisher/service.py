"""Sending a Xero organisation's pending documents, in batches, exactly once.

Every batch goes through three steps, each in its own transaction: claim (documents marked ``sending``,
committed before any call), send, record (each element's result). A crash between the first and the last
leaves documents ``sending``: their outcome is unknown, so they are looked up in Xero before anything is
created again (bills and payments have no unique number to stop a duplicate). The same lookup runs at
once when a create times out, drops its connection or answers 5xx.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.clients.xero import (
    ElementResult,
    OrganisationParkedError,
    UnknownOutcomeError,
    XeroClient,
)
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.errors import PermanentError, TransientError
from ledgerbridge.common.messaging.messages import RefreshXeroReference
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import (
    Connection,
    ConnectionStatus,
    Document,
    DocumentKind,
    DocumentStatus,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.records.lifecycle import move
from ledgerbridge.publisher.stages import STAGES, Stage, ready

log = structlog.get_logger(__name__)

BATCH = 50
PAYMENT_KINDS = (DocumentKind.payment, DocumentKind.refund_payment, DocumentKind.bill_payment)


@dataclass(frozen=True)
class Claimed:
    """A document as claimed for one send, detached from its session."""

    id: uuid.UUID
    record_id: uuid.UUID
    kind: DocumentKind
    body: dict[str, Any]
    idempotency_key: str
    target_id: str | None


@dataclass(frozen=True)
class Outcome:
    """What became of one document."""

    published: bool
    xero_id: str | None = None
    number: str | None = None
    amount: Decimal | None = None
    error: str | None = None


Decided = dict[uuid.UUID, Outcome]


@dataclass(frozen=True)
class RunResult:
    settled: int
    more: bool  # stopped at the time limit with work left


def batch_key(documents: Sequence[Claimed]) -> str:
    """One Idempotency-Key per batch content: a quick retry of the same batch is answered from Xero's memory."""
    digest = hashlib.sha256("\n".join(sorted(d.idempotency_key for d in documents)).encode()).hexdigest()
    return f"lb:batch:{digest}"


def _money(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


def _needs_four_decimals(bodies: Sequence[dict[str, Any]]) -> bool:
    return any(
        Decimal(str(line.get("UnitAmount", 0))).as_tuple().exponent < -2  # type: ignore[operator]
        for body in bodies
        for line in body.get("LineItems", [])
    )


def _contact_number(document: Claimed) -> str:
    number = document.body.get("ContactNumber")
    if not number:
        raise PermanentError("contact document without a ContactNumber")
    return str(number)


def _clash_name(body: dict[str, Any]) -> str:
    email = body.get("EmailAddress")
    name = str(body.get("Name", ""))
    return f"{name} ({email})" if email else f"{name} ({body.get('ContactNumber')})"


def _quoted_any(field: str, values: Sequence[str]) -> str:
    return " OR ".join(f'{field}=="{value.replace(chr(34), "")}"' for value in values)


class Publisher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client_for: Callable[[Connection], XeroClient],
        *,
        stale_sending: timedelta = timedelta(minutes=2),
        gather: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.client_for = client_for
        self.stale_sending = stale_sending
        self.gather = gather

    async def publish(self, connection_id: uuid.UUID, *, max_seconds: float) -> RunResult:
        """Send what this organisation has pending, for at most ``max_seconds``.

        A backlog outlasts one run at Xero's 60 calls a minute; the caller queues a follow-up when
        ``more`` is set, so no job runs past its timeout and gets cancelled mid-send.
        """
        async with self.sessions() as session:
            connection = await session.get(Connection, connection_id)
        if (
            connection is None
            or connection.status is not ConnectionStatus.active
            or not connection.xero_tenant_id
        ):
            return RunResult(0, more=False)
        if connection.parked_until and connection.parked_until > datetime.now(UTC):
            return RunResult(0, more=False)
        client = self.client_for(connection)
        deadline = time.monotonic() + max_seconds
        settled = 0
        try:
            settled += await self._recover_stale(client, connection_id)
            while True:
                sent = False
                for stage in STAGES:
                    while batch := await self._claim(connection_id, stage):
                        settled += await self._send(client, stage, batch)
                        sent = True
                        if time.monotonic() >= deadline:
                            return RunResult(settled, more=True)
                        if len(batch) < BATCH:
                            break  # drained for now; more may be on its way from the mapper
                if not sent:
                    break
                # Let documents mapped meanwhile gather, so a backlog goes out in full batches of 50
                # rather than many small calls against Xero's 60 a minute.
                await asyncio.sleep(min(self.gather, max(deadline - time.monotonic(), 0)))
                if time.monotonic() >= deadline:
                    return RunResult(settled, more=True)
        except OrganisationParkedError as parked:
            async with unit_of_work(self.sessions) as session:
                await session.execute(
                    update(Connection)
                    .where(Connection.id == connection_id)
                    .values(parked_until=parked.parked_until)
                )
            log.warning(
                "publish.parked", connection_id=str(connection_id), until=parked.parked_until.isoformat()
            )
        return RunResult(settled, more=False)

    # -- claim --------------------------------------------------------------------------------------------

    async def _claim(self, connection_id: uuid.UUID, stage: Stage) -> list[Claimed]:
        async with unit_of_work(self.sessions) as session:
            documents = (
                await session.scalars(
                    select(Document)
                    .where(
                        Document.xero_connection_id == connection_id,
                        Document.status == DocumentStatus.pending,
                        ready(stage),
                    )
                    .order_by(Document.created_at, Document.id)
                    .limit(BATCH)
                    .with_for_update(of=Document, skip_locked=True, key_share=True)
                )
            ).all()
            for document in documents:
                document.status = DocumentStatus.sending
                document.attempts += 1
            return [
                Claimed(d.id, d.record_id, d.kind, dict(d.request_body), d.idempotency_key, d.target_id)
                for d in documents
            ]

    # -- send ---------------------------------------------------------------------------------------------

    async def _send(self, client: XeroClient, stage: Stage, batch: list[Claimed]) -> int:
        try:
            decided = await self._send_stage(client, stage, batch)
        except UnknownOutcomeError as unknown:
            log.warning("publish.unknown_outcome", kind=str(stage.kind), count=len(batch), error=str(unknown))
            decided = await self._look_up(client, batch)
        except OrganisationParkedError:
            await self._release(batch)
            raise
        except TransientError:
            await self._release(batch)
            raise
        except PermanentError as error:
            decided = {d.id: Outcome(False, error=str(error)) for d in batch}
        await self._record(decided)
        return len(decided)

    async def _send_stage(self, client: XeroClient, stage: Stage, batch: list[Claimed]) -> Decided:
        if stage.kind is DocumentKind.contact:
            return await self._send_contacts(client, batch)
        if stage.kind is DocumentKind.payment_delete:
            return {d.id: await self._delete_payment(client, d) for d in batch}
        if stage.kind is DocumentKind.invoice_void:
            return {d.id: await self._void(client, d) for d in batch}
        if stage.kind is DocumentKind.credit_allocation:
            return {d.id: await self._allocate(client, d) for d in batch}
        if stage.kind is DocumentKind.bill and any(d.target_id for d in batch):
            # A bill updated after an adjustment names its InvoiceID (target_id): POSTed one by one.
            updates = [d for d in batch if d.target_id]
            batch = [d for d in batch if not d.target_id]
            found = {
                d.id: self._outcome(d.kind, await client.update_invoice(str(d.target_id), d.body))
                for d in updates
            }
            return found | (await self._send_stage(client, stage, batch) if batch else {})
        bodies = await self._with_xero_ids(batch)
        key = batch_key(batch)
        if stage.resource == "Invoices":
            results = await client.put_invoices(bodies, _needs_four_decimals(bodies), idempotency_key=key)
        elif stage.resource == "CreditNotes":
            results = await client.put_credit_notes(bodies, _needs_four_decimals(bodies), idempotency_key=key)
        else:
            results = await client.put_payments(bodies, idempotency_key=key)
        decided = {d.id: self._outcome(stage.kind, result) for d, result in zip(batch, results, strict=True)}
        # A number Xero already holds may be ours, from an attempt whose answer was lost: adopt it.
        taken = [d for d in batch if not decided[d.id].published and "already" in (decided[d.id].error or "")]
        # Bills are not unique by number, so only a sales document's number can be adopted this way.
        if taken and stage.kind in (DocumentKind.invoice, DocumentKind.credit_note):
            found = await self._look_up(client, taken)
            decided.update({doc_id: outcome for doc_id, outcome in found.items() if outcome.published})
        return decided

    @staticmethod
    def _outcome(kind: DocumentKind, result: ElementResult) -> Outcome:
        if not result.ok:
            return Outcome(False, error="; ".join(result.errors))
        amount_field = "Amount" if kind in PAYMENT_KINDS else "Total"
        return Outcome(True, result.xero_id, result.number, _money(result.body.get(amount_field)))

    async def _with_xero_ids(self, batch: list[Claimed]) -> list[dict[str, Any]]:
        """Fill in the Xero ids earlier stages got: contacts by ContactID, bills by InvoiceID.

        A payment on a bill must name the bill by id: bill numbers are not unique in Xero.
        """
        async with self.sessions() as session:
            rows = await session.execute(
                select(Document.record_id, Document.kind, Document.xero_id).where(
                    Document.record_id.in_({d.record_id for d in batch}),
                    Document.kind.in_((DocumentKind.contact, DocumentKind.bill)),
                    Document.status == DocumentStatus.published,
                )
            )
            found = {(record_id, kind): xero_id for record_id, kind, xero_id in rows.all()}
        bodies = []
        for document in batch:
            body = dict(document.body)
            contact_id = found.get((document.record_id, DocumentKind.contact))
            if "Contact" in body and contact_id:
                body["Contact"] = {"ContactID": contact_id}
            bill_id = found.get((document.record_id, DocumentKind.bill))
            if document.kind is DocumentKind.bill_payment and bill_id and "InvoiceID" not in body["Invoice"]:
                body["Invoice"] = {"InvoiceID": bill_id}
            bodies.append(body)
        return bodies

    async def _send_contacts(self, client: XeroClient, batch: list[Claimed]) -> Decided:
        by_number: dict[str, list[Claimed]] = {}
        for document in batch:
            by_number.setdefault(_contact_number(document), []).append(document)
        links = await self._known_contacts(batch, list(by_number))
        errors: dict[str, str] = {}
        missing = [number for number in by_number if number not in links]
        if missing:
            bodies = [by_number[number][0].body for number in missing]
            results = await client.put_contacts(bodies, idempotency_key=batch_key(batch))
            clashes: list[dict[str, Any]] = []
            for number, body, result in zip(missing, bodies, results, strict=True):
                if result.ok and result.xero_id:
                    links[number] = result.xero_id
                else:
                    errors[number] = "; ".join(result.errors)
                    clashes.append(body)
            if clashes:
                await self._resolve_clashes(client, clashes, links, errors)
        decided: Decided = {}
        for number, documents in by_number.items():
            outcome = (
                Outcome(True, links[number], number)
                if number in links
                else Outcome(
                    False, error=f"Xero refused contact {number}: {errors.get(number, 'unknown error')}"
                )
            )
            decided.update({d.id: outcome for d in documents})
        return decided

    async def _resolve_clashes(
        self, client: XeroClient, bodies: list[dict[str, Any]], links: dict[str, str], errors: dict[str, str]
    ) -> None:
        """Refused contacts: ours already (same ContactNumber), or a different person with the same name."""
        numbers = [str(body["ContactNumber"]) for body in bodies]
        for found in await client.get_contacts(
            where=_quoted_any("ContactNumber", numbers), include_archived=True
        ):
            if found.get("ContactNumber") in numbers and found.get("ContactID"):
                links[str(found["ContactNumber"])] = str(found["ContactID"])
        renamed = [
            {**body, "Name": _clash_name(body)}
            for body in bodies
            if body["ContactNumber"] not in links
            and "name" in errors.get(str(body["ContactNumber"]), "").lower()
        ]
        if not renamed:
            return
        key = (
            "lb:clash:" + hashlib.sha256("\n".join(b["ContactNumber"] for b in renamed).encode()).hexdigest()
        )
        for body, result in zip(
            renamed, await client.put_contacts(renamed, idempotency_key=key), strict=True
        ):
            if result.ok and result.xero_id:
                links[str(body["ContactNumber"])] = result.xero_id
            else:
                errors[str(body["ContactNumber"])] = "; ".join(result.errors)

    async def _known_contacts(self, batch: list[Claimed], numbers: list[str]) -> dict[str, str]:
        async with self.sessions() as session:
            connection_id = await session.scalar(
                select(Document.xero_connection_id).where(Document.id == batch[0].id)
            )
            rows = await session.execute(
                select(Document.xero_number, Document.xero_id)
                .where(
                    Document.xero_connection_id == connection_id,
                    Document.kind == DocumentKind.contact,
                    Document.status == DocumentStatus.published,
                    Document.xero_number.in_(numbers),
                )
                .distinct()
            )
            return {number: xero_id for number, xero_id in rows.all() if number and xero_id}

    async def _delete_payment(self, client: XeroClient, document: Claimed) -> Outcome:
        if not document.target_id:
            return Outcome(False, error="payment to delete has no PaymentID")
        result = await client.delete_payment(document.target_id)
        if result.ok or any("deleted" in error.lower() for error in result.errors):
            return Outcome(True, document.target_id)
        return Outcome(False, error="; ".join(result.errors))

    async def _allocate(self, client: XeroClient, document: Claimed) -> Outcome:
        """Allocates the record's supplier credit note numbered ``target_id`` (created in an earlier
        stage, so its CreditNoteID is known now) to the bill named in the body."""
        async with self.sessions() as session:
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
        result = await client.allocate_credit_note(note_id, document.body)
        if result.ok:
            return Outcome(
                True, result.xero_id or note_id, document.target_id, _money(document.body.get("Amount"))
            )
        # An allocation whose answer was lost leaves no credit to allocate: that is this allocation.
        notes = await client.get_credit_notes(
            where=_quoted_any("CreditNoteNumber", [str(document.target_id)])
        )
        if any(
            str(n.get("CreditNoteID")) == note_id and _money(n.get("RemainingCredit")) == 0 for n in notes
        ):
            return Outcome(True, note_id, document.target_id, _money(document.body.get("Amount")))
        return Outcome(False, error="; ".join(result.errors))

    async def _void(self, client: XeroClient, document: Claimed) -> Outcome:
        target = str(
            document.body.get("InvoiceID") or document.body.get("InvoiceNumber") or document.target_id or ""
        )
        status = str(document.body.get("Status", "VOIDED"))
        result = await client.post_invoice_status(target, status)
        if result.ok or any(status.lower() in error.lower() for error in result.errors):
            return Outcome(True, result.xero_id or target, document.body.get("InvoiceNumber"))
        return Outcome(False, error="; ".join(result.errors))

    # -- unknown outcomes ---------------------------------------------------------------------------------

    async def _recover_stale(self, client: XeroClient, connection_id: uuid.UUID) -> int:
        async with self.sessions() as session:
            stale = (
                await session.scalars(
                    select(Document).where(
                        Document.xero_connection_id == connection_id,
                        Document.status == DocumentStatus.sending,
                        Document.updated_at < datetime.now(UTC) - self.stale_sending,
                    )
                )
            ).all()
            claimed = [
                Claimed(d.id, d.record_id, d.kind, dict(d.request_body), d.idempotency_key, d.target_id)
                for d in stale
            ]
        if not claimed:
            return 0
        log.warning("publish.recovering", count=len(claimed))
        await self._record(await self._look_up(client, claimed))
        return len(claimed)

    async def _look_up(self, client: XeroClient, documents: list[Claimed]) -> Decided:
        """Find documents whose create may have happened; those not found go back to pending."""
        decided: Decided = {}
        for kind in {d.kind for d in documents}:
            group = [d for d in documents if d.kind is kind]
            found = await self._find(client, kind, group)
            for document in group:
                decided[document.id] = found.get(document.id) or Outcome(False)
        return decided

    async def _find(self, client: XeroClient, kind: DocumentKind, group: list[Claimed]) -> Decided:
        if kind is DocumentKind.contact:
            numbers = [_contact_number(d) for d in group]
            contacts = await client.get_contacts(
                where=_quoted_any("ContactNumber", numbers), include_archived=True
            )
            ids = {str(c.get("ContactNumber")): str(c["ContactID"]) for c in contacts if c.get("ContactID")}
            return {d.id: Outcome(True, ids[n], n) for d, n in zip(group, numbers, strict=True) if n in ids}
        if kind is DocumentKind.invoice:
            numbers = [str(d.body.get("InvoiceNumber")) for d in group]
            invoices = {
                str(i.get("InvoiceNumber")): i for i in await client.get_invoices(invoice_numbers=numbers)
            }
            return {
                d.id: Outcome(True, str(invoices[n]["InvoiceID"]), n, _money(invoices[n].get("Total")))
                for d, n in zip(group, numbers, strict=True)
                if n in invoices and invoices[n].get("Status") not in ("DELETED", "VOIDED")
            }
        if kind is DocumentKind.bill:
            return await self._find_bills(client, group)
        if kind is DocumentKind.bill_payment:
            bills = await client.get_invoices(
                ids=[str(d.body.get("Invoice", {}).get("InvoiceID")) for d in group]
            )
            payments = {str(bill["InvoiceID"]): bill.get("Payments") or [] for bill in bills}
            return {
                d.id: outcome
                for d in group
                if (
                    outcome := _matching_payment(
                        d, payments.get(str(d.body.get("Invoice", {}).get("InvoiceID")), [])
                    )
                )
            }
        if kind in (DocumentKind.credit_note, DocumentKind.supplier_credit_note):
            numbers = [str(d.body.get("CreditNoteNumber")) for d in group]
            notes = {
                str(n.get("CreditNoteNumber")): n
                for n in await client.get_credit_notes(where=_quoted_any("CreditNoteNumber", numbers))
            }
            return {
                d.id: Outcome(True, str(notes[n]["CreditNoteID"]), n, _money(notes[n].get("Total")))
                for d, n in zip(group, numbers, strict=True)
                if n in notes
            }
        if kind is DocumentKind.payment:
            numbers = [str(d.body.get("Invoice", {}).get("InvoiceNumber")) for d in group]
            invoices = {
                str(i.get("InvoiceNumber")): i for i in await client.get_invoices(invoice_numbers=numbers)
            }
            return {
                d.id: outcome
                for d, n in zip(group, numbers, strict=True)
                if (outcome := _matching_payment(d, invoices.get(n, {}).get("Payments") or []))
            }
        if kind is DocumentKind.refund_payment:
            numbers = [str(d.body.get("CreditNote", {}).get("CreditNoteNumber")) for d in group]
            notes = {
                str(n.get("CreditNoteNumber")): n
                for n in await client.get_credit_notes(where=_quoted_any("CreditNoteNumber", numbers))
            }
            return {
                d.id: outcome
                for d, n in zip(group, numbers, strict=True)
                if (outcome := _matching_payment(d, notes.get(n, {}).get("Payments") or []))
            }
        # Deleting a payment or voiding an invoice twice is harmless: send them again.
        return {}

    async def _find_bills(self, client: XeroClient, group: list[Claimed]) -> Decided:
        """A bill is ours when number and supplier match and no other document of ours already holds it:
        Xero lets bill numbers repeat, so a number alone proves nothing."""
        bodies = await self._with_xero_ids(group)
        numbers = [str(body.get("InvoiceNumber")) for body in bodies]
        candidates = [
            bill
            for bill in await client.get_invoices(invoice_numbers=numbers)
            if bill.get("Type") == "ACCPAY" and bill.get("Status") not in ("DELETED", "VOIDED")
        ]
        async with self.sessions() as session:
            held = set(
                (
                    await session.scalars(
                        select(Document.xero_id).where(
                            Document.kind == DocumentKind.bill,
                            Document.status == DocumentStatus.published,
                            Document.xero_id.in_([str(bill["InvoiceID"]) for bill in candidates]),
                        )
                    )
                ).all()
            )
        candidates = [bill for bill in candidates if str(bill["InvoiceID"]) not in held]
        found: Decided = {}
        for document, body in zip(group, bodies, strict=True):
            contact = body.get("Contact", {})
            for bill in candidates:
                same_contact = bill.get("Contact", {}).get("ContactID") == contact.get("ContactID") or (
                    contact.get("ContactNumber")
                    and bill.get("Contact", {}).get("ContactNumber") == contact.get("ContactNumber")
                )
                if bill.get("InvoiceNumber") == body.get("InvoiceNumber") and same_contact:
                    candidates.remove(bill)
                    found[document.id] = Outcome(
                        True, str(bill["InvoiceID"]), str(bill["InvoiceNumber"]), _money(bill.get("Total"))
                    )
                    break
        return found

    # -- record -------------------------------------------------------------------------------------------

    async def _release(self, batch: list[Claimed]) -> None:
        async with unit_of_work(self.sessions) as session:
            await session.execute(
                update(Document)
                .where(Document.id.in_([d.id for d in batch]), Document.status == DocumentStatus.sending)
                .values(status=DocumentStatus.pending)
            )

    async def _record(self, decided: Decided) -> None:
        if not decided:
            return
        now = datetime.now(UTC)
        async with unit_of_work(self.sessions) as session:
            documents = (
                await session.scalars(
                    select(Document).where(Document.id.in_(list(decided))).with_for_update(key_share=True)
                )
            ).all()
            for document in documents:
                outcome = decided[document.id]
                if outcome.published:
                    document.status = DocumentStatus.published
                    document.xero_id = outcome.xero_id
                    document.xero_number = outcome.number or document.xero_number
                    document.amount = outcome.amount
                    document.published_at = now
                    document.last_error = None
                elif outcome.error:
                    document.status = DocumentStatus.failed
                    document.last_error = outcome.error
                else:
                    document.status = DocumentStatus.pending  # not found after an unknown outcome: send again
            await self._settle_records(session, {d.record_id for d in documents})
            stale = {
                (d.xero_connection_id, d.account_id)
                for d in documents
                if d.status is DocumentStatus.failed and _suggests_stale_reference(d.last_error or "")
            }
            for xero_connection_id, account_id in stale:
                # Our copy of the chart of accounts or tax rates may be out of date: read it again, so the
                # next mapping checks against what Xero has now.
                await add_message(
                    session, RefreshXeroReference(xero_connection_id=xero_connection_id), account_id
                )

    async def _settle_records(self, session: AsyncSession, record_ids: set[uuid.UUID]) -> None:
        records = (
            await session.scalars(
                select(SourceRecord)
                .where(SourceRecord.id.in_(record_ids))
                .order_by(SourceRecord.id)
                .with_for_update(key_share=True)
            )
        ).all()
        for record in records:
            documents = (
                await session.scalars(
                    select(Document).where(
                        Document.record_id == record.id, Document.status != DocumentStatus.superseded
                    )
                )
            ).all()
            failed = [d for d in documents if d.status is DocumentStatus.failed]
            if failed:
                reason = "; ".join(
                    f"Xero rejected the {d.kind.value.replace('_', ' ')}: {d.last_error}" for d in failed
                )
                if record.status is not RecordStatus.failed or record.reason != reason:
                    move(session, record, RecordStatus.failed, reason, code=ReasonCode.xero_rejected)
            elif (
                documents
                and all(d.status is DocumentStatus.published for d in documents)
                and record.status is not RecordStatus.synced
            ):
                summary = ", ".join(
                    f"{d.kind.value.replace('_', ' ')} {d.xero_number or d.xero_id}" for d in documents
                )
                move(session, record, RecordStatus.synced, f"In Xero: {summary}")


STALE_REFERENCE_HINTS = ("account code", "accountcode", "taxtype", "tax type", "branding theme", "currency")


def _suggests_stale_reference(error: str) -> bool:
    lowered = error.lower()
    return any(hint in lowered for hint in STALE_REFERENCE_HINTS)


def _matching_payment(document: Claimed, payments: list[dict[str, Any]]) -> Outcome | None:
    """The payment this document created, if Xero has it: same amount, and same reference when both have one."""
    amount = _money(document.body.get("Amount"))
    reference = document.body.get("Reference")
    for payment in payments:
        if payment.get("Status") == "DELETED" or not payment.get("PaymentID"):
            continue
        if _money(payment.get("Amount")) != amount:
            continue
        if reference and payment.get("Reference") and payment["Reference"] != reference:
            continue
        return Outcome(True, str(payment["PaymentID"]), None, amount)
    return None
