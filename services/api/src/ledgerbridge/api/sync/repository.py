"""Connections, poll cursors and the counts behind the sync status, always within one account."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import (
    Connection,
    ConnectionKind,
    Document,
    PollCursor,
    SourceRecord,
)

SOURCE_KINDS = (ConnectionKind.ontraport, ConnectionKind.onport)


async def connections(session: AsyncSession, account_id: uuid.UUID) -> list[Connection]:
    rows = await session.scalars(
        select(Connection)
        .where(Connection.account_id == account_id)
        .order_by(Connection.created_at, Connection.id)
    )
    return list(rows)


async def connection(
    session: AsyncSession, account_id: uuid.UUID, connection_id: uuid.UUID
) -> Connection | None:
    found: Connection | None = await session.scalar(
        select(Connection).where(Connection.id == connection_id, Connection.account_id == account_id)
    )
    return found


@dataclass(frozen=True)
class CursorSummary:
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    last_error: str | None


async def cursor_summaries(session: AsyncSession, account_id: uuid.UUID) -> dict[uuid.UUID, CursorSummary]:
    """Per connection over its streams: the latest poll, the earliest next poll, an error if any has one."""
    rows = await session.execute(
        select(
            PollCursor.connection_id,
            func.max(PollCursor.last_polled_at),
            func.min(PollCursor.next_poll_at),
            func.max(PollCursor.last_error),
        )
        .join(Connection, Connection.id == PollCursor.connection_id)
        .where(Connection.account_id == account_id)
        .group_by(PollCursor.connection_id)
    )
    return {row[0]: CursorSummary(row[1], row[2], row[3]) for row in rows.all()}


async def record_counts(session: AsyncSession, account_id: uuid.UUID) -> dict[uuid.UUID, dict[str, int]]:
    rows = await session.execute(
        select(SourceRecord.connection_id, SourceRecord.status, func.count())
        .where(SourceRecord.account_id == account_id)
        .group_by(SourceRecord.connection_id, SourceRecord.status)
    )
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for connection_id, status, count in rows.all():
        counts.setdefault(connection_id, {})[str(status)] = count
    return counts


async def document_counts_by_source(
    session: AsyncSession, account_id: uuid.UUID
) -> dict[uuid.UUID, dict[str, int]]:
    """Documents by status, per source connection of the records they were built from."""
    rows = await session.execute(
        select(SourceRecord.connection_id, Document.status, func.count())
        .join(SourceRecord, SourceRecord.id == Document.record_id)
        .where(Document.account_id == account_id)
        .group_by(SourceRecord.connection_id, Document.status)
    )
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for connection_id, status, count in rows.all():
        counts.setdefault(connection_id, {})[str(status)] = count
    return counts


async def document_counts_by_xero(
    session: AsyncSession, account_id: uuid.UUID
) -> dict[uuid.UUID, dict[str, int]]:
    rows = await session.execute(
        select(Document.xero_connection_id, Document.status, func.count())
        .where(Document.account_id == account_id)
        .group_by(Document.xero_connection_id, Document.status)
    )
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for connection_id, status, count in rows.all():
        counts.setdefault(connection_id, {})[str(status)] = count
    return counts
