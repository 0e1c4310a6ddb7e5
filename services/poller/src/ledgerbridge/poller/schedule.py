"""When source connections are polled: one schedule for every source kind, jittered, leased rows."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.messaging.messages import PollConnection
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Connection, ConnectionKind, ConnectionStatus, PollCursor, PollStream
from ledgerbridge.common.settings import PollingSettings


def next_poll_at(polling: PollingSettings, now: datetime) -> datetime:
    jitter = random.uniform(0, polling.poll_jitter_seconds)
    return now + timedelta(seconds=polling.poll_interval_seconds + jitter)


async def schedule_due(session: AsyncSession, now: datetime, limit: int = 100) -> int:
    """Queue a poll for every active source connection whose time has come; returns how many."""
    cursors = (
        await session.scalars(
            select(PollCursor)
            .join(Connection, Connection.id == PollCursor.connection_id)
            .where(
                PollCursor.next_poll_at <= now,
                Connection.status == ConnectionStatus.active,
                or_(
                    *(
                        and_(Connection.kind == kind, PollCursor.stream == PollStream.of(kind))
                        for kind in (ConnectionKind.ontraport, ConnectionKind.onport)
                    )
                ),
            )
            .order_by(PollCursor.next_poll_at)
            .limit(limit)
            .with_for_update(of=PollCursor, skip_locked=True, key_share=True)
        )
    ).all()
    for cursor in cursors:
        # Pushed forward now so the next scheduler tick does not queue it again; the poll sets the real time.
        cursor.next_poll_at = now + timedelta(minutes=10)
        connection = await session.get(Connection, cursor.connection_id)
        assert connection is not None
        await add_message(
            session,
            PollConnection(connection_id=cursor.connection_id, reason="schedule"),
            connection.account_id,
        )
    return len(cursors)
