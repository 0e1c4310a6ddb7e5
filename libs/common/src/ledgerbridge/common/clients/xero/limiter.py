"""Xero's per-organisation limits, kept proactively and shared by every replica through Redis.

Xero allows an organisation 60 calls per rolling minute, 5 at a time and a day budget (SPEC.md §3.1, §7).
Waiting here is cheaper than a 429, so ``slot()`` sleeps until a call fits. State per organisation:

- ``…:minute``: sorted set of calls (member = call id, score = time). A call is stamped when admitted and
  re-stamped when its answer arrives, which is never earlier than Xero counted it, so our window frees a
  slot no sooner than Xero's does.
- ``…:leases``: sorted set of calls in flight (score = lease expiry). A process that dies holding a slot
  loses it when the lease expires.
- ``…:day``: the last ``X-DayLimit-Remaining`` Xero reported, decremented per admitted call.
- ``…:parked``: epoch until which the organisation is parked (a day-limit 429, or the day budget used up).
- ``…:cooldown``: epoch before which nobody calls, after a minute 429 (someone outside this limiter
  used the quota).
- ``…:hours``: our own calls per hour (hash, hour number → calls), kept 25 hours: the day plan. The
  connection's day limit (5,000 by default, 1,000 on Xero's Starter tier) bounds them; sends stop
  ``day_reserve`` calls short of it, so reference refreshes, look-ups and a person's setup calls still
  fit, and the backlog waits for the next hours instead of meeting Xero's day 429.

Every decision runs in one Lua script on Redis's clock, so replicas with skewed clocks still agree.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import httpx
import structlog
from redis.asyncio import Redis

from ledgerbridge.common.clients.partner import RateLimit
from ledgerbridge.common.messaging.errors import TransientError

log = structlog.get_logger(__name__)

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
local parked = tonumber(redis.call('GET', KEYS[3]) or '0')
if parked > now then
  return {'parked', tostring(parked)}
end
local day_left = redis.call('GET', KEYS[5])
if day_left and tonumber(day_left) <= 0 then
  -- Xero said the day budget is spent but not when it returns: park, then let one call find out.
  local probe = tonumber(ARGV[6])
  redis.call('SET', KEYS[3], tostring(now + probe), 'PX', math.ceil(probe * 1000))
  redis.call('DEL', KEYS[5])
  return {'parked', tostring(now + probe)}
end
-- Our own count of the organisation's calls per hour, kept 25 hours: a call made in hour h has left any
-- rolling 24-hour window by the start of hour h + 25. Sends stop at the day limit less the reserve,
-- reads at the day limit itself, so Xero's day 429 is never provoked.
local hour = math.floor(now / 3600)
local used = 0
local oldest = hour
local counts = redis.call('HGETALL', KEYS[6])
for i = 1, #counts, 2 do
  local h = tonumber(counts[i])
  if h <= hour - 25 then
    redis.call('HDEL', KEYS[6], counts[i])
  else
    used = used + tonumber(counts[i + 1])
    if h < oldest then oldest = h end
  end
end
if used >= tonumber(ARGV[7]) then
  return {'day', tostring((oldest + 25) * 3600)}
end
local cooldown = tonumber(redis.call('GET', KEYS[4]) or '0')
if cooldown > now then
  return {'wait', tostring(cooldown - now)}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {'wait', tostring(tonumber(oldest[2]) + window - now)}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  return {'wait', '0'}
end
local lease = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('ZADD', KEYS[2], now + lease, ARGV[5])
redis.call('PEXPIRE', KEYS[1], math.ceil((window + lease) * 1000))
redis.call('PEXPIRE', KEYS[2], math.ceil(lease * 1000))
if day_left then
  redis.call('DECR', KEYS[5])
end
redis.call('HINCRBY', KEYS[6], hour, 1)
redis.call('EXPIRE', KEYS[6], 25 * 3600)
return {'ok', '0'}
"""

_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
return 1
"""

# The organisation's calls in the rolling minute, in its last sixth, and in the current hour, on Redis's
# clock.
_PACE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
local minute = redis.call('ZCOUNT', KEYS[1], '(' .. tostring(now - window), '+inf')
local recent = redis.call('ZCOUNT', KEYS[1], '(' .. tostring(now - window / 6), '+inf')
local hour = redis.call('HGET', KEYS[2], tostring(math.floor(now / 3600))) or '0'
return {minute, recent, tonumber(hour)}
"""

# Sets an "until" key to now + seconds on Redis's clock, unless it already reaches further.
_HOLD_UNTIL = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wanted = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= wanted then
  return tostring(current)
