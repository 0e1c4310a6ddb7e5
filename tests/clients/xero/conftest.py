"""Fixtures for the Xero client: an in-process Xero sandbox, a real Redis limiter and a real connection
row in PostgreSQL holding an encrypted token set."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.clients.xero import (
    LimiterConfig,
    RateLimiter,
    TokenService,
    TokenSet,
    XeroClient,
    XeroOAuth,
)
from ledgerbridge.common.crypto import Cipher
from ledgerbridge.common.models import Account, Connection, ConnectionKind, ConnectionStatus
from ledgerbridge.common.settings import XeroSettings
from ledgerbridge.sandbox.xero.app import create_app
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from ledgerbridge.sandbox.xero.testing import REDIRECT, SandboxClient

BASE = "http://xero.test"

Sessions = async_sessionmaker[AsyncSession]


def xero_settings_for(base: str) -> XeroSettings:
    return XeroSettings(
        api_url=f"{base}/api.xro/2.0",
        connections_url=f"{base}/connections",
        authorize_url=f"{base}/identity/connect/authorize",
        token_url=f"{base}/identity/connect/token",
        revoke_url=f"{base}/identity/connect/revocation",
        client_id="sandbox-client",
        client_secret=SecretStr("sandbox-secret"),
        redirect_uri=REDIRECT,
    )


@pytest.fixture
def sandbox_config() -> XeroSandboxConfig:
    """Overridden by tests that need other limits; the defaults are Xero's own figures."""
    return XeroSandboxConfig(seed_demo_organisations=False)


@pytest.fixture
def sandbox_app(sandbox_config: XeroSandboxConfig) -> FastAPI:
    return create_app(sandbox_config)


@pytest.fixture
async def http(sandbox_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url=BASE) as client:
        yield client


@pytest.fixture
async def sandbox(sandbox_app: FastAPI, http: httpx.AsyncClient) -> SandboxClient:
    return SandboxClient(sandbox_app, http)


@pytest.fixture
async def tenant_id(sandbox: SandboxClient) -> str:
    return await sandbox.new_org("AU")


@pytest.fixture
def xero_settings() -> XeroSettings:
    return xero_settings_for(BASE)


@pytest.fixture
def cipher() -> Cipher:
    return Cipher([Fernet.generate_key().decode()])


@pytest.fixture
def oauth(http: httpx.AsyncClient, xero_settings: XeroSettings) -> XeroOAuth:
    return XeroOAuth(http, xero_settings)


@pytest.fixture
def tokens(oauth: XeroOAuth, cipher: Cipher) -> TokenService:
    return TokenService(oauth, cipher)


async def counters(sandbox: SandboxClient) -> dict[str, Any]:
    response = await sandbox.client.get("/_sandbox/counters")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def refreshes(sandbox: SandboxClient) -> int:
    return int((await counters(sandbox))["refreshes"].get("sandbox-client", 0))


MakeConnection = Callable[..., Awaitable[uuid.UUID]]


async def connect_organisation(
    sessions: Sessions, sandbox: SandboxClient, tokens: TokenService, tenant_id: str, *, expired: bool = False
) -> uuid.UUID:
    """A committed Xero connection row holding a real sandbox token set (expired when asked)."""
    issued = await sandbox.login()
    token_set = TokenSet.from_response(issued, time.time())
    if expired:
        token_set = TokenSet(
            token_set.access_token, token_set.refresh_token, time.time() - 5, token_set.scope
        )
    async with sessions() as session, session.begin():
        account = Account(company=f"Acme {uuid.uuid4().hex[:6]}")
        session.add(account)
        await session.flush()
        connection = Connection(
            account_id=account.id,
            kind=ConnectionKind.xero,
            status=ConnectionStatus.active,
            credentials=tokens.seal(token_set),
            xero_tenant_id=tenant_id,
            token_expires_at=token_set.expires_at_datetime,
        )
        session.add(connection)
        await session.flush()
        return connection.id


@pytest.fixture
def make_connection(
    committing: Sessions, sandbox: SandboxClient, tokens: TokenService, tenant_id: str
) -> MakeConnection:
    async def make(*, expired: bool = False) -> uuid.UUID:
        return await connect_organisation(committing, sandbox, tokens, tenant_id, expired=expired)

    return make


@pytest.fixture
async def limiter_redis(redis_url: str) -> AsyncIterator[Redis]:
    client: Redis = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def limiter(limiter_redis: Redis, queue_prefix: str) -> RateLimiter:
    # Xero's figures, except a window short enough for tests that fill it.
    return RateLimiter(limiter_redis, queue_prefix, LimiterConfig(window_seconds=2.0))


@pytest.fixture
async def client(
    http: httpx.AsyncClient,
    xero_settings: XeroSettings,
    limiter: RateLimiter,
    tokens: TokenService,
    make_connection: MakeConnection,
    committing: Sessions,
    tenant_id: str,
) -> XeroClient:
    connection_id = await make_connection()
    return XeroClient(http, xero_settings, limiter, tokens.provider(committing, connection_id), tenant_id)
