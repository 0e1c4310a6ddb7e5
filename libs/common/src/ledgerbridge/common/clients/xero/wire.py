"""How Xero's wire differs from the other partners': the request loop's policy for Xero (nothing retried
in the call, 429s cool down or park the organisation, 200 and 400 are the caller's to read), the bearer
token with its one refresh after a 401, and how its errors read."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx

from ledgerbridge.common.clients.partner import PartnerPolicy, RateLimit, RetryPolicy
from ledgerbridge.common.clients.xero.tokens import AccessTokenProvider
from ledgerbridge.common.messaging.errors import PermanentError


class XeroNotFoundError(PermanentError):
    """The addressed document does not exist in this organisation."""


def error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        for key in ("Message", "Detail", "Title"):
            if body.get(key):
                return str(body[key])
    return f"HTTP {response.status_code}"


def _rate_limit(response: httpx.Response) -> RateLimit:
    problem = response.headers.get("x-rate-limit-problem", "").lower()
    return RateLimit(_retry_after(response), problem or "unknown")


def _refuse(method: str, path: str, response: httpx.Response) -> PermanentError:
    status = response.status_code
    if status == 401:
        return PermanentError("Xero rejected a freshly refreshed access token: reconnect Xero")
    if status == 403:
        return PermanentError("Xero refused access to this organisation (403): is it still connected?")
    if status == 404:
        return XeroNotFoundError(f"Xero has no {path}")
    return PermanentError(f"Xero {method} {path} answered {status}: {error_message(response)}")


def xero_policy(timeout: float) -> PartnerPolicy:
    return PartnerPolicy(
        name="Xero",
        # Nothing is tried twice here: the limiter already waits for a slot, and the queue retries a
        # failed batch after the publisher has looked up what a doubtful create may have made.
        retry=RetryPolicy(
            max_attempts=1,
            rate_limit_retries=0,
            max_rate_limit_wait=0.0,
            backoff_base=0.0,
            sleep=asyncio.sleep,
        ),
        rate_limit=_rate_limit,
        refuse=_refuse,
        readable=frozenset({200, 400}),  # a 400 lists each document's validation errors
        timeout_seconds=timeout,
        total_deadline=True,
    )


@dataclass(frozen=True)
class BearerToken:
    """The organisation's access token and tenant header; a 401 asks for a refreshed token once."""

    tokens: AccessTokenProvider = field(repr=False)
    tenant_id: str

    def _signed(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": self.tenant_id,
            "Accept": "application/json",
        }

    async def headers(self) -> Mapping[str, str]:
        return self._signed(await self.tokens())

    async def renewed(self, rejected: Mapping[str, str]) -> Mapping[str, str] | None:
        # Refreshed unless another caller already did; either way a different token comes back.
        token = rejected["Authorization"].removeprefix("Bearer ")
        return self._signed(await self.tokens(rejected=token))


def _retry_after(response: httpx.Response) -> float:
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return 60.0
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return 60.0
    date_header = response.headers.get("date")
    now = parsedate_to_datetime(date_header) if date_header else None
    return max((moment - now).total_seconds(), 0.0) if now else 60.0
