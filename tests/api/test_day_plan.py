"""A Xero connection's day limit and the plan of its calls: set by owners, read by everyone, per account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.api.day_plan.service import done_by
from ledgerbridge.common.models import ConnectionKind, DocumentKind, DocumentStatus
from tests.api.conftest import PASSWORD, MakeTenant, sign_in
from tests.api.seed import add_connection, add_document, add_record

Sessions = async_sessionmaker[AsyncSession]


async def test_an_owner_sets_the_starter_day_limit_and_the_plan_counts_the_waiting_documents(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero, xero_tenant_id="org-1")
    source = await add_connection(
        committing, tenant.account_id, ConnectionKind.ontraport, xero_connection_id=xero
    )
    for n in range(120):
        record = await add_record(committing, tenant.account_id, source, str(n))
        await add_document(
            committing, tenant.account_id, record, xero, DocumentKind.invoice, status=DocumentStatus.pending
        )
    await add_document(
        committing, tenant.account_id, record, xero, DocumentKind.invoice_void, status=DocumentStatus.pending
    )

    fresh = await api.get(f"/v1/connections/{xero}/day-plan", headers=tenant.headers)
    assert fresh.status_code == 200, fresh.text
    assert (fresh.json()["day_limit"], fresh.json()["reserve"]) == (5000, 250)

    changed = await api.put(
        f"/v1/connections/{xero}/day-limit", json={"day_limit": 1000}, headers=tenant.headers
    )
    assert changed.status_code == 200, changed.text
    plan = changed.json()
    assert (plan["day_limit"], plan["reserve"], plan["calls_last_day"], plan["sends_left_today"]) == (
        1000,
        50,
        0,
        950,
    )
    # 120 invoices in 3 batches, and a void on its own.
    assert (plan["pending_documents"], plan["calls_needed"]) == (121, 4)
    done = datetime.fromisoformat(plan["done_by"])
    assert datetime.now(UTC) < done < datetime.now(UTC) + timedelta(minutes=5)
    again = await api.get(f"/v1/connections/{xero}/day-plan", headers=tenant.headers)
    assert again.json()["day_limit"] == 1000


async def test_the_day_limit_is_the_owners_within_xeros_range_and_no_other_account_sees_it(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    owner = await make_tenant()
    other = await make_tenant()
    xero = await add_connection(committing, owner.account_id, ConnectionKind.xero, xero_tenant_id="org-2")
    source = await add_connection(committing, owner.account_id, ConnectionKind.ontraport)
    url = f"/v1/connections/{xero}/day-limit"

    too_high = await api.put(url, json={"day_limit": 6000}, headers=owner.headers)
    assert too_high.status_code == 422
    assert too_high.json()["errors"][0]["loc"] == ["body", "day_limit"]
    assert (await api.put(url, json={"day_limit": 99}, headers=owner.headers)).status_code == 422
    not_xero = await api.put(
        f"/v1/connections/{source}/day-limit", json={"day_limit": 1000}, headers=owner.headers
    )
    assert not_xero.status_code == 404
    assert (await api.put(url, json={"day_limit": 1000}, headers=other.headers)).status_code == 404
    assert (await api.get(f"/v1/connections/{xero}/day-plan", headers=other.headers)).status_code == 404

    await api.post(
        "/v1/users", json={"email": "bk-day@example.com", "password": PASSWORD}, headers=owner.headers
    )
    bookkeeper = {"Authorization": f"Bearer {(await sign_in(api, 'bk-day@example.com'))['access_token']}"}
    assert (await api.put(url, json={"day_limit": 1000}, headers=bookkeeper)).status_code == 403
    plan = await api.get(f"/v1/connections/{xero}/day-plan", headers=bookkeeper)
    assert plan.status_code == 200
    assert (plan.json()["day_limit"], plan.json()["done_by"]) == (5000, None)


def test_a_backlog_too_big_for_today_is_done_on_a_later_day() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    frees = now + timedelta(hours=24)
    assert done_by(now, 0, 950, 950, frees) is None
    assert done_by(now, 60, 950, 950, frees) == now + timedelta(minutes=1)
    # 100 fit today; 950 tomorrow; the last 50 the day after.
    assert done_by(now, 1100, 100, 950, frees) == frees + timedelta(days=1, minutes=50 / 60)
    assert done_by(now, 1050, 100, 950, frees) == frees + timedelta(minutes=950 / 60)
