"""What every partner API client shares: the one request loop with the policy that tells partners apart,
its error types, records that keep what was received, limiter keys.

The loop (:class:`PartnerRequests`) is the same for Xero, ONTRAPORT and Onport: the account's shared
limiter admits each call, network failures and 5xx are retried with backoff or handed to the queue, a 401
is tried once more with fresh credentials when the partner has any, a 429 pauses every replica of the
account and is waited out or handed back to the queue, and what is left of 4xx becomes the partner's
permanent error. What differs between partners is a :class:`PartnerPolicy`, a :class:`Credentials` and
a :class:`CallLimiter`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Container, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, Self

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


class UnknownOutcomeError(TransientError):
    """A create may or may not have happened (5xx, timeout, dropped connection): look the document up
    before creating it again, because some documents (Xero bills, ACCPAY) have no unique number to stop a
    duplicate."""


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
class RateLimit:
    """What a 429 said: seconds to wait, and which budget ran out when the partner names it."""

    wait: float
    problem: str | None = None


class CallLimiter(Protocol):
    """A partner account's budget, shared by every replica, as the request loop uses it."""

    def admit(self, method: str) -> AbstractAsyncContextManager[None]:
        """Waits until one more ``method`` call fits the budget; held while the call is in flight."""
        ...

    async def observe(self, response: httpx.Response) -> None:
        """Takes in what an answer (of any status) says about the budget."""

    async def throttled(self, limit: RateLimit) -> None:
        """After a 429: everybody on the account waits; may raise (a spent day budget parks)."""


class Credentials(Protocol):
    """The headers that authenticate a call."""

    async def headers(self) -> Mapping[str, str]: ...

    async def renewed(self, rejected: Mapping[str, str]) -> Mapping[str, str] | None:
        """Fresh headers after the partner answered 401 to ``rejected``; None when there are none."""
        ...


@dataclass(frozen=True)
class StaticCredentials:
    """An API key or token that only the customer can change: a 401 stands."""

    values: Mapping[str, str] = field(repr=False)

    async def headers(self) -> Mapping[str, str]:
        return self.values

    async def renewed(self, rejected: Mapping[str, str]) -> Mapping[str, str] | None:
        return None


@dataclass(frozen=True)
class AccountBudget:
    """A :mod:`ratelimit` budget (one partner account) as a :class:`CallLimiter`."""

    acquire: Callable[[str], Awaitable[None]]  # given the HTTP method: writes may cost more
    pause: Callable[[float], Awaitable[None]]
    watch: Callable[[httpx.Response], Awaitable[None]] | None = None  # budget headers on any answer

    @asynccontextmanager
    async def admit(self, method: str) -> AsyncIterator[None]:
        await self.acquire(method)
        yield

    async def observe(self, response: httpx.Response) -> None:
        if self.watch is not None:
            await self.watch(response)

    async def throttled(self, limit: RateLimit) -> None:
        await self.pause(limit.wait)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int  # network failures and 5xx, counted together
    rate_limit_retries: int  # 429s waited out before giving the job back to the queue
    max_rate_limit_wait: float  # a longer wait is the queue's business, not this request's
    backoff_base: float
    sleep: Sleep


Refuse = Callable[[str, str, httpx.Response], PermanentError]
"""The partner's permanent error for an answer the caller does not read, given method and path."""


@dataclass(frozen=True)
class PartnerPolicy:
    """What differs between partners; everything else about a request is the loop's."""

    name: str  # as people write it: "Xero", "ONTRAPORT", "Onport"
    retry: RetryPolicy
    rate_limit: Callable[[httpx.Response], RateLimit]  # reads the partner's own 429 headers
    refuse: Refuse
    readable: Container[int] = range(200, 400)  # statuses handed to the caller
    timeout_seconds: float = 30.0
    # Also bound each attempt as a whole: httpx's timeouts are per read, so a trickling answer escapes them.
    total_deadline: bool = False


def refusal(name: str, auth_message: str, error: type[PartnerError], not_found: type[PartnerError]) -> Refuse:
    """The usual mapping of 4xx: 401/403 say the credentials are wrong, 404 is its own error."""

    def refuse(method: str, path: str, response: httpx.Response) -> PermanentError:
        status = response.status_code
        if status in (401, 403):
            return error(auth_message, status)
        if status == 404:
            return not_found(f"{name} {method} {path}: not found ({snippet(response)})", 404)
        return error(f"{name} {method} {path} refused with {status}: {snippet(response)}", status)

    return refuse


