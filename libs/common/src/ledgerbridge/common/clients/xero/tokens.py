"""Xero OAuth2: the connect flow's calls and access tokens that stay valid across replicas.

Refresh tokens rotate on every use, so two workers refreshing the same token set is the classic
``invalid_grant`` bug (SPEC.md §3.1). A refresh therefore runs under a row lock on the connection, re-reads
the row once the lock is held (another worker may have refreshed meanwhile) and commits the new pair
before anyone uses it. Tokens never appear in logs or exception messages.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.alerts import events as alerts
from ledgerbridge.common.alerts.kinds import AlertKind
from ledgerbridge.common.crypto import Cipher
from ledgerbridge.common.messaging.errors import PermanentError, TransientError
from ledgerbridge.common.models import Connection, ConnectionStatus
from ledgerbridge.common.settings import XeroSettings

REFRESH_MARGIN_SECONDS = 120.0
RECONNECT_MESSAGE = "Xero refused the refresh token: reconnect Xero"


class AccessTokenProvider(Protocol):
    """Gives a valid access token; ``rejected`` is a token Xero just answered 401 to, to be replaced."""

    async def __call__(self, rejected: str | None = None) -> str: ...


@dataclass(frozen=True)
class TokenSet:
    """What is stored (encrypted) in ``Connection.credentials``; ``repr`` hides the secrets."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float
    scope: str

    @classmethod
    def from_response(cls, body: dict[str, Any], now: float) -> TokenSet:
        try:
            return cls(
                access_token=str(body["access_token"]),
                refresh_token=str(body["refresh_token"]),
                expires_at=now + float(body["expires_in"]),
                scope=str(body.get("scope", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TransientError("Xero's token endpoint gave an incomplete answer") from exc

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any]) -> TokenSet:
        try:
            return cls(
                access_token=str(credentials["access_token"]),
                refresh_token=str(credentials["refresh_token"]),
                expires_at=float(credentials["expires_at"]),
                scope=str(credentials.get("scope", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentError("stored Xero credentials are incomplete: reconnect Xero") from exc

    def to_credentials(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "scope": self.scope,
        }

    @property
    def expires_at_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, UTC)

    def usable(self, now: float, margin: float, rejected: str | None) -> bool:
        return self.expires_at - margin > now and self.access_token != rejected


@dataclass(frozen=True)
class XeroTenantConnection:
    """One organisation the user connected (an element of ``GET /connections``)."""

    id: str
    tenant_id: str
    tenant_name: str
    tenant_type: str
    auth_event_id: str | None


class RefreshRejectedError(PermanentError):
    """The token endpoint answered ``invalid_grant``: only a new consent helps."""


class XeroOAuth:
    """Plain calls to Xero's identity service; no database, no state."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: XeroSettings,
        *,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._settings = settings
        self._timeout = timeout
        self._clock = clock

    def _client_auth(self) -> tuple[str, str]:
        settings = self._settings
        if not settings.client_id or settings.client_secret is None:
            raise PermanentError("XERO_CLIENT_ID and XERO_CLIENT_SECRET are not configured")
        return settings.client_id, settings.client_secret.get_secret_value()

    async def _post_form(self, url: str, form: dict[str, str], what: str) -> httpx.Response:
        try:
            response = await self._http.post(url, data=form, auth=self._client_auth(), timeout=self._timeout)
        except httpx.TransportError as exc:
            raise TransientError(f"Xero {what} failed on the network: {type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"Xero {what} answered {response.status_code}")
        return response

    async def _token_grant(self, form: dict[str, str], what: str) -> TokenSet:
        response = await self._post_form(self._settings.token_url, form, what)
        if response.status_code == 200:
            return TokenSet.from_response(response.json(), self._clock())
        error = _oauth_error(response)
        if error == "invalid_grant":
            raise RefreshRejectedError(f"Xero refused the {what}: invalid_grant")
        raise PermanentError(f"Xero refused the {what}: {error or response.status_code}")

    async def exchange_code(self, code: str, code_verifier: str, redirect_uri: str | None = None) -> TokenSet:
        """The authorization-code grant with the PKCE verifier; the redirect URI must match exactly."""
        redirect = redirect_uri or self._settings.redirect_uri
        if not redirect:
            raise PermanentError("XERO_REDIRECT_URI is not configured")
        return await self._token_grant(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "code_verifier": code_verifier,
            },
            "authorization code",
        )

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token_grant(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}, "refresh token"
        )

    async def revoke(self, refresh_token: str) -> None:
        """Revokes the whole grant: every organisation connected with it loses access."""
        response = await self._post_form(self._settings.revoke_url, {"token": refresh_token}, "revocation")
        if response.status_code != 200:
            raise PermanentError(
                f"Xero refused the revocation: {_oauth_error(response) or response.status_code}"
            )

    async def fetch_connections(
        self, access_token: str, auth_event_id: str | None = None
    ) -> list[XeroTenantConnection]:
        params = {"authEventId": auth_event_id} if auth_event_id else None
        response = await self._identity_call("GET", self._settings.connections_url, access_token, params)
        if response.status_code != 200:
            raise PermanentError(f"Xero refused to list connections: {response.status_code}")
        return [
            XeroTenantConnection(
                id=str(item["id"]),
                tenant_id=str(item["tenantId"]),
                tenant_name=str(item.get("tenantName") or ""),
                tenant_type=str(item.get("tenantType") or ""),
                auth_event_id=item.get("authEventId"),
            )
            for item in response.json()
        ]

    async def disconnect(self, access_token: str, connection_xero_id: str) -> None:
        """Removes one organisation's connection (``DELETE /connections/{id}``); already gone is fine."""
        url = f"{self._settings.connections_url.rstrip('/')}/{connection_xero_id}"
        response = await self._identity_call("DELETE", url, access_token, None)
        if response.status_code not in (200, 204, 404):
            raise PermanentError(f"Xero refused the disconnection: {response.status_code}")

    async def _identity_call(
        self, method: str, url: str, access_token: str, params: dict[str, str] | None
    ) -> httpx.Response:
        try:
            response = await self._http.request(
                method,
                url,
                params=params,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=self._timeout,
            )
        except httpx.TransportError as exc:
            raise TransientError(
                f"Xero connections call failed on the network: {type(exc).__name__}"
            ) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"Xero connections call answered {response.status_code}")
        return response


def _oauth_error(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return str(error) if error else None


class TokenService:
    """Valid access tokens for Xero connections, refreshed at most once however many callers race."""

    def __init__(
        self,
        oauth: XeroOAuth,
        cipher: Cipher,
        *,
        margin_seconds: float = REFRESH_MARGIN_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._oauth = oauth
        self._cipher = cipher
        self._margin = margin_seconds
        self._clock = clock

    def seal(self, tokens: TokenSet) -> bytes:
        """The encrypted form to store in ``Connection.credentials`` (the connect flow uses this)."""
        return self._cipher.encrypt_json(tokens.to_credentials())

    def provider(
        self, sessions: async_sessionmaker[AsyncSession], connection_id: uuid.UUID
    ) -> AccessTokenProvider:
        """The token source an ``XeroClient`` for this connection needs."""

        async def provide(rejected: str | None = None) -> str:
            return await self.access_token(sessions, connection_id, rejected=rejected)

        return provide

    async def access_token(
        self,
        sessions: async_sessionmaker[AsyncSession],
        connection_id: uuid.UUID,
        *,
        rejected: str | None = None,
    ) -> str:
        # Most calls find a good token: read it without a lock in a transaction of its own.
        async with sessions() as session:
            connection = await _load(session, connection_id, lock=False)
            current = self._usable_tokens(connection)
        if current.usable(self._clock(), self._margin, rejected):
            return current.access_token
        return await self._refresh(sessions, connection_id, rejected)

    async def _refresh(
        self, sessions: async_sessionmaker[AsyncSession], connection_id: uuid.UUID, rejected: str | None
    ) -> str:
        fresh: TokenSet | None = None
        async with sessions() as session, session.begin():
            connection = await _load(session, connection_id, lock=True)
            current = self._usable_tokens(connection)
            if current.usable(self._clock(), self._margin, rejected):
                return current.access_token  # another worker refreshed while we waited for the lock
            try:
                fresh = await self._refresh_at_xero(current.refresh_token)
            except RefreshRejectedError:
                connection.status = ConnectionStatus.error
                connection.last_error = RECONNECT_MESSAGE
                # Xero refuses the refresh token once consent expired or was revoked: tell the owners.
                alerts.note(
                    session,
                    connection.account_id,
                    AlertKind.xero_consent,
                    detail={"connection_id": str(connection.id), "name": connection.name},
                )
            else:
                connection.credentials = self.seal(fresh)
                connection.token_expires_at = fresh.expires_at_datetime
        # The transaction has committed here: the new pair (or the error status) is durable.
        if fresh is None:
            raise PermanentError(RECONNECT_MESSAGE)
        return fresh.access_token

    async def _refresh_at_xero(self, refresh_token: str) -> TokenSet:
        try:
            return await self._oauth.refresh(refresh_token)
        except TransientError:
            # The answer may have been lost after Xero rotated the pair. Xero accepts the same refresh
            # token again within its grace window, and we still hold the row lock, so nobody else can
            # have used the new one: one immediate retry recovers it.
            return await self._oauth.refresh(refresh_token)

    def _usable_tokens(self, connection: Connection) -> TokenSet:
        if connection.status in (ConnectionStatus.error, ConnectionStatus.disconnected):
            raise PermanentError(connection.last_error or f"the Xero connection is {connection.status}")
        return TokenSet.from_credentials(self._cipher.decrypt_json(connection.credentials))

    async def disconnect(
        self,
        sessions: async_sessionmaker[AsyncSession],
        connection_id: uuid.UUID,
        *,
        revoke: bool = True,
        at_xero: bool = True,
    ) -> None:
        """Disconnects the connection's organisation at Xero and forgets the tokens.

        ``revoke`` also revokes the grant, which disconnects every organisation consented with it; pass
        False when another connection row still uses the same consent. ``at_xero`` False only forgets
        the tokens (no ``DELETE /connections``): for a Xero connection another row still holds.
        """
        async with sessions() as session:
            tenant_id = (await _load(session, connection_id, lock=False)).xero_tenant_id
        access: str | None = None
        if at_xero or revoke:
            try:
                access = await self.access_token(sessions, connection_id)
            except PermanentError:
                access = None  # Xero already refuses these tokens: there is nothing left to undo there
        if at_xero and access is not None and tenant_id is not None:
            for listed in await self._oauth.fetch_connections(access):
                if listed.tenant_id.lower() == tenant_id.lower():
                    await self._oauth.disconnect(access, listed.id)
        async with sessions() as session, session.begin():
            connection = await _load(session, connection_id, lock=True)
            if revoke and access is not None:
                stored = TokenSet.from_credentials(self._cipher.decrypt_json(connection.credentials))
                await self._oauth.revoke(stored.refresh_token)
            connection.credentials = self._cipher.encrypt_json({})
            connection.token_expires_at = None
            connection.status = ConnectionStatus.disconnected
            connection.last_error = None


async def _load(session: AsyncSession, connection_id: uuid.UUID, *, lock: bool) -> Connection:
    query = select(Connection).where(Connection.id == connection_id)
    if lock:
        # populate_existing: the re-read after the lock must see what the lock holder before us committed.
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    connection = (await session.execute(query)).scalar_one_or_none()
    if connection is None:
        raise PermanentError(f"Xero connection {connection_id} does not exist")
    return connection
