"""What a batch of the mapper costs the database: a fixed number of statements however many records it
holds (the records' inputs read a query per kind for all of them, their rows written a statement per
table), and the same decisions as mapping each record alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.documents import InvoiceStatus
from ledgerbridge.bookkeeping.sales.summary import DailySummary, SummaryEntry, summary_entry
from ledgerbridge.common.messaging.messages import MapRecord, MapRecords
from ledgerbridge.common.models import (
    Connection,
    Document,
    DocumentKind,
    DocumentStatus,
    RecordStatus,
    SourceRecord,
    XeroDocumentState,
)
from ledgerbridge.common.models.records import REFUND_SUMMARY_KIND, SUMMARY_KIND
from ledgerbridge.common.records import core_inputs
from ledgerbridge.common.records.decide import Reads
from ledgerbridge.common.xero_documents import INVOICE
from ledgerbridge.mapper.record_mapping import map_record, map_records
from tests.mapper.test_service import stored, tenant, worked_example


@contextmanager
def statements(db: AsyncSession) -> Iterator[list[str]]:
    """The SQL statements the session's connection sends while the block runs."""
    sent: list[str] = []

    def count(_conn: SyncConnection, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    assert db.bind is not None
    target = db.bind.sync_engine
    event.listen(target, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(target, "before_cursor_execute", count)


async def _held_draft_sale(db: AsyncSession, source: Connection, number: int) -> SourceRecord:
    """A sale whose invoice went to Xero as a draft, with Xero's copy of it as last read."""
    record = await stored(db, source, {**worked_example(), "id": str(number)})
    xero_id = str(uuid.uuid4())
    assert source.xero_connection_id is not None
    db.add(
        Document(
            account_id=record.account_id,
            record_id=record.id,
            xero_connection_id=source.xero_connection_id,
            kind=DocumentKind.invoice,
            mapping_version="1",
            request_body={"Status": InvoiceStatus.DRAFT.value, "InvoiceNumber": f"OP-{number}"},
            fingerprint="f" * 64,
            idempotency_key=f"held-{number}",
            status=DocumentStatus.published,
            xero_id=xero_id,
            amount=Decimal("242.00"),
        )
    )
    db.add(
        XeroDocumentState(
            xero_connection_id=source.xero_connection_id,
            resource=INVOICE,
            xero_id=xero_id,
            account_id=record.account_id,
            found=True,
            status="AUTHORISED",
            total=Decimal("242.00"),
            facts={},
            fetched_at=datetime.now(UTC),
        )
    )
    await db.flush()
    return record


async def _summarised_sales(db: AsyncSession, source: Connection, numbers: range) -> list[SourceRecord]:
    """Sales a daily summary took, each partly credited by a refunds credit note of its own."""
    sales = [await stored(db, source, {**worked_example(), "id": str(n)}) for n in numbers]
    assert source.xero_connection_id is not None
    reads = Reads(db)
    reference = await reads.reference(source.xero_connection_id)
    entries = []
    for sale in sales:
        entry = summary_entry(
            sale.payload["transaction"],
            record_id=str(sale.id),
            contact=core_inputs.ontraport_contact(sale.payload["contact"]),
            mappings=await reads.sales_mappings(sale.account_id),
            settings=await reads.settings(sale.account_id),
            reference=reference,
        )
        assert isinstance(entry, SummaryEntry)
        entries.append(entry)
    day = DailySummary(
        gateway_id=entries[0].gateway_id,
        day=entries[0].day,
        currency_code=entries[0].currency_code,
        payment_account=entries[0].payment_account,
        entries=tuple(entries),
    )
    summary = _summary_record(
        source, SUMMARY_KIND, f"{day.number}-{numbers.start}", day.model_dump(mode="json")
    )
    db.add(summary)
    await db.flush()  # before the sales point at it
    for sale in sales:
        refunds = {"entries": [{"record_id": str(sale.id), "total": "10.00"}]}
        db.add(_summary_record(source, REFUND_SUMMARY_KIND, f"CN-{sale.external_id}", refunds))
        sale.summary_record_id = summary.id
    await db.flush()
    return sales


def _summary_record(source: Connection, kind: str, number: str, payload: dict[str, Any]) -> SourceRecord:
    return SourceRecord(
        id=uuid.uuid4(),
        account_id=source.account_id,
        connection_id=source.id,
        source="ontraport",
        kind=kind,
        external_id=number,
        payload=payload,
        payload_hash="h",
        status=RecordStatus.synced,
    )


async def _mix(db: AsyncSession, source: Connection, start: int, each: int) -> list[SourceRecord]:
    """``each`` plain sales, ``each`` sales held as drafts in Xero and ``each`` summarised sales."""
    plain = [await stored(db, source, {**worked_example(), "id": str(start + n)}) for n in range(each)]
    held = [await _held_draft_sale(db, source, start + 100 + n) for n in range(each)]
    summarised = await _summarised_sales(db, source, range(start + 200, start + 200 + each))
    return plain + held + summarised


async def test_a_batch_costs_the_same_statements_for_3_records_as_for_30(db: AsyncSession) -> None:
    _, source = await tenant(db)
    small = await _mix(db, source, 10_000, 1)
    large = await _mix(db, source, 20_000, 10)

    with statements(db) as for_small:
        await map_records(db, MapRecords(record_ids=[r.id for r in small]))
    with statements(db) as for_large:
        await map_records(db, MapRecords(record_ids=[r.id for r in large]))

    assert {r.status for r in small + large} <= {
        RecordStatus.mapped,
        RecordStatus.synced,
        RecordStatus.waiting,
    }
    # Reads (records, documents, summaries, refunds credit notes, Xero's drafts, the tenant's inputs)
    # and writes (documents, history, records, the publish message): none of them per record.
    assert len(for_large) == len(for_small), "\n".join(for_large)
    assert len(for_small) <= 20, "\n".join(for_small)


async def test_a_batch_decides_as_each_record_alone_would(db: AsyncSession) -> None:
    _, source = await tenant(db)
    batched = await _mix(db, source, 30_000, 2)
    alone = await _mix(db, source, 40_000, 2)

    await map_records(db, MapRecords(record_ids=[r.id for r in batched]))
    for record in alone:
        await map_record(db, MapRecord(record_id=record.id))

    assert [(r.status, r.reason_code) for r in batched] == [(r.status, r.reason_code) for r in alone]
    assert len({r.status for r in batched}) > 1  # the mix takes more than one way through the core
