"""Summary mode's refunds through the API, the day close and the publisher's recording (issue 13, point 1):
a day's refunds of summarised sales become one refunds summary record (one credit note, one refund
payment), a late refund its adjustment, and the refunds settle with it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import Account, DocumentKind, DocumentStatus, Plan, RecordStatus, SourceRecord
from ledgerbridge.common.models.records import REFUND_SUMMARY_KIND, SUMMARY_KIND
from ledgerbridge.common.records.summaries import close_due_summaries
from ledgerbridge.publisher.claimed import Outcome
from ledgerbridge.publisher.recording import record_outcomes
from tests.api.conftest import MakeTenant
from tests.api.seed import WORKED_CONTACT, add_document, add_record, cache_xero_reference, worked_transaction
from tests.api.test_records import WORKED_MAPPINGS, _connections

Sessions = async_sessionmaker[AsyncSession]
APP = "https://app.example.test"
SEEN = datetime(2024, 6, 3, 1, tzinfo=UTC)  # 2024-06-03 11:00 in Sydney: the refunds' day
CLOSES = datetime(2024, 6, 3, 16, tzinfo=UTC)  # 2024-06-04 02:00 in Sydney


async def _records(committing: Sessions, kind: str) -> list[SourceRecord]:
    async with committing() as session:
        rows = await session.scalars(
            select(SourceRecord).where(SourceRecord.kind == kind).order_by(SourceRecord.created_at)
        )
        return list(rows.all())


async def _set(committing: Sessions, record_id: uuid.UUID, **values: Any) -> None:
    async with unit_of_work(committing) as session:
        await session.execute(update(SourceRecord).where(SourceRecord.id == record_id).values(**values))


async def _publish(
    committing: Sessions, tenant_account: uuid.UUID, record: SourceRecord, xero: uuid.UUID
) -> None:
    """What the publisher records once Xero holds the record's documents."""
    ids = [
        await add_document(committing, tenant_account, record.id, xero, kind, status=DocumentStatus.sending)
        for kind in (DocumentKind.credit_note, DocumentKind.refund_payment)
    ]
    await record_outcomes(
        committing,
        {i: Outcome(True, xero_id=str(uuid.uuid4()), number=record.external_id, amount=None) for i in ids},
    )


