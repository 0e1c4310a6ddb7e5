"""A poll asked for while another poll holds the cursor is followed up once, never dropped (issue 12:
a webhook's sale must not wait for the next scheduled poll because a poll was already running)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.errors import ErrorClass, classify
from ledgerbridge.common.messaging.messages import PollConnection
from ledgerbridge.common.models import ConnectionKind, OutboxMessage, PollCursor
from ledgerbridge.common.platform import Platform
from ledgerbridge.common.settings import Settings
from ledgerbridge.poller import follow_ups
from ledgerbridge.poller.handlers import Poller
from ledgerbridge.poller.ontraport_poll import lock_cursor
from tests.poller.conftest import make_tenant


async def _connection(sessions: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    async with unit_of_work(sessions) as session:
        return (await make_tenant(session, kind=ConnectionKind.ontraport)).connection.id


async def _follow_ups_queued(sessions: async_sessionmaker[AsyncSession], connection_id: uuid.UUID) -> int:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.message_type == PollConnection.TYPE)
        )
        return sum(
            1
            for row in rows
            if row.body["body"]["connection_id"] == str(connection_id)
            and row.body["body"]["reason"] == follow_ups.FOLLOW_UP
        )


async def test_asks_while_a_poll_holds_the_cursor_queue_one_follow_up_that_waits_its_turn(
    committing: async_sessionmaker[AsyncSession], settings: Settings, redis: Redis
) -> None:
    connection_id = await _connection(committing)
    platform = await Platform.start(settings)
    try:
        async with httpx.AsyncClient() as http:
            poller = Poller(platform, http)

            async def ask(reason: str) -> None:
                async with unit_of_work(platform.sessions) as session:
                    await poller.poll_connection(
                        session, PollConnection(connection_id=connection_id, reason=reason)
                    )

            async with committing() as other, other.begin():  # a poll under way holds the cursor
                await other.scalar(
                    select(PollCursor).where(PollCursor.connection_id == connection_id).with_for_update()
                )
                for _ in range(3):  # three webhooks while it runs
                    await ask("webhook")
                await ask("schedule")  # the next tick covers a scheduled poll: nothing queued for it
                assert await _follow_ups_queued(committing, connection_id) == 1

            # A poll that takes the cursor covers every ask so far; an ask after it needs a new follow-up.
            await follow_ups.taking_over(redis, settings.queue.prefix, connection_id)
            async with committing() as other, other.begin():
                await other.scalar(
                    select(PollCursor).where(PollCursor.connection_id == connection_id).with_for_update()
                )
                await ask("webhook")
            assert await _follow_ups_queued(committing, connection_id) == 2
    finally:
        await platform.close()


async def test_a_follow_up_takes_the_cursor_when_the_poll_under_way_commits(
    committing: async_sessionmaker[AsyncSession],
) -> None:
    connection_id = await _connection(committing)
    async with committing() as holder:
        await holder.begin()
        await holder.scalar(
            select(PollCursor).where(PollCursor.connection_id == connection_id).with_for_update()
        )
        async with committing() as asking, asking.begin():
            assert (
                await lock_cursor(asking, connection_id) is None
            )  # an ordinary poll leaves it to its holder
        async with committing() as following, following.begin():
            waiting = asyncio.create_task(lock_cursor(following, connection_id, wait=True))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # it waits on the lock instead of giving up
            await holder.commit()  # the poll under way ends
            cursor = await asyncio.wait_for(waiting, timeout=5)
            assert cursor is not None and cursor.connection_id == connection_id


async def test_a_follow_up_held_past_the_lock_timeout_is_retried_not_lost(
    committing: async_sessionmaker[AsyncSession],
) -> None:
    """A poll stuck holding its cursor does not hold the follow-up's job slot for ever: the database's
    lock timeout ends the wait, and the error is one the consumer retries with backoff, so the sale the
    webhook announced is still read once the cursor is free."""
    connection_id = await _connection(committing)
    async with committing() as holder, holder.begin():
        await holder.scalar(
            select(PollCursor).where(PollCursor.connection_id == connection_id).with_for_update()
        )
        async with committing() as following, following.begin():
            await following.execute(text("SET LOCAL lock_timeout = '200ms'"))  # the workers' is 10 s
            with pytest.raises(DBAPIError) as timed_out:
                await lock_cursor(following, connection_id, wait=True)
    assert classify(timed_out.value) is ErrorClass.transient
    async with committing() as retried, retried.begin():  # the retry, once the cursor is free
        cursor = await lock_cursor(retried, connection_id, wait=True)
        assert cursor is not None and cursor.connection_id == connection_id
