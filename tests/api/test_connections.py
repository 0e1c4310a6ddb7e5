"""Connections and reference data against the real sandboxes, served on ports as the partners would be.

The Xero flow is the whole dance: our authorize URL, the sandbox's consent redirect, our callback,
choosing the organisation, reference data cached, a token refresh, and disconnecting with revocation.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common import local_secrets
from ledgerbridge.common.crypto import Cipher, webhook_token_hash
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.errors import TransientError
from ledgerbridge.common.messaging.messages import PollConnection
from ledgerbridge.common.models import (
    Connection,
    ConnectionReferenceCache,
    PollCursor,
    SourceRecord,
    XeroReferenceCache,
)
from ledgerbridge.common.platform import Platform
from ledgerbridge.common.settings import Settings
from ledgerbridge.poller.handlers import Poller
from ledgerbridge.sandbox.onport.app import create_app as create_onport
from ledgerbridge.sandbox.onport.config import OnportSandboxConfig
from ledgerbridge.sandbox.ontraport.app import create_app as create_ontraport
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.server import serve_in_thread
from ledgerbridge.sandbox.xero.app import create_app as create_xero
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from ledgerbridge.sandbox.xero.state import SandboxState
from tests.api.conftest import PASSWORD, MakeTenant, Tenant, sign_in

REDIRECT_URI = "http://127.0.0.1:8000/v1/connections/xero/callback"
HOOKS = "https://hooks.example.com"


class Sandboxes:
    def __init__(self, xero_app: FastAPI, xero: str, ontraport: str, onport: str) -> None:
        self.xero_app = xero_app
        self.xero = xero
        self.ontraport = ontraport
        self.onport = onport

    @property
    def xero_state(self) -> SandboxState:
        state: SandboxState = self.xero_app.state.sandbox
        return state


@pytest.fixture
def sandboxes() -> Iterator[Sandboxes]:
    # Function scope for Xero: its grants are per client, so one test's disconnect would show in another.
    xero_app = create_xero(XeroSandboxConfig())
    with (
        serve_in_thread(xero_app) as xero,
        serve_in_thread(create_ontraport(OntraportSandboxConfig(transactions=0))) as ontraport,
        serve_in_thread(create_onport(OnportSandboxConfig(purchases=0))) as onport,
    ):
        yield Sandboxes(xero_app, xero, ontraport, onport)


@pytest.fixture
def settings(settings: Settings, sandboxes: Sandboxes) -> Settings:
    xero = settings.xero
    xero.api_url = f"{sandboxes.xero}/api.xro/2.0"
    xero.connections_url = f"{sandboxes.xero}/connections"
    xero.authorize_url = f"{sandboxes.xero}/identity/connect/authorize"
    xero.token_url = f"{sandboxes.xero}/identity/connect/token"
    xero.revoke_url = f"{sandboxes.xero}/identity/connect/revocation"
    xero.client_id = "sandbox-client"
    xero.client_secret = SecretStr("sandbox-secret")
    xero.redirect_uri = REDIRECT_URI
    settings.ontraport.api_url = sandboxes.ontraport
    settings.onport.api_url = sandboxes.onport
    settings.security.public_base_url = HOOKS
    settings.security.spa_url = None
    return settings


async def consent_at_xero(api: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    """Our authorize URL, then the sandbox's consent screen; the code and state Xero redirects with."""
    started = await api.post("/v1/connections/xero", headers=tenant.headers)
    assert started.status_code == 200, started.text
    url = started.json()["authorize_url"]
    query = parse_qs(urlparse(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert "offline_access" in query["scope"][0].split()
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(url, follow_redirects=False)
    assert consent.status_code == 302, consent.text
    location = urlparse(consent.headers["location"])
    assert location.path == "/v1/connections/xero/callback"
    answer = parse_qs(location.query)
    return {"code": answer["code"][0], "state": answer["state"][0]}


async def connect_xero(api: httpx.AsyncClient, tenant: Tenant) -> tuple[str, str]:
    """A connected organisation: the connection id and the tenant id chosen."""
    callback = await api.get("/v1/connections/xero/callback", params=await consent_at_xero(api, tenant))
    assert callback.status_code == 200, callback.text
    connection_id = callback.json()["connection_id"]
    organisations = (
        await api.get(f"/v1/connections/{connection_id}/organisations", headers=tenant.headers)
    ).json()["items"]
    tenant_id = organisations[0]["tenant_id"]
    chosen = await api.put(
        f"/v1/connections/{connection_id}/organisation", json={"tenant_id": tenant_id}, headers=tenant.headers
    )
    assert chosen.status_code == 200, chosen.text
    return connection_id, tenant_id


async def new_ontraport_account(sandboxes: Sandboxes) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=sandboxes.ontraport) as client:
        created = await client.post("/_sandbox/accounts", json={"transactions": 0})
    account: dict[str, Any] = created.json()
    return account


async def new_onport_account(sandboxes: Sandboxes) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=sandboxes.onport) as client:
        created = await client.post("/_sandbox/accounts", json={"purchases": 0})
    account: dict[str, Any] = created.json()
    return account


