"""Proactive rate limiters whose state lives in Redis, so every replica of every service shares one budget.

Partners count calls per account, not per process: three poller replicas each keeping their own count
would together overrun the account and earn 429s (SPEC.md §2, §7). Each check-and-take is one Lua script,
so it is atomic without locks, and it reads the clock from Redis (``TIME``) rather than from the replica,
so replicas whose clocks disagree still agree on the window.

Two shapes cover the partners:

- :class:`RollingWindowLimiter`: at most ``limit`` calls in any ``window_seconds`` (ONTRAPORT's
  180/minute). A log of call times in a sorted set; a rolling window never lets a burst at the end of
  one fixed window and the start of the next through together.
- :class:`LeakyBucketLimiter`: a bucket measured in seconds of work that drains one second per second
  (Onport's "2 GET or 1 non-GET per second"), kept as a single "theoretical arrival time" (GCRA).

Both can be *paused* for everybody when the partner says so (a 429, or a response saying the budget is
spent); the pause is a key with a TTL, checked by the same script.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping

from redis.asyncio import Redis

from ledgerbridge.common.messaging.errors import TransientError

Sleep = Callable[[float], Awaitable[None]]

# Times are microseconds since the epoch from Redis' own clock (they fit a Lua double exactly).
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

# KEYS: log, pause. ARGV: limit, window (µs), unique member. Returns µs to wait, 0 when the call is granted.
_WINDOW_SCRIPT = (
    _NOW
    + """
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused * 1000 end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""
)

# KEYS: arrival time, pause. ARGV: cost (µs), capacity (µs), margin (µs). Returns µs to wait or 0.
_BUCKET_SCRIPT = (
    _NOW
    + """
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused * 1000 end
local cost = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local margin = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or 0
local wait = tat + cost - capacity + margin - now
if wait > 0 then return math.max(1, wait) end
if tat < now then tat = now end
tat = tat + cost
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
return 0
"""
)


class _RedisLimiter:
    def __init__(self, redis: Redis, key: str, *, max_wait_seconds: float, sleep: Sleep) -> None:
        # The hash tag keeps both keys in one Redis Cluster slot, which a multi-key script needs.
        self.key = key
        self._pause_key = f"{{{key}}}:pause"
        self._redis = redis
        self.max_wait_seconds = max_wait_seconds
        self._sleep = sleep

    async def pause(self, seconds: float) -> None:
        """Make every holder of this key wait ``seconds`` (the partner said the budget is spent)."""
        if seconds <= 0:
            return
        milliseconds = max(1, round(seconds * 1000))
        # Never shorten a longer pause someone else already set.
        current = await self._redis.pttl(self._pause_key)
        if current < milliseconds:
            await self._redis.set(self._pause_key, "1", px=milliseconds)

    async def paused_for(self) -> float:
        remaining = int(await self._redis.pttl(self._pause_key))
        return max(0.0, remaining / 1000)

    async def _wait_for(self, attempt: Callable[[], Awaitable[float]]) -> None:
        waited = 0.0
        while True:
            wait = await attempt()
            if wait <= 0:
                return
            if waited + wait > self.max_wait_seconds:
                raise TransientError(
                    f"rate limit budget {self.key} is spent for {wait:.1f}s more", retry_after=wait
                )
            # A little jitter so replicas released together do not all hit Redis in the same instant.
            delay = wait + random.uniform(0, 0.01)
            await self._sleep(delay)
            waited += delay


class RollingWindowLimiter(_RedisLimiter):
    """At most ``limit`` calls in any ``window_seconds``, across every process using ``key``."""

    def __init__(
        self,
        redis: Redis,
        key: str,
        *,
        limit: int,
        window_seconds: float,
        max_wait_seconds: float | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a rolling window needs limit >= 1 and window_seconds > 0")
        super().__init__(
            redis,
            key,
            # Contending callers may need more than one window between them before a slot is theirs.
            max_wait_seconds=2 * window_seconds if max_wait_seconds is None else max_wait_seconds,
            sleep=sleep,
        )
        self.limit = limit
        self.window_seconds = window_seconds
        self._log_key = f"{{{key}}}:log"
        self._script = redis.register_script(_WINDOW_SCRIPT)

    async def try_acquire(self) -> float:
        """Take one call if the window has room; otherwise the seconds until it might."""
        waited = await self._script(
            keys=[self._log_key, self._pause_key],
            args=[self.limit, round(self.window_seconds * 1_000_000), uuid.uuid4().hex],
        )
        return int(waited) / 1_000_000

    async def acquire(self) -> None:
        """Wait for room; :class:`TransientError` when that would take more than ``max_wait_seconds``."""
        await self._wait_for(self.try_acquire)

    async def used(self) -> int:
        """Calls counted in the current window (for metrics and tests)."""
        now_seconds, now_micro = await self._redis.time()
        now = now_seconds * 1_000_000 + now_micro
        return int(await self._redis.zcount(self._log_key, now - self.window_seconds * 1_000_000, "+inf"))


class LeakyBucketLimiter(_RedisLimiter):
    """A bucket of ``capacity_seconds`` of work that drains one second per second; a call of kind ``k``
    adds ``1 / rates[k]`` seconds and waits while it would overflow.

    ``margin_seconds`` keeps our bucket slightly fuller than the partner's copy (a call goes once it
    fits with that much room to spare), so two calls that reach the partner up to ``margin_seconds`` closer
    together than we sent them still fit there too.
    """

    def __init__(
        self,
        redis: Redis,
        key: str,
        *,
        rates: Mapping[str, float],
        capacity_seconds: float = 1.0,
        margin_seconds: float = 0.1,
        max_wait_seconds: float = 30.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not rates or any(rate <= 0 for rate in rates.values()):
            raise ValueError("a leaky bucket needs positive rates")
        if any(1 / rate > capacity_seconds for rate in rates.values()):
            raise ValueError("every kind of call must fit in an empty bucket")
        super().__init__(redis, key, max_wait_seconds=max_wait_seconds, sleep=sleep)
        self.rates = dict(rates)
        self.capacity_seconds = capacity_seconds
        self.margin_seconds = margin_seconds
        self._tat_key = f"{{{key}}}:tat"
        self._script = redis.register_script(_BUCKET_SCRIPT)

    async def try_acquire(self, kind: str) -> float:
        cost = 1 / self.rates[kind]
        waited = await self._script(
            keys=[self._tat_key, self._pause_key],
            args=[
                round(cost * 1_000_000),
                round(self.capacity_seconds * 1_000_000),
                round(self.margin_seconds * 1_000_000),
            ],
        )
        return int(waited) / 1_000_000

    async def acquire(self, kind: str) -> None:
        """Wait until a call of ``kind`` fits; :class:`TransientError` past ``max_wait_seconds``."""
        if kind not in self.rates:
            raise KeyError(f"no rate for calls of kind {kind!r}")
        await self._wait_for(lambda: self.try_acquire(kind))
