"""Running a service's consumer on arq: its own queue, JSON jobs, the relay and sweeper alongside."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

from arq.connections import RedisSettings
from arq.worker import Worker, func

from ledgerbridge.common import metrics
from ledgerbridge.common.health_server import start_health_server
from ledgerbridge.common.messaging import relay
from ledgerbridge.common.messaging.consumer import Consumer, Handler
from ledgerbridge.common.messaging.queues import Queue, queue_key
from ledgerbridge.common.messaging.transport import JOB_FUNCTION, deserialize_job, serialize_job
from ledgerbridge.common.platform import Platform
from ledgerbridge.common.settings import Settings


def health_check_key(settings: Settings, service: Queue) -> str:
    return f"{settings.queue.prefix}:health:{service}"


async def handle_message(ctx: dict[str, Any], envelope: dict[str, Any]) -> str:
    consumer: Consumer = ctx["consumer"]
    outcome = await consumer.process(envelope, attempt=int(ctx.get("job_try", 1)))
    return outcome.status


async def _report_depths(platform: Platform) -> None:
    while True:
        for queue in Queue:
            with contextlib.suppress(Exception):
                metrics.QUEUE_DEPTH.labels(str(queue)).set(await platform.transport.depth(str(queue)))
        await asyncio.sleep(15)


HandlerFactory = Callable[[Platform], AbstractAsyncContextManager[list[Handler[Any]]]]
"""Builds a service's handlers from the process's platform, and releases what they hold (HTTP clients)."""


def fixed_handlers(*handlers: Handler[Any]) -> HandlerFactory:
    """A factory for handlers that need nothing but their database session."""

    @asynccontextmanager
    async def factory(_: Platform) -> AsyncIterator[list[Handler[Any]]]:
        yield list(handlers)

    return factory


def jobs_at_once(settings: Settings, service: Queue) -> int:
    """The publisher runs a job per organisation publishing at once (``PUBLISHER_MAX_JOBS``); each holds a
    database connection for its run and uses another for its claims and records. The others: arq's 10."""
    return settings.publisher.max_jobs if service is Queue.publisher else 10


def build_worker(
    settings: Settings, service: Queue, handlers: HandlerFactory, *, burst: bool = False
) -> Worker:
    if not settings.redis.url:
        raise RuntimeError("REDIS_URL is not set")
    background: list[asyncio.Task[Any]] = []
    max_jobs = jobs_at_once(settings, service)
    # A pool (and as many again in overflow) for every job at once.
    pool_size = max(settings.database.pool_size, max_jobs)
    pooled = copy.copy(settings)
    pooled.database = settings.database.model_copy(update={"pool_size": pool_size})

    async def on_startup(ctx: dict[str, Any]) -> None:
        platform = await Platform.start(pooled)
        ctx["platform"] = platform
        resources = AsyncExitStack()
        ctx["resources"] = resources
        built = await resources.enter_async_context(handlers(platform))
        ctx["consumer"] = Consumer(str(service), platform.sessions, built, max_tries=settings.queue.max_tries)
        background.append(
            asyncio.create_task(
                relay.run_forever(
                    platform.sessions,
                    platform.transport,
                    interval=settings.queue.relay_interval_seconds,
                    redelivery_after=timedelta(seconds=settings.queue.redelivery_after_seconds),
                ),
                name="outbox-relay",
            )
        )
        background.append(asyncio.create_task(_report_depths(platform), name="queue-depth"))
        if settings.queue.health_port:
            background.append(start_health_server(platform, str(service), settings.queue.health_port))
        # What start-up made (modules, the platform, compiled statements) lives as long as the worker:
        # kept out of the collector's sight, a full collection in a backlog walks only what jobs made
        # (in the mapper service bench it took 6 % of the drain before). Start-up's garbage goes first,
        # or it would be kept for good.
        gc.collect()
        gc.freeze()

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        gc.unfreeze()  # what start-up made is let go with the rest
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        resources: AsyncExitStack | None = ctx.get("resources")
        if resources is not None:
            await resources.aclose()
        platform: Platform | None = ctx.get("platform")
        if platform is not None:
            await platform.close()

    return Worker(
        functions=[func(handle_message, name=JOB_FUNCTION)],
        queue_name=queue_key(settings.queue.prefix, service),
        redis_settings=RedisSettings.from_dsn(settings.redis.url),
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        # Our wrapper gives up at QUEUE_MAX_TRIES and records why; arq's own limit must never trigger first,
        # because arq would drop the job without telling the database.
        max_tries=settings.queue.max_tries + 5,
        job_timeout=settings.queue.job_timeout_seconds,
        max_jobs=max_jobs,
        # arq looks for new jobs this often once it has started what it found: its 0.5 s default adds up
        # to half a second at every hop of poller → mapper → publisher, and idles a worker between bursts.
        poll_delay=settings.queue.pickup_seconds,
        keep_result=0,
        health_check_interval=10,
        health_check_key=health_check_key(settings, service),
        burst=burst,
        handle_signals=not burst,
    )
