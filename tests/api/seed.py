"""Rows the API reads but does not write (connections, records, documents), stored as the workers would."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common import xero_reference
from ledgerbridge.common.crypto import webhook_token_hash
from ledgerbridge.common.models import (
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Document,
    DocumentKind,
    DocumentStatus,
    OutboxMessage,
    RecordEvent,
    RecordStatus,
    SourceRecord,
)

Sessions = async_sessionmaker[AsyncSession]
STRIPE_AUD_THEME = "5b9f0a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


def worked_offer() -> dict[str, Any]:
    """SPEC §4 worked example: Pro Course 200, 2 x Workbook 25, SPRING20 -40, Standard shipping 10, GST 10%."""
    return {
        "products": [
            {
                "id": 1,
                "name": "Pro Course",
                "quantity": 1,
                "price": "200.00",
                "taxable": 1,
                "total": "200.00",
            },
            {"id": 9, "name": "Workbook", "quantity": 2, "price": "25.00", "taxable": 1, "total": "50.00"},
        ],
        "taxes": [{"id": 4, "name": "GST", "rate": "10", "taxShipping": 1, "taxTotal": "22.00"}],
        "shipping": {"id": 2, "name": "Standard", "price": "10.00"},
        "coupon": {"id": 7, "code": "SPRING20", "discount": "40.00"},
    }


def worked_transaction(transaction_id: str = "1001", **fields: str) -> dict[str, Any]:
    """Transaction 1001 of the worked example, as ONTRAPORT's API returns it (numbers as strings)."""
    return {
        "id": transaction_id,
        "contact_id": "55",
        "contact_name": "Jane Smith",
        "date": "1717200000",
        "status": "1",
        "subtotal": "250.00",
        "tax": "22.00",
        "shipping": "10.00",
        "total": "242.00",
        "gateway_id": "3",
        "invoice_id": "77",
        "order_id": "0",
        "external_order_id": "",
        "offer_data": json.dumps(worked_offer()),
        **fields,
    }


WORKED_CONTACT = {
    "id": "55",
    "firstname": "Jane",
    "lastname": "Smith",
    "email": "jane@example.com.au",
    "country": "AU",
}

# The AU organisation's accounts and tax rates the worked example posts to.
AU_REFERENCE: dict[str, Any] = {
    "accounts": [{"Code": code, "Status": "ACTIVE"} for code in ("200", "210", "260", "455", "610")],
    "tax_rates": [
        {"TaxType": "OUTPUT", "EffectiveRate": "10"},
        {"TaxType": "EXEMPTOUTPUT", "EffectiveRate": "0"},
    ],
    "branding_themes": [{"BrandingThemeID": STRIPE_AUD_THEME}],
    "currencies": [{"Code": "AUD"}],
}


async def add_connection(
    sessions: Sessions,
    account_id: uuid.UUID,
    kind: ConnectionKind,
    *,
    status: ConnectionStatus = ConnectionStatus.active,
    **fields: Any,
) -> uuid.UUID:
    if fields.get("webhook_token"):
        # Stored hashed, as the API stores it; tests speak the token in the URL.
        fields["webhook_token"] = webhook_token_hash(fields["webhook_token"])
    async with sessions() as session, session.begin():
        connection = Connection(
            account_id=account_id, kind=kind, status=status, credentials=b"", name=str(kind), **fields
        )
        session.add(connection)
        await session.flush()
        return connection.id


async def add_record(
    sessions: Sessions,
    account_id: uuid.UUID,
    connection_id: uuid.UUID,
    external_id: str,
    *,
    status: RecordStatus = RecordStatus.received,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
    source: str = "ontraport",
    created_at: datetime | None = None,
) -> uuid.UUID:
    body = payload if payload is not None else {"transaction": worked_transaction(external_id)}
    async with sessions() as session, session.begin():
        record = SourceRecord(
            account_id=account_id,
            connection_id=connection_id,
            source=source,
            kind="transaction" if source == "ontraport" else "purchase_invoice",
            external_id=external_id,
            payload=body,
            payload_hash=hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest(),
            status=status,
            reason=reason,
            source_date=datetime(2024, 6, 1, tzinfo=UTC),
        )
        if created_at is not None:
            record.created_at = created_at
        session.add(record)
        await session.flush()
        session.add(
            RecordEvent(
                account_id=account_id,
                record_id=record.id,
                from_status=None,
                to_status="received",
                reason=None,
            )
        )
        if status is not RecordStatus.received:
            session.add(
                RecordEvent(
                    account_id=account_id,
                    record_id=record.id,
                    from_status="received",
                    to_status=str(status),
                    reason=reason,
                )
            )
        return record.id


async def add_document(
    sessions: Sessions,
    account_id: uuid.UUID,
    record_id: uuid.UUID,
    xero_connection_id: uuid.UUID,
    kind: DocumentKind,
    *,
    status: DocumentStatus,
    body: dict[str, Any] | None = None,
    xero_id: str | None = None,
    xero_number: str | None = None,
    last_error: str | None = None,
    attempts: int = 0,
) -> uuid.UUID:
    request_body = body if body is not None else {"Type": "ACCREC", "InvoiceNumber": "OP-1001"}
    async with sessions() as session, session.begin():
        document = Document(
            account_id=account_id,
            record_id=record_id,
            xero_connection_id=xero_connection_id,
            kind=kind,
            mapping_version="test/1",
            request_body=request_body,
            fingerprint=hashlib.sha256(json.dumps(request_body, sort_keys=True).encode()).hexdigest(),
            idempotency_key=f"lb:{uuid.uuid4()}",
            status=status,
            xero_id=xero_id,
            xero_number=xero_number,
            amount=Decimal("242.00") if status is DocumentStatus.published else None,
            attempts=attempts,
            last_error=last_error,
            published_at=datetime.now(UTC) if status is DocumentStatus.published else None,
        )
        session.add(document)
        await session.flush()
        return document.id


async def cache_xero_reference(sessions: Sessions, xero_connection_id: uuid.UUID) -> None:
    async with sessions() as session, session.begin():
        await xero_reference.store(session, xero_connection_id, AU_REFERENCE)


async def records_to_map(sessions: Sessions) -> list[str]:
    """Ids of the records handed to the mapper, one or a batch per message, oldest first."""
    ids: list[str] = []
    for message in await outbox(sessions, "record.map"):
        ids.append(message["record_id"])
    for message in await outbox(sessions, "records.map"):
        ids.extend(message["record_ids"])
    return ids


async def outbox(sessions: Sessions, message_type: str) -> list[dict[str, Any]]:
    """Bodies of the outbox messages of one type, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.message_type == message_type).order_by(OutboxMessage.id)
        )
        return [dict(row.body["body"], account_id=row.account_id) for row in rows]
