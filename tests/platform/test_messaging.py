"""Outbox, relay, inbox, sweeper and the task wrapper, on real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import copy
import gc
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from arq import Retry
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging import relay
from ledgerbridge.common.messaging.consumer import Consumer, Handler
from ledgerbridge.common.messaging.errors import ErrorClass, PermanentError, TransientError, classify
from ledgerbridge.common.messaging.messages import Message
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.messaging.queues import Queue
from ledgerbridge.common.messaging.transport import ArqTransport
from ledgerbridge.common.models import Account, AccountSettings, InboxMessage, OutboxMessage, OutboxStatus
from ledgerbridge.common.platform import Platform
from ledgerbridge.common.settings import Settings
from ledgerbridge.common.worker import build_worker, fixed_handlers


class Bump(Message):
    """Adds one to an account's counter: an effect that shows how often it happened."""

    TYPE = "test.bump"
    QUEUE = Queue.poller

    account_id: uuid.UUID
    fail: str | None = None


async def bump(session: AsyncSession, message: Bump) -> None:
    row = await session.get(AccountSettings, message.account_id, with_for_update=True)
    assert row is not None
    row.values = {**row.values, "bumps": row.values.get("bumps", 0) + 1}
    await session.flush()
    if message.fail == "transient":
        raise TransientError("Xero answered 503", retry_after=2)
    if message.fail == "permanent":
        raise PermanentError("Product 'Workbook' (id 9) has no account and no default sales account is set")


async def remember_failure(session: AsyncSession, message: Bump, reason: str) -> None:
    row = await session.get(AccountSettings, message.account_id, with_for_update=True)
    assert row is not None
    row.values = {**row.values, "failure": reason}


BUMP = Handler(Bump, bump, remember_failure)


async def _accounts(sessions: async_sessionmaker[AsyncSession], count: int) -> list[uuid.UUID]:
    async with unit_of_work(sessions) as session:
        accounts = [Account(company=f"Tenant {n}") for n in range(count)]
        session.add_all(accounts)
        await session.flush()
        session.add_all(AccountSettings(account_id=account.id, values={}) for account in accounts)
        return [account.id for account in accounts]


async def _send(sessions: async_sessionmaker[AsyncSession], *messages: Bump) -> list[int]:
    async with unit_of_work(sessions) as session:
        return [(await add_message(session, message, message.account_id)).id for message in messages]


async def _values(sessions: async_sessionmaker[AsyncSession], account_id: uuid.UUID) -> dict[str, Any]:
    async with sessions() as session:
        row = await session.get(AccountSettings, account_id)
        assert row is not None
        return row.values


async def _envelope(sessions: async_sessionmaker[AsyncSession], outbox_id: int) -> dict[str, Any]:
    async with sessions() as session:
        row = await session.get(OutboxMessage, outbox_id)
        assert row is not None
        return relay.envelope_of(row)


async def _outbox_statuses(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxStatus]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id))).all())


