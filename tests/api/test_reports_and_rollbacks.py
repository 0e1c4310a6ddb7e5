"""The reconciliation report and the rollback over HTTP: validation, tenant isolation, the cache that
spares Xero calls, the CSV, and a dry run that changes nothing. (Against the Xero sandbox end to end:
tests/e2e/test_trust_in_the_books.py.)"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.models import (
    Connection,
    ConnectionKind,
    Document,
    DocumentKind,
    DocumentStatus,
    RecordStatus,
    SourceRecord,
    XeroDocumentState,
)
from ledgerbridge.common.xero_documents import mark_stale
from tests.api.conftest import MakeTenant, Tenant
from tests.api.seed import add_connection, add_document, add_record

PERIOD = {"from": "2024-06-01", "to": "2024-06-30"}  # the seeded records' source date is 2024-06-01
INVOICE_ID = "0f1e2d3c-0000-4000-8000-000000000001"
PAYMENT_ID = "0f1e2d3c-0000-4000-8000-000000000002"

Sessions = async_sessionmaker[AsyncSession]


async def _synced_sale(
    committing: Sessions, tenant: Tenant, external_id: str = "1001"
) -> tuple[uuid.UUID, uuid.UUID]:
    """A synced sale whose invoice and payment Xero's copy (in the cache, fresh) still holds as made."""
    xero = await add_connection(
        committing, tenant.account_id, ConnectionKind.xero, xero_tenant_id=str(uuid.uuid4())
    )
    source = await add_connection(
        committing, tenant.account_id, ConnectionKind.ontraport, xero_connection_id=xero
    )
    record = await add_record(committing, tenant.account_id, source, external_id, status=RecordStatus.synced)
    await add_document(
        committing,
        tenant.account_id,
        record,
        xero,
        DocumentKind.invoice,
        status=DocumentStatus.published,
        xero_id=INVOICE_ID,
        xero_number=f"OP-{external_id}",
        body={"Type": "ACCREC", "InvoiceNumber": f"OP-{external_id}", "CurrencyCode": "AUD"},
    )
    await add_document(
        committing,
        tenant.account_id,
        record,
        xero,
        DocumentKind.payment,
        status=DocumentStatus.published,
        xero_id=PAYMENT_ID,
        xero_number=f"OP-{external_id}",
        body={"Invoice": {"InvoiceNumber": f"OP-{external_id}"}, "Amount": 242.0},
    )
    async with committing() as session, session.begin():
        now = datetime.now(UTC)
        session.add_all(
            [
                XeroDocumentState(
                    xero_connection_id=xero,
                    resource="invoice",
                    xero_id=INVOICE_ID,
                    account_id=tenant.account_id,
                    found=True,
                    status="PAID",
                    number=f"OP-{external_id}",
                    total=Decimal("242.00"),
                    facts={"payment_ids": [PAYMENT_ID], "credited": "0"},
                    fetched_at=now,
                    stale=False,
                ),
                XeroDocumentState(
                    xero_connection_id=xero,
                    resource="payment",
                    xero_id=PAYMENT_ID,
                    account_id=tenant.account_id,
                    found=True,
                    status="AUTHORISED",
                    number=None,
                    total=Decimal("242.00"),
                    facts={"reconciled": False, "document_id": INVOICE_ID},
                    fetched_at=now,
                    stale=False,
                ),
            ]
        )
    return record, xero


