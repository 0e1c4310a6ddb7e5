"""The partner API clients one request uses, and how their failures read as problems.

Clients share one httpx client that lives as long as the request. Rate limiters are the same Redis-backed
ones the workers use, so setup calls made through the API count against the same budgets.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import httpx
from fastapi import Depends

from ledgerbridge.api.dependencies import PlatformDep
from ledgerbridge.api.problems import ProblemError
from ledgerbridge.common.clients.factory import INTERACTIVE, onport_client, ontraport_client, xero_client
from ledgerbridge.common.clients.onport import OnportClient
from ledgerbridge.common.clients.ontraport import OntraportClient
from ledgerbridge.common.clients.xero import TokenService, XeroClient, XeroOAuth
from ledgerbridge.common.messaging.errors import PermanentError, TransientError
from ledgerbridge.common.models import Connection
from ledgerbridge.common.platform import Platform

# Someone is waiting for the answer: fail sooner than a worker would.
_TIMEOUT_SECONDS = INTERACTIVE.timeout_seconds


class Partners:
    def __init__(self, platform: Platform, http: httpx.AsyncClient) -> None:
        self.platform = platform
        self.http = http
        self.settings = platform.settings
        self.redis = platform.transport.redis
        self.oauth = XeroOAuth(http, self.settings.xero, timeout=_TIMEOUT_SECONDS)
        self.tokens = TokenService(self.oauth, platform.cipher)

    def credentials(self, connection: Connection) -> dict[str, Any]:
        return self.platform.cipher.decrypt_json(connection.credentials)

    def xero(self, connection_id: uuid.UUID, tenant_id: str) -> XeroClient:
        """Tokens come through ``TokenService`` in sessions of its own (refresh under a row lock), so
        the caller must not hold a write lock on the connection row while using this client."""
        tokens = self.tokens.provider(self.platform.sessions, connection_id)
        return xero_client(self.settings, self.http, self.redis, tokens, tenant_id, patience=INTERACTIVE)

    def ontraport(self, app_id: str, api_key: str) -> OntraportClient:
        credentials = {"app_id": app_id, "api_key": api_key}
        return ontraport_client(self.settings, self.http, self.redis, credentials, patience=INTERACTIVE)

    def ontraport_of(self, connection: Connection) -> OntraportClient:
        credentials = self.credentials(connection)
        return self.ontraport(str(credentials["app_id"]), str(credentials["api_key"]))

    def onport(self, api_token: str) -> OnportClient:
        credentials = {"api_token": api_token}
        return onport_client(self.settings, self.http, self.redis, credentials, patience=INTERACTIVE)


async def get_partners(platform: PlatformDep) -> AsyncIterator[Partners]:
    async with httpx.AsyncClient() as http:
        yield Partners(platform, http)


PartnersDep = Annotated[Partners, Depends(get_partners)]

PARTNER_PROBLEM = "https://ledgerbridge.dev/problems/partner"


@contextmanager
def partner_errors(partner: str) -> Iterator[None]:
    """A partner's failure as a 502/503 problem; the clients' messages never carry secrets."""
    try:
        yield
    except TransientError as exc:
        headers = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else None
        raise ProblemError(
            503,
            f"{partner} is not answering",
            f"{exc}; try again shortly",
            type_=PARTNER_PROBLEM,
            headers=headers,
        ) from exc
    except PermanentError as exc:
        raise ProblemError(502, f"{partner} refused the request", str(exc), type_=PARTNER_PROBLEM) from exc