async def test_state_change_and_its_message_commit_together_or_not_at_all(
    committing: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with unit_of_work(committing) as session:
            account = Account(company="Rolled back")
            session.add(account)
            await session.flush()
            await add_message(session, Bump(account_id=account.id), account.id)
            raise RuntimeError("boom")
    async with committing() as session:
        assert await session.scalar(select(func.count()).select_from(Account)) == 0
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0

    (account_id,) = await _accounts(committing, 1)
    (outbox_id,) = await _send(committing, Bump(account_id=account_id))
    async with committing() as session:
        row = await session.get(OutboxMessage, outbox_id)
        assert row is not None
        assert (row.status, row.queue, row.message_type) == (OutboxStatus.pending, "poller", "test.bump")
        assert row.body == {"version": 1, "body": {"account_id": str(account_id), "fail": None}}


async def test_a_message_delivered_twice_has_one_effect(committing: async_sessionmaker[AsyncSession]) -> None:
    (account_id,) = await _accounts(committing, 1)
    (outbox_id,) = await _send(committing, Bump(account_id=account_id))
    consumer = Consumer("poller", committing, [BUMP], max_tries=3)
    envelope = await _envelope(committing, outbox_id)

    first, second = await consumer.process(envelope), await consumer.process(envelope)

    assert (first.status, second.status) == ("done", "duplicate")
    assert (await _values(committing, account_id))["bumps"] == 1
    assert await _outbox_statuses(committing) == [OutboxStatus.done]


async def test_concurrent_duplicate_deliveries_have_one_effect(
    committing: async_sessionmaker[AsyncSession],
) -> None:
    (account_id,) = await _accounts(committing, 1)
    (outbox_id,) = await _send(committing, Bump(account_id=account_id))
    consumer = Consumer("poller", committing, [BUMP], max_tries=3)
    envelope = await _envelope(committing, outbox_id)

    outcomes = await asyncio.gather(*(consumer.process(envelope) for _ in range(5)))

    assert sorted(outcome.status for outcome in outcomes) == ["done"] + ["duplicate"] * 4
    assert (await _values(committing, account_id))["bumps"] == 1


async def test_redis_flushed_mid_flow_then_sweeper_resends_and_work_completes_exactly_once(
    committing: async_sessionmaker[AsyncSession], settings: Settings, redis: Redis
) -> None:
    accounts = await _accounts(committing, 12)
    await _send(committing, *(Bump(account_id=account_id) for account_id in accounts))
    transport = await ArqTransport.connect(settings.redis.url or "", settings.queue.prefix)
    try:
        assert await relay.relay_once(committing, transport) == 12
        assert await transport.depth("poller") == 12

        # Half the work gets done, then Redis loses everything (a restart without persistence).
        worker = build_worker(settings, Queue.poller, fixed_handlers(BUMP), burst=True)
        worker.max_burst_jobs = 6
        await worker.async_run()
        await worker.close()
        await redis.flushdb()
        done_before = [(await _values(committing, a)).get("bumps", 0) for a in accounts]
        assert sum(done_before) == 6

        # Nothing is queued any more; the database still knows what is unfinished.
        assert await transport.depth("poller") == 0
        assert await relay.sweep_once(committing, transport, older_than=timedelta(0)) == 6

        worker = build_worker(settings, Queue.poller, fixed_handlers(BUMP), burst=True)
        await worker.async_run()
        await worker.close()
    finally:
        await transport.close()

    assert [(await _values(committing, a)).get("bumps") for a in accounts] == [1] * 12
    assert await _outbox_statuses(committing) == [OutboxStatus.done] * 12
    async with committing() as session:
        assert await session.scalar(select(func.count()).select_from(InboxMessage)) == 12


async def test_sweeper_does_not_duplicate_a_job_still_on_the_queue(
    committing: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    (account_id,) = await _accounts(committing, 1)
    await _send(committing, Bump(account_id=account_id))
    transport = await ArqTransport.connect(settings.redis.url or "", settings.queue.prefix)
    try:
        await relay.relay_once(committing, transport)
        await relay.sweep_once(committing, transport, older_than=timedelta(0))
        assert await transport.depth("poller") == 1
    finally:
        await transport.redis.delete(f"{settings.queue.prefix}:queue:poller")
        await transport.close()


async def test_a_consumer_killed_mid_job_leaves_nothing_half_done(
    committing: async_sessionmaker[AsyncSession],
) -> None:
    (account_id,) = await _accounts(committing, 1)
    (outbox_id,) = await _send(committing, Bump(account_id=account_id))
    entered = asyncio.Event()

    async def bump_then_hang(session: AsyncSession, message: Bump) -> None:
        await bump(session, message)  # the effect is written…
        entered.set()
        await asyncio.Event().wait()  # …and the process dies before the commit

    envelope = await _envelope(committing, outbox_id)
    doomed = asyncio.create_task(
        Consumer("poller", committing, [Handler(Bump, bump_then_hang)], max_tries=3).process(envelope)
    )
    await asyncio.wait_for(entered.wait(), 10)
    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed

    assert (await _values(committing, account_id)).get("bumps") is None
    async with committing() as session:
        assert await session.scalar(select(func.count()).select_from(InboxMessage)) == 0
    assert await _outbox_statuses(committing) == [OutboxStatus.pending]

    outcome = await Consumer("poller", committing, [BUMP], max_tries=3).process(envelope)
    assert outcome.status == "done"
    assert (await _values(committing, account_id))["bumps"] == 1


async def test_transient_errors_retry_with_backoff_then_are_recorded(
    committing: async_sessionmaker[AsyncSession],
) -> None:
    (account_id,) = await _accounts(committing, 1)
    (outbox_id,) = await _send(committing, Bump(account_id=account_id, fail="transient"))
    consumer = Consumer("poller", committing, [BUMP], max_tries=3)
    envelope = await _envelope(committing, outbox_id)

    with pytest.raises(Retry) as retry:
        await consumer.process(envelope, attempt=1)
    assert retry.value.defer_score is not None and retry.value.defer_score >= 2000  # Retry-After is a floor
    assert (await _values(committing, account_id)).get("bumps") is None  # the failed attempt left nothing
    assert await _outbox_statuses(committing) == [OutboxStatus.pending]

    outcome = await consumer.process(envelope, attempt=3)
    assert outcome.status == "failed"
    values = await _values(committing, account_id)
    assert values["failure"] == "gave up after 3 attempts: Xero answered 503"
    async with committing() as session:
        row = await session.get(OutboxMessage, outbox_id)
        assert row is not None and row.status is OutboxStatus.failed
        assert row.last_error == "gave up after 3 attempts: Xero answered 503"


async def test_permanent_errors_are_recorded_at_once_with_a_readable_reason(
    committing: async_sessionmaker[AsyncSession],
) -> None:
    (account_id,) = await _accounts(committing, 1)
    (outbox_id,) = await _send(committing, Bump(account_id=account_id, fail="permanent"))
    outcome = await Consumer("poller", committing, [BUMP], max_tries=5).process(
        await _envelope(committing, outbox_id)
    )

    assert outcome.status == "failed"
    reason = "Product 'Workbook' (id 9) has no account and no default sales account is set"
    assert (await _values(committing, account_id)) == {"failure": reason}
    assert await _outbox_statuses(committing) == [OutboxStatus.failed]


async def test_a_message_nobody_can_read_is_recorded_not_dropped(
    committing: async_sessionmaker[AsyncSession],
) -> None:
    (account_id,) = await _accounts(committing, 1)
    (outbox_id,) = await _send(committing, Bump(account_id=account_id))
    envelope = await _envelope(committing, outbox_id)
    outcome = await Consumer("poller", committing, [BUMP], max_tries=3).process({**envelope, "version": 99})

    assert outcome.status == "failed"
    async with committing() as session:
        row = await session.get(OutboxMessage, outbox_id)
        assert row is not None and row.status is OutboxStatus.failed
        assert (
            row.last_error
            == "unreadable message: message 'test.bump' has version 99, this code reads version 1"
        )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (httpx.ConnectError("refused"), ErrorClass.transient),
        (httpx.ReadTimeout("slow"), ErrorClass.transient),
        (
            httpx.HTTPStatusError(
                "429", request=httpx.Request("GET", "http://x"), response=httpx.Response(429)
            ),
            ErrorClass.transient,
        ),
        (
            httpx.HTTPStatusError(
                "503", request=httpx.Request("GET", "http://x"), response=httpx.Response(503)
            ),
            ErrorClass.transient,
        ),
        (
            httpx.HTTPStatusError(
                "400", request=httpx.Request("GET", "http://x"), response=httpx.Response(400)
            ),
            ErrorClass.permanent,
        ),
        (KeyError("surprise"), ErrorClass.permanent),
    ],
)
def test_error_classification(error: BaseException, expected: ErrorClass) -> None:
    assert classify(error) is expected


