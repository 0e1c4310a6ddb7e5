"""Connection rows, always within one account (``shares_xero_connection`` only asks about others)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.reference import cache
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


async def xero_connection_ref(session: AsyncSession, connection: Connection) -> str | None:
    """Xero's own id of the connection (user, app, organisation) behind one of our rows, as listed by
    ``GET /connections`` at consent and kept in the row's reference cache."""
    data, _ = await cache.read(session, connection.id)
    tenant = (connection.xero_tenant_id or "").lower()
    for item in data.get("organisations", []):
        if str(item.get("tenant_id", "")).lower() == tenant and item.get("xero_id"):
            return str(item["xero_id"]).lower()
    return None


async def shares_xero_connection(session: AsyncSession, connection: Connection) -> bool:
    """Whether another live row, of any account, holds the same Xero connection as this one: Xero keeps
    one connection per user, app and organisation, so two accounts connected by one Xero user share it.
    Deciding this reads other accounts' rows but returns nothing of them."""
    ours = await xero_connection_ref(session, connection)
    if ours is None or connection.xero_tenant_id is None:
        return False
    others = await session.scalars(
        select(Connection).where(
            Connection.kind == ConnectionKind.xero,
            Connection.id != connection.id,
            Connection.status != ConnectionStatus.disconnected,
            func.lower(Connection.xero_tenant_id) == connection.xero_tenant_id.lower(),
        )
    )
    for other in others:
        if await xero_connection_ref(session, other) == ours:
            return True
    return False
