"""Two poller replicas scheduling at once never queue a connection's poll twice (row leases)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import (
    Account,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    OutboxMessage,
    PollCursor,
    PollStream,
)
from ledgerbridge.poller.schedule import schedule_due

TENANTS = 12


async def test_two_schedulers_at_once_queue_every_due_connection_exactly_once(
    committing: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    async with unit_of_work(committing) as session:
        for n in range(TENANTS):
            account = Account(company=f"Tenant {n}")
            session.add(account)
            await session.flush()
            connection = Connection(
                account_id=account.id,
                kind=ConnectionKind.ontraport,
                status=ConnectionStatus.active,
                credentials=b"x",
            )
            session.add(connection)
            await session.flush()
            session.add(
                PollCursor(
                    connection_id=connection.id,
                    stream=PollStream.transactions,
                    next_poll_at=now - timedelta(seconds=n),
                )
            )

    async def replica() -> int:
        queued = 0
        for _ in range(3):  # several ticks each, batches small enough that the two interleave
            async with unit_of_work(committing) as session:
                queued += await schedule_due(session, datetime.now(UTC), limit=4)
        return queued

    counts = await asyncio.gather(replica(), replica())

    async with committing() as session:
        bodies = (
            await session.scalars(
                select(OutboxMessage.body).where(OutboxMessage.message_type == "poll.connection")
            )
        ).all()
        later = await session.scalar(select(func.min(PollCursor.next_poll_at)))
    assert sum(counts) == TENANTS
    per_connection = Counter(body["body"]["connection_id"] for body in bodies)
    assert len(per_connection) == TENANTS and set(per_connection.values()) == {1}
    assert later is not None and later > now  # every cursor pushed on, so the next tick queues none
