"""Summary mode through the API and the day close (issue 13, point 1): the setting and its validation, a
sale's preview while it waits for its day, the day's summary record, a late sale's adjustment, and the
links between a sale and its summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import Account, DocumentKind, DocumentStatus, Plan, RecordStatus, SourceRecord
from ledgerbridge.common.models.records import SUMMARY_KIND
from ledgerbridge.common.records.summaries import close_due_summaries
from ledgerbridge.publisher.claimed import Outcome
from ledgerbridge.publisher.recording import record_outcomes
from tests.api.conftest import MakeTenant
from tests.api.seed import (
    WORKED_CONTACT,
    add_document,
    add_record,
    cache_xero_reference,
    outbox,
    worked_transaction,
)
from tests.api.test_records import WORKED_MAPPINGS, _connections

Sessions = async_sessionmaker[AsyncSession]
APP = "https://app.example.test"


async def test_summary_mode_is_off_by_default_and_the_close_hour_is_validated(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    ontraport = (await api.get("/v1/settings", headers=tenant.headers)).json()["ontraport"]
    assert (ontraport["summary_mode"], ontraport["summary_close_hour"]) == (False, 2)
    for hour in (24, -1, "two", 2.5):
        response = await api.patch(
            "/v1/settings", json={"ontraport": {"summary_close_hour": hour}}, headers=tenant.headers
        )
        assert response.status_code == 422, hour
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["loc"] == ["body", "ontraport", "summary_close_hour"]
    saved = await api.patch(
        "/v1/settings",
        json={"ontraport": {"summary_mode": True, "summary_close_hour": 6}},
        headers=tenant.headers,
    )
    assert saved.status_code == 200, saved.text
    ontraport = (await api.get("/v1/settings", headers=tenant.headers)).json()["ontraport"]
    assert (ontraport["summary_mode"], ontraport["summary_close_hour"]) == (True, 6)


async def _summaries(committing: Sessions) -> list[SourceRecord]:
    async with committing() as session:
        rows = await session.scalars(
            select(SourceRecord).where(SourceRecord.kind == SUMMARY_KIND).order_by(SourceRecord.created_at)
        )
        return list(rows.all())


async def test_a_day_closes_into_one_summary_and_a_late_sale_into_its_adjustment(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    async with unit_of_work(committing) as session:
        # On the trial every sale goes on its own (each counts); summary mode is for paid plans.
        (await session.get_one(Account, tenant.account_id)).plan = Plan.pro
    xero, source = await _connections(committing, tenant)
    await cache_xero_reference(committing, xero)
    assert (await api.put("/v1/mappings", json=WORKED_MAPPINGS, headers=tenant.headers)).status_code == 200
    patched = await api.patch(
        "/v1/settings",
        json={"ontraport": {"summary_mode": True, "time_zone": "Australia/Sydney"}},
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    first = await add_record(
        committing,
        tenant.account_id,
        source,
        "1001",
        payload={"transaction": worked_transaction("1001"), "contact": WORKED_CONTACT},
    )
    preview = (await api.get(f"/v1/records/{first}/preview", headers=tenant.headers)).json()
    assert (preview["decision"], preview["reason_code"]) == ("wait", "summary_pending")
    assert "2024-06-01" in preview["reason"] and preview["documents"] == []

    async def wait_for_day(record_id: object) -> None:
        async with unit_of_work(committing) as session:
            record = await session.get_one(SourceRecord, record_id)
            record.status = RecordStatus.waiting  # as the mapper leaves it after the preview's decision
            record.reason_code = "summary_pending"

    await wait_for_day(first)
    second = await add_record(
        committing,
        tenant.account_id,
        source,
        "1002",
        payload={"transaction": worked_transaction("1002"), "contact": WORKED_CONTACT},
    )
    await wait_for_day(second)
    # While sales are still coming in (one mapped moments ago), a closed day waits for the intake to settle.
    async with unit_of_work(committing) as session:
        assert await close_due_summaries(session, datetime(2024, 6, 2, tzinfo=UTC), APP) == 0
    # ... but not for ever: once a sale has waited 30 quiet windows, a sale still coming in (1009, not
    # mapped yet) holds the closed day no longer.
    await add_record(committing, tenant.account_id, source, "1009")
    async with unit_of_work(committing) as session:
        await session.execute(
            update(SourceRecord)
            .where(SourceRecord.id.in_([first, second]))
            .values(updated_at=func.now() - timedelta(minutes=6))
        )
    # Before the day closes (02:00 the next day, Sydney) nothing is made.
    async with unit_of_work(committing) as session:
        assert await close_due_summaries(session, datetime(2024, 6, 1, 15, 59, tzinfo=UTC), APP) == 0
    async with unit_of_work(committing) as session:
        assert await close_due_summaries(session, datetime(2024, 6, 1, 16, 0, tzinfo=UTC), APP) == 1
    (summary,) = await _summaries(committing)
    assert summary.external_id == "OP-DAY-3-20240601"
    assert [entry["record_id"] for entry in summary.payload["entries"]] == [
        str(first),
        str(second),
    ]  # by transaction id
    assert summary.payload["records_url"] == (
        f"{APP}/records?source=ontraport&since=2024-05-31T14:00:00Z&until=2024-06-01T14:00:00Z"
    )
    assert [m["record_id"] for m in await outbox(committing, "record.map")][-1] == str(summary.id)

    summary_preview = (await api.get(f"/v1/records/{summary.id}/preview", headers=tenant.headers)).json()
    assert summary_preview["decision"] == "publish", summary_preview
    documents = {doc["kind"]: doc["body"] for doc in summary_preview["documents"]}
    assert list(documents) == ["contact", "invoice", "payment"]
    assert documents["invoice"]["InvoiceNumber"] == "OP-DAY-3-20240601"
    assert documents["invoice"]["Url"] == summary.payload["records_url"]
    assert documents["payment"]["Amount"] == 484.0  # the two sales of 242.00

    member = (await api.get(f"/v1/records/{first}", headers=tenant.headers)).json()
    assert (member["status"], member["summary_record_id"]) == ("mapped", str(summary.id))
    await add_document(
        committing,
        tenant.account_id,
        summary.id,
        xero,
        DocumentKind.invoice,
        status=DocumentStatus.published,
        body=documents["invoice"],
        xero_id="5f0d6a0e-2a57-4a43-9f0c-5d5b1f1f7a11",
        xero_number="OP-DAY-3-20240601",
    )
    listed = (await api.get("/v1/records", params={"q": "1001"}, headers=tenant.headers)).json()["items"]
    assert [(item["summary_record_id"], item["xero"]["number"]) for item in listed] == [
        (str(summary.id), "OP-DAY-3-20240601")
    ]

    # A sale of that day arriving after its summary was made: an adjustment, the summary untouched.
    late = await add_record(
        committing,
        tenant.account_id,
        source,
        "1003",
        payload={"transaction": worked_transaction("1003"), "contact": WORKED_CONTACT},
    )
    await wait_for_day(late)
    async with unit_of_work(committing) as session:
        assert await close_due_summaries(session, datetime.now(UTC), APP, quiet=timedelta(0)) == 1
    day, adjustment = await _summaries(committing)
    assert (day.id, day.payload, day.status) == (summary.id, summary.payload, summary.status)
    assert adjustment.external_id == "OP-DAY-3-20240601-ADJ1"
    assert [entry["record_id"] for entry in adjustment.payload["entries"]] == [str(late)]
    async with unit_of_work(committing) as session:
        assert (
            await close_due_summaries(session, datetime.now(UTC), APP, quiet=timedelta(0)) == 0
        )  # nothing left waiting


async def test_a_summary_xero_refuses_holds_its_sales_until_it_is_in_xero(
    make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    xero, source = await _connections(committing, tenant)
    summary_id = await add_record(
        committing, tenant.account_id, source, "OP-DAY-3-20240601", status=RecordStatus.mapped, payload={}
    )
    sale_id = await add_record(committing, tenant.account_id, source, "1001", status=RecordStatus.mapped)
    async with unit_of_work(committing) as session:
        summary = await session.get_one(SourceRecord, summary_id)
        summary.kind = SUMMARY_KIND
        (await session.get_one(SourceRecord, sale_id)).summary_record_id = summary_id
    invoice = await add_document(
        committing, tenant.account_id, summary_id, xero, DocumentKind.invoice, status=DocumentStatus.sending
    )

    async def statuses() -> tuple[tuple[RecordStatus, str | None], tuple[RecordStatus, str | None]]:
        async with committing() as session:
            day = await session.get_one(SourceRecord, summary_id)
            sale = await session.get_one(SourceRecord, sale_id)
            return (day.status, day.reason_code), (sale.status, sale.reason_code)

    await record_outcomes(committing, {invoice: Outcome(False, error="Account code '999' is not valid")})
    assert await statuses() == (
        (RecordStatus.failed, "xero_rejected"),
        (RecordStatus.waiting, "summary_pending"),
    )
    await record_outcomes(
        committing, {invoice: Outcome(True, xero_id="5f0d6a0e", number="OP-DAY-3-20240601", amount=None)}
    )
    assert await statuses() == ((RecordStatus.synced, None), (RecordStatus.synced, None))
