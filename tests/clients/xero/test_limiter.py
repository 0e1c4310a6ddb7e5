"""The rate limiter holds Xero's limits across replicas, through Redis alone."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from ledgerbridge.common.clients.xero import (
    LimiterConfig,
    OrganisationParkedError,
    RateLimiter,
    TokenService,
    XeroClient,
)
from ledgerbridge.common.settings import XeroSettings
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from ledgerbridge.sandbox.xero.testing import SandboxClient

from .conftest import MakeConnection, Sessions, counters

TENANT = "5b1c0e44-2f6a-4d43-9f39-2a1b7d0c9e11"


async def test_two_replicas_together_never_exceed_the_limits(redis_url: str, queue_prefix: str) -> None:
    config = LimiterConfig(minute_limit=8, window_seconds=0.6, concurrent_limit=3)
    connections = [Redis.from_url(redis_url), Redis.from_url(redis_url)]
    replicas = [RateLimiter(connection, queue_prefix, config) for connection in connections]
    admitted: list[float] = []
    in_flight = 0
    most_in_flight = 0

    async def call(limiter: RateLimiter) -> None:
        nonlocal in_flight, most_in_flight
        async with limiter.slot(TENANT):
            admitted.append(time.monotonic())
            in_flight += 1
            most_in_flight = max(most_in_flight, in_flight)
            await asyncio.sleep(0.03)
            in_flight -= 1

    try:
        await asyncio.gather(*(call(replicas[index % 2]) for index in range(24)))
    finally:
        for connection in connections:
            await connection.aclose()

    assert len(admitted) == 24
    assert most_in_flight == 3
    admitted.sort()
    for index, moment in enumerate(admitted):
        # Every window of the configured length (with a margin for clock reading) holds at most 8 calls.
        in_window = [
            other for other in admitted[: index + 1] if other > moment - config.window_seconds * 0.95
        ]
        assert len(in_window) <= config.minute_limit
    # The limiter waits rather than refuses: 24 calls at 8 per 0.6 s take at least two windows.
    assert admitted[-1] - admitted[0] >= 2 * config.window_seconds * 0.95


async def test_a_dead_process_loses_its_slot_when_the_lease_expires(redis: Redis, queue_prefix: str) -> None:
    config = LimiterConfig(concurrent_limit=1, lease_seconds=0.3)
    crashed = RateLimiter(redis, queue_prefix, config).slot(TENANT)
    await crashed.__aenter__()  # a process that took the slot and died without giving it back
    started = time.monotonic()
    async with RateLimiter(redis, queue_prefix, config).slot(TENANT):
        waited = time.monotonic() - started
    assert 0.2 <= waited < 2


async def test_parking_is_shared_and_reported(redis: Redis, redis_url: str, queue_prefix: str) -> None:
    first = RateLimiter(redis, queue_prefix)
    other_connection = Redis.from_url(redis_url)
    second = RateLimiter(other_connection, queue_prefix)
    try:
        parked_until = await first.park(TENANT, 120)
        assert 100 < (parked_until - datetime.now(UTC)).total_seconds() <= 121
        assert await second.parked_until(TENANT) == parked_until
        with pytest.raises(OrganisationParkedError) as raised:
            async with second.slot(TENANT):
                pytest.fail("a parked organisation gets no slot")
        assert raised.value.parked_until == parked_until
        assert raised.value.retry_after is not None and raised.value.retry_after > 100
        # Other organisations are not affected.
        async with second.slot("another-tenant"):
            pass
    finally:
        await other_connection.aclose()


async def test_a_spent_day_budget_parks_before_provoking_a_429(redis: Redis, queue_prefix: str) -> None:
    limiter = RateLimiter(redis, queue_prefix, LimiterConfig(day_probe_seconds=300))
    await limiter.record(TENANT, httpx.Headers({"X-DayLimit-Remaining": "1"}))
    async with limiter.slot(TENANT):
        pass
    with pytest.raises(OrganisationParkedError):
        async with limiter.slot(TENANT):
            pass
    parked = await limiter.parked_until(TENANT)
    assert parked is not None and 250 < (parked - datetime.now(UTC)).total_seconds() <= 300


async def test_the_day_plan_stops_sends_short_of_the_day_limit_and_keeps_the_reserve_for_reads(
    redis: Redis, redis_url: str, queue_prefix: str
) -> None:
    # Starter's 1,000 a day, scaled down: 20 calls, 5 % (one) of them kept for reads.
    config = LimiterConfig(day_limit=20)
    other = Redis.from_url(redis_url)
    replicas = [RateLimiter(redis, queue_prefix, config), RateLimiter(other, queue_prefix, config)]
    try:
        for index in range(19):
            async with replicas[index % 2].slot(TENANT):
                pass
        with pytest.raises(OrganisationParkedError) as held:
            async with replicas[1].slot(TENANT):
                pass
        async with replicas[0].slot(TENANT, read=True):  # a look-up still fits, in the reserve
            pass
        with pytest.raises(OrganisationParkedError):
            async with replicas[1].slot(TENANT, read=True):
                pass
    finally:
        await other.aclose()
    # Resumes when the first hour's calls have left every rolling day: 24 to 25 hours from now.
    waits = (held.value.parked_until - datetime.now(UTC)).total_seconds()
    assert 24 * 3600 - 5 <= waits <= 25 * 3600
    used, per_hour = await replicas[0].calls_today(TENANT)
    assert used == 20 and sum(per_hour.values()) == 20
    assert await replicas[0].parked_until(TENANT) is None  # planned, not parked: reads were still served


@pytest.fixture
def sandbox_config() -> XeroSandboxConfig:
    # Real limit enforcement with a short window, and latency so calls overlap.
    return XeroSandboxConfig(
        seed_demo_organisations=False, minute_limit=10, minute_window_seconds=0.7, latency_ms=15
    )


async def test_a_burst_through_the_limiter_gets_no_429(
    sandbox: SandboxClient,
    http: httpx.AsyncClient,
    xero_settings: XeroSettings,
    tokens: TokenService,
    make_connection: MakeConnection,
    committing: Sessions,
    tenant_id: str,
    redis_url: str,
    queue_prefix: str,
    sandbox_app: FastAPI,
) -> None:
    connection_id = await make_connection()
    provider = tokens.provider(committing, connection_id)
    config = LimiterConfig(minute_limit=10, window_seconds=0.7, concurrent_limit=5)
    connections = [Redis.from_url(redis_url), Redis.from_url(redis_url)]
    clients = [
        XeroClient(http, xero_settings, RateLimiter(connection, queue_prefix, config), provider, tenant_id)
        for connection in connections
    ]
    try:
        answers = await asyncio.gather(*(clients[index % 2].get_currencies() for index in range(30)))
    finally:
        for connection in connections:
            await connection.aclose()
    assert all(answers)
    seen = (await counters(sandbox))["organisations"][tenant_id]
    assert seen["calls"] == 30
    assert seen["rate_limited"] == 0


async def test_pace_counts_every_replicas_calls_in_the_minute_its_last_sixth_and_the_hour(
    redis_url: str, queue_prefix: str
) -> None:
    # Spare calls: under 6.67 in the minute's last sixth (0.5 s here: 40 a minute's pace), under 50 in the
    # minute (five sixths of 60), and under 2,880 / 48 = 60 this hour.
    config = LimiterConfig(minute_limit=60, window_seconds=3.0, concurrent_limit=5, day_limit=2880)
    connections = [Redis.from_url(redis_url), Redis.from_url(redis_url)]
    replicas = [RateLimiter(connection, queue_prefix, config) for connection in connections]

    async def calls(count: int) -> None:
        for index in range(count):
            async with replicas[index % 2].slot(TENANT):
                pass

    try:
        quiet = await replicas[0].pace(TENANT)
        assert (quiet.minute_calls, quiet.recent_calls, quiet.hour_calls, quiet.unhurried) == (0, 0, 0, True)
        await calls(6)
        six = await replicas[1].pace(TENANT)
        assert (six.minute_calls, six.recent_calls, six.hour_calls, six.unhurried) == (6, 6, 6, True)
        await calls(1)
        assert not (await replicas[0].pace(TENANT)).unhurried  # 7 at once: a burst, spread them out
        await asyncio.sleep(config.window_seconds / 6 + 0.1)
        spread = await replicas[0].pace(TENANT)
        assert (spread.minute_calls, spread.recent_calls, spread.unhurried) == (7, 0, True)
        await calls(43)
        await asyncio.sleep(config.window_seconds / 6 + 0.1)
        full = await replicas[1].pace(TENANT)
        assert (full.minute_calls, full.recent_calls) == (50, 0)
        assert not full.unhurried  # five sixths of the minute spent: the rest is kept for whole batches
        await calls(10)
        await asyncio.sleep(config.window_seconds + 0.1)
        spent = await replicas[0].pace(TENANT)
        assert (spent.minute_calls, spent.recent_calls, spent.hour_calls) == (0, 0, 60)
        assert not spent.unhurried  # the minute is free again, but the hour had its half share of the day
    finally:
        for connection in connections:
            await connection.aclose()
