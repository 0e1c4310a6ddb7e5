"""Two poller replicas scheduling at once never queue a connection's poll twice (row leases), and a
tick drains every due connection however many there are, in batches."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

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
from ledgerbridge.common.settings import PollingSettings
from ledgerbridge.poller.schedule import next_poll_at, schedule_all_due, schedule_due

TENANTS = 12


async def _tenants(
    sessions: async_sessionmaker[AsyncSession],
    count: int,
    now: datetime,
    *,
    status: ConnectionStatus = ConnectionStatus.active,
) -> list[uuid.UUID]:
    """``count`` ONTRAPORT connections, the n-th due n seconds before ``now``."""
    ids = []
    async with unit_of_work(sessions) as session:
        for n in range(count):
            account = Account(company=f"Tenant {n}")
            session.add(account)
            await session.flush()
            connection = Connection(
                account_id=account.id, kind=ConnectionKind.ontraport, status=status, credentials=b"x"
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
            ids.append(connection.id)
    return ids


async def _queued(sessions: async_sessionmaker[AsyncSession]) -> Counter[str]:
    async with sessions() as session:
        bodies = (
            await session.scalars(
                select(OutboxMessage.body).where(OutboxMessage.message_type == "poll.connection")
            )
        ).all()
    return Counter(body["body"]["connection_id"] for body in bodies)


async def test_two_schedulers_at_once_queue_every_due_connection_exactly_once(
    committing: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    await _tenants(committing, TENANTS, now)

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


MANY = 150
BATCH = 7  # far below MANY, so each replica's tick is many batches interleaved with the other's


async def test_two_replicas_draining_small_batches_queue_every_tenant_once_per_cycle(
    engine: AsyncEngine, committing: async_sessionmaker[AsyncSession]
) -> None:
    polling = PollingSettings()
    now = datetime.now(UTC)
    due = await _tenants(committing, MANY, now)
    await _tenants(committing, 5, now, status=ConnectionStatus.disconnected)  # never queued
    statements = 0

    def counted(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", counted)
    try:
        counts = await asyncio.gather(
            schedule_all_due(committing, now, BATCH), schedule_all_due(committing, now, BATCH)
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", counted)

    assert sum(counts) == MANY
    first_cycle = await _queued(committing)
    assert set(first_cycle) == {str(i) for i in due} and set(first_cycle.values()) == {1}
    # Claim, lease and queue in one statement each per batch (plus BEGIN/COMMIT), never one per tenant.
    batches = MANY // BATCH + 2
    assert statements <= 5 * (batches + 2)
    # The lease holds: the same tick again, or a later one before the polls ran, queues nothing.
    assert await schedule_all_due(committing, now, BATCH) == 0
    assert await schedule_all_due(committing, now + timedelta(minutes=5), BATCH) == 0

    # The polls run and set their next time; one interval (and the most jitter) later all are due again.
    async with unit_of_work(committing) as session:
        for cursor in (await session.scalars(select(PollCursor))).all():
            cursor.next_poll_at = next_poll_at(polling, now)
    later = now + timedelta(seconds=polling.poll_interval_seconds + polling.poll_jitter_seconds + 1)
    counts = await asyncio.gather(
        schedule_all_due(committing, later, BATCH), schedule_all_due(committing, later, BATCH)
    )
    assert sum(counts) == MANY
    second_cycle = await _queued(committing) - first_cycle
    assert set(second_cycle) == set(first_cycle) and set(second_cycle.values()) == {1}
