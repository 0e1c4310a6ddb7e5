"""Fixed-window counters in Redis, shared by every API replica."""

from __future__ import annotations

import hashlib
import math
import time

from redis.asyncio import Redis

from ledgerbridge.api.problems import ProblemError

LOGIN_ATTEMPTS_PER_WINDOW = 10
LOGIN_WINDOW_SECONDS = 60


class FixedWindowLimiter:
    def __init__(self, redis: Redis, prefix: str, name: str, limit: int, window_seconds: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.name = name
        self.limit = limit
        self.window_seconds = window_seconds

    async def hit(self, **subjects: str) -> None:
        """Count one attempt against each subject; a 429 problem when any is over its limit."""
        now = time.time()
        window = int(now // self.window_seconds)
        async with self.redis.pipeline(transaction=False) as pipe:
            for kind, value in subjects.items():
                # Hashed so Redis never holds e-mail addresses or IPs in clear.
                digest = hashlib.sha256(value.encode()).hexdigest()[:32]
                key = f"{self.prefix}:ratelimit:{self.name}:{kind}:{digest}:{window}"
                pipe.incr(key)
                pipe.expire(key, self.window_seconds + 1)
            results = await pipe.execute()
        counts = results[::2]
        if any(int(count) > self.limit for count in counts):
            retry_after = max(1, math.ceil((window + 1) * self.window_seconds - now))
            raise ProblemError(
                429,
                "Too many requests",
                f"Too many sign-in attempts; try again in {retry_after} seconds",
                type_="https://ledgerbridge.dev/problems/rate-limited",
                headers={"Retry-After": str(retry_after)},
            )
