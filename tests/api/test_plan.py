"""The plan: usage, and an upgrade releasing what the trial limit held back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.models import (
    Account,
    Connection,
    ConnectionKind,
    OutboxMessage,
    RecordEvent,
    RecordStatus,
    SourceRecord,
)
from tests.api.conftest import PASSWORD, MakeTenant, sign_in


async def _records(
    committing: async_sessionmaker[AsyncSession],
    account_id: uuid.UUID,
    statuses: list[tuple[RecordStatus, str | None]],
) -> list[uuid.UUID]:
    async with committing() as session, session.begin():
        connection = Connection(account_id=account_id, kind=ConnectionKind.ontraport, credentials=b"x")
        session.add(connection)
        await session.flush()
        records = [
            SourceRecord(
                account_id=account_id,
                connection_id=connection.id,
                source="ontraport",
                kind="transaction",
                external_id=f"{connection.id.hex[:8]}-{n}",
                payload={},
                payload_hash="0" * 64,
                status=status,
                reason="Trial limit of 20 transactions reached" if reason_code == "plan_limit" else None,
                reason_code=reason_code,
            )
            for n, (status, reason_code) in enumerate(statuses)
        ]
        session.add_all(records)
        await session.flush()
        return [record.id for record in records]


async def test_plan_shows_trial_usage(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await make_tenant()
    await _records(committing, tenant.account_id, [(RecordStatus.waiting, "plan_limit")] * 2)
    plan = (await api.get("/v1/plan", headers=tenant.headers)).json()
    ends_at = datetime.fromisoformat(plan["trial"].pop("ends_at"))
    assert plan == {
        "plan": "trial",
        "trial": {"limit": 20, "used": 0, "remaining": 20, "ended": False},
        "waiting": 2,
    }
    assert timedelta(days=29) < ends_at - datetime.now(UTC) <= timedelta(days=30)


async def test_the_trial_ends_after_30_days_and_holds_new_records_until_the_upgrade(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await make_tenant()
    async with committing() as session, session.begin():
        account = await session.get_one(Account, tenant.account_id)
        account.created_at = datetime.now(UTC) - timedelta(days=31)
    held = await _records(committing, tenant.account_id, [(RecordStatus.waiting, "trial_expired")])
    plan = (await api.get("/v1/plan", headers=tenant.headers)).json()
    assert (plan["trial"]["ended"], plan["trial"]["remaining"], plan["waiting"]) == (True, 20, 1)
    upgraded = (await api.post("/v1/plan/upgrade", headers=tenant.headers)).json()
    assert (upgraded["plan"], upgraded["trial"], upgraded["released"]) == ("pro", None, 1)
    async with committing() as session:
        record = await session.get_one(SourceRecord, held[0])
    assert record.status is RecordStatus.received


async def test_upgrade_releases_plan_limited_records_through_the_outbox(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await make_tenant()
    other = await make_tenant()
    held = await _records(
        committing,
        tenant.account_id,
        [(RecordStatus.waiting, "plan_limit"), (RecordStatus.waiting, "plan_limit")],
    )
    untouched = await _records(
        committing,
        tenant.account_id,
        [(RecordStatus.waiting, "vendor_unlinked"), (RecordStatus.synced, None)],
    )
    others_held = await _records(committing, other.account_id, [(RecordStatus.waiting, "plan_limit")])

    response = await api.post("/v1/plan/upgrade", headers=tenant.headers)
    assert response.status_code == 200
    assert response.json() == {"plan": "pro", "trial": None, "waiting": 0, "released": 2}

    async with committing() as session:
        records = {r.id: r for r in await session.scalars(select(SourceRecord))}
        events = list(await session.scalars(select(RecordEvent)))
        outbox = list(await session.scalars(select(OutboxMessage)))
    assert [(records[i].status, records[i].reason_code, records[i].reason) for i in held] == [
        (RecordStatus.received, None, "Plan upgraded to pro; the trial no longer holds anything back")
    ] * 2
    assert [records[i].status for i in untouched] == [RecordStatus.waiting, RecordStatus.synced]
    assert records[others_held[0]].status == RecordStatus.waiting
    assert sorted((e.record_id, e.from_status, e.to_status) for e in events) == sorted(
        (i, "waiting", "received") for i in held
    )
    assert all(e.account_id == tenant.account_id for e in events)
    # One batch for the tenant's released records.
    assert [sorted(m.body["body"]["record_ids"]) for m in outbox] == [sorted(str(i) for i in held)]
    assert {(m.queue, m.message_type, m.account_id) for m in outbox} == {
        ("mapper", "records.map", tenant.account_id)
    }

    again = await api.post("/v1/plan/upgrade", headers=tenant.headers)
    assert again.json()["released"] == 0
    assert (await api.get("/v1/plan", headers=other.headers)).json()["plan"] == "trial"


async def test_only_owners_upgrade(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    owner = await make_tenant()
    await api.post("/v1/users", json={"email": "bk@example.com", "password": PASSWORD}, headers=owner.headers)
    bookkeeper = {"Authorization": f"Bearer {(await sign_in(api, 'bk@example.com'))['access_token']}"}
    assert (await api.post("/v1/plan/upgrade", headers=bookkeeper)).status_code == 403
    assert (await api.get("/v1/plan", headers=bookkeeper)).json()["plan"] == "trial"
