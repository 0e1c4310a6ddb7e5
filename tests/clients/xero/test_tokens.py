"""Access tokens: one refresh however many callers race, lost answers recovered, refusals recorded."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from ledgerbridge.common.clients.xero import TokenService, TokenSet, XeroOAuth
from ledgerbridge.common.clients.xero.tokens import RECONNECT_MESSAGE
from ledgerbridge.common.crypto import Cipher
from ledgerbridge.common.messaging.errors import PermanentError, TransientError
from ledgerbridge.common.models import AlertEvent, Connection, ConnectionStatus
from ledgerbridge.common.settings import XeroSettings
from ledgerbridge.sandbox.xero.testing import REDIRECT, SandboxClient, pkce_pair

from .conftest import BASE, MakeConnection, Sessions, refreshes


async def stored_tokens(
    committing: Sessions, cipher: Cipher, connection_id: uuid.UUID
) -> tuple[TokenSet, Connection]:
    async with committing() as session:
        connection = await session.get(Connection, connection_id)
        assert connection is not None
        return TokenSet.from_credentials(cipher.decrypt_json(connection.credentials)), connection


async def works(sandbox: SandboxClient, tenant_id: str, access_token: str) -> bool:
    sandbox.access_token = access_token
    return (await sandbox.call("GET", "Organisation", tenant_id)).status_code == 200


async def test_twenty_racing_callers_cause_exactly_one_refresh(
    make_connection: MakeConnection,
    tokens: TokenService,
    committing: Sessions,
    cipher: Cipher,
    sandbox: SandboxClient,
    tenant_id: str,
) -> None:
    connection_id = await make_connection(expired=True)
    before, _ = await stored_tokens(committing, cipher, connection_id)
    assert await refreshes(sandbox) == 0

    # Each call opens its own sessions (and so its own database connections) from the factory.
    results = await asyncio.gather(*(tokens.access_token(committing, connection_id) for _ in range(20)))

    assert await refreshes(sandbox) == 1
    assert len(set(results)) == 1
    after, row = await stored_tokens(committing, cipher, connection_id)
    assert results[0] == after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token
    assert row.token_expires_at == after.expires_at_datetime
    assert await works(sandbox, tenant_id, results[0])


async def test_a_valid_token_is_used_without_a_refresh(
    make_connection: MakeConnection, tokens: TokenService, committing: Sessions, sandbox: SandboxClient
) -> None:
    connection_id = await make_connection()
    first = await tokens.access_token(committing, connection_id)
    assert await tokens.access_token(committing, connection_id) == first
    assert await refreshes(sandbox) == 0
    # A token Xero answered 401 to is replaced even though it has not expired by our clock.
    assert await tokens.access_token(committing, connection_id, rejected=first) != first
    assert await refreshes(sandbox) == 1


class LosesRefreshAnswers(httpx.AsyncBaseTransport):
    """The network between us and Xero: the refresh reaches Xero, its answer never reaches us."""

    def __init__(self, app: FastAPI, losses: int) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.losses = losses

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if self.losses and request.url.path == "/identity/connect/token":
            self.losses -= 1
            await response.aread()
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


async def test_a_lost_refresh_answer_is_recovered_within_the_grace_window(
    make_connection: MakeConnection,
    sandbox_app: FastAPI,
    xero_settings: XeroSettings,
    cipher: Cipher,
    committing: Sessions,
    sandbox: SandboxClient,
    tenant_id: str,
) -> None:
    connection_id = await make_connection(expired=True)
    before, _ = await stored_tokens(committing, cipher, connection_id)
    network = LosesRefreshAnswers(sandbox_app, losses=1)
    async with httpx.AsyncClient(transport=network, base_url=BASE) as http:
        service = TokenService(XeroOAuth(http, xero_settings), cipher)
        # The first answer is lost after Xero rotated the pair; the retry with the same refresh token
        # gets the rotated pair again (Xero's grace window).
        token = await service.access_token(committing, connection_id)
        assert await refreshes(sandbox) == 2
        assert await works(sandbox, tenant_id, token)

        # Both answers lost: nothing is stored, the job fails transiently, and the next try recovers.
        rejected = token
        network.losses = 2
        with pytest.raises(TransientError):
            await service.access_token(committing, connection_id, rejected=rejected)
        kept, _ = await stored_tokens(committing, cipher, connection_id)
        assert kept.access_token == token
        recovered = await service.access_token(committing, connection_id, rejected=rejected)
        assert recovered != token
        assert await works(sandbox, tenant_id, recovered)
        after, _ = await stored_tokens(committing, cipher, connection_id)
        assert after.refresh_token not in (before.refresh_token, kept.refresh_token)


async def test_a_refused_refresh_token_marks_the_connection_for_reconnection(
    make_connection: MakeConnection,
    tokens: TokenService,
    oauth: XeroOAuth,
    cipher: Cipher,
    committing: Sessions,
    sandbox: SandboxClient,
) -> None:
    connection_id = await make_connection(expired=True)
    stored, _ = await stored_tokens(committing, cipher, connection_id)
    await oauth.revoke(stored.refresh_token)

    with pytest.raises(PermanentError, match="reconnect Xero"):
        await tokens.access_token(committing, connection_id)
    _, row = await stored_tokens(committing, cipher, connection_id)
    assert row.status == ConnectionStatus.error
    assert row.last_error == RECONNECT_MESSAGE
    # Later callers are told at once, without asking Xero again.
    calls = await refreshes(sandbox)
    with pytest.raises(PermanentError, match="reconnect Xero"):
        await tokens.access_token(committing, connection_id)
    assert await refreshes(sandbox) == calls
    # The owners hear of it once, in the transaction that marked the connection.
    async with committing() as session:
        events = list(
            await session.scalars(select(AlertEvent).where(AlertEvent.account_id == row.account_id))
        )
    assert [(e.kind, e.detail["connection_id"]) for e in events] == [("xero_consent", str(connection_id))]


async def test_connect_flow_exchange_list_and_disconnect(
    oauth: XeroOAuth,
    tokens: TokenService,
    sandbox: SandboxClient,
    tenant_id: str,
    make_connection: MakeConnection,
    committing: Sessions,
    cipher: Cipher,
) -> None:
    verifier, challenge = pkce_pair()
    await sandbox.client.post("/_sandbox/consent", json={"tenant_ids": [tenant_id]})
    code = await sandbox.authorize(challenge=challenge)
    token_set = await oauth.exchange_code(code, verifier)
    assert "access_token" not in repr(token_set) and token_set.access_token not in repr(token_set)
    listed = await oauth.fetch_connections(token_set.access_token)
    assert [connection.tenant_id for connection in listed] == [tenant_id]

    with pytest.raises(PermanentError, match="invalid_grant"):
        await oauth.exchange_code(code, verifier, REDIRECT)  # a code is single use

    connection_id = await make_connection()
    await tokens.disconnect(committing, connection_id)
    assert await oauth.fetch_connections(token_set.access_token) == []
    async with committing() as session:
        row = await session.get(Connection, connection_id)
    assert row is not None and row.status == ConnectionStatus.disconnected
    assert cipher.decrypt_json(row.credentials) == {}
