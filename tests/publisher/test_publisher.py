"""The publisher against the Xero sandbox in process: token keep-alive and stale reference data."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.clients.xero import RateLimiter, TokenService, TokenSet, XeroClient, XeroOAuth
from ledgerbridge.common.crypto import Cipher
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import (
    Account,
    AlertEvent,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Document,
    DocumentKind,
    DocumentStatus,
    OutboxMessage,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.settings import Settings
from ledgerbridge.publisher.keep_alive import keep_tokens_alive
from ledgerbridge.publisher.publishing_run import PublishingRuns
from ledgerbridge.sandbox.xero.app import create_app as create_xero
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig

BASE = "http://xero.test"


@dataclass
class XeroSide:
    app: FastAPI
    http: httpx.AsyncClient
    tokens: TokenService
    cipher: Cipher


@pytest.fixture
async def xero(settings: Settings) -> AsyncIterator[XeroSide]:
    app = create_xero(XeroSandboxConfig())
    settings.xero.api_url = f"{BASE}/api.xro/2.0"
    settings.xero.token_url = f"{BASE}/identity/connect/token"
    settings.xero.client_id = "sandbox-client"
    settings.xero.client_secret = SecretStr("sandbox-secret")
    cipher = Cipher([Fernet.generate_key().decode()])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield XeroSide(app, http, TokenService(XeroOAuth(http, settings.xero), cipher), cipher)


async def _xero_connection(
    sessions: async_sessionmaker[AsyncSession], side: XeroSide, *, last_refreshed_days_ago: float
) -> tuple[uuid.UUID, uuid.UUID, str]:
    organisation = (
        await side.http.post(
            "/_sandbox/organisations", json={"country": "AU", "connect_client_id": "sandbox-client"}
        )
    ).json()
    tenant_id = organisation["tenantId"]
    body = (await side.http.post("/_sandbox/tokens", json={"tenant_ids": [tenant_id]})).json()
    issued = time.time() - last_refreshed_days_ago * 86400
    tokens = TokenSet.from_response(body, issued)
    async with unit_of_work(sessions) as session:
        account = Account(company="Publisher Co")
        session.add(account)
        await session.flush()
        connection = Connection(
            account_id=account.id,
            kind=ConnectionKind.xero,
            status=ConnectionStatus.active,
            credentials=side.cipher.encrypt_json(tokens.to_credentials()),
            xero_tenant_id=tenant_id,
            token_expires_at=tokens.expires_at_datetime,
        )
        session.add(connection)
        await session.flush()
        return account.id, connection.id, tenant_id


async def test_connections_unused_for_a_week_are_refreshed_once_and_busy_ones_not(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide
) -> None:
    _, idle, _ = await _xero_connection(committing, xero, last_refreshed_days_ago=8)
    _, busy, _ = await _xero_connection(committing, xero, last_refreshed_days_ago=0)
    now = datetime.now(UTC)

    refreshed = await keep_tokens_alive(committing, xero.tokens, now, timedelta(days=7))

    assert refreshed == 1
    assert xero.app.state.sandbox.refresh_counts["sandbox-client"] == 1
    async with committing() as session:
        idle_row = await session.get(Connection, idle)
        busy_row = await session.get(Connection, busy)
    assert idle_row is not None
    assert busy_row is not None
    assert idle_row.token_expires_at is not None
    assert idle_row.token_expires_at > now  # a fresh pair, good for another 60 days of refresh token
    assert await keep_tokens_alive(committing, xero.tokens, now, timedelta(days=7)) == 0


async def _pending_invoice(
    sessions: async_sessionmaker[AsyncSession],
    account_id: uuid.UUID,
    connection_id: uuid.UUID,
    account_code: str,
) -> uuid.UUID:
    """A mapped record with one invoice waiting to be sent; the record's id."""
    async with unit_of_work(sessions) as session:
        record = SourceRecord(
            account_id=account_id,
            connection_id=connection_id,
            source="ontraport",
            kind="transaction",
            external_id="77",
            payload={},
            payload_hash="h",
            status=RecordStatus.mapped,
        )
        session.add(record)
        await session.flush()
        body = {
            "Type": "ACCREC",
            "InvoiceNumber": "OP-77",
            "Contact": {"Name": "Grace Hopper", "ContactNumber": "OP-9"},
            "Status": "AUTHORISED",
            "Date": "2026-11-01",
            "DueDate": "2026-11-01",
            "LineAmountTypes": "Exclusive",
            "LineItems": [
                {
                    "Description": "Course",
                    "Quantity": 1,
                    "UnitAmount": 100,
                    "AccountCode": account_code,
                    "TaxType": "OUTPUT",
                }
            ],
        }
        session.add(
            Document(
                account_id=account_id,
                record_id=record.id,
                xero_connection_id=connection_id,
                kind=DocumentKind.invoice,
                mapping_version="test",
                request_body=body,
                fingerprint="f" * 64,
                idempotency_key=f"lb:test:{uuid.uuid4()}",
            )
        )
        return record.id


