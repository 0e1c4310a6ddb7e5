"""Webhook receivers (Xero, ONTRAPORT, Onport) and the publisher's handling of Xero events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common import local_secrets
from ledgerbridge.common.clients.xero import XeroClient
from ledgerbridge.common.messaging.messages import HandleWebhookEvent
from ledgerbridge.common.models import (
    Connection,
    ConnectionKind,
    DocumentKind,
    DocumentStatus,
    InboxMessage,
    RecordEvent,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.settings import Settings
from ledgerbridge.publisher.webhook_events import CHANGED_IN_XERO, handle_xero_event
from tests.api.conftest import MakeTenant
from tests.api.seed import add_connection, add_document, add_record, outbox

Sessions = async_sessionmaker[AsyncSession]
TENANT_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
INVOICE_ID = "0F1E2D3C-4B5A-4978-8A6B-5C4D3E2F1A0B"


def _event(
    resource_id: str = INVOICE_ID, event_type: str = "UPDATE", category: str = "INVOICE"
) -> dict[str, Any]:
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource_id}",
        "resourceId": resource_id.lower(),
        "eventDateUtc": "2024-06-02T10:00:00.000",
        "eventType": event_type,
        "eventCategory": category,
        "tenantId": TENANT_ID,
        "tenantType": "ORGANISATION",
    }


def _signed(settings: Settings, body: bytes, key: str | None = None) -> dict[str, str]:
    secret = key or local_secrets.xero_webhook_key(settings)
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"x-xero-signature": signature, "content-type": "application/json"}


def _delivery(*events: dict[str, Any]) -> bytes:
    return json.dumps(
        {"events": list(events), "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "ABCDEF"}
    ).encode()


async def _inbox(sessions: Sessions, consumer: str) -> list[InboxMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(InboxMessage).where(InboxMessage.consumer == consumer)))


def _no_xero(connection: Connection) -> XeroClient:
    raise AssertionError("these events name none of our drafts: nothing is read from Xero")


async def test_xero_handshake_and_signatures(
    api: httpx.AsyncClient, settings: Settings, committing: Sessions
) -> None:
    handshake = _delivery()
    valid = await api.post("/webhooks/xero", content=handshake, headers=_signed(settings, handshake))
    assert (valid.status_code, valid.content) == (200, b"")
    wrong = await api.post(
        "/webhooks/xero", content=handshake, headers=_signed(settings, handshake, key="not-the-key")
    )
    assert (wrong.status_code, wrong.content) == (401, b"")
    unsigned = await api.post("/webhooks/xero", content=handshake)
    assert (unsigned.status_code, unsigned.content) == (401, b"")
    # A body changed after signing fails too, even by one byte.
    tampered = await api.post(
        "/webhooks/xero", content=handshake + b" ", headers=_signed(settings, handshake)
    )
    assert tampered.status_code == 401
    assert await _inbox(committing, "xero-webhook") == []


async def test_xero_events_are_stored_once_and_queued(
    api: httpx.AsyncClient, settings: Settings, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    await add_connection(committing, tenant.account_id, ConnectionKind.xero, xero_tenant_id=TENANT_ID)
    body = _delivery(_event(), _event(resource_id=str(uuid.uuid4()), category="CONTACT"))
    first = await api.post("/webhooks/xero", content=body, headers=_signed(settings, body))
    assert (first.status_code, first.content) == (200, b"")
    again = await api.post("/webhooks/xero", content=body, headers=_signed(settings, body))
    assert (again.status_code, again.content) == (200, b"")

    rows = await _inbox(committing, "xero-webhook")
    assert len(rows) == 2
    assert {row.account_id for row in rows} == {tenant.account_id}
    assert all(row.processed_at is None for row in rows)
    messages = await outbox(committing, "webhook.handle")
    assert sorted(m["message_key"] for m in messages) == sorted(row.message_key for row in rows)


async def test_xero_bodies_too_large_or_malformed(
    api: httpx.AsyncClient, settings: Settings, committing: Sessions
) -> None:
    huge = b'{"events": [], "entropy": "' + b"x" * (300 * 1024) + b'"}'
    response = await api.post("/webhooks/xero", content=huge, headers=_signed(settings, huge))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    for malformed in (b"not json", b'{"events": [{"resourceId": "x"}]}', b"[]"):
        response = await api.post("/webhooks/xero", content=malformed, headers=_signed(settings, malformed))
        assert response.status_code == 400, malformed
        assert response.headers["content-type"] == "application/problem+json"
    assert await _inbox(committing, "xero-webhook") == []


async def test_ontraport_ping_queues_one_poll_per_burst(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    token = "op-" + uuid.uuid4().hex
    connection = await add_connection(
        committing, tenant.account_id, ConnectionKind.ontraport, webhook_token=token
    )
    ping = {"id": "1001", "event": "transaction_created_with_product(1)"}

    first = await api.post(f"/webhooks/ontraport/{token}", data=ping)
    assert (first.status_code, first.json()) == (202, {"queued": True})
    duplicate = await api.post(f"/webhooks/ontraport/{token}", data=ping)
    assert duplicate.json() == {"queued": False}
    other = await api.post(f"/webhooks/ontraport/{token}", data={**ping, "id": "1002"})
    assert other.json() == {"queued": True}

    polls = await outbox(committing, "poll.connection")
    assert [(p["connection_id"], p["reason"]) for p in polls] == [(str(connection), "webhook")] * 2
    rows = await _inbox(committing, "ontraport-webhook")
    assert len(rows) == 2 and all(row.processed_at is not None for row in rows)
    assert {row.payload["fields"]["id"] for row in rows if row.payload} == {"1001", "1002"}

    unknown = await api.post("/webhooks/ontraport/" + uuid.uuid4().hex, data=ping)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    bad = await api.post(
        f"/webhooks/ontraport/{token}",
        content=b"\xff\xfe",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert bad.status_code == 400
    assert len(await outbox(committing, "poll.connection")) == 2


async def test_an_onport_push_is_a_ping_that_queues_a_re_read(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    """Finding 2 of issue 10: the push is kept in the inbox and, in the same transaction, a message asks
    the poller to re-read that invoice from Onport; nothing scans the inbox for pushes."""
    tenant = await make_tenant()
    token = "on-" + uuid.uuid4().hex
    connection = await add_connection(
        committing, tenant.account_id, ConnectionKind.onport, webhook_token=token
    )
    invoice = {"id": 501, "reference": "PI-501", "updatedAt": "2099-06-02T10:00:00Z", "purchaseId": 9}

    first = await api.post(f"/webhooks/onport/{token}/dropship", json=invoice)
    assert (first.status_code, first.json()) == (202, {"stored": True})
    # The same invoice again (a forged updatedAt included) within the minute: one re-read is enough.
    forged = {**invoice, "updatedAt": "2199-01-01T00:00:00Z"}
    assert (await api.post(f"/webhooks/onport/{token}/replenishment", json=forged)).json() == {
        "stored": False
    }
    other = await api.post(f"/webhooks/onport/{token}/replenishment", json={"id": "502"})
    assert other.json() == {"stored": True}

    rows = await _inbox(committing, "onport-push")
    assert len(rows) == 2 and {row.account_id for row in rows} == {tenant.account_id}
    assert all(row.processed_at is not None for row in rows), "its effect (the message) commits with it"
    refreshes = await outbox(committing, "onport.invoice.refresh")
    assert sorted((r["connection_id"], r["invoice_id"]) for r in refreshes) == [
        (str(connection), 501),
        (str(connection), 502),
    ]
    assert not await _records_of(committing, tenant.account_id), "nothing pushed is stored as a record"

    assert (await api.post(f"/webhooks/onport/{token}/other", json=invoice)).status_code == 422
    no_id = await api.post(f"/webhooks/onport/{token}/dropship", json={"reference": "x"})
    assert no_id.status_code == 400 and no_id.json()["errors"][0]["loc"] == ["body", "id"]
    assert (await api.post(f"/webhooks/onport/{token}/dropship", json={"id": "abc"})).status_code == 400
    assert (await api.post(f"/webhooks/onport/{token}/dropship", content=b"{oops")).status_code == 400
    assert (await api.post(f"/webhooks/onport/{uuid.uuid4().hex}/dropship", json=invoice)).status_code == 404
    huge = {"id": 502, "notes": "x" * (300 * 1024)}
    assert (await api.post(f"/webhooks/onport/{token}/dropship", json=huge)).status_code == 413


async def _records_of(sessions: Sessions, account_id: uuid.UUID) -> list[SourceRecord]:
    async with sessions() as session:
        return list(await session.scalars(select(SourceRecord).where(SourceRecord.account_id == account_id)))


async def test_handler_records_xero_changes_on_the_record_history(
    api: httpx.AsyncClient, settings: Settings, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero, xero_tenant_id=TENANT_ID)
    source = await add_connection(
        committing, tenant.account_id, ConnectionKind.ontraport, xero_connection_id=xero
    )
    record = await add_record(committing, tenant.account_id, source, "1001", status=RecordStatus.synced)
    await add_document(
        committing,
        tenant.account_id,
        record,
        xero,
        DocumentKind.invoice,
        status=DocumentStatus.published,
        xero_id=INVOICE_ID,
    )
    body = _delivery(_event(), _event(resource_id=str(uuid.uuid4())))
    assert (
        await api.post("/webhooks/xero", content=body, headers=_signed(settings, body))
    ).status_code == 200

    for message in await outbox(committing, "webhook.handle"):
        handled = HandleWebhookEvent(consumer=message["consumer"], message_key=message["message_key"])
        for _ in range(2):  # a redelivered message finds the event processed and does nothing
            async with committing() as session, session.begin():
                await handle_xero_event(session, handled, client_for=_no_xero)

    async with committing() as session:
        events = list(
            await session.scalars(
                select(RecordEvent).where(
                    RecordEvent.record_id == record, RecordEvent.reason == CHANGED_IN_XERO
                )
            )
        )
    assert len(events) == 1
    assert (events[0].from_status, events[0].to_status) == ("synced", "synced")
    assert events[0].detail["xero_id"] == INVOICE_ID
    assert all(row.processed_at is not None for row in await _inbox(committing, "xero-webhook"))
    detail = (await api.get(f"/v1/records/{record}", headers=tenant.headers)).json()
    assert detail["status"] == "synced"
    assert detail["history"][-1]["reason"] == CHANGED_IN_XERO
