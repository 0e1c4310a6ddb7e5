"""The rows the day plan reads: the account's Xero connection and its documents still to send."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import Connection, ConnectionKind, Document, DocumentKind, DocumentStatus


async def xero_connection(
    session: AsyncSession, account_id: uuid.UUID, connection_id: uuid.UUID, *, for_update: bool = False
) -> Connection | None:
    query = select(Connection).where(
        Connection.id == connection_id,
        Connection.account_id == account_id,
        Connection.kind == ConnectionKind.xero,
    )
    return await session.scalar(query.with_for_update() if for_update else query)


async def waiting_by_kind(
    session: AsyncSession, account_id: uuid.UUID, connection_id: uuid.UUID
) -> dict[DocumentKind, int]:
    rows = await session.execute(
        select(Document.kind, func.count())
        .where(
            Document.account_id == account_id,
            Document.xero_connection_id == connection_id,
            Document.status.in_((DocumentStatus.pending, DocumentStatus.sending)),
        )
        .group_by(Document.kind)
    )
    return {kind: int(count) for kind, count in rows.all()}
