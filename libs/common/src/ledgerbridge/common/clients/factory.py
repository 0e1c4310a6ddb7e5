"""The one place that builds a partner client for a connection.

It knows which settings hold each partner's URL, which Redis key holds an account's budget and which
credential names it, and how patient the caller can be. Workers and the API both build their clients
here, so a setup call made through the API counts against the same budget as the workers' calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from redis.asyncio import Redis

from ledgerbridge.common.clients.onport import OnportClient, onport_limiter
from ledgerbridge.common.clients.ontraport import OntraportClient, ontraport_limiter
from ledgerbridge.common.clients.xero import AccessTokenProvider, LimiterConfig, RateLimiter, XeroClient
from ledgerbridge.common.settings import Settings


@dataclass(frozen=True)
class Patience:
    """How long a client may keep its caller waiting. None keeps the partner's default, which is made for
    workers: a job that runs out of patience is retried later, a person who does waits."""

    timeout_seconds: float = 30.0  # every partner's default
    attempts: int | None = None  # network failures and 5xx (ONTRAPORT, Onport)
    wait_seconds: float | None = None  # for a limiter slot and for a 429's reset (ONTRAPORT, Onport)
    rate_limit_retries: int | None = None  # (ONTRAPORT, Onport)

    def client_options(self) -> dict[str, Any]:
        options = {
            "max_attempts": self.attempts,
            "max_rate_limit_wait_seconds": self.wait_seconds,
            "rate_limit_retries": self.rate_limit_retries,
        }
        return {"timeout_seconds": self.timeout_seconds} | {
            name: value for name, value in options.items() if value is not None
        }

    def limiter_options(self) -> dict[str, Any]:
        return {} if self.wait_seconds is None else {"max_wait_seconds": self.wait_seconds}


WORKER = Patience()
INTERACTIVE = Patience(timeout_seconds=20.0, attempts=2, wait_seconds=10.0, rate_limit_retries=1)
"""Someone is waiting for the answer (an API request): fail sooner than a worker would."""


def ontraport_client(
    settings: Settings,
    http: httpx.AsyncClient,
    redis: Redis,
    credentials: Mapping[str, Any],
    *,
    patience: Patience = WORKER,
) -> OntraportClient:
    """``credentials``: a connection's, decrypted (or ones being checked before it exists): ``app_id``
    and ``api_key``."""
    app_id, api_key = str(credentials["app_id"]), str(credentials["api_key"])
    limiter = ontraport_limiter(redis, app_id, prefix=settings.queue.prefix, **patience.limiter_options())
    return OntraportClient(
        http, settings.ontraport.api_url, app_id, api_key, limiter, **patience.client_options()
    )


def onport_client(
    settings: Settings,
    http: httpx.AsyncClient,
    redis: Redis,
    credentials: Mapping[str, Any],
    *,
    patience: Patience = WORKER,
) -> OnportClient:
    """``credentials``: a connection's, decrypted (or ones being checked before it exists): ``api_token``."""
    token = str(credentials["api_token"])
    limiter = onport_limiter(redis, token, prefix=settings.queue.prefix, **patience.limiter_options())
    return OnportClient(http, settings.onport.api_url, token, limiter, **patience.client_options())


def xero_client(
    settings: Settings,
    http: httpx.AsyncClient,
    redis: Redis,
    tokens: AccessTokenProvider,
    tenant_id: str,
    *,
    patience: Patience = WORKER,
    limits: LimiterConfig | None = None,
) -> XeroClient:
    """``tokens``: ``TokenService.provider(sessions, connection_id)``; it refreshes under the connection's
    row lock, so the caller must not hold a write lock on that row while using the client.

    Only ``patience.timeout_seconds`` applies: a Xero call is tried once (the queue retries), and how
    long to wait for a slot is ``limits.max_wait_seconds`` (Xero's figures by default).
    """
    limiter = RateLimiter(redis, settings.queue.prefix, limits)
    return XeroClient(http, settings.xero, limiter, tokens, tenant_id, timeout=patience.timeout_seconds)
