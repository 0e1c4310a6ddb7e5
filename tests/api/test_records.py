"""Records: listing, detail with documents and history, retry, and the preview of what goes to Xero."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.models import (
    Account,
    ConnectionKind,
    Document,
    DocumentKind,
    DocumentStatus,
    OutboxMessage,
    RecordStatus,
)
from tests.api.conftest import MakeTenant, Tenant
from tests.api.seed import (
    STRIPE_AUD_THEME,
    WORKED_CONTACT,
    add_connection,
    add_document,
    add_record,
    cache_xero_reference,
    outbox,
    worked_transaction,
)
from tests.mapper.onport.builders import payload

Sessions = async_sessionmaker[AsyncSession]
XERO_INVOICE_ID = "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"


async def _connections(committing: Sessions, tenant: Tenant) -> tuple[uuid.UUID, uuid.UUID]:
    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero, xero_tenant_id="org-1")
    source = await add_connection(
        committing, tenant.account_id, ConnectionKind.ontraport, xero_connection_id=xero
    )
    return xero, source


async def test_list_is_newest_first_with_filters_search_and_paging(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    xero, source = await _connections(committing, tenant)
    start = datetime(2024, 6, 1, tzinfo=UTC)
    ids = {}
    for n, (status, reason) in enumerate(
        [
            (RecordStatus.synced, "In Xero: OP-1001"),
            (RecordStatus.failed, "Gateway 3 has no currency mapping"),
            (RecordStatus.skipped, "Declined transactions are not synced"),
            (RecordStatus.synced, "In Xero: OP-1004"),
        ]
    ):
        external_id = str(1001 + n)
        ids[external_id] = await add_record(
            committing,
            tenant.account_id,
            source,
            external_id,
            status=status,
            reason=reason,
            created_at=start + timedelta(minutes=n),
        )
    await add_document(
        committing,
        tenant.account_id,
        ids["1001"],
        xero,
        DocumentKind.invoice,
        status=DocumentStatus.published,
        xero_id=XERO_INVOICE_ID,
        xero_number="OP-1001",
    )

    page = (await api.get("/v1/records", headers=tenant.headers)).json()
    assert page["total"] == 4
    assert [item["external_id"] for item in page["items"]] == ["1004", "1003", "1002", "1001"]
    linked = page["items"][3]["xero"]
    assert linked["number"] == "OP-1001"
    assert linked["url"] == f"https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID={XERO_INVOICE_ID}"
    assert page["items"][0]["xero"] is None

    synced = (await api.get("/v1/records?status=synced", headers=tenant.headers)).json()
    assert [item["external_id"] for item in synced["items"]] == ["1004", "1001"]
    by_reason = (await api.get("/v1/records", params={"q": "currency"}, headers=tenant.headers)).json()
    assert [item["external_id"] for item in by_reason["items"]] == ["1002"]
    by_id = (await api.get("/v1/records", params={"q": "1003"}, headers=tenant.headers)).json()
    assert [item["external_id"] for item in by_id["items"]] == ["1003"]
    # LIKE wildcards in q are searched for literally.
    assert (await api.get("/v1/records", params={"q": "%"}, headers=tenant.headers)).json()["total"] == 0
    assert (await api.get("/v1/records?source=onport", headers=tenant.headers)).json()["total"] == 0

    second = (await api.get("/v1/records?page=2&page_size=3", headers=tenant.headers)).json()
    assert (second["total"], second["page"], [i["external_id"] for i in second["items"]]) == (4, 2, ["1001"])
    bad = await api.get("/v1/records?page_size=0&status=nope", headers=tenant.headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


async def test_detail_shows_payload_documents_and_history(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    xero, source = await _connections(committing, tenant)
    record_id = await add_record(
        committing, tenant.account_id, source, "1001", status=RecordStatus.failed, reason="Xero said no"
    )
    await add_document(
        committing,
        tenant.account_id,
        record_id,
        xero,
        DocumentKind.invoice,
        status=DocumentStatus.failed,
        last_error="Account code '999' is not a valid code",
        attempts=2,
    )

    detail = (await api.get(f"/v1/records/{record_id}", headers=tenant.headers)).json()
    assert detail["payload"]["transaction"]["id"] == "1001"
    assert [(e["from_status"], e["to_status"], e["reason"]) for e in detail["history"]] == [
        (None, "received", None),
        ("received", "failed", "Xero said no"),
    ]
    [document] = detail["documents"]
    assert (document["kind"], document["status"], document["attempts"]) == ("invoice", "failed", 2)
    assert document["last_error"] == "Account code '999' is not a valid code"
    assert document["request_body"]["InvoiceNumber"] == "OP-1001"
    assert (await api.get(f"/v1/records/{uuid.uuid4()}", headers=tenant.headers)).status_code == 404


async def test_retry_requeues_failed_records_and_resets_failed_documents(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    xero, source = await _connections(committing, tenant)
    record_id = await add_record(
        committing, tenant.account_id, source, "1001", status=RecordStatus.failed, reason="Xero said no"
    )
    failed = await add_document(
        committing, tenant.account_id, record_id, xero, DocumentKind.invoice, status=DocumentStatus.failed
    )
    synced = await add_record(committing, tenant.account_id, source, "1002", status=RecordStatus.synced)

    retried = await api.post(f"/v1/records/{record_id}/retry", headers=tenant.headers)
    assert retried.status_code == 202, retried.text
    body = retried.json()
    assert body["status"] == "received"
    assert body["history"][-1]["from_status"] == "failed"
    assert body["history"][-1]["to_status"] == "received"
    assert body["history"][-1]["detail"]["documents_reset"] == 1
    assert [d["status"] for d in body["documents"]] == ["pending"]
    assert [m["record_id"] for m in await outbox(committing, "record.map")] == [str(record_id)]
    async with committing() as session:
        document = await session.get(Document, failed)
        assert document is not None and document.status is DocumentStatus.pending

    # Now received: a second retry is refused, as is a retry of a synced record.
    again = await api.post(f"/v1/records/{record_id}/retry", headers=tenant.headers)
    assert again.status_code == 409
    refused = await api.post(f"/v1/records/{synced}/retry", headers=tenant.headers)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "synced" in refused.json()["detail"]
    assert len(await outbox(committing, "record.map")) == 1


async def test_retry_of_a_waiting_record(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    _, source = await _connections(committing, tenant)
    record_id = await add_record(
        committing, tenant.account_id, source, "1001", status=RecordStatus.waiting, reason="plan limit"
    )
    response = await api.post(f"/v1/records/{record_id}/retry", headers=tenant.headers)
    assert response.status_code == 202
    assert response.json()["status"] == "received"


WORKED_MAPPINGS = [
    {"kind": "product", "source_id": "1", "target": {"account_code": "200"}},
    {"kind": "product", "source_id": "9", "target": {"account_code": "210"}},
    {"kind": "coupon", "source_id": "SPRING20", "target": {"account_code": "455"}},
    {"kind": "tax", "source_id": "4", "target": {"tax_type": "OUTPUT"}},
    {"kind": "shipping", "source_id": "2", "target": {"account_code": "260"}},
    {
        "kind": "gateway",
        "source_id": "3",
        "target": {
            "currency_code": "AUD",
            "branding_theme_id": STRIPE_AUD_THEME,
            "payment_account_code": "610",
        },
    },
]


async def test_preview_computes_the_worked_example_without_storing_anything(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    xero, source = await _connections(committing, tenant)
    record_id = await add_record(
        committing,
        tenant.account_id,
        source,
        "1001",
        payload={"transaction": worked_transaction(), "contact": WORKED_CONTACT},
    )
    url = f"/v1/records/{record_id}/preview"

    waiting = (await api.get(url, headers=tenant.headers)).json()
    assert (waiting["decision"], waiting["reason_code"]) == ("wait", "xero_reference")

    await cache_xero_reference(committing, xero)
    failing = (await api.get(url, headers=tenant.headers)).json()
    assert failing["decision"] == "fail"
    assert "Gateway 3" in failing["reason"]

    saved = await api.put("/v1/mappings", json=WORKED_MAPPINGS, headers=tenant.headers)
    assert saved.status_code == 200, saved.text
    preview = (await api.get(url, headers=tenant.headers)).json()
    assert preview["decision"] == "publish", preview
    documents = {doc["kind"]: doc for doc in preview["documents"]}
    assert list(documents) == ["contact", "invoice", "payment"]
    invoice = documents["invoice"]["body"]
    assert (invoice["Type"], invoice["InvoiceNumber"], invoice["CurrencyCode"]) == (
        "ACCREC",
        "OP-1001",
        "AUD",
    )
    assert invoice["LineAmountTypes"] == "Exclusive"
    lines = [(line["Description"], line["UnitAmount"], line["AccountCode"]) for line in invoice["LineItems"]]
    assert ("Pro Course", 200.0, "200") in lines
    assert any(line[1] == -40.0 and line[2] == "455" for line in lines)
    assert documents["payment"]["body"]["Amount"] == 242.0
    assert all(doc["stored_status"] is None for doc in preview["documents"])

    async with committing() as session:
        assert (await session.scalars(select(Document))).all() == []
        assert (await session.scalars(select(OutboxMessage))).all() == []
    detail = (await api.get(f"/v1/records/{record_id}", headers=tenant.headers)).json()
    assert detail["status"] == "received"


async def test_preview_waits_while_the_source_is_not_linked_to_xero(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    source = await add_connection(committing, tenant.account_id, ConnectionKind.ontraport)
    record_id = await add_record(committing, tenant.account_id, source, "1001")
    preview = (await api.get(f"/v1/records/{record_id}/preview", headers=tenant.headers)).json()
    assert (preview["decision"], preview["reason_code"], preview["documents"]) == (
        "wait",
        "xero_not_linked",
        [],
    )


async def test_preview_of_an_onport_record_runs_the_bill_rules(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    # The preview and the mapper call one decide(): an Onport invoice is previewed by the bill rules.
    tenant = await make_tenant()
    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero, xero_tenant_id="org-1")
    source = await add_connection(
        committing, tenant.account_id, ConnectionKind.onport, xero_connection_id=xero
    )
    await cache_xero_reference(committing, xero)
    record_id = await add_record(
        committing, tenant.account_id, source, "5001", source="onport", payload=payload()
    )
    preview = (await api.get(f"/v1/records/{record_id}/preview", headers=tenant.headers)).json()
    assert (preview["decision"], preview["reason_code"]) == ("wait", "vendor_unlinked"), preview
    assert "is not linked to a Xero contact" in preview["reason"]


async def test_preview_of_a_record_the_trial_holds_shows_what_the_upgrade_will_send(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    xero, source = await _connections(committing, tenant)
    await cache_xero_reference(committing, xero)
    assert (await api.put("/v1/mappings", json=WORKED_MAPPINGS, headers=tenant.headers)).status_code == 200
    async with committing() as session, session.begin():
        account = await session.get_one(Account, tenant.account_id)
        account.trial_used = account.trial_limit
    record_id = await add_record(
        committing,
        tenant.account_id,
        source,
        "1001",
        payload={"transaction": worked_transaction(), "contact": WORKED_CONTACT},
    )
    preview = (await api.get(f"/v1/records/{record_id}/preview", headers=tenant.headers)).json()
    assert (preview["decision"], preview["reason_code"]) == ("wait", "plan_limit")
    assert [doc["kind"] for doc in preview["documents"]] == ["contact", "invoice", "payment"]