async def test_the_report_validates_its_period_and_names_the_fix(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    cases = {
        (("from", "2024-06-30"), ("to", "2024-06-01")): ("to", "swap them"),
        (("from", "2024-01-01"), ("to", "2024-12-31")): ("to", "at most 93"),
        (("from", "yesterday"), ("to", "2024-12-31")): ("from", "date"),
        (("from", "2024-06-01"), ("to", "2024-06-02"), ("group_by", "year")): ("group_by", "day"),
        (("from", "2024-06-01"), ("to", "2024-06-02"), ("format", "xlsx")): ("format", "csv"),
    }
    for params, (field, words) in cases.items():
        response = await api.get("/v1/reports/reconciliation", params=dict(params), headers=tenant.headers)
        assert response.status_code == 422, (params, response.text)
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert any(error["loc"][-1] == field for error in problem["errors"]), problem
        assert words in problem["detail"].lower() or words in str(problem["errors"]).lower(), problem
    missing = await api.get("/v1/reports/reconciliation", headers=tenant.headers)
    assert missing.status_code == 422
    assert {tuple(e["loc"]) for e in missing.json()["errors"]} == {("query", "from"), ("query", "to")}
    assert (await api.get("/v1/reports/reconciliation", params=PERIOD)).status_code == 401


async def test_the_report_reads_xero_from_the_cache_and_lists_each_difference(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    record, _ = await _synced_sale(committing, tenant)
    source = await add_connection(committing, tenant.account_id, ConnectionKind.ontraport)
    waiting = await add_record(
        committing,
        tenant.account_id,
        source,
        "1002",
        status=RecordStatus.failed,
        reason="No account for product 12",
    )
    response = await api.get(
        "/v1/reports/reconciliation", params={**PERIOD, "group_by": "month"}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["xero"] == {"calls": 0, "read": 0, "cached": 2, "not_read": 0}
    charges = [r for r in report["rows"] if r["figure"] == "charges"]
    # The failed record has no document and no mapped gateway: its currency is not known yet.
    assert [
        (
            r["period"],
            r["currency"],
            r["source_count"],
            Decimal(r["source_amount"]),
            r["xero_count"],
            Decimal(r["xero_amount"]),
        )
        for r in charges
    ] == [
        ("2024-06-01", "AUD", 1, Decimal("242.00"), 1, Decimal("242.00")),
        ("2024-06-01", "unknown", 1, Decimal("242.00"), 0, Decimal(0)),
    ]
    assert [(d["record_id"], d["cause"], d["detail"]) for d in report["differences"]] == [
        (str(waiting), "failed", "Failed: No account for product 12")
    ]
    assert report["differences"][0]["record_url"] == f"/records/{waiting}"
    assert [(d["day"], d["currency"]) for d in report["days"]] == [
        ("2024-06-01", "AUD"),
        ("2024-06-01", "unknown"),
    ]
    assert str(record) not in {d["record_id"] for d in report["differences"]}

    csv = await api.get(
        "/v1/reports/reconciliation", params={**PERIOD, "format": "csv"}, headers=tenant.headers
    )
    assert csv.status_code == 200
    assert (
        csv.headers["content-disposition"]
        == 'attachment; filename="reconciliation-2024-06-01-2024-06-30.csv"'
    )
    rows = csv.text.strip().split("\r\n")
    assert rows[0].startswith("period,source,gateway,currency,figure")
    assert rows[1:] == [
        "2024-06-01,ontraport,Gateway 3,AUD,charges,1,242.00,1,242.00,0.00",
        "2024-06-01,ontraport,Gateway 3,unknown,charges,1,242.00,0,0.00,-242.00",
    ]


async def test_a_webhook_marks_the_cached_copy_stale(make_tenant: MakeTenant, committing: Sessions) -> None:
    tenant = await make_tenant()
    _, xero = await _synced_sale(committing, tenant)
    async with committing() as session, session.begin():
        connection = await session.get(Connection, xero)
        assert connection is not None and connection.xero_tenant_id
        # Xero's GUIDs compare without case; payments have no webhooks, so the invoice's names them.
        marked = await mark_stale(session, connection.xero_tenant_id, "INVOICE", INVOICE_ID.upper())
        ignored = await mark_stale(session, str(uuid.uuid4()), "INVOICE", INVOICE_ID)
    assert (marked, ignored) == (2, 0)
    async with committing() as session:
        stale = (
            await session.scalars(
                select(XeroDocumentState.stale).where(XeroDocumentState.xero_connection_id == xero)
            )
        ).all()
    assert stale == [True, True]


async def test_reports_and_rollbacks_never_cross_accounts(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    first, second = await make_tenant(company="First"), await make_tenant(company="Second")
    record, _ = await _synced_sale(committing, first)
    theirs = (await api.get("/v1/reports/reconciliation", params=PERIOD, headers=second.headers)).json()
    assert (theirs["rows"], theirs["differences"], theirs["xero"]["cached"]) == ([], [], 0)

    by_id = await api.post(
        "/v1/rollbacks/dry-run", json={"record_ids": [str(record)]}, headers=second.headers
    )
    assert by_id.status_code == 200, by_id.text
    assert (by_id.json()["matched"], by_id.json()["records"]) == (0, [])
    run = await api.post(
        "/v1/rollbacks", json={"record_ids": [str(record)], "confirm": True}, headers=second.headers
    )
    assert (run.status_code, run.json()["queued_documents"]) == (202, 0)
    mine = await api.post("/v1/rollbacks/dry-run", json={"record_ids": [str(record)]}, headers=first.headers)
    assert mine.json()["matched"] == 1
    async with committing() as session:
        still = await session.get(SourceRecord, record)
        assert still is not None and still.status is RecordStatus.synced
    foreign = await api.post(
        "/v1/rollbacks/dry-run", json={"import_id": str(uuid.uuid4())}, headers=second.headers
    )
    assert foreign.status_code == 404
    assert foreign.json()["errors"][0]["loc"] == ["body", "import_id"]


async def test_a_dry_run_lists_each_document_and_changes_nothing(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    record, _ = await _synced_sale(committing, tenant)
    response = await api.post(
        "/v1/rollbacks/dry-run",
        json={"since": "2024-06-01T00:00:00Z", "until": "2024-06-02T00:00:00Z"},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    plan = response.json()
    assert (plan["matched"], plan["undo"], plan["left_alone"], plan["xero_calls"]) == (1, 1, 0, 0)
    [row] = plan["records"]
    assert (row["record_id"], row["outcome"]) == (str(record), "undo")
    assert sorted((d["kind"], d["action"]) for d in row["documents"]) == [
        ("invoice", "void"),
        ("payment", "delete_payment"),
    ]
    async with committing() as session:
        kinds = (await session.scalars(select(Document.kind).where(Document.record_id == record))).all()
        assert sorted(kinds) == [DocumentKind.invoice, DocumentKind.payment]

    # Voided in Xero by hand since: the record is left alone, and says why.
    async with committing() as session, session.begin():
        state = await session.scalar(
            select(XeroDocumentState).where(
                XeroDocumentState.xero_id == INVOICE_ID, XeroDocumentState.account_id == tenant.account_id
            )
        )
        assert state is not None
        state.status = "VOIDED"
    again = (
        await api.post("/v1/rollbacks/dry-run", json={"record_ids": [str(record)]}, headers=tenant.headers)
    ).json()
    assert again["records"][0]["outcome"] == "left_alone"
    assert "voided in Xero by hand" in again["records"][0]["reason"]


async def test_a_rollback_needs_a_bounded_selection_and_a_confirmation(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    cases = [
        ("/v1/rollbacks/dry-run", {}, "choose the records"),
        ("/v1/rollbacks/dry-run", {"since": "2024-06-01T00:00:00Z"}, "both since and until"),
        (
            "/v1/rollbacks/dry-run",
            {"since": "2024-06-02T00:00:00Z", "until": "2024-06-01T00:00:00Z"},
            "before until",
        ),
        ("/v1/rollbacks/dry-run", {"record_ids": []}, "at least 1"),
        ("/v1/rollbacks/dry-run", {"record_ids": ["x"]}, "uuid"),
        ("/v1/rollbacks/dry-run", {"record_ids": [str(uuid.uuid4())], "everything": True}, "extra"),
        ("/v1/rollbacks", {"record_ids": [str(uuid.uuid4())]}, "confirm"),
        ("/v1/rollbacks", {"record_ids": [str(uuid.uuid4())], "confirm": False}, "confirm"),
    ]
    for path, body, words in cases:
        response = await api.post(path, json=body, headers=tenant.headers)
        assert response.status_code == 422, (body, response.text)
        assert words in response.text.lower(), (body, response.text)
    too_long = await api.post(
        "/v1/rollbacks/dry-run",
        json={"since": "2024-01-01T00:00:00Z", "until": "2024-12-01T00:00:00Z"},
        headers=tenant.headers,
    )
    assert too_long.status_code == 422
    assert "at most 93" in too_long.json()["detail"]


async def test_days_are_the_accounts_own(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    await _synced_sale(committing, tenant)  # sold 2024-06-01 00:00 UTC: the evening before in New York
    patched = await api.patch(
        "/v1/settings", json={"ontraport": {"time_zone": "America/New_York"}}, headers=tenant.headers
    )
    assert patched.status_code == 200, patched.text
    june = (await api.get("/v1/reports/reconciliation", params=PERIOD, headers=tenant.headers)).json()
    assert june["rows"] == []
    may = await api.get(
        "/v1/reports/reconciliation",
        params={"from": "2024-05-31", "to": "2024-05-31"},
        headers=tenant.headers,
    )
    assert [(r["period"], r["xero_count"]) for r in may.json()["rows"]] == [("2024-05-31", 1)]
