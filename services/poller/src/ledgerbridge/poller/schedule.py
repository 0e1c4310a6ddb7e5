"""When source connections are polled: one schedule for every source kind, jittered, leased rows.

Each scheduler tick claims every due cursor, in batches: one batch is one transaction of three
statements (claim the due rows with ``FOR UPDATE SKIP LOCKED``, push them past a lease, queue their
polls in one multi-row insert), so 10,000 tenants due at once cost about 60 statements, not 20,000, and
one tick queues them all instead of 100 per tick. Two replicas' batches skip each other's locked rows,
and a claimed row's ``next_poll_at`` is past the lease when its lock is released, so no replica queues it
again until its poll has set the real time.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.messages import PollConnection
from ledgerbridge.common.messaging.outbox import add_messages
from ledgerbridge.common.models import (
    Connection,
    ConnectionKind,
    ConnectionStatus,
    PollCursor,
    PollStream,
)
from ledgerbridge.common.settings import PollingSettings

SCHEDULE_BATCH = 500
# A queued poll that has not run by then (its worker died) is queued again; far above the time a full
# queue of 10,000 polls takes to drain.
POLL_LEASE = timedelta(minutes=10)


def next_poll_at(polling: PollingSettings, now: datetime) -> datetime:
    jitter = random.uniform(0, polling.poll_jitter_seconds)
    return now + timedelta(seconds=polling.poll_interval_seconds + jitter)


async def schedule_due(session: AsyncSession, now: datetime, limit: int = SCHEDULE_BATCH) -> int:
    """Queue a poll for up to ``limit`` due active source connections; returns how many."""
    claimed = (
        await session.execute(
            select(PollCursor.id, PollCursor.connection_id, Connection.account_id)
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
    if not claimed:
        return 0
    # Pushed past the lease now so no tick queues it again; the poll sets the real time.
    await session.execute(
        update(PollCursor)
        .where(PollCursor.id.in_([cursor_id for cursor_id, _, _ in claimed]))
        .values(next_poll_at=now + POLL_LEASE)
    )
    await add_messages(
        session,
        (
            (PollConnection(connection_id=connection_id, reason="schedule"), account_id)
            for _, connection_id, account_id in claimed
        ),
    )
    return len(claimed)


async def schedule_all_due(
    sessions: async_sessionmaker[AsyncSession], now: datetime, batch: int = SCHEDULE_BATCH
) -> int:
    """Every connection due by ``now``, batch after batch, each batch its own short transaction."""
    queued = 0
    while True:
        async with unit_of_work(sessions) as session:
            claimed = await schedule_due(session, now, batch)
        queued += claimed
        if claimed < batch:
            return queued