def _runs(
    committing: async_sessionmaker[AsyncSession],
    xero: XeroSide,
    redis: Redis,
    settings: Settings,
    tenant_id: str,
) -> PublishingRuns:
    limiter = RateLimiter(redis, settings.queue.prefix)

    def client_for(connection: Connection) -> XeroClient:
        assert connection.xero_tenant_id
        return XeroClient(
            xero.http, settings.xero, limiter, xero.tokens.provider(committing, connection.id), tenant_id
        )

    return PublishingRuns(committing, client_for, gather=0)


async def _alert_events(
    sessions: async_sessionmaker[AsyncSession], account_id: uuid.UUID
) -> list[AlertEvent]:
    async with sessions() as session:
        return list(await session.scalars(select(AlertEvent).where(AlertEvent.account_id == account_id)))


async def test_a_rejected_account_code_fails_the_record_and_asks_for_fresh_reference_data(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    account_id, connection_id, tenant_id = await _xero_connection(committing, xero, last_refreshed_days_ago=0)
    record_id = await _pending_invoice(committing, account_id, connection_id, "999")

    await _runs(committing, xero, redis, settings, tenant_id).publish(connection_id, max_seconds=30)

    async with committing() as session:
        document = await session.scalar(select(Document).where(Document.record_id == record_id))
        stored = await session.get(SourceRecord, record_id)
        messages = (await session.scalars(select(OutboxMessage.message_type))).all()
    assert document is not None
    assert stored is not None
    assert document.status is DocumentStatus.failed
    assert document.last_error is not None
    assert "999" in document.last_error
    assert stored.status is RecordStatus.failed
    assert stored.reason is not None
    assert stored.reason.startswith("Xero rejected the invoice:")
    assert list(messages) == ["xero.reference.refresh"]
    # The owners are told, from the same transaction that failed the record.
    [event] = await _alert_events(committing, account_id)
    assert (event.kind, event.detail["record_id"], event.detail["reason"]) == (
        "records_failed",
        str(record_id),
        stored.reason,
    )


async def test_a_day_limit_parks_the_organisation_and_tells_the_owners_once(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    account_id, connection_id, tenant_id = await _xero_connection(committing, xero, last_refreshed_days_ago=0)
    await _pending_invoice(committing, account_id, connection_id, "200")
    limited = await xero.http.post("/_sandbox/limits", json={"tenant_id": tenant_id, "day_limit": 0})
    assert limited.status_code == 200
    runs = _runs(committing, xero, redis, settings, tenant_id)

    for _ in range(3):  # the first run meets the limit, the later ones find the organisation parked
        await runs.publish(connection_id, max_seconds=30)

    async with committing() as session:
        connection = await session.get(Connection, connection_id)
    assert connection is not None and connection.parked_until is not None
    assert connection.parked_until > datetime.now(UTC)
    [event] = await _alert_events(committing, account_id)
    assert (event.kind, event.detail["connection_id"]) == ("day_limit", str(connection_id))
    assert event.detail["until"].endswith(" UTC")


async def test_two_people_of_one_name_in_a_batch_are_told_apart_before_it_is_sent(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    account_id, connection_id, tenant_id = await _xero_connection(committing, xero, last_refreshed_days_ago=0)
    async with unit_of_work(committing) as session:
        for n in (1, 2):
            record = SourceRecord(
                account_id=account_id,
                connection_id=connection_id,
                source="ontraport",
                kind="transaction",
                external_id=str(n),
                payload={},
                payload_hash="h",
                status=RecordStatus.mapped,
            )
            session.add(record)
            await session.flush()
            body = {"Name": "Jane Smith", "ContactNumber": f"OP-{n}", "EmailAddress": f"jane{n}@example.com"}
            session.add(
                Document(
                    account_id=account_id,
                    record_id=record.id,
                    xero_connection_id=connection_id,
                    kind=DocumentKind.contact,
                    mapping_version="test",
                    request_body=body,
                    fingerprint=f"{n}" * 64,
                    idempotency_key=f"lb:test:{uuid.uuid4()}",
                )
            )
    limiter = RateLimiter(redis, settings.queue.prefix)

    def client_for(connection: Connection) -> XeroClient:
        return XeroClient(
            xero.http, settings.xero, limiter, xero.tokens.provider(committing, connection.id), tenant_id
        )

    await PublishingRuns(committing, client_for, gather=0).publish(connection_id, max_seconds=30)

    organisation = xero.app.state.sandbox.orgs[tenant_id]
    names = sorted(
        str(c["Name"])
        for c in organisation.contacts.values()
        if str(c.get("ContactNumber", "")).startswith("OP-")
    )
    assert names[0] == "Jane Smith"
    assert names[1] in ("Jane Smith (jane1@example.com)", "Jane Smith (jane2@example.com)")
    calls = dict(organisation.counters.by_endpoint)
    assert (calls.get("PUT Contacts"), calls.get("GET Contacts", 0)) == (1, 0)


async def test_a_payment_xero_refuses_after_its_invoice_went_in_says_so_and_is_sent_alone_again(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    """Issue 15, point 6: the invoice is in Xero but its payment was refused (account 200 takes no
    payments): the record says both, and once the payment is fixed only the payment goes out."""
    account_id, connection_id, tenant_id = await _xero_connection(committing, xero, last_refreshed_days_ago=0)
    invoice = {
        "Type": "ACCREC",
        "InvoiceNumber": "OP-78",
        "Contact": {"Name": "Ada Lovelace", "ContactNumber": "OP-10"},
        "Status": "AUTHORISED",
        "Date": "2026-11-01",
        "DueDate": "2026-11-01",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {
                "Description": "Course",
                "Quantity": 1,
                "UnitAmount": 100,
                "AccountCode": "200",
                "TaxType": "OUTPUT",
            }
        ],
    }

    def payment(code: str) -> dict[str, object]:
        return {
            "Invoice": {"InvoiceNumber": "OP-78"},
            "Account": {"Code": code},
            "Date": "2026-11-01",
            "Amount": 110,
        }

    async with unit_of_work(committing) as session:
        record = SourceRecord(
            account_id=account_id,
            connection_id=connection_id,
            source="ontraport",
            kind="transaction",
            external_id="78",
            payload={},
            payload_hash="h",
            status=RecordStatus.mapped,
        )
        session.add(record)
        await session.flush()
        for kind, body in ((DocumentKind.invoice, invoice), (DocumentKind.payment, payment("200"))):
            session.add(
                Document(
                    account_id=account_id,
                    record_id=record.id,
                    xero_connection_id=connection_id,
                    kind=kind,
                    mapping_version="test",
                    request_body=body,
                    fingerprint=uuid.uuid4().hex * 2,
                    idempotency_key=f"lb:test:{uuid.uuid4()}",
                )
            )
    limiter = RateLimiter(redis, settings.queue.prefix)

    def client_for(connection: Connection) -> XeroClient:
        return XeroClient(
            xero.http, settings.xero, limiter, xero.tokens.provider(committing, connection.id), tenant_id
        )

    runs = PublishingRuns(committing, client_for, gather=0)
    await runs.publish(connection_id, max_seconds=30)
    async with committing() as session:
        stored = await session.get(SourceRecord, record.id)
        failed = await session.scalar(select(Document).where(Document.kind == DocumentKind.payment))
    assert stored is not None and stored.status is RecordStatus.failed
    assert stored.reason is not None
    assert stored.reason.startswith("Xero rejected the payment:")
    assert stored.reason.endswith("already in Xero: invoice OP-78 (a retry sends only what failed)")

    # The gateway's payment account fixed, the mapper replaces the refused payment (the invoice is
    # published, so the core asks for the payment alone); the next run sends just that.
    async with unit_of_work(committing) as session:
        old = await session.get(Document, failed.id if failed else None)
        assert old is not None
        old.status = DocumentStatus.superseded
        session.add(
            Document(
                account_id=account_id,
                record_id=record.id,
                xero_connection_id=connection_id,
                kind=DocumentKind.payment,
                mapping_version="test",
                request_body=payment("615"),
                fingerprint=uuid.uuid4().hex * 2,
                idempotency_key=f"lb:test:{uuid.uuid4()}",
            )
        )
    counters = xero.app.state.sandbox.orgs[tenant_id].counters
    invoice_calls = sum(n for endpoint, n in counters.by_endpoint.items() if "Invoices" in endpoint)
    await runs.publish(connection_id, max_seconds=30)
    assert sum(n for endpoint, n in counters.by_endpoint.items() if "Invoices" in endpoint) == invoice_calls
    organisation = xero.app.state.sandbox.orgs[tenant_id]
    (sent,) = [i for i in organisation.invoices.values() if i["InvoiceNumber"] == "OP-78"]
    assert sent["Status"] == "PAID"
    async with committing() as session:
        final = await session.get(SourceRecord, record.id)
    assert final is not None and final.status is RecordStatus.synced