end
redis.call('SET', KEYS[1], tostring(wanted), 'PX', math.ceil(tonumber(ARGV[1]) * 1000))
return tostring(wanted)
"""


@dataclass(frozen=True)
class LimiterConfig:
    """Xero's figures by default; tests shrink the window instead of waiting a minute."""

    minute_limit: int = 60
    window_seconds: float = 60.0
    concurrent_limit: int = 5
    # Longer than any call may take (the client's timeout), so a live call never loses its slot.
    lease_seconds: float = 120.0
    # How long a remembered day budget is trusted, and how long to park when it reaches zero.
    day_memory_seconds: float = 86400.0
    day_probe_seconds: float = 300.0
    # How often a caller waiting for a concurrent slot looks again.
    poll_seconds: float = 0.05
    # A caller waiting longer than this gives up with a TransientError so its job is retried later.
    max_wait_seconds: float = 300.0
    # The organisation's calls per rolling day (the connection's ``day_limit``), and how many of them
    # only reads may use (reference refreshes, unknown-outcome look-ups, a person's setup calls).
    day_limit: int = 5000
    day_reserve_share: float = 0.05

    @property
    def day_reserve(self) -> int:
        return max(1, round(self.day_limit * self.day_reserve_share))


@dataclass(frozen=True)
class Pace:
    """How much of an organisation's budgets its recent calls used: what a sender weighs before spending
    a call on a part batch."""

    minute_calls: int  # in the rolling minute
    recent_calls: int  # in its last sixth (10 s of Xero's minute)
    hour_calls: int  # in the current clock hour (the day plan's unit)
    config: LimiterConfig

    @property
    def unhurried(self) -> bool:
        """Calls to spare: in the last sixth of the minute, under two thirds of the limit's pace (so spare
        calls are spread over the minute, not spent in its first seconds); in the whole minute, under
        five sixths of the limit (the rest is kept for reads and whole batches); and this hour, under
        half its even share of the day. A call spent on latency leaves the day's plan intact."""
        limit = self.config.minute_limit
        return (
            self.recent_calls < limit * 2 / 3 / 6
            and self.minute_calls < limit * 5 / 6
            and self.hour_calls < self.config.day_limit / 48
        )


class OrganisationParkedError(TransientError):
    """The organisation's day limit is reached: nothing is sent to it before ``parked_until``."""

    def __init__(self, message: str, parked_until: datetime, retry_after: float) -> None:
        super().__init__(message, retry_after)
        self.parked_until = parked_until


