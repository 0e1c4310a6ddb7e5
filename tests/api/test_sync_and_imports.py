"""Sync now, sync status, and historical imports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.models import (
    ConnectionKind,
    ConnectionStatus,
    DocumentKind,
    DocumentStatus,
    Import,
    ImportStatus,
    PollCursor,
    RecordStatus,
)
from tests.api.conftest import MakeTenant
from tests.api.seed import add_connection, add_document, add_record, outbox

Sessions = async_sessionmaker[AsyncSession]


async def test_sync_run_queues_a_poll_per_active_source_connection(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    nothing = await api.post("/v1/sync/run", headers=tenant.headers)
    assert nothing.status_code == 409

    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero)
    ontraport = await add_connection(committing, tenant.account_id, ConnectionKind.ontraport)
    onport = await add_connection(committing, tenant.account_id, ConnectionKind.onport)
    off = await add_connection(
        committing, tenant.account_id, ConnectionKind.ontraport, status=ConnectionStatus.disconnected
    )

    queued = await api.post("/v1/sync/run", headers=tenant.headers)
    assert queued.status_code == 202
    assert set(queued.json()["connection_ids"]) == {str(ontraport), str(onport)}
    polls = await outbox(committing, "poll.connection")
    assert {(p["connection_id"], p["reason"]) for p in polls} == {
        (str(ontraport), "sync_now"),
        (str(onport), "sync_now"),
    }
    assert {p["account_id"] for p in polls} == {tenant.account_id}

    one = await api.post("/v1/sync/run", json={"connection_id": str(onport)}, headers=tenant.headers)
    assert one.json()["connection_ids"] == [str(onport)]
    assert len(await outbox(committing, "poll.connection")) == 3
    for refused, status in ((xero, 409), (off, 409), (uuid.uuid4(), 404)):
        response = await api.post(
            "/v1/sync/run", json={"connection_id": str(refused)}, headers=tenant.headers
        )
        assert response.status_code == status
    assert len(await outbox(committing, "poll.connection")) == 3


async def test_sync_status_counts_backlog_per_connection(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    parked = datetime.now(UTC) + timedelta(hours=3)
    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero, parked_until=parked)
    source = await add_connection(
        committing, tenant.account_id, ConnectionKind.ontraport, xero_connection_id=xero
    )
    polled = datetime(2024, 6, 1, 12, tzinfo=UTC)
    async with committing() as session, session.begin():
        session.add(
            PollCursor(
                connection_id=source,
                stream="transactions",
                last_polled_at=polled,
                next_poll_at=polled + timedelta(minutes=5),
                last_error="ONTRAPORT answered 503",
            )
        )
    for n, status in enumerate(
        [
            RecordStatus.received,
            RecordStatus.mapped,
            RecordStatus.synced,
            RecordStatus.synced,
            RecordStatus.failed,
        ]
    ):
        record = await add_record(committing, tenant.account_id, source, str(2000 + n), status=status)
        if status is RecordStatus.mapped:
            for kind in (DocumentKind.contact, DocumentKind.invoice):
                await add_document(
                    committing, tenant.account_id, record, xero, kind, status=DocumentStatus.pending
                )
        if status is RecordStatus.synced:
            await add_document(
                committing,
                tenant.account_id,
                record,
                xero,
                DocumentKind.invoice,
                status=DocumentStatus.published,
            )

    body = (await api.get("/v1/sync/status", headers=tenant.headers)).json()
    assert body["records"] == {"received": 1, "mapped": 1, "synced": 2, "failed": 1}
    by_kind = {item["kind"]: item for item in body["connections"]}
    ontraport = by_kind["ontraport"]
    assert ontraport["last_polled_at"].startswith("2024-06-01T12:00")
    assert ontraport["next_poll_at"].startswith("2024-06-01T12:05")
    assert ontraport["last_error"] == "ONTRAPORT answered 503"
    assert ontraport["backlog"] == 1 + 1 + 2  # received + mapped records, 2 pending documents
    assert ontraport["records"]["synced"] == 2
    assert ontraport["parked_until"] is None
    organisation = by_kind["xero"]
    assert organisation["backlog"] == 2
    assert organisation["documents"] == {"pending": 2, "published": 2}
    assert datetime.fromisoformat(organisation["parked_until"]) == parked


async def test_imports_validate_and_queue_a_job(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    source = await add_connection(committing, tenant.account_id, ConnectionKind.ontraport)
    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero)
    connection = str(source)

    for invalid in (
        {"connection_id": connection},
        {"connection_id": connection, "since": "2024-01-01", "last_n": 10},
        {"connection_id": connection, "until": "2024-01-01"},
        {"connection_id": connection, "since": "2024-02-01", "until": "2024-01-01"},
        {"connection_id": connection, "last_n": 0},
        {"connection_id": connection, "last_n": 5, "extra": 1},
    ):
        response = await api.post("/v1/imports", json=invalid, headers=tenant.headers)
        assert response.status_code == 422, invalid
        assert response.headers["content-type"] == "application/problem+json"
    assert (
        await api.post("/v1/imports", json={"connection_id": str(xero), "last_n": 5}, headers=tenant.headers)
    ).status_code == 409
    missing = {"connection_id": str(uuid.uuid4()), "last_n": 5}
    assert (await api.post("/v1/imports", json=missing, headers=tenant.headers)).status_code == 404
    assert await outbox(committing, "import.run") == []

    created = await api.post(
        "/v1/imports",
        json={"connection_id": connection, "since": "2024-01-01", "until": "2024-06-30"},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    job = created.json()
    assert (job["status"], job["params"], job["done"], job["progress"]) == (
        "queued",
        {"since": "2024-01-01", "until": "2024-06-30"},
        0,
        None,
    )
    assert [m["import_id"] for m in await outbox(committing, "import.run")] == [job["id"]]
    busy = await api.post(
        "/v1/imports", json={"connection_id": connection, "last_n": 5}, headers=tenant.headers
    )
    assert busy.status_code == 409

    async with committing() as session, session.begin():
        row = await session.get(Import, uuid.UUID(job["id"]))
        assert row is not None
        row.status, row.total, row.done = ImportStatus.running, 40, 10
    progress = (await api.get(f"/v1/imports/{job['id']}", headers=tenant.headers)).json()
    assert (progress["status"], progress["done"], progress["total"], progress["progress"]) == (
        "running",
        10,
        40,
        0.25,
    )
    listed = (await api.get("/v1/imports", headers=tenant.headers)).json()["items"]
    assert [item["id"] for item in listed] == [job["id"]]
    assert (await api.get(f"/v1/imports/{uuid.uuid4()}", headers=tenant.headers)).status_code == 404


async def test_only_owners_start_imports(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    source = await add_connection(committing, tenant.account_id, ConnectionKind.ontraport)
    invited = await api.post(
        "/v1/users",
        json={"email": "bk-imports@example.com", "password": "a long enough secret"},
        headers=tenant.headers,
    )
    assert invited.status_code == 201, invited.text
    token = (
        await api.post(
            "/v1/auth/token", data={"username": "bk-imports@example.com", "password": "a long enough secret"}
        )
    ).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    refused = await api.post("/v1/imports", json={"connection_id": str(source), "last_n": 5}, headers=headers)
    assert refused.status_code == 403
    assert (await api.get("/v1/imports", headers=headers)).status_code == 200
