"""The record lifecycle: its states, the allowed moves as one table, and the only functions that move a
record. Every move appends to the record's history (SPEC.md §6: every change is kept) and stores the
reason's code and cause, so "why is this record waiting?" and "which records does this fix free?" are
questions for the database, not for the whole code base.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.common.alerts import events as alerts
from ledgerbridge.common.alerts.kinds import AlertKind
from ledgerbridge.common.messaging.messages import MapRecord, MapRecords
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Document, DocumentStatus, RecordEvent, RecordStatus, SourceRecord

_MAPPED_TO = frozenset(
    {
        RecordStatus.mapped,
        RecordStatus.synced,
        RecordStatus.skipped,
        RecordStatus.failed,
        RecordStatus.waiting,
    }
)
"""Where a mapping can take a record: documents to send, nothing to send, by rule, a failure, a hold."""

ALLOWED: dict[RecordStatus | None, frozenset[RecordStatus]] = {
    None: frozenset({RecordStatus.received}),
    RecordStatus.received: _MAPPED_TO | {RecordStatus.received},
    # Published (synced) or refused by Xero (failed); remapped when a lookup or a held document asks.
    RecordStatus.mapped: _MAPPED_TO | {RecordStatus.received},
    RecordStatus.waiting: _MAPPED_TO | {RecordStatus.received},
    # Mapped again when what it failed on is fixed (a mapping, a setting) or when retried.
    RecordStatus.failed: _MAPPED_TO | {RecordStatus.received},
    RecordStatus.synced: frozenset({RecordStatus.received, RecordStatus.synced, RecordStatus.mapped}),
    RecordStatus.skipped: frozenset({RecordStatus.received, RecordStatus.skipped}),
}
"""From a status (``None``: a record being created) to the statuses it may move to."""

_RECORD_EVENTS = cast(Table, RecordEvent.__table__)
"""History rows are inserted by the table, not as ORM objects: a batch writes thousands at once."""


class IllegalMove(RuntimeError):
    """A move the lifecycle does not allow: a bug in the caller, never a user's doing."""


def move(
    session: AsyncSession,
    record: SourceRecord,
    status: RecordStatus,
    reason: str | None = None,
    *,
    code: ReasonCode | None = None,
    cause: Cause | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Set the record's status and reason (with its code and cause), and append the move to its history."""
    session.add(RecordEvent(**_moved(session, record, status, reason, code, cause, detail)))


@dataclass
class Moves:
    """Many records' moves in one unit of work, their history written in one statement by :meth:`write`
    (a mapper batch: one history row object and one insert per record would cost more than the mapping).

    Each move is :func:`move`'s: checked against the table, the record's status set at once.
    """

    session: AsyncSession
    _events: list[dict[str, Any]] = field(default_factory=list)

    def move(
        self,
        record: SourceRecord,
        status: RecordStatus,
        reason: str | None = None,
        *,
        code: ReasonCode | None = None,
        cause: Cause | None = None,
    ) -> None:
        self._events.append(_moved(self.session, record, status, reason, code, cause, None))

    async def write(self) -> None:
        """Insert the history of the moves made since the last write (before the unit of work commits)."""
        if self._events:
            await self.session.execute(insert(_RECORD_EVENTS), self._events)
            self._events = []


def _moved(
    session: AsyncSession,
    record: SourceRecord,
    status: RecordStatus,
    reason: str | None,
    code: ReasonCode | None,
    cause: Cause | None,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    """Move the record and return its history row's values."""
    previous = record.status
    if status not in ALLOWED[previous]:
        raise IllegalMove(f"record {record.id} cannot move from {previous} to {status}")
    record.status = status
    record.reason = reason
    record.reason_code = code.value if code is not None else None
    record.reason_cause = cause.as_dict() if cause is not None else None
    event_detail = dict(detail or {})
    if code is not None:
        event_detail["reason_code"] = code.value
    if cause is not None:
        event_detail["cause"] = cause.as_dict()
    if status is RecordStatus.failed and previous is not RecordStatus.failed:
        # The owners hear of it in the same transaction; the alerts worker folds a burst into one alert.
        alerts.note(
            session,
            record.account_id,
            AlertKind.records_failed,
            detail={"record_id": str(record.id), "external_id": record.external_id, "reason": reason},
        )
    return {
        "account_id": record.account_id,
        "record_id": record.id,
        "from_status": str(previous) if previous is not None else None,
        "to_status": str(status),
        "reason": reason,
        "detail": event_detail,
    }


async def requeue(
    session: AsyncSession, record: SourceRecord, reason: str, *, detail: dict[str, Any] | None = None
) -> None:
    """Hand the record back to the mapper now; its documents Xero refused become sendable again.

    Unchanged documents keep their fingerprint and idempotency key when the mapper rebuilds them.
    """
    await _reset(session, record, reason, detail=detail)
    await add_message(session, MapRecord(record_id=record.id), record.account_id)


async def _reset(
    session: AsyncSession, record: SourceRecord, reason: str, *, detail: dict[str, Any] | None
) -> None:
    reset = 0
    for document in await session.scalars(
        select(Document).where(Document.record_id == record.id, Document.status == DocumentStatus.failed)
    ):
        document.status = DocumentStatus.pending
        reset += 1
    move(session, record, RecordStatus.received, reason, detail={**(detail or {}), "documents_reset": reset})


async def queue_mapping(session: AsyncSession, records: Sequence[SourceRecord]) -> None:
    """Hand records to the mapper in batches (one message per tenant and ``MapRecords.MAX_RECORDS``)."""
    by_account: dict[uuid.UUID, list[uuid.UUID]] = {}
    for record in records:
        by_account.setdefault(record.account_id, []).append(record.id)
    for account_id, ids in by_account.items():
        for start in range(0, len(ids), MapRecords.MAX_RECORDS):
            await add_message(
                session, MapRecords(record_ids=ids[start : start + MapRecords.MAX_RECORDS]), account_id
            )


async def release(
    session: AsyncSession,
    records: Sequence[SourceRecord],
    reason: str,
    *,
    detail: dict[str, Any] | None = None,
) -> int:
    """Send records back to the mapper: what held them (a plan limit, a missing link, a mapping) is gone."""
    for record in records:
        await _reset(session, record, reason, detail=detail)
    await queue_mapping(session, records)
    return len(records)