class _NoAnswer(Exception):
    """The request got no answer (network failure or deadline); ``__cause__`` says which."""


@dataclass(frozen=True)
class PartnerRequests:
    """The one request loop of every partner client (see the module's docstring)."""

    policy: PartnerPolicy
    http: httpx.AsyncClient
    base_url: str
    credentials: Credentials
    limiter: CallLimiter

    async def send(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        creates: bool = False,
        **request: Any,
    ) -> httpx.Response:
        """A readable answer to ``method path``; ``request`` goes to httpx (params, json, data).

        ``creates``: the call may create something the partner cannot deduplicate, so a failure whose
        outcome is unknown is raised at once as :class:`UnknownOutcomeError`, never retried blind.
        """
        what = f"{method} {path}"
        signed = await self.credentials.headers()
        renewed = False
        failures = 0
        throttled = 0
        while True:
            try:
                response = await self._attempt(method, path, {**signed, **(headers or {})}, request)
            except _NoAnswer as unanswered:
                error = unanswered.__cause__
                failures += 1
                # The count is named only when there was more than one attempt (Xero makes one).
                problem = f"failed {failures} times" if failures > 1 else "failed on the wire"
                await self._failed(what, failures, creates, f"{problem}: {type(error).__name__}", error)
                continue
            status = response.status_code
            if status == 401 and not renewed:
                # A 401 is answered before the partner does anything, so even a create may go again.
                fresh = await self.credentials.renewed(signed)
                if fresh is not None:
                    signed, renewed = fresh, True
                    continue
            if status == 429:
                throttled += 1
                await self._throttled(what, response, throttled)
                continue
            if status >= 500:
                failures += 1
                times = f" {failures} times" if failures > 1 else ""
                await self._failed(what, failures, creates, f"answered {status}{times}", None)
                continue
            if status in self.policy.readable:
                return response
            raise self.policy.refuse(method, path, response)

    async def _attempt(
        self, method: str, path: str, headers: Mapping[str, str], request: Mapping[str, Any]
    ) -> httpx.Response:
        policy = self.policy
        async with self.limiter.admit(method):
            try:
                async with asyncio.timeout(policy.timeout_seconds if policy.total_deadline else None):
                    response = await self.http.request(
                        method,
                        f"{self.base_url}{path}",
                        headers=headers,
                        timeout=policy.timeout_seconds,
                        **request,
                    )
            except (httpx.TransportError, TimeoutError) as error:
                # Only the request itself: a limiter failing is not a call whose outcome is in doubt.
                raise _NoAnswer from error
            await self.limiter.observe(response)
        return response

    async def _failed(
        self, what: str, failures: int, creates: bool, problem: str, cause: BaseException | None
    ) -> None:
        """Raises when this failure ends the request; otherwise waits before the next attempt."""
        message = f"{self.policy.name} {what} {problem}"
        if creates:
            raise UnknownOutcomeError(message) from cause
        if failures >= self.policy.retry.max_attempts:
            raise TransientError(message) from cause
        delay = backoff_seconds(failures, base=self.policy.retry.backoff_base, cap=10.0)
        log.warning(
            "partner.retry",
            partner=self.policy.name,
            call=what,
            attempt=failures,
            reason=problem,
            wait_seconds=delay,
        )
        await self.policy.retry.sleep(delay)

    async def _throttled(self, what: str, response: httpx.Response, throttled: int) -> None:
        """Pauses the account for what the 429 asked; raises when the wait is the queue's business."""
        limit = self.policy.rate_limit(response)
        await self.limiter.throttled(limit)
        retry = self.policy.retry
        if throttled > retry.rate_limit_retries or limit.wait > retry.max_rate_limit_wait:
            reason = f"({limit.problem})" if limit.problem else "reached"
            raise TransientError(f"{self.policy.name} rate limit {reason} on {what}", retry_after=limit.wait)
        log.info("partner.rate_limited", partner=self.policy.name, call=what, wait_seconds=limit.wait)
        await retry.sleep(limit.wait)
