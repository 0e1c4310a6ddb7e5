"""Per-account limits on costly calls (issue 10, finding 10): sync runs, reference data re-read from the
partner, live vendor lists and imports answer 429 with Retry-After past the limit, for that account only."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

from ledgerbridge.common import local_secrets
from ledgerbridge.common.crypto import Cipher
from ledgerbridge.common.models import Connection
from ledgerbridge.common.settings import Settings
from tests.api.conftest import CacheReference, MakeTenant
from tests.api.seed import Sessions


@pytest.fixture
def settings(settings: Settings) -> Settings:
    for group in (settings.xero, settings.ontraport, settings.onport):
        for name in type(group).model_fields:
            if name.endswith("_url"):
                setattr(group, name, "http://127.0.0.1:9/unreachable")  # a refresh fails fast, after counting
    settings.api.costly_calls_per_account = 3
    return settings


async def test_costly_calls_are_limited_per_account(
    api: httpx.AsyncClient,
    make_tenant: MakeTenant,
    cache_reference: CacheReference,
    committing: Sessions,
    settings: Settings,
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    await cache_reference(tenant.account_id, {"account_codes": ["200"]})
    xero_id = (await api.get("/v1/connections", headers=tenant.headers)).json()["items"][0]["id"]
    cipher = Cipher(local_secrets.encryption_keys(settings))
    expired = {"access_token": "a", "refresh_token": "r", "expires_at": 0, "scope": "offline_access"}
    async with committing() as session, session.begin():
        row = await session.get_one(Connection, uuid.UUID(xero_id))
        row.credentials = cipher.encrypt_json(expired)  # a refresh reaches the (unreachable) partner
    calls: dict[str, Callable[[dict[str, str]], Awaitable[httpx.Response]]] = {
        "sync run": lambda headers: api.post("/v1/sync/run", headers=headers),
        "import": lambda headers: api.post(
            "/v1/imports", json={"connection_id": str(uuid.uuid4()), "last_n": 5}, headers=headers
        ),
        "reference refresh": lambda headers: api.get(
            f"/v1/xero/{xero_id}/accounts?refresh=true", headers=headers
        ),
        "live vendors": lambda headers: api.get("/v1/onport/vendors?live=true", headers=headers),
    }
    for name, call in calls.items():
        answers = [await call(tenant.headers) for _ in range(4)]
        assert all(answer.status_code != 429 for answer in answers[:3]), (
            name,
            [a.status_code for a in answers],
        )
        limited = answers[3]
        assert limited.status_code == 429, (name, limited.text)
        assert limited.headers["content-type"] == "application/problem+json"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Cached reads stay free, and another account has its own budget.
    assert (await api.get(f"/v1/xero/{xero_id}/accounts", headers=tenant.headers)).status_code == 200
    assert (await api.post("/v1/sync/run", headers=other.headers)).status_code != 429
