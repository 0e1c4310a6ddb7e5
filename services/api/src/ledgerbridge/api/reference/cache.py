"""``ConnectionReferenceCache``: what was last read from a partner about a connection, merged by kind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import ConnectionReferenceCache


async def read(session: AsyncSession, connection_id: uuid.UUID) -> tuple[dict[str, Any], datetime | None]:
    row = (
        await session.execute(
            select(ConnectionReferenceCache.data, ConnectionReferenceCache.fetched_at).where(
                ConnectionReferenceCache.connection_id == connection_id
            )
        )
    ).one_or_none()
    return (dict(row.data), row.fetched_at) if row else ({}, None)


async def merge(session: AsyncSession, connection_id: uuid.UUID, updates: dict[str, Any]) -> datetime:
    """Replaces the kinds in ``updates`` and keeps the others (JSONB ``||`` in one statement)."""
    now = datetime.now(UTC)
    statement = insert(ConnectionReferenceCache).values(
        connection_id=connection_id, data=updates, fetched_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ConnectionReferenceCache.connection_id],
            set_={
                "data": ConnectionReferenceCache.data.op("||")(statement.excluded.data),
                "fetched_at": now,
                "updated_at": now,
            },
        )
    )
    return now