async def test_a_days_refunds_become_one_credit_note_and_a_late_refund_its_adjustment(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    async with unit_of_work(committing) as session:
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
    sales = [
        await add_record(
            committing,
            tenant.account_id,
            source,
            number,
            status=RecordStatus.waiting,
            payload={"transaction": worked_transaction(number), "contact": WORKED_CONTACT},
        )
        for number in ("1001", "1002")
    ]
    for sale in sales:
        await _set(committing, sale, reason_code="summary_pending")
    async with unit_of_work(committing) as session:
        assert (
            await close_due_summaries(session, datetime(2024, 6, 2, tzinfo=UTC), APP, quiet=timedelta(0)) == 1
        )
    (day,) = await _records(committing, SUMMARY_KIND)
    await _set(committing, day.id, status=RecordStatus.synced)
    for sale in sales:
        await _set(committing, sale, status=RecordStatus.synced, reason_code=None)

    # 1001 refunded in full (242.00), 1002 in part (100.00 of 242.00).
    refunds = {
        sales[0]: worked_transaction("1001", status="2"),
        sales[1]: worked_transaction("1002", status="3", total="142.00"),
    }
    for sale, transaction in refunds.items():
        await _set(committing, sale, payload={"transaction": transaction, "contact": WORKED_CONTACT})
        preview = (await api.get(f"/v1/records/{sale}/preview", headers=tenant.headers)).json()
        assert (preview["decision"], preview["reason_code"]) == ("wait", "refund_summary_pending"), preview
        assert preview["documents"] == []  # no credit note of its own
        await _set(
            committing,
            sale,
            status=RecordStatus.waiting,
            reason_code="refund_summary_pending",
            updated_at=SEEN,
        )
    async with unit_of_work(committing) as session:
        assert await close_due_summaries(session, CLOSES - timedelta(minutes=1), APP, quiet=timedelta(0)) == 0
    async with unit_of_work(committing) as session:
        assert await close_due_summaries(session, CLOSES, APP, quiet=timedelta(0)) == 1
    (note,) = await _records(committing, REFUND_SUMMARY_KIND)
    assert note.external_id == "CN-OP-DAY-3-20240603"
    assert sorted(entry["record_id"] for entry in note.payload["entries"]) == sorted(map(str, sales))
    preview = (await api.get(f"/v1/records/{note.id}/preview", headers=tenant.headers)).json()
    assert preview["decision"] == "publish", preview
    documents = {doc["kind"]: doc["body"] for doc in preview["documents"]}
    assert list(documents) == ["contact", "credit_note", "refund_payment"]
    assert documents["credit_note"]["Type"] == "ACCRECCREDIT"
    assert documents["credit_note"]["CreditNoteNumber"] == "CN-OP-DAY-3-20240603"
    assert documents["refund_payment"]["Amount"] == 342.0  # 242.00 + 100.00
    assert documents["refund_payment"]["CreditNote"] == {"CreditNoteNumber": "CN-OP-DAY-3-20240603"}
    member = (await api.get(f"/v1/records/{sales[1]}", headers=tenant.headers)).json()
    assert member["status"] == "mapped"

    # 1002 is refunded in full before the credit note is in Xero: its rest waits for the next close, and
    # the credit note being recorded does not settle it.
    await _set(
        committing,
        sales[1],
        payload={"transaction": worked_transaction("1002", status="2"), "contact": WORKED_CONTACT},
        status=RecordStatus.waiting,
        reason_code="refund_summary_pending",
        updated_at=SEEN,
    )
    await _publish(committing, tenant.account_id, note, xero)
    async with committing() as session:
        first = await session.get_one(SourceRecord, sales[0])
        second = await session.get_one(SourceRecord, sales[1])
        assert (first.status, first.reason) == (
            RecordStatus.synced,
            "In Xero through refunds credit note CN-OP-DAY-3-20240603",
        )
        assert (second.status, second.reason_code) == (RecordStatus.waiting, "refund_summary_pending")
    settled = (await api.get(f"/v1/records/{sales[0]}/preview", headers=tenant.headers)).json()
    assert settled["decision"] == "no_change", settled

    # The day is closed: the late 142.00 goes into an adjustment, the credit note untouched.
    async with unit_of_work(committing) as session:
        assert await close_due_summaries(session, datetime.now(UTC), APP, quiet=timedelta(0)) == 1
    made, adjustment = await _records(committing, REFUND_SUMMARY_KIND)
    assert (made.id, made.payload) == (note.id, note.payload)
    assert adjustment.external_id == "CN-OP-DAY-3-20240603-ADJ1"
    assert [(e["record_id"], e["total"]) for e in adjustment.payload["entries"]] == [
        (str(sales[1]), "142.00")
    ]
    async with unit_of_work(committing) as session:
        assert await close_due_summaries(session, datetime.now(UTC), APP, quiet=timedelta(0)) == 0
    await _publish(committing, tenant.account_id, adjustment, xero)
    done = (await api.get(f"/v1/records/{sales[1]}/preview", headers=tenant.headers)).json()
    assert done["decision"] == "no_change", done
    assert "CN-OP-DAY-3-20240603, CN-OP-DAY-3-20240603-ADJ1" in done["reason"]

    # A summary's records link names its gateway: the list shows that gateway's sales and summaries only.
    other = await add_record(
        committing,
        tenant.account_id,
        source,
        "1004",
        payload={"transaction": worked_transaction("1004", gateway_id="5"), "contact": WORKED_CONTACT},
    )
    assert "&gateway=3&" in note.payload["records_url"]
    listed = (await api.get("/v1/records", params={"gateway": 3}, headers=tenant.headers)).json()["items"]
    assert sorted(item["external_id"] for item in listed) == sorted(
        ["1001", "1002", "OP-DAY-3-20240601", "CN-OP-DAY-3-20240603", "CN-OP-DAY-3-20240603-ADJ1"]
    )
    fives = (await api.get("/v1/records", params={"gateway": 5}, headers=tenant.headers)).json()["items"]
    assert [item["id"] for item in fives] == [str(other)]
    bad = await api.get("/v1/records", params={"gateway": -1}, headers=tenant.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "gateway"]