class RateLimiter:
    def __init__(self, redis: Redis, prefix: str, config: LimiterConfig | None = None) -> None:
        self._redis = redis
        self._prefix = prefix
        self.config = config or LimiterConfig()
        self._acquire_script = redis.register_script(_ACQUIRE)
        self._release_script = redis.register_script(_RELEASE)
        self._hold_script = redis.register_script(_HOLD_UNTIL)
        self._pace_script = redis.register_script(_PACE)

    def _key(self, tenant_id: str, name: str) -> str:
        # The hash tag keeps one organisation's keys in one cluster slot, which a Lua script needs.
        return f"{self._prefix}:xero-limits:{{{tenant_id.lower()}}}:{name}"

    def _keys(self, tenant_id: str) -> list[str]:
        names = ("minute", "leases", "parked", "cooldown", "day", "hours")
        return [self._key(tenant_id, name) for name in names]

    @asynccontextmanager
    async def slot(self, tenant_id: str, *, read: bool = False) -> AsyncIterator[None]:
        """Waits until one more call to the organisation fits in all its limits; holds it for the block.

        Raises ``OrganisationParkedError`` at once when the organisation is parked, or when today's plan
        has no call left (``read``: a GET, which may use the day's reserve).
        """
        call_id = await self._acquire(tenant_id, read=read)
        try:
            yield
        finally:
            await self._release_script(keys=self._keys(tenant_id)[:2], args=[call_id])

    async def _acquire(self, tenant_id: str, *, read: bool) -> str:
        config = self.config
        call_id = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        deadline = loop.time() + config.max_wait_seconds
        while True:
            raw_verdict, raw_value = await self._acquire_script(
                keys=self._keys(tenant_id),
                args=[
                    config.window_seconds,
                    config.minute_limit,
                    config.concurrent_limit,
                    config.lease_seconds,
                    call_id,
                    config.day_probe_seconds,
                    config.day_limit if read else config.day_limit - config.day_reserve,
                ],
            )
            # Clients made with decode_responses answer str, the others bytes.
            verdict = raw_verdict.decode() if isinstance(raw_verdict, bytes) else str(raw_verdict)
            value = float(raw_value)
            if verdict == "ok":
                return call_id
            if verdict == "parked":
                parked_until = datetime.fromtimestamp(value, UTC)
                raise OrganisationParkedError(
                    f"Xero day limit reached for this organisation; parked until {parked_until.isoformat()}",
                    parked_until,
                    max(0.0, value - (await self._now())),
                )
            if verdict == "day":
                resumes = datetime.fromtimestamp(value, UTC)
                raise OrganisationParkedError(
                    f"Today's {config.day_limit:,} Xero calls for this organisation are planned; "
                    f"the rest goes from {resumes.isoformat()}",
                    resumes,
                    max(0.0, value - (await self._now())),
                )
            # Jitter spreads waiters that would otherwise all retry at the same instant.
            delay = max(value, 0.0) + random.uniform(0, config.poll_seconds)
            if loop.time() + delay > deadline:
                raise TransientError("Xero rate limit: no call slot free in time", retry_after=delay)
            await asyncio.sleep(delay)

    async def pace(self, tenant_id: str) -> Pace:
        """The organisation's calls in the rolling minute and this hour, whichever replica made them."""
        minute, recent, hour = await self._pace_script(
            keys=[self._key(tenant_id, "minute"), self._key(tenant_id, "hours")],
            args=[self.config.window_seconds],
        )
        return Pace(int(minute), int(recent), int(hour), self.config)

    async def record(self, tenant_id: str, headers: Mapping[str, str]) -> None:
        """Remembers what Xero said is left of the day budget (``X-DayLimit-Remaining``)."""
        remaining = headers.get("x-daylimit-remaining")
        if remaining is None or not remaining.strip().lstrip("-").isdigit():
            return
        await self._redis.set(
            self._key(tenant_id, "day"), int(remaining), px=int(self.config.day_memory_seconds * 1000)
        )

    async def park(self, tenant_id: str, retry_after: float) -> datetime:
        """After a day-limit 429: no replica calls the organisation for ``retry_after`` seconds.

        Returns the moment it is parked until, for the caller to record on the connection.
        """
        until = await self._hold_script(keys=[self._key(tenant_id, "parked")], args=[max(retry_after, 1.0)])
        return datetime.fromtimestamp(float(until), UTC)

    async def cool_down(self, tenant_id: str, retry_after: float) -> None:
        """After a minute or concurrency 429: everyone waits ``retry_after`` before the next call."""
        await self._hold_script(keys=[self._key(tenant_id, "cooldown")], args=[max(retry_after, 0.1)])

    async def calls_today(self, tenant_id: str) -> tuple[int, dict[int, int]]:
        """Our calls to the organisation in the rolling day (conservatively 25 hours), and per hour."""
        raw = await cast(Awaitable[dict[bytes, bytes]], self._redis.hgetall(self._key(tenant_id, "hours")))
        hour = int(await self._now() // 3600)
        per_hour = {int(h): int(n) for h, n in raw.items() if int(h) > hour - 25}
        return sum(per_hour.values()), per_hour

    async def parked_until(self, tenant_id: str) -> datetime | None:
        raw = await self._redis.get(self._key(tenant_id, "parked"))
        if raw is None:
            return None
        until = float(raw)
        return datetime.fromtimestamp(until, UTC) if until > await self._now() else None

    async def _now(self) -> float:
        seconds, microseconds = await self._redis.time()
        return float(seconds) + float(microseconds) / 1_000_000


@dataclass(frozen=True)
class OrganisationLimits:
    """One organisation's limits as the request loop's limiter (``partner.CallLimiter``)."""

    limiter: RateLimiter
    tenant_id: str

    def admit(self, method: str) -> AbstractAsyncContextManager[None]:
        # Every method costs one call of each budget; the slot is held until the answer is in. Reads may
        # use the day's reserve, sends may not.
        return self.limiter.slot(self.tenant_id, read=method == "GET")

    async def observe(self, response: httpx.Response) -> None:
        await self.limiter.record(self.tenant_id, response.headers)

    async def throttled(self, limit: RateLimit) -> None:
        """A day-limit 429 parks the organisation (and raises); any other cools every replica down."""
        if limit.problem == "day":
            parked_until = await self.limiter.park(self.tenant_id, limit.wait)
            log.warning(
                "xero.day_limit_reached", tenant_id=self.tenant_id, parked_until=parked_until.isoformat()
            )
            raise OrganisationParkedError(
                f"Xero day limit reached; parked until {parked_until.isoformat()}", parked_until, limit.wait
            )
        await self.limiter.cool_down(self.tenant_id, limit.wait)
