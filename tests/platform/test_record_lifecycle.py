"""The record lifecycle: allowed moves only, each with its history row, code and cause."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.common.models import (
    Account,
    Connection,
    ConnectionKind,
    RecordEvent,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.records.lifecycle import ALLOWED, IllegalMove, move


async def _record(db: AsyncSession) -> SourceRecord:
    account = Account(company="Lifecycle Ltd")
    db.add(account)
    await db.flush()
    connection = Connection(account_id=account.id, kind=ConnectionKind.ontraport, name="op", credentials=b"")
    db.add(connection)
    await db.flush()
    record = SourceRecord(
        account_id=account.id,
        connection_id=connection.id,
        source="ontraport",
        kind="transaction",
        external_id=uuid.uuid4().hex[:8],
        payload={},
        payload_hash="0" * 64,
    )
    db.add(record)
    await db.flush()
    return record


async def test_a_move_keeps_its_code_cause_and_history(db: AsyncSession) -> None:
    record = await _record(db)
    cause = Cause("mapping", "product", "12")
    move(
        db,
        record,
        RecordStatus.failed,
        "Product 12 has no account",
        code=ReasonCode.product_unmapped,
        cause=cause,
    )
    await db.flush()
    assert (record.status, record.reason_code, record.reason_cause) == (
        RecordStatus.failed,
        "product_unmapped",
        {"kind": "mapping", "name": "product", "key": "12"},
    )
    event = (await db.scalars(select(RecordEvent).where(RecordEvent.record_id == record.id))).one()
    assert (event.from_status, event.to_status) == ("received", "failed")
    assert event.detail == {"reason_code": "product_unmapped", "cause": cause.as_dict()}
    move(db, record, RecordStatus.received, "Retry requested")
    assert (record.reason_code, record.reason_cause) == (None, None)


async def test_a_move_the_table_forbids_is_refused(db: AsyncSession) -> None:
    record = await _record(db)
    move(db, record, RecordStatus.skipped, "Declined")
    with pytest.raises(IllegalMove, match="from skipped to mapped"):
        move(db, record, RecordStatus.mapped, "documents built")
    assert record.status is RecordStatus.skipped


def test_every_status_has_a_row_and_every_reason_its_words() -> None:
    assert set(ALLOWED) == {None, *RecordStatus}
    for code in ReasonCode:
        assert code.meaning and code.fix