async def xero_calls(sandboxes: Sandboxes) -> int:
    async with httpx.AsyncClient(base_url=sandboxes.xero) as client:
        total: int = (await client.get("/_sandbox/counters")).json()["calls_total"]
    return total


async def ontraport_calls(sandboxes: Sandboxes, account_id: int) -> int:
    async with httpx.AsyncClient(base_url=sandboxes.ontraport) as client:
        calls: int = (await client.get(f"/_sandbox/accounts/{account_id}/calls")).json()["calls"]
    return calls


async def test_the_xero_oauth_dance_from_consent_to_revocation(
    api: httpx.AsyncClient,
    make_tenant: MakeTenant,
    sandboxes: Sandboxes,
    committing: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    tenant = await make_tenant()
    callback = await api.get("/v1/connections/xero/callback", params=await consent_at_xero(api, tenant))
    assert callback.status_code == 200, callback.text
    received = callback.json()
    assert received["status"] == "pending"
    connection_id = received["connection_id"]
    demo_tenants = set(sandboxes.xero_state.demo_tenant_ids)
    assert {org["tenant_id"] for org in received["organisations"]} == demo_tenants

    async with committing() as session:
        row = await session.get_one(Connection, uuid.UUID(connection_id))
    stored = Cipher(local_secrets.encryption_keys(settings)).decrypt_json(row.credentials)
    assert set(stored) >= {"access_token", "refresh_token", "expires_at"}
    assert stored["access_token"].encode() not in row.credentials  # encrypted at rest

    listed = (await api.get("/v1/connections", headers=tenant.headers)).json()["items"]
    assert [(c["id"], c["kind"], c["status"]) for c in listed] == [(connection_id, "xero", "pending")]
    assert "credentials" not in listed[0]

    organisations = (
        await api.get(f"/v1/connections/{connection_id}/organisations", headers=tenant.headers)
    ).json()["items"]
    tenant_id = organisations[0]["tenant_id"]
    assert not any(org["selected"] for org in organisations)
    unknown = await api.put(
        f"/v1/connections/{connection_id}/organisation",
        json={"tenant_id": str(uuid.uuid4())},
        headers=tenant.headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["body", "tenant_id"]

    chosen = await api.put(
        f"/v1/connections/{connection_id}/organisation", json={"tenant_id": tenant_id}, headers=tenant.headers
    )
    assert chosen.status_code == 200, chosen.text
    assert (chosen.json()["status"], chosen.json()["xero_tenant_id"]) == ("active", tenant_id)
    async with committing() as session:
        cache = await session.get_one(XeroReferenceCache, uuid.UUID(connection_id))
    assert set(cache.data) == {
        "accounts",
        "tax_rates",
        "branding_themes",
        "currencies",
        "tracking_categories",
        "organisation",
        "contacts",
    }
    assert all(
        cache.data[key]
        for key in (
            "accounts",
            "tax_rates",
            "branding_themes",
            "currencies",
            "tracking_categories",
            "organisation",
        )
    )
    selected = (
        await api.get(f"/v1/connections/{connection_id}/organisations", headers=tenant.headers)
    ).json()["items"]
    assert [org["tenant_id"] for org in selected if org["selected"]] == [tenant_id]

    # Served from the cache: no call to Xero.
    before = await xero_calls(sandboxes)
    accounts = await api.get(f"/v1/xero/{connection_id}/accounts", headers=tenant.headers)
    assert accounts.status_code == 200
    assert {a["Code"] for a in accounts.json()["items"] if a.get("Code")} >= {"200"}
    assert await xero_calls(sandboxes) == before

    # Xero has expired the access token early: the refresh call is answered 401, the pair is refreshed.
    async with httpx.AsyncClient(base_url=sandboxes.xero) as client:
        assert (await client.post("/_sandbox/tokens/expire")).json()["expired"] >= 1
    refreshed = await api.get(f"/v1/xero/{connection_id}/tax-rates?refresh=true", headers=tenant.headers)
    assert refreshed.status_code == 200, refreshed.text
    assert sandboxes.xero_state.refresh_counts["sandbox-client"] == 1
    assert await xero_calls(sandboxes) > before
    async with committing() as session:
        after = await session.get_one(Connection, uuid.UUID(connection_id))
    assert after.credentials != row.credentials

    deleted = await api.delete(f"/v1/connections/{connection_id}", headers=tenant.headers)
    assert deleted.status_code == 204, deleted.text
    state = sandboxes.xero_state
    assert state.refresh_tokens and all(token.revoked for token in state.refresh_tokens.values())
    assert tenant_id not in {c.tenant_id for c in state.connections.values()}
    gone = (await api.get("/v1/connections", headers=tenant.headers)).json()["items"]
    assert [(c["id"], c["status"]) for c in gone] == [(connection_id, "disconnected")]
    assert (await api.get(f"/v1/xero/{connection_id}/accounts", headers=tenant.headers)).status_code == 409


async def test_callback_redirects_to_the_spa_when_configured(
    api: httpx.AsyncClient, make_tenant: MakeTenant, settings: Settings
) -> None:
    tenant = await make_tenant()
    settings.security.spa_url = "https://app.example.com/setup/xero"
    callback = await api.get("/v1/connections/xero/callback", params=await consent_at_xero(api, tenant))
    assert callback.status_code == 302
    location = urlparse(callback.headers["location"])
    assert location.netloc == "app.example.com"
    connection_id = parse_qs(location.query)["connection_id"][0]
    listed = (await api.get("/v1/connections", headers=tenant.headers)).json()["items"]
    assert [c["id"] for c in listed] == [connection_id]


async def test_a_state_is_single_use_and_bound_to_its_user(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    params = await consent_at_xero(api, tenant)
    stolen = await api.get("/v1/connections/xero/callback", params=params, headers=other.headers)
    assert stolen.status_code == 400
    assert stolen.headers["content-type"] == "application/problem+json"
    assert "another user" in stolen.json()["detail"]
    # A state shown to the wrong user is used up too.
    assert (await api.get("/v1/connections/xero/callback", params=params)).status_code == 400

    fresh = await consent_at_xero(api, tenant)
    first = await api.get("/v1/connections/xero/callback", params=fresh, headers=tenant.headers)
    assert first.status_code == 200, first.text
    replayed = await api.get("/v1/connections/xero/callback", params=fresh)
    assert replayed.status_code == 400
    assert replayed.json()["title"] == "Invalid OAuth state"
    made_up = await api.get("/v1/connections/xero/callback", params={"code": "x", "state": "made-up"})
    assert made_up.status_code == 400
    assert len((await api.get("/v1/connections", headers=tenant.headers)).json()["items"]) == 1
    assert (await api.get("/v1/connections", headers=other.headers)).json()["items"] == []


async def test_ontraport_connect_checks_credentials_and_subscribes_webhooks(
    api: httpx.AsyncClient,
    make_tenant: MakeTenant,
    sandboxes: Sandboxes,
    committing: async_sessionmaker[AsyncSession],
) -> None:
    tenant = await make_tenant()
    account = await new_ontraport_account(sandboxes)
    rejected = await api.post(
        "/v1/connections/ontraport",
        json={"app_id": account["app_id"], "api_key": "not-the-key"},
        headers=tenant.headers,
    )
    assert rejected.status_code == 422
    assert rejected.json()["detail"] == "ONTRAPORT rejected the App ID / API key"
    assert (await api.get("/v1/connections", headers=tenant.headers)).json()["items"] == []

    xero_id, _ = await connect_xero(api, tenant)
    created = await api.post(
        "/v1/connections/ontraport",
        json={"app_id": account["app_id"], "api_key": account["api_key"]},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert account["api_key"] not in created.text
    assert (body["kind"], body["status"], body["xero_connection_id"]) == ("ontraport", "active", xero_id)
    assert body["webhooks_subscribed"] == 12
    url = body["webhook_urls"]["transactions"]
    assert url.startswith(f"{HOOKS}/webhooks/ontraport/")

    async with httpx.AsyncClient(base_url=sandboxes.ontraport) as client:
        hooks = await client.get(
            "/Webhooks", headers={"Api-Appid": account["app_id"], "Api-Key": account["api_key"]}
        )
    subscribed = hooks.json()["data"]
    assert {hook["url"] for hook in subscribed} == {url}
    assert {hook["event"] for hook in subscribed} == {
        f"transaction_created_with_product({product})" for product in range(1, 13)
    }

    async with committing() as session:
        connection = await session.get_one(Connection, uuid.UUID(body["id"]))
        cursor = await session.scalar(select(PollCursor).where(PollCursor.connection_id == connection.id))
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 40 and connection.webhook_token == webhook_token_hash(token), "stored hashed"
    assert account["api_key"].encode() not in connection.credentials
    assert cursor is not None and cursor.stream == "transactions"
    # Taken while connecting (SPEC §4.11): the newest transaction ONTRAPORT had at that moment.
    assert cursor.high_water_mark is not None and cursor.high_water_mark.isdigit()
    assert cursor.next_poll_at is not None
    listed = await api.get("/v1/connections", headers=tenant.headers)
    assert account["api_key"] not in listed.text and token not in listed.text

    deleted = await api.delete(f"/v1/connections/{body['id']}", headers=tenant.headers)
    assert deleted.status_code == 204
    async with committing() as session:
        dropped = await session.get_one(Connection, uuid.UUID(body["id"]))
        cursors = list(
            await session.scalars(select(PollCursor).where(PollCursor.connection_id == dropped.id))
        )
    assert (dropped.status, dropped.webhook_token, cursors) == ("disconnected", None, [])
    async with httpx.AsyncClient(base_url=sandboxes.ontraport) as client:
        hooks = await client.get(
            "/Webhooks", headers={"Api-Appid": account["app_id"], "Api-Key": account["api_key"]}
        )
    assert hooks.json()["data"] in ([], {}, "")


async def test_onport_connect_and_choosing_the_organisation_a_source_posts_to(
    api: httpx.AsyncClient, make_tenant: MakeTenant, sandboxes: Sandboxes
) -> None:
    tenant = await make_tenant()
    account = await new_onport_account(sandboxes)
    rejected = await api.post("/v1/connections/onport", json={"api_token": "wrong"}, headers=tenant.headers)
    assert rejected.status_code == 422
    assert rejected.json()["detail"] == "Onport rejected the API token"

    created = await api.post(
        "/v1/connections/onport", json={"api_token": account["token"]}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    onport = created.json()
    assert account["token"] not in created.text
    assert onport["xero_connection_id"] is None  # no organisation yet
    urls = onport["webhook_urls"]
    assert urls["dropship"].startswith(f"{HOOKS}/webhooks/onport/") and urls["dropship"].endswith("/dropship")
    assert urls["replenishment"].endswith("/replenishment")
    # Onport was told where to push invoices, so nobody has to paste the URLs into its settings.
    async with httpx.AsyncClient(base_url=sandboxes.onport) as onport_sandbox:
        registered = (await onport_sandbox.get(f"/_sandbox/accounts/{account['account_id']}")).json()
    assert registered["accounting_integration"] == {
        "dropship_url": urls["dropship"],
        "replenishment_url": urls["replenishment"],
    }

    # The first organisation connected picks up the source that had none.
    first_xero, _ = await connect_xero(api, tenant)
    listed = {c["id"]: c for c in (await api.get("/v1/connections", headers=tenant.headers)).json()["items"]}
    assert listed[onport["id"]]["xero_connection_id"] == first_xero

    # A second organisation ("+ new Xero account"); the source is moved to it explicitly.
    callback = await api.get("/v1/connections/xero/callback", params=await consent_at_xero(api, tenant))
    second_xero = callback.json()["connection_id"]
    organisations = callback.json()["organisations"]
    taken = await api.put(
        f"/v1/connections/{second_xero}/organisation",
        json={"tenant_id": listed[first_xero]["xero_tenant_id"]},
        headers=tenant.headers,
    )
    assert taken.status_code == 409
    other_org = next(o for o in organisations if o["tenant_id"] != listed[first_xero]["xero_tenant_id"])
    chosen = await api.put(
        f"/v1/connections/{second_xero}/organisation",
        json={"tenant_id": other_org["tenant_id"]},
        headers=tenant.headers,
    )
    assert chosen.status_code == 200, chosen.text
    moved = await api.put(
        f"/v1/connections/{onport['id']}/xero-connection",
        json={"xero_connection_id": second_xero},
        headers=tenant.headers,
    )
    assert (moved.status_code, moved.json()["xero_connection_id"]) == (200, second_xero)
    not_a_xero = await api.put(
        f"/v1/connections/{onport['id']}/xero-connection",
        json={"xero_connection_id": onport["id"]},
        headers=tenant.headers,
    )
    assert not_a_xero.status_code == 422
    assert not_a_xero.json()["errors"][0]["loc"] == ["body", "xero_connection_id"]
    xero_kinds = [c for c in (await api.get("/v1/connections", headers=tenant.headers)).json()["items"]]
    assert sum(c["kind"] == "xero" and c["status"] == "active" for c in xero_kinds) == 2


async def test_reference_endpoints_serve_the_cache_and_refresh_on_request(
    api: httpx.AsyncClient, make_tenant: MakeTenant, sandboxes: Sandboxes
) -> None:
    tenant = await make_tenant()
    xero_id, _ = await connect_xero(api, tenant)
    for kind in ("accounts", "tax-rates", "branding-themes", "currencies", "contacts"):
        response = await api.get(f"/v1/xero/{xero_id}/{kind}", headers=tenant.headers)
        assert response.status_code == 200, (kind, response.text)
        assert response.json()["items"], kind
    contacts = (await api.get(f"/v1/xero/{xero_id}/contacts", headers=tenant.headers)).json()["items"]
    suppliers = await api.get(f"/v1/xero/{xero_id}/contacts?is_supplier=true", headers=tenant.headers)
    assert all(c.get("IsSupplier") for c in suppliers.json()["items"])
    name = contacts[0]["Name"]
    found = await api.get(
        f"/v1/xero/{xero_id}/contacts", params={"search": name[:4].lower()}, headers=tenant.headers
    )
    assert name in {c["Name"] for c in found.json()["items"]}
    before = await xero_calls(sandboxes)
    refreshed = await api.get(f"/v1/xero/{xero_id}/currencies?refresh=true", headers=tenant.headers)
    assert refreshed.status_code == 200
    assert await xero_calls(sandboxes) == before + 1

    account = await new_ontraport_account(sandboxes)
    source = (
        await api.post(
            "/v1/connections/ontraport",
            json={"app_id": account["app_id"], "api_key": account["api_key"]},
            headers=tenant.headers,
        )
    ).json()
    calls = await ontraport_calls(sandboxes, account["account_id"])
    products = await api.get(f"/v1/ontraport/{source['id']}/products", headers=tenant.headers)
    assert {p["name"] for p in products.json()["items"]} >= {"Pro Course", "Workbook"}
    assert await ontraport_calls(sandboxes, account["account_id"]) == calls  # cached at connect
    for kind in ("taxes", "coupons", "shipping-methods", "gateways"):
        first = await api.get(f"/v1/ontraport/{source['id']}/{kind}", headers=tenant.headers)
        assert first.status_code == 200 and first.json()["items"], kind
    calls = await ontraport_calls(sandboxes, account["account_id"])
    await api.get(f"/v1/ontraport/{source['id']}/gateways", headers=tenant.headers)
    assert await ontraport_calls(sandboxes, account["account_id"]) == calls
    again = await api.get(f"/v1/ontraport/{source['id']}/products?refresh=true", headers=tenant.headers)
    assert again.status_code == 200
    assert await ontraport_calls(sandboxes, account["account_id"]) > calls
    assert (await api.get(f"/v1/ontraport/{xero_id}/products", headers=tenant.headers)).status_code == 404
    assert (await api.get(f"/v1/xero/{source['id']}/accounts", headers=tenant.headers)).status_code == 404


async def test_mappings_are_checked_against_the_connected_organisation(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    xero_id, _ = await connect_xero(api, tenant)
    unknown = await api.put("/v1/mappings/product/1", json={"account_code": "999"}, headers=tenant.headers)
    assert unknown.status_code == 422
    known = await api.put("/v1/mappings/product/1", json={"account_code": "200"}, headers=tenant.headers)
    assert (known.status_code, known.json()["warnings"]) == (200, [])
    supplier = (await api.get(f"/v1/xero/{xero_id}/contacts", headers=tenant.headers)).json()["items"][0]
    vendor = await api.put(
        "/v1/mappings/vendor/7", json={"contact_id": supplier["ContactID"]}, headers=tenant.headers
    )
    assert (vendor.status_code, vendor.json()["warnings"]) == (200, [])
    stranger = await api.put(
        "/v1/mappings/vendor/8", json={"contact_id": str(uuid.uuid4())}, headers=tenant.headers
    )
    assert stranger.status_code == 422


async def test_bookkeepers_read_connections_but_cannot_change_them(
    api: httpx.AsyncClient, make_tenant: MakeTenant, sandboxes: Sandboxes
) -> None:
    owner = await make_tenant()
    xero_id, tenant_id = await connect_xero(api, owner)
    await api.post("/v1/users", json={"email": "bk@example.com", "password": PASSWORD}, headers=owner.headers)
    bookkeeper = {"Authorization": f"Bearer {(await sign_in(api, 'bk@example.com'))['access_token']}"}
    assert (await api.get("/v1/connections", headers=bookkeeper)).json()["items"][0]["id"] == xero_id
    assert (await api.get(f"/v1/connections/{xero_id}/organisations", headers=bookkeeper)).status_code == 200
    assert (await api.get(f"/v1/xero/{xero_id}/accounts", headers=bookkeeper)).status_code == 200
    account = await new_ontraport_account(sandboxes)
    forbidden = [
        await api.post("/v1/connections/xero", headers=bookkeeper),
        await api.put(
            f"/v1/connections/{xero_id}/organisation", json={"tenant_id": tenant_id}, headers=bookkeeper
        ),
        await api.post(
            "/v1/connections/ontraport",
            json={"app_id": account["app_id"], "api_key": account["api_key"]},
            headers=bookkeeper,
        ),
        await api.post("/v1/connections/onport", json={"api_token": "sandbox-token"}, headers=bookkeeper),
        await api.put(
            f"/v1/connections/{xero_id}/xero-connection",
            json={"xero_connection_id": xero_id},
            headers=bookkeeper,
        ),
        await api.delete(f"/v1/connections/{xero_id}", headers=bookkeeper),
    ]
    for response in forbidden:
        assert response.status_code == 403, response.request.url
        assert response.headers["content-type"] == "application/problem+json"
    assert (await api.get("/v1/connections", headers=owner.headers)).json()["items"][0]["status"] == "active"


async def test_another_account_gets_404_from_every_connection_endpoint(
    api: httpx.AsyncClient,
    make_tenant: MakeTenant,
    sandboxes: Sandboxes,
    committing: async_sessionmaker[AsyncSession],
) -> None:
    first, second = await make_tenant(company="First"), await make_tenant(company="Second")
    xero_id, tenant_id = await connect_xero(api, first)
    account = await new_ontraport_account(sandboxes)
    source = (
        await api.post(
            "/v1/connections/ontraport",
            json={"app_id": account["app_id"], "api_key": account["api_key"]},
            headers=first.headers,
        )
    ).json()
    onport = (
        await api.post("/v1/connections/onport", json={"api_token": "sandbox-token"}, headers=first.headers)
    ).json()

    assert (await api.get("/v1/connections", headers=second.headers)).json()["items"] == []
    attempts = [
        await api.get(f"/v1/connections/{xero_id}/organisations", headers=second.headers),
        await api.put(
            f"/v1/connections/{xero_id}/organisation", json={"tenant_id": tenant_id}, headers=second.headers
        ),
        await api.put(
            f"/v1/connections/{source['id']}/xero-connection",
            json={"xero_connection_id": xero_id},
            headers=second.headers,
        ),
        await api.delete(f"/v1/connections/{xero_id}", headers=second.headers),
        await api.delete(f"/v1/connections/{source['id']}", headers=second.headers),
        await api.delete(f"/v1/connections/{onport['id']}", headers=second.headers),
    ]
    for kind in ("accounts", "tax-rates", "branding-themes", "currencies", "contacts"):
        attempts.append(await api.get(f"/v1/xero/{xero_id}/{kind}?refresh=true", headers=second.headers))
    for kind in ("products", "taxes", "coupons", "shipping-methods", "gateways"):
        attempts.append(await api.get(f"/v1/ontraport/{source['id']}/{kind}", headers=second.headers))
    for response in attempts:
        assert response.status_code == 404, (response.request.url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    # Posting to another account's organisation is refused too.
    borrowed = await api.post(
        "/v1/connections/onport",
        json={"api_token": "sandbox-token", "xero_connection_id": xero_id},
        headers=second.headers,
    )
    assert borrowed.status_code == 422
    # The first account's mappings are checked against its organisation only, the second's against none.
    assert (
        await api.put("/v1/mappings/product/1", json={"account_code": "999"}, headers=second.headers)
    ).json()["warnings"]

    mine = {c["id"]: c for c in (await api.get("/v1/connections", headers=first.headers)).json()["items"]}
    assert {mine[i]["status"] for i in (xero_id, source["id"], onport["id"])} == {"active"}
    assert mine[source["id"]]["xero_connection_id"] == xero_id
    async with committing() as session:
        cached = await session.get(ConnectionReferenceCache, uuid.UUID(source["id"]))
    assert cached is not None and cached.data["products"]


async def test_a_sale_made_just_after_connecting_is_synced_even_when_the_first_poll_fails(
    api: httpx.AsyncClient,
    make_tenant: MakeTenant,
    sandboxes: Sandboxes,
    settings: Settings,
    committing: async_sessionmaker[AsyncSession],
) -> None:
    # SPEC §4.11: the high-water mark is taken while the connect request runs, not at the first poll.
    tenant = await make_tenant()
    account = await new_ontraport_account(sandboxes)
    control = f"/_sandbox/accounts/{account['account_id']}/transactions"
    async with httpx.AsyncClient(base_url=sandboxes.ontraport) as client:
        (older,) = (await client.post(control, json={"count": 1})).json()["ids"]
    await connect_xero(api, tenant)
    created = await api.post(
        "/v1/connections/ontraport",
        json={"app_id": account["app_id"], "api_key": account["api_key"]},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    connection_id = uuid.UUID(created.json()["id"])
    async with committing() as session:
        cursor = await session.scalar(select(PollCursor).where(PollCursor.connection_id == connection_id))
    assert cursor is not None and cursor.high_water_mark == str(older)
    async with httpx.AsyncClient(base_url=sandboxes.ontraport) as client:
        (sale,) = (await client.post(control, json={"count": 1})).json()["ids"]

    platform = await Platform.start(settings)
    message = PollConnection(connection_id=connection_id, reason="schedule")
    try:
        async with httpx.AsyncClient() as http:
            poller = Poller(platform, http)
            platform.settings.ontraport.api_url = (
                "http://127.0.0.1:9"  # ONTRAPORT unreachable: the poll fails
            )
            with pytest.raises(TransientError):
                async with unit_of_work(platform.sessions) as session:
                    await poller.poll_connection(session, message)
            platform.settings.ontraport.api_url = sandboxes.ontraport
            async with unit_of_work(platform.sessions) as session:
                await poller.poll_connection(session, message)
    finally:
        await platform.close()
    async with committing() as session:
        stored = list(await session.scalars(select(SourceRecord.external_id)))
    assert stored == [str(sale)]  # the sale after connecting, not the one before


async def test_disconnecting_one_account_does_not_cut_off_another_sharing_the_xero_connection(
    api: httpx.AsyncClient, make_tenant: MakeTenant, sandboxes: Sandboxes
) -> None:
    """Finding 9 of issue 10: Xero keeps one connection per user, app and organisation; two accounts
    connected by the same Xero user share it, so the first to disconnect removes only its own row."""
    first, second = await make_tenant(), await make_tenant()
    first_id, tenant_id = await connect_xero(api, first)
    second_id, second_tenant = await connect_xero(api, second)
    assert second_tenant == tenant_id
    state = sandboxes.xero_state
    shared = [c for c in state.connections.values() if c.tenant_id == tenant_id]
    assert len(shared) == 1, "the sandbox keeps one connection per client and organisation, like Xero"

    assert (await api.delete(f"/v1/connections/{first_id}", headers=first.headers)).status_code == 204
    assert tenant_id in {c.tenant_id for c in state.connections.values()}, "Xero's connection is kept"
    assert not all(token.revoked for token in state.refresh_tokens.values())
    still = await api.get(f"/v1/xero/{second_id}/accounts?refresh=true", headers=second.headers)
    assert still.status_code == 200, still.text
    mine = (await api.get("/v1/connections", headers=first.headers)).json()["items"]
    assert [(c["id"], c["status"]) for c in mine] == [(first_id, "disconnected")]

    # The last row holding it disconnects at Xero as before.
    assert (await api.delete(f"/v1/connections/{second_id}", headers=second.headers)).status_code == 204
    assert tenant_id not in {c.tenant_id for c in state.connections.values()}


async def test_owners_rotate_webhook_urls_and_the_old_ones_stop_working(
    api: httpx.AsyncClient, make_tenant: MakeTenant, sandboxes: Sandboxes
) -> None:
    """Finding 2 of issue 10: the push URL token is kept (hashed) and the owner can rotate it."""
    tenant = await make_tenant()
    onport_account = await new_onport_account(sandboxes)
    onport = (
        await api.post(
            "/v1/connections/onport", json={"api_token": onport_account["token"]}, headers=tenant.headers
        )
    ).json()
    ontraport_account = await new_ontraport_account(sandboxes)
    ontraport = (
        await api.post(
            "/v1/connections/ontraport",
            json={"app_id": ontraport_account["app_id"], "api_key": ontraport_account["api_key"]},
            headers=tenant.headers,
        )
    ).json()
    old_push = onport["webhook_urls"]["dropship"].removeprefix(HOOKS)
    old_ping = ontraport["webhook_urls"]["transactions"].removeprefix(HOOKS)
    assert (await api.post(old_push, json={"id": 1})).status_code == 202

    bookkeeper_email = f"bk-{uuid.uuid4().hex[:6]}@example.com"
    await api.post(
        "/v1/users", json={"email": bookkeeper_email, "password": PASSWORD}, headers=tenant.headers
    )
    bookkeeper = {"Authorization": f"Bearer {(await sign_in(api, bookkeeper_email))['access_token']}"}
    assert (
        await api.post(f"/v1/connections/{onport['id']}/webhook-token", headers=bookkeeper)
    ).status_code == 403

    stranger = await make_tenant()
    assert (
        await api.post(f"/v1/connections/{onport['id']}/webhook-token", headers=stranger.headers)
    ).status_code == 404
    rotated = await api.post(f"/v1/connections/{onport['id']}/webhook-token", headers=tenant.headers)
    assert rotated.status_code == 200, rotated.text
    urls = rotated.json()["webhook_urls"]
    assert urls["dropship"] != onport["webhook_urls"]["dropship"]
    assert (await api.post(old_push, json={"id": 2})).status_code == 404
    assert (await api.post(urls["dropship"].removeprefix(HOOKS), json={"id": 2})).status_code == 202
    async with httpx.AsyncClient(base_url=sandboxes.onport) as onport_sandbox:
        registered = (await onport_sandbox.get(f"/_sandbox/accounts/{onport_account['account_id']}")).json()
    assert registered["accounting_integration"]["dropship_url"] == urls["dropship"]

    again = await api.post(f"/v1/connections/{ontraport['id']}/webhook-token", headers=tenant.headers)
    assert again.status_code == 200 and again.json()["webhooks_subscribed"] == 12
    new_ping = again.json()["webhook_urls"]["transactions"]
    assert (await api.post(old_ping, data={"id": "1"})).status_code == 404
    assert (await api.post(new_ping.removeprefix(HOOKS), data={"id": "1"})).status_code == 202
    async with httpx.AsyncClient(base_url=sandboxes.ontraport) as client:
        hooks = await client.get(
            "/Webhooks",
            headers={"Api-Appid": ontraport_account["app_id"], "Api-Key": ontraport_account["api_key"]},
        )
    assert {hook["url"] for hook in hooks.json()["data"]} == {new_ping}
