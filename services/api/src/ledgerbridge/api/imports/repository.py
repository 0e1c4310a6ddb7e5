"""Historical imports, always within one account."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import Connection, Import, ImportStatus

LIST_LIMIT = 200


async def list_imports(session: AsyncSession, account_id: uuid.UUID) -> list[Import]:
    rows = await session.scalars(
        select(Import)
        .where(Import.account_id == account_id)
        .order_by(Import.created_at.desc(), Import.id.desc())
        .limit(LIST_LIMIT)
    )
    return list(rows)


async def get_import(session: AsyncSession, account_id: uuid.UUID, import_id: uuid.UUID) -> Import | None:
    found: Import | None = await session.scalar(
        select(Import).where(Import.id == import_id, Import.account_id == account_id)
    )
    return found


async def connection_for_update(
    session: AsyncSession, account_id: uuid.UUID, connection_id: uuid.UUID
) -> Connection | None:
    # Locked: two owners starting an import at once must not both find "none running".
    found: Connection | None = await session.scalar(
        select(Connection)
        .where(Connection.id == connection_id, Connection.account_id == account_id)
        .with_for_update(key_share=True)
    )
    return found


async def unfinished_import(session: AsyncSession, connection_id: uuid.UUID) -> Import | None:
    found: Import | None = await session.scalar(
        select(Import)
        .where(
            Import.connection_id == connection_id,
            Import.status.in_((ImportStatus.queued, ImportStatus.running)),
        )
        .limit(1)
    )
    return found
