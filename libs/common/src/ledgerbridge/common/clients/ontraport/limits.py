"""An ONTRAPORT account's rate budget: the rolling window every replica shares through Redis, and what
ONTRAPORT's ``X-Rate-Limit-*`` headers say about it, as the request loop's limiter."""

from __future__ import annotations

import asyncio

import httpx
from redis.asyncio import Redis

from ledgerbridge.common.clients.partner import AccountBudget, RateLimit, limiter_key
from ledgerbridge.common.clients.ratelimit import RollingWindowLimiter, Sleep

DEFAULT_CALLS_PER_MINUTE = 170
"""ONTRAPORT allows 180/minute per account; the rest is headroom for clock skew between us and them."""


def account_limiter_key(app_id: str, prefix: str = "ledgerbridge") -> str:
    """The Redis key of one ONTRAPORT account's budget. The app id names the account (each account has
    its own); hashed so the key does not spell out an identifier of the customer's credentials."""
    return limiter_key("ontraport", app_id, prefix)


def ontraport_limiter(
    redis: Redis,
    app_id: str,
    *,
    prefix: str = "ledgerbridge",
    calls_per_minute: int = DEFAULT_CALLS_PER_MINUTE,
    window_seconds: float = 60.0,
    max_wait_seconds: float | None = None,
    sleep: Sleep = asyncio.sleep,
) -> RollingWindowLimiter:
    return RollingWindowLimiter(
        redis,
        account_limiter_key(app_id, prefix),
        limit=calls_per_minute,
        window_seconds=window_seconds,
        max_wait_seconds=max_wait_seconds,
        sleep=sleep,
    )


def account_budget(limiter: RollingWindowLimiter) -> AccountBudget:
    """The account's window as the request loop's limiter; every call costs one."""

    async def watch(response: httpx.Response) -> None:
        # ONTRAPORT counts every call on the account, including other apps the customer uses with the
        # same key: when it says none are left, everybody on this account waits for its reset.
        remaining = _header_number(response, "X-Rate-Limit-Remaining")
        reset = _header_number(response, "X-Rate-Limit-Reset")
        if remaining is not None and remaining <= 0 and reset is not None and response.status_code != 429:
            await limiter.pause(reset)

    return AccountBudget(acquire=lambda _method: limiter.acquire(), pause=limiter.pause, watch=watch)


def rate_limit(response: httpx.Response) -> RateLimit:
    """What a 429 asks: ONTRAPORT sends no Retry-After, only when its window resets."""
    return RateLimit(_header_number(response, "X-Rate-Limit-Reset") or 60.0)


def _header_number(response: httpx.Response, name: str) -> float | None:
    value = response.headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
