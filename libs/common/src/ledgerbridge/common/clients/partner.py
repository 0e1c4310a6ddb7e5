"""What every partner API client shares: the request loop, its error type, records that keep what was
received, limiter keys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self

import httpx
import structlog
from pydantic import BaseModel, PrivateAttr

from ledgerbridge.common.clients.ratelimit import Sleep
from ledgerbridge.common.messaging.errors import PermanentError, TransientError, backoff_seconds

log = structlog.get_logger(__name__)


class PartnerError(PermanentError):
    """A partner refused a request, or answered something we cannot read; the message says which."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class PartnerRecord(BaseModel):
    """A record typed for the fields we use; ``raw`` is the record exactly as the partner sent it."""

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_api(cls, record: Any) -> Self:
        model = cls.model_validate(record)
        model._raw = dict(record)
        return model

    @property
    def raw(self) -> dict[str, Any]:
        return dict(self._raw)


def limiter_key(partner: str, credential: str, prefix: str) -> str:
    """The Redis key of one partner account's rate budget. The credential names the account; it is hashed
    so the key never spells out anything secret."""
    digest = hashlib.sha256(credential.encode()).hexdigest()[:20]
    return f"{prefix}:ratelimit:{partner}:{digest}"


def snippet(response: httpx.Response) -> str:
    """The start of a response body, quoted, for error messages a person reads."""
    return json.dumps(response.text.strip().replace("\n", " ")[:200])


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int  # network failures and 5xx, counted together
    rate_limit_retries: int  # 429s waited out before giving the job back to the queue
    max_rate_limit_wait: float  # a longer wait is the queue's business, not this request's
    backoff_base: float
    sleep: Sleep


@dataclass(frozen=True)
class PartnerRequests:
    """The one request loop of every partner client.

    Network failures and 5xx are retried with backoff, then raised as transient; a 429 pauses the whole
    account (every replica shares the limiter) and is waited out or handed back to the queue; 401/403, 404
    and other 4xx become the partner's permanent errors. What differs between partners is passed in.
    """

    name: str  # as people write it: "ONTRAPORT", "Onport"
    http: httpx.AsyncClient
    base_url: str
    headers: Mapping[str, str]
    timeout: httpx.Timeout
    policy: RetryPolicy
    auth_message: str
    error: type[PartnerError]
    not_found: type[PartnerError]
    acquire: Callable[[str], Awaitable[None]]  # given the HTTP method: writes may cost more
    pause: Callable[[float], Awaitable[None]]
    rate_limit_wait: Callable[[httpx.Response], float]  # seconds a 429 asks us to wait
    observe: Callable[[httpx.Response], Awaitable[None]] | None = None  # budget headers on any answer

    async def send(self, method: str, path: str, **request: Any) -> httpx.Response:
        """A 2xx or 3xx answer to ``method path``; ``request`` goes to httpx (params, json, data)."""
        what = f"{method} {path}"
        policy = self.policy
        failures = 0
        throttled = 0
        while True:
            await self.acquire(method)
            try:
                response = await self.http.request(
                    method, f"{self.base_url}{path}", headers=self.headers, timeout=self.timeout, **request
                )
            except httpx.TransportError as error:
                failures += 1
                if failures >= policy.max_attempts:
                    raise TransientError(
                        f"{self.name} {what} failed {failures} times: {type(error).__name__}"
                    ) from error
                await self._backoff(what, failures, type(error).__name__)
                continue

            if self.observe is not None:
                await self.observe(response)
            status = response.status_code
            if status in (401, 403):
                raise self.error(self.auth_message, status)
            if status == 429:
                throttled += 1
                wait = self.rate_limit_wait(response)
                await self.pause(wait)
                if throttled > policy.rate_limit_retries or wait > policy.max_rate_limit_wait:
                    raise TransientError(f"{self.name} rate limit reached on {what}", retry_after=wait)
                log.info("partner.rate_limited", partner=self.name, call=what, wait_seconds=wait)
                await policy.sleep(wait)
                continue
            if status >= 500:
                failures += 1
                if failures >= policy.max_attempts:
                    raise TransientError(f"{self.name} {what} answered {status} {failures} times")
                await self._backoff(what, failures, f"HTTP {status}")
                continue
            if status == 404:
                raise self.not_found(f"{self.name} {what}: not found ({snippet(response)})", 404)
            if status >= 400:
                raise self.error(f"{self.name} {what} refused with {status}: {snippet(response)}", status)
            return response

    async def _backoff(self, what: str, attempt: int, reason: str) -> None:
        delay = backoff_seconds(attempt, base=self.policy.backoff_base, cap=10.0)
        log.warning(
            "partner.retry", partner=self.name, call=what, attempt=attempt, reason=reason, wait_seconds=delay
        )
        await self.policy.sleep(delay)
