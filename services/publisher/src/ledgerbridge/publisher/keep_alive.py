"""Keeping unused Xero connections alive: refresh tokens expire after 60 days without use."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.clients.xero import TokenService
from ledgerbridge.common.messaging.errors import PermanentError, TransientError
from ledgerbridge.common.models import Connection, ConnectionKind, ConnectionStatus

log = structlog.get_logger(__name__)


async def keep_tokens_alive(
    sessions: async_sessionmaker[AsyncSession], tokens: TokenService, now: datetime, idle: timedelta
) -> int:
    """Refresh every active Xero connection whose tokens were last refreshed more than ``idle`` ago.

    The refresh goes through the token service, so it happens under the connection's row lock like any
    other and never races a publisher's refresh. Returns how many were refreshed.
    """
    async with sessions() as session:
        stale = (
            await session.scalars(
                select(Connection.id).where(
                    Connection.kind == ConnectionKind.xero,
                    Connection.status == ConnectionStatus.active,
                    Connection.token_expires_at < now - idle,
                )
            )
        ).all()
    refreshed = 0
    for connection_id in stale:
        try:
            await tokens.access_token(sessions, connection_id)
            refreshed += 1
        except (TransientError, PermanentError) as error:
            # A refused grant already marked the connection as needing a reconnect; a blip retries next time.
            log.warning("xero.keep_alive_failed", connection_id=str(connection_id), error=str(error))
    return refreshed