async def test_the_publisher_runs_as_many_jobs_at_once_as_configured_with_a_connection_for_each(
    settings: Settings,
) -> None:
    """Each organisation's publish run holds a job for up to a run's length: with arq's 10, ten
    organisations would fill every slot. The other services keep arq's default."""
    configured = copy.copy(settings)
    configured.publisher = settings.publisher.model_copy(update={"max_jobs": 25})
    publisher = build_worker(configured, Queue.publisher, fixed_handlers(), burst=True)
    poller = build_worker(configured, Queue.poller, fixed_handlers(), burst=True)
    assert (publisher.max_jobs, poller.max_jobs) == (25, 10)
    assert publisher.on_startup is not None and publisher.on_shutdown is not None
    await publisher.on_startup(publisher.ctx)
    try:
        platform: Platform = publisher.ctx["platform"]
        assert platform.engine.pool.size() == 25  # type: ignore[attr-defined]
    finally:
        await publisher.on_shutdown(publisher.ctx)


async def test_a_worker_keeps_what_its_start_up_made_out_of_the_collectors_sight(settings: Settings) -> None:
    """A full collection in a backlog walked every module and compiled statement: 6 % of the mapper
    service's drain. After start-up they are frozen, so collections walk only what jobs make."""
    worker = build_worker(settings, Queue.mapper, fixed_handlers(), burst=True)
    assert worker.on_startup is not None and worker.on_shutdown is not None
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    await worker.on_startup(worker.ctx)
    try:
        assert gc.get_freeze_count() > 10_000
    finally:
        await worker.on_shutdown(worker.ctx)
    assert gc.get_freeze_count() == 0  # let go at shut-down (a test process starts many workers)


def test_workers_look_for_new_jobs_as_often_as_configured(settings: Settings) -> None:
    """arq's 0.5 s between looks adds up to half a second at every hop and idles a worker between a
    backlog's jobs (issue 12: the mapper drained 700 records/s at 0.5 s, over 1,000 at 0.05 s)."""
    configured = copy.copy(settings)
    configured.queue = settings.queue.model_copy(update={"pickup_seconds": 0.02})
    assert settings.queue.pickup_seconds == 0.05
    for service in Queue:
        assert build_worker(configured, service, fixed_handlers(), burst=True).poll_delay_s == 0.02
