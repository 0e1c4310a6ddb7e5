"""Records held by the Xero organisation's lock date go by themselves once it moves.

The lock date is read with the rest of the reference data, which is otherwise re-read only when Xero
refuses something. While a source has records held by it, each poll asks for a fresh read once the
cached one is older than :data:`RECHECK_AFTER`; the publisher's refresh then frees them, and the mapper
holds again those the lock date still covers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.messaging.messages import RefreshXeroReference
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Connection, RecordStatus, SourceRecord, XeroReferenceCache

RECHECK_AFTER = timedelta(hours=1)
"""A bookkeeper moves a lock date at month's end; an hour's delay costs little and spends one read of
the organisation's data (five calls) an hour at most."""


async def recheck_lock_date(session: AsyncSession, connection: Connection, now: datetime) -> bool:
    """Queue a reference refresh when ``connection`` has records held by a stale lock date."""
    if connection.xero_connection_id is None:
        return False
    held = await session.scalar(
        select(
            exists().where(
                SourceRecord.connection_id == connection.id,
                SourceRecord.status == RecordStatus.waiting,
                SourceRecord.reason_code == ReasonCode.period_locked,
            )
        )
    )
    if not held:
        return False
    fetched_at = await session.scalar(
        select(XeroReferenceCache.fetched_at).where(
            XeroReferenceCache.connection_id == connection.xero_connection_id
        )
    )
    if fetched_at is not None and fetched_at > now - RECHECK_AFTER:
        return False
    await add_message(
        session,
        RefreshXeroReference(xero_connection_id=connection.xero_connection_id, asked_at=now),
        connection.account_id,
    )
    return True
