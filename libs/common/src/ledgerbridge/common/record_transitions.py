"""Moving a source record between states, always with an audit row (SPEC.md §6: every change is kept)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.messaging.messages import MapRecord
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import RecordEvent, RecordStatus, SourceRecord


def transition(
    session: AsyncSession,
    record: SourceRecord,
    status: RecordStatus,
    reason: str | None = None,
    *,
    reason_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Set the record's status and reason, and append the change to its history."""
    previous = record.status if record.status is not None else None
    record.status = status
    record.reason = reason
    record.reason_code = reason_code
    session.add(
        RecordEvent(
            account_id=record.account_id,
            record_id=record.id,
            from_status=str(previous) if previous is not None else None,
            to_status=str(status),
            reason=reason,
            detail=detail or {},
        )
    )


async def release(session: AsyncSession, records: Sequence[SourceRecord], reason: str) -> int:
    """Send waiting records back to the mapper: what held them (a plan limit, a missing link) is gone."""
    for record in records:
        transition(session, record, RecordStatus.received, reason)
        await add_message(session, MapRecord(record_id=record.id), record.account_id)
    return len(records)
