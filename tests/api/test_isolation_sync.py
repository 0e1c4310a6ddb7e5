"""Tenant isolation for records, sync, imports, setup and webhooks: another account sees and changes nothing."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.api.reference import cache
from ledgerbridge.api.reference.service import OntraportKind
from ledgerbridge.common.models import ConnectionKind, DocumentKind, DocumentStatus, RecordStatus
from tests.api.conftest import MakeTenant
from tests.api.seed import add_connection, add_document, add_record, outbox

Sessions = async_sessionmaker[AsyncSession]


async def test_records_sync_imports_and_setup_are_per_account(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    first, second = await make_tenant(company="First"), await make_tenant(company="Second")
    xero = await add_connection(committing, first.account_id, ConnectionKind.xero, xero_tenant_id="org-1")
    source = await add_connection(
        committing, first.account_id, ConnectionKind.ontraport, xero_connection_id=xero
    )
    failed = await add_record(
        committing, first.account_id, source, "1001", status=RecordStatus.failed, reason="no"
    )
    await add_document(
        committing, first.account_id, failed, xero, DocumentKind.invoice, status=DocumentStatus.failed
    )

    # Records: invisible, not retryable, not previewable.
    assert (await api.get("/v1/records", headers=second.headers)).json()["total"] == 0
    assert (await api.get("/v1/records?q=1001", headers=second.headers)).json()["items"] == []
    for path in (f"/v1/records/{failed}", f"/v1/records/{failed}/preview"):
        response = await api.get(path, headers=second.headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert (await api.post(f"/v1/records/{failed}/retry", headers=second.headers)).status_code == 404
    assert (await api.get(f"/v1/records/{failed}", headers=first.headers)).json()["status"] == "failed"
    assert await outbox(committing, "record.map") == []

    # Sync: the other account has nothing to poll and cannot poll this one's connection.
    assert (await api.post("/v1/sync/run", headers=second.headers)).status_code == 409
    foreign = await api.post("/v1/sync/run", json={"connection_id": str(source)}, headers=second.headers)
    assert foreign.status_code == 404
    assert await outbox(committing, "poll.connection") == []
    status = (await api.get("/v1/sync/status", headers=second.headers)).json()
    assert status == {"connections": [], "records": {}}
    assert len((await api.get("/v1/sync/status", headers=first.headers)).json()["connections"]) == 2

    # Imports: not startable on another account's connection, not readable.
    refused = await api.post(
        "/v1/imports", json={"connection_id": str(source), "last_n": 5}, headers=second.headers
    )
    assert refused.status_code == 404
    created = await api.post(
        "/v1/imports", json={"connection_id": str(source), "last_n": 5}, headers=first.headers
    )
    assert created.status_code == 201
    assert (await api.get(f"/v1/imports/{created.json()['id']}", headers=second.headers)).status_code == 404
    assert (await api.get("/v1/imports", headers=second.headers)).json()["items"] == []
    assert [m["import_id"] for m in await outbox(committing, "import.run")] == [created.json()["id"]]

    # Setup: the other account's progress ignores this one's connections, records and mappings.
    async with committing() as session, session.begin():
        await cache.merge(session, source, {kind.cache_key: [] for kind in OntraportKind})
    mine = {s["key"]: s for s in (await api.get("/v1/setup", headers=first.headers)).json()["steps"]}
    theirs = {s["key"]: s for s in (await api.get("/v1/setup", headers=second.headers)).json()["steps"]}
    assert mine["connect_xero"]["done"] and mine["gateways"]["missing"] == ["3"]
    assert not any(step["done"] for step in theirs.values())
    assert theirs["gateways"]["missing"] == ["connect ONTRAPORT first"]


async def test_webhook_tokens_reach_only_their_own_connection(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    first = await make_tenant(company="First")
    ontraport_token, onport_token = "op-" + uuid.uuid4().hex, "on-" + uuid.uuid4().hex
    await add_connection(
        committing, first.account_id, ConnectionKind.ontraport, webhook_token=ontraport_token
    )
    await add_connection(committing, first.account_id, ConnectionKind.onport, webhook_token=onport_token)
    # A token only works on its own kind's receiver.
    assert (await api.post(f"/webhooks/ontraport/{onport_token}", data={"id": "1"})).status_code == 404
    assert (await api.post(f"/webhooks/onport/{ontraport_token}/dropship", json={"id": 1})).status_code == 404
    assert await outbox(committing, "poll.connection") == []
