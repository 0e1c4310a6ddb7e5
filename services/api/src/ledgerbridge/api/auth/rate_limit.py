"""Counters in Redis, shared by every API replica: sign-in failures, sign-ups, costly calls.

Subjects (e-mail addresses, client addresses, account ids) are hashed so Redis never holds them in clear.
Each counter starts its window at its first hit and expires with it; ``Retry-After`` is what is left.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from ledgerbridge.api.problems import ProblemError

RATE_LIMITED = "https://ledgerbridge.dev/problems/rate-limited"


def rate_limited(detail: str, retry_after: int) -> ProblemError:
    return ProblemError(
        429,
        "Too many requests",
        detail,
        type_=RATE_LIMITED,
        headers={"Retry-After": str(max(1, retry_after))},
    )


class Counters:
    """Named counters with a window each, under ``{prefix}:ratelimit:{name}:``."""

    def __init__(self, redis: Redis, prefix: str, name: str, window_seconds: int) -> None:
        self.redis = redis
        self.base = f"{prefix}:ratelimit:{name}"
        self.window_seconds = window_seconds

    def key(self, **subject: str) -> str:
        text = "\x1f".join(f"{kind}={value}" for kind, value in sorted(subject.items()))
        return f"{self.base}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"

    async def count(self, key: str) -> tuple[int, int]:
        """(hits so far, seconds until the window ends) without counting."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.ttl(key)
            value, ttl = await pipe.execute()
        return int(value or 0), int(ttl) if ttl and int(ttl) > 0 else self.window_seconds

    async def hit(self, key: str) -> tuple[int, int]:
        """Count one; (hits including this one, seconds until the window ends)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=self.window_seconds, nx=True)
            pipe.incr(key)
            pipe.ttl(key)
            _, value, ttl = await pipe.execute()
        return int(value), int(ttl) if ttl and int(ttl) > 0 else self.window_seconds

    async def clear(self, key: str) -> None:
        await self.redis.delete(key)


class FixedWindowLimiter:
    """At most ``limit`` hits per subject and window; the hit over it is a 429 with Retry-After."""

    def __init__(
        self, redis: Redis, prefix: str, name: str, limit: int, window_seconds: int, what: str = "requests"
    ) -> None:
        self.counters = Counters(redis, prefix, name, window_seconds)
        self.limit = limit
        self.what = what

    async def hit(self, **subject: str) -> None:
        count, retry_after = await self.counters.hit(self.counters.key(**subject))
        if count > self.limit:
            raise rate_limited(f"Too many {self.what}; try again in {retry_after} seconds", retry_after)


class SignInLimits:
    """Sign-in throttling that a stranger cannot turn against an account's owner (issue 10, finding 6).

    - Failures are counted per e-mail **and** client address: guessing from one address locks that
      address out for that e-mail, not the owner signing in from their own.
    - A higher ceiling of failures per e-mail across all addresses stops distributed guessing.
    - All attempts per client address stop one client trying many e-mails.
    - A locked attempt is refused with 429 before the password is looked at, right or wrong; a success
      clears that address's failures for the e-mail.
    """

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        failures_per_address: int,
        failures_per_email: int,
        attempts_per_address: int,
        window_seconds: int,
    ) -> None:
        self.counters = Counters(redis, prefix, "signin", window_seconds)
        self.failures_per_address = failures_per_address
        self.failures_per_email = failures_per_email
        self.attempts_per_address = attempts_per_address

    def _keys(self, email: str, address: str) -> tuple[str, str, str]:
        return (
            self.counters.key(failures="pair", email=email, address=address),
            self.counters.key(failures="email", email=email),
            self.counters.key(attempts="address", address=address),
        )

    async def before_attempt(self, email: str, address: str) -> None:
        """Count the attempt; a 429 when the address, the e-mail from this address, or the e-mail
        altogether is locked. Called before the password is checked."""
        pair, by_email, by_address = self._keys(email, address)
        attempts, attempts_left = await self.counters.hit(by_address)
        pair_failures, pair_left = await self.counters.count(pair)
        email_failures, email_left = await self.counters.count(by_email)
        locked = [
            left
            for over, left in (
                (attempts > self.attempts_per_address, attempts_left),
                (pair_failures >= self.failures_per_address, pair_left),
                (email_failures >= self.failures_per_email, email_left),
            )
            if over
        ]
        if locked:
            retry_after = max(locked)
            raise rate_limited(f"Too many sign-in attempts; try again in {retry_after} seconds", retry_after)

    async def failed(self, email: str, address: str) -> None:
        pair, by_email, _ = self._keys(email, address)
        await self.counters.hit(pair)
        await self.counters.hit(by_email)

    async def succeeded(self, email: str, address: str) -> None:
        pair, _, _ = self._keys(email, address)
        await self.counters.clear(pair)
