"""Fixtures for the publisher's tests: the Xero sandbox in process, and an organisation connected to it."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.clients.xero import RateLimiter, TokenService, TokenSet, XeroClient, XeroOAuth
from ledgerbridge.common.crypto import Cipher
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import (
    Account,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Document,
    DocumentKind,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.settings import Settings
from ledgerbridge.sandbox.xero.app import create_app as create_xero
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig

BASE = "http://xero.test"


@dataclass
class XeroSide:
    app: FastAPI
    http: httpx.AsyncClient
    tokens: TokenService
    cipher: Cipher

    def client_for(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        limiter: RateLimiter,
        tenant_id: str,
    ) -> Callable[[Connection], XeroClient]:
        """The publisher's ``client_for``: each connection's client to this sandbox's ``tenant_id``."""

        def client(connection: Connection) -> XeroClient:
            assert connection.xero_tenant_id
            return XeroClient(
                self.http, settings.xero, limiter, self.tokens.provider(sessions, connection.id), tenant_id
            )

        return client


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


async def xero_connection(
    sessions: async_sessionmaker[AsyncSession], side: XeroSide, *, last_refreshed_days_ago: float
) -> tuple[uuid.UUID, uuid.UUID, str]:
    """A new account with a new sandbox organisation connected: account id, connection id, tenant id."""
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


async def ontraport_source(
    session: AsyncSession, account_id: uuid.UUID, xero_connection_id: uuid.UUID
) -> Connection:
    """An ONTRAPORT connection of the account linked to the organisation (flushed: it has its id)."""
    source = Connection(
        account_id=account_id,
        kind=ConnectionKind.ontraport,
        status=ConnectionStatus.active,
        credentials=b"x",
        xero_connection_id=xero_connection_id,
    )
    session.add(source)
    await session.flush()
    return source


def source_record(
    account_id: uuid.UUID, connection_id: uuid.UUID, external_id: str, *, status: RecordStatus, **fields: Any
) -> SourceRecord:
    """A stored ONTRAPORT transaction; its payload is empty, for the publisher reads only its documents."""
    return SourceRecord(
        account_id=account_id,
        connection_id=connection_id,
        source="ontraport",
        kind="transaction",
        external_id=external_id,
        payload={},
        payload_hash="h",
        status=status,
        **fields,
    )


def stored_document(
    account_id: uuid.UUID,
    record_id: uuid.UUID,
    xero_connection_id: uuid.UUID,
    kind: DocumentKind,
    body: dict[str, Any],
    **fields: Any,
) -> Document:
    """A document of a record as the mapper would store it (pending unless ``fields`` say otherwise)."""
    fields.setdefault("fingerprint", uuid.uuid4().hex * 2)
    return Document(
        account_id=account_id,
        record_id=record_id,
        xero_connection_id=xero_connection_id,
        kind=kind,
        mapping_version="test",
        request_body=body,
        idempotency_key=f"lb:test:{uuid.uuid4()}",
        **fields,
    )


def invoice_body(
    number: str, contact: dict[str, Any], *, status: str = "AUTHORISED", account_code: str = "200"
) -> dict[str, Any]:
    """A sale's invoice as the mapper would send it: one course at 100 plus GST."""
    return {
        "Type": "ACCREC",
        "InvoiceNumber": number,
        "Contact": contact,
        "Status": status,
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
