"""The registry of document kinds: complete, in an order that lets one pass drain a record, and the
Xero ids each kind takes from the documents it waits for."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.clients.xero import RateLimiter, XeroClient
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import (
    Account,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Document,
    DocumentKind,
    DocumentStatus,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.settings import Settings
from ledgerbridge.publisher.claimed import Claimed
from ledgerbridge.publisher.claims import ready
from ledgerbridge.publisher.kinds import SEND_ORDER, SPECS, Destination


def test_every_document_kind_has_exactly_one_spec() -> None:
    assert sorted(SPECS) == sorted(DocumentKind)
    assert len(SEND_ORDER) == len(DocumentKind)
    assert all(SPECS[spec.kind] is spec for spec in SEND_ORDER)


def test_a_kind_waits_only_for_kinds_sent_before_it() -> None:
    position = {spec.kind: index for index, spec in enumerate(SEND_ORDER)}
    for spec in SEND_ORDER:
        for waited in (*spec.needs_published, *spec.after, *(link.source for link in spec.links)):
            assert position[waited] < position[spec.kind], (spec.kind, waited)


def test_ids_are_patched_only_from_kinds_a_document_waits_for() -> None:
    # A Xero id can only be patched in once its document is published, which the waits make sure of.
    for spec in SEND_ORDER:
        for link in spec.links:
            assert link.source in (*spec.needs_published, *spec.after), (spec.kind, link.source)


async def test_xero_ids_of_published_documents_are_patched_into_the_bodies_that_name_them(
    committing: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings
) -> None:
    async with unit_of_work(committing) as session:
        account = Account(company="Kinds Co")
        session.add(account)
        await session.flush()
        connection = Connection(
            account_id=account.id, kind=ConnectionKind.xero, status=ConnectionStatus.active, credentials=b""
        )
        session.add(connection)
        await session.flush()
        record = SourceRecord(
            account_id=account.id,
            connection_id=connection.id,
            source="onport",
            kind="purchase_invoice",
            external_id="5",
            payload={},
            payload_hash="h",
            status=RecordStatus.mapped,
        )
        session.add(record)
        await session.flush()

        def document(kind: DocumentKind, body: dict[str, Any], xero_id: str | None = None) -> Claimed:
            row = Document(
                account_id=account.id,
                record_id=record.id,
                xero_connection_id=connection.id,
                kind=kind,
                mapping_version="test",
                request_body=body,
                fingerprint="f" * 64,
                idempotency_key=f"lb:test:{uuid.uuid4()}",
                status=DocumentStatus.published if xero_id else DocumentStatus.pending,
                xero_id=xero_id,
            )
            session.add(row)
            return Claimed(uuid.uuid4(), record.id, kind, body, row.idempotency_key, None)

        document(DocumentKind.contact, {"ContactNumber": "S-1"}, xero_id="contact-guid")
        document(DocumentKind.bill, {"InvoiceNumber": "B-1"}, xero_id="bill-guid")
        bill = document(DocumentKind.bill, {"InvoiceNumber": "B-2", "Contact": {"ContactNumber": "S-1"}})
        payout = document(DocumentKind.bill_payment, {"Invoice": {"InvoiceNumber": "B-1"}, "Amount": 5})
        payment = document(DocumentKind.payment, {"Invoice": {"InvoiceNumber": "INV-1"}, "Amount": 5})
    async with httpx.AsyncClient() as http:
        client = XeroClient(http, settings.xero, RateLimiter(redis, settings.queue.prefix), _no_token, "t")
        destination = Destination(client, committing, connection.id)

        assert await SPECS[DocumentKind.bill].bodies(destination, [bill]) == [
            {"InvoiceNumber": "B-2", "Contact": {"ContactID": "contact-guid"}}
        ]
        assert await SPECS[DocumentKind.bill_payment].bodies(destination, [payout]) == [
            {"Invoice": {"InvoiceID": "bill-guid"}, "Amount": 5}
        ]
        # Sales invoice numbers are unique in Xero: a payment keeps naming its invoice by number.
        assert await SPECS[DocumentKind.payment].bodies(destination, [payment]) == [payment.body]


async def _no_token(rejected: str | None = None) -> str:
    raise AssertionError("patching ids reads only the database")


async def test_a_credit_note_waits_for_its_records_invoice_unless_the_record_has_none(
    committing: async_sessionmaker[AsyncSession],
) -> None:
    """A sale's credit note is sent after its invoice; a day's refunds credit note (and a summarised
    sale's) has no invoice of its own on its record, and is sent at once."""
    async with unit_of_work(committing) as session:
        account = Account(company="Credit Co")
        session.add(account)
        await session.flush()
        connection = Connection(
            account_id=account.id, kind=ConnectionKind.xero, status=ConnectionStatus.active, credentials=b""
        )
        session.add(connection)
        await session.flush()
        records: dict[str, uuid.UUID] = {}
        for name, invoice in (
            ("unsent", DocumentStatus.pending),
            ("sent", DocumentStatus.published),
            ("none", None),
        ):
            record = SourceRecord(
                account_id=account.id,
                connection_id=connection.id,
                source="ontraport",
                kind="transaction",
                external_id=name,
                payload={},
                payload_hash="h",
                status=RecordStatus.mapped,
            )
            session.add(record)
            await session.flush()
            records[name] = record.id
            kinds = [(DocumentKind.credit_note, DocumentStatus.pending)]
            if invoice is not None:
                kinds.append((DocumentKind.invoice, invoice))
            for kind, status in kinds:
                session.add(
                    Document(
                        account_id=account.id,
                        record_id=record.id,
                        xero_connection_id=connection.id,
                        kind=kind,
                        mapping_version="test",
                        request_body={},
                        fingerprint="f" * 64,
                        idempotency_key=f"lb:test:{uuid.uuid4()}",
                        status=status,
                    )
                )
        await session.flush()
        ready_records = set(
            (
                await session.scalars(
                    select(Document.record_id).where(
                        Document.account_id == account.id, ready(SPECS[DocumentKind.credit_note])
                    )
                )
            ).all()
        )
    assert ready_records == {records["sent"], records["none"]}
