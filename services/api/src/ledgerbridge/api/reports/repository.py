"""Reading the records of a period and their documents, always within one account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import (
    Connection,
    ConnectionReferenceCache,
    Document,
    Mapping,
    MappingKind,
    SourceRecord,
)

MAX_RECORDS = 20_000  # a period's worth for a busy shop; the period limit keeps real reports well below


async def records_between(
    session: AsyncSession, account_id: uuid.UUID, start: datetime, end: datetime
) -> Sequence[SourceRecord]:
    return (
        await session.scalars(
            select(SourceRecord)
            .where(
                SourceRecord.account_id == account_id,
                SourceRecord.source_date >= start,
                SourceRecord.source_date < end,
            )
            .order_by(SourceRecord.source_date, SourceRecord.id)
            .limit(MAX_RECORDS)
        )
    ).all()


async def documents_of(
    session: AsyncSession, account_id: uuid.UUID, record_ids: Sequence[uuid.UUID]
) -> Sequence[Document]:
    if not record_ids:
        return []
    return (
        await session.scalars(
            select(Document)
            .where(Document.account_id == account_id, Document.record_id.in_(record_ids))
            .order_by(Document.created_at, Document.id)
        )
    ).all()


async def xero_connections(
    session: AsyncSession, account_id: uuid.UUID, ids: set[uuid.UUID]
) -> Sequence[Connection]:
    if not ids:
        return []
    return (
        await session.scalars(
            select(Connection).where(Connection.account_id == account_id, Connection.id.in_(ids))
        )
    ).all()


async def gateway_names(session: AsyncSession, account_id: uuid.UUID) -> dict[tuple[uuid.UUID, str], str]:
    """ONTRAPORT gateway names per connection, from the setup's reference cache."""
    rows = await session.execute(
        select(ConnectionReferenceCache.connection_id, ConnectionReferenceCache.data)
        .join(Connection, Connection.id == ConnectionReferenceCache.connection_id)
        .where(Connection.account_id == account_id)
    )
    names: dict[tuple[uuid.UUID, str], str] = {}
    for connection_id, data in rows.all():
        for gateway in (data or {}).get("gateways") or []:
            if isinstance(gateway, dict) and gateway.get("id") is not None and gateway.get("name"):
                names[(connection_id, str(gateway["id"]))] = str(gateway["name"])
    return names


async def gateway_currencies(session: AsyncSession, account_id: uuid.UUID) -> dict[str, str]:
    rows = await session.scalars(
        select(Mapping).where(Mapping.account_id == account_id, Mapping.kind == MappingKind.gateway)
    )
    return {row.source_id: str(row.target.get("currency_code") or "") for row in rows}
