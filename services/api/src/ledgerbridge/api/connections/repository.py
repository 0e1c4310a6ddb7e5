"""Connection rows, always within one account."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import Connection, ConnectionKind, ConnectionStatus

SOURCE_KINDS = (ConnectionKind.ontraport, ConnectionKind.onport)


async def list_connections(session: AsyncSession, account_id: uuid.UUID) -> list[Connection]:
    query = select(Connection).where(Connection.account_id == account_id)
    return list(await session.scalars(query.order_by(Connection.created_at, Connection.id)))


async def get_connection(
    session: AsyncSession, account_id: uuid.UUID, connection_id: uuid.UUID
) -> Connection | None:
    return await session.scalar(
        select(Connection).where(Connection.id == connection_id, Connection.account_id == account_id)
    )


async def active_xero_connections(session: AsyncSession, account_id: uuid.UUID) -> list[Connection]:
    query = select(Connection).where(
        Connection.account_id == account_id,
        Connection.kind == ConnectionKind.xero,
        Connection.status == ConnectionStatus.active,
    )
    return list(await session.scalars(query.order_by(Connection.created_at)))


async def publishing_xero_connection_ids(session: AsyncSession, account_id: uuid.UUID) -> list[uuid.UUID]:
    """The organisations the account's documents go to: those its sources post to, or else its only
    active one(s). Values the tenant maps must exist there."""
    xero = await active_xero_connections(session, account_id)
    linked = set(
        await session.scalars(
            select(Connection.xero_connection_id).where(
                Connection.account_id == account_id,
                Connection.kind.in_(SOURCE_KINDS),
                Connection.status != ConnectionStatus.disconnected,
                Connection.xero_connection_id.is_not(None),
            )
        )
    )
    chosen = [connection.id for connection in xero if connection.id in linked]
    return chosen or [connection.id for connection in xero]


async def link_unlinked_sources(session: AsyncSession, account_id: uuid.UUID, xero_id: uuid.UUID) -> None:
    await session.execute(
        update(Connection)
        .where(
            Connection.account_id == account_id,
            Connection.kind.in_(SOURCE_KINDS),
            Connection.status != ConnectionStatus.disconnected,
            Connection.xero_connection_id.is_(None),
        )
        .values(xero_connection_id=xero_id)
    )


async def unlink_sources(session: AsyncSession, account_id: uuid.UUID, xero_id: uuid.UUID) -> None:
    await session.execute(
        update(Connection)
        .where(Connection.account_id == account_id, Connection.xero_connection_id == xero_id)
        .values(xero_connection_id=None)
    )
