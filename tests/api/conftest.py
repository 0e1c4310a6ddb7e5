"""The API driven over ASGI against real PostgreSQL and Redis; requests commit, so tables are emptied after."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.api.app import create_app
from ledgerbridge.common.models import AccountSettings
from ledgerbridge.common.settings import Settings

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Tenant:
    account_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    headers: dict[str, str]


MakeTenant = Callable[..., Awaitable[Tenant]]
CacheReference = Callable[[uuid.UUID, dict[str, list[str]]], Awaitable[None]]


@pytest.fixture
async def api(
    settings: Settings, committing: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client,
    ):
        yield client


async def sign_in(api: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await api.post("/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def make_tenant(api: httpx.AsyncClient) -> MakeTenant:
    async def make(company: str = "Acme", email: str | None = None) -> Tenant:
        address = email or f"owner-{uuid.uuid4().hex[:8]}@example.com"
        created = await api.post(
            "/v1/auth/signup", json={"email": address, "password": PASSWORD, "company": company}
        )
        assert created.status_code == 201, created.text
        tokens = await sign_in(api, address)
        user = created.json()
        return Tenant(
            account_id=uuid.UUID(user["account_id"]),
            user_id=uuid.UUID(user["id"]),
            email=address,
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )

    return make


@pytest.fixture
def cache_reference(committing: async_sessionmaker[AsyncSession]) -> CacheReference:
    """Stores Xero reference data where ``CachedReferenceData`` reads it, as the Xero sync will."""

    async def cache(account_id: uuid.UUID, reference: dict[str, list[str]]) -> None:
        async with committing() as session, session.begin():
            await session.execute(
                insert(AccountSettings)
                .values(account_id=account_id, values={"xero_reference": reference})
                .on_conflict_do_update(
                    index_elements=[AccountSettings.account_id],
                    set_={"values": {"xero_reference": reference}},
                )
            )

    return cache
