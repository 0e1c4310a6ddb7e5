"""The API driven over ASGI against real PostgreSQL and Redis; requests commit, so tables are emptied after."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.api.app import create_app
from ledgerbridge.common import xero_reference
from ledgerbridge.common.models import Connection, ConnectionKind, ConnectionStatus
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


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """``make fuzz`` reports operations tried, cases run and failures (tests/api/test_openapi_fuzz.py)."""
    import sys

    fuzz = next((m for name, m in sys.modules.items() if name.endswith("test_openapi_fuzz")), None)
    for line in fuzz.fuzz_summary() if fuzz is not None else []:
        terminalreporter.write_line(line)


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


# The simple lists tests speak in, and where each goes in Xero's own shapes in the reference cache.
_REFERENCE_SHAPES: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "account_codes": ("accounts", lambda code: {"Code": code, "Status": "ACTIVE"}),
    "tax_types": ("tax_rates", lambda code: {"TaxType": code, "EffectiveRate": "10.0"}),
    "branding_theme_ids": ("branding_themes", lambda theme: {"BrandingThemeID": theme}),
    "currency_codes": ("currencies", lambda code: {"Code": code}),
    "contact_ids": ("contacts", lambda contact: {"ContactID": contact, "IsSupplier": True}),
    # "Region=North,South": an active category with its active options.
    "tracking_categories": ("tracking_categories", lambda text: _tracking_category(text)),
}


def _tracking_category(text: str) -> dict[str, Any]:
    name, _, options = text.partition("=")
    return {
        "Name": name,
        "Status": "ACTIVE",
        "Options": [{"Name": option, "Status": "ACTIVE"} for option in options.split(",") if option],
    }


@pytest.fixture
def cache_reference(committing: async_sessionmaker[AsyncSession]) -> CacheReference:
    """Gives the account an active Xero connection whose reference cache holds these values, as the Xero
    connect flow does; a kind not given has not been fetched."""

    async def cache(account_id: uuid.UUID, reference: dict[str, list[str]]) -> None:
        async with committing() as session, session.begin():
            connection = await session.scalar(
                select(Connection).where(
                    Connection.account_id == account_id,
                    Connection.kind == ConnectionKind.xero,
                    Connection.status == ConnectionStatus.active,
                )
            )
            if connection is None:
                connection = Connection(
                    id=uuid.uuid4(),
                    account_id=account_id,
                    kind=ConnectionKind.xero,
                    name="Demo Company",
                    status=ConnectionStatus.active,
                    credentials=b"",
                    xero_tenant_id=str(uuid.uuid4()),
                )
                session.add(connection)
                await session.flush()
            data = {
                _REFERENCE_SHAPES[name][0]: [_REFERENCE_SHAPES[name][1](value) for value in values]
                for name, values in reference.items()
            }
            await xero_reference.store(session, connection.id, data)

    return cache
