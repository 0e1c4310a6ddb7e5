"""Storing fetched source records: new or changed payloads become work for the mapper, unchanged ones none."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.sales import needs_purchases
from ledgerbridge.common.models import Connection, RecordStatus, SourceRecord
from ledgerbridge.common.records.lifecycle import move, queue_mapping

PurchaseReader = Callable[[list[int]], Awaitable[dict[int, list[dict[str, Any]]]]]
"""Reads the raw Purchase objects of these transactions, by transaction id."""


def payload_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _source_date(transaction: dict[str, Any]) -> datetime | None:
    raw = str(transaction.get("date") or "")
    return datetime.fromtimestamp(int(raw), UTC) if raw.isdigit() else None


async def _existing(session: AsyncSession, connection: Connection, ids: list[str]) -> dict[str, SourceRecord]:
    """The connection's records of these transactions, locked like every record change."""
    rows = await session.scalars(
        select(SourceRecord)
        .where(
            SourceRecord.account_id == connection.account_id,
            SourceRecord.source == "ontraport",
            SourceRecord.kind == "transaction",
            SourceRecord.external_id.in_(ids),
        )
        .with_for_update(key_share=True)
    )
    return {record.external_id: record for record in rows.all()}


async def _purchases_needed(
    pending: list[tuple[dict[str, Any], SourceRecord | None]], purchases: PurchaseReader
) -> dict[int, list[dict[str, Any]]]:
    """Purchases of the new or changed transactions whose coupon only they can tell, unless already
    stored: nothing else costs a call, so an idle poll stays one request."""
    wanted = [
        int(transaction["id"])
        for transaction, record in pending
        if needs_purchases(transaction) and (record is None or "purchases" not in record.payload)
    ]
    return await purchases(wanted) if wanted else {}


async def store_transactions(
    session: AsyncSession,
    connection: Connection,
    transactions: list[dict[str, Any]],
    contacts: dict[int, dict[str, Any]],
    purchases: PurchaseReader,
) -> int:
    """Upsert ONTRAPORT transactions as source records; returns how many need mapping."""
    if not transactions:
        return 0
    ids = [str(transaction["id"]) for transaction in transactions]
    existing = await _existing(session, connection, ids)
    pending: list[tuple[dict[str, Any], SourceRecord | None]] = []
    for transaction in transactions:
        record = existing.get(str(transaction["id"]))
        if record is None or record.payload_hash != payload_hash(transaction):
            pending.append((transaction, record))
    fetched = await _purchases_needed(pending, purchases)
    changed: list[SourceRecord] = []
    for transaction, record in pending:
        contact_id = str(transaction.get("contact_id") or "")
        contact = contacts.get(int(contact_id)) if contact_id.isdigit() else None
        # The contact (and the purchases, when the coupon is only there) are stored with the
        # transaction so the mapper needs no network; only the transaction decides whether anything
        # changed (a renamed contact does not re-sync old sales).
        payload: dict[str, Any] = {"transaction": transaction, "contact": contact}
        lines = fetched.get(int(transaction["id"]))
        if lines is None and record is not None:
            lines = record.payload.get("purchases")
        if lines is not None:
            payload["purchases"] = lines
        digest = payload_hash(transaction)
        if record is None:
            record = SourceRecord(
                id=uuid.uuid4(),
                account_id=connection.account_id,
                connection_id=connection.id,
                source="ontraport",
                kind="transaction",
                external_id=str(transaction["id"]),
                payload=payload,
                payload_hash=digest,
                status=RecordStatus.received,
                source_date=_source_date(transaction),
            )
            # Its id is set here, so its history can name it before the page's one flush inserts both.
            session.add(record)
            move(session, record, RecordStatus.received, "Fetched from ONTRAPORT")
        else:
            record.payload = {**payload, "contact": contact or record.payload.get("contact")}
            record.payload_hash = digest
            move(
                session, record, RecordStatus.received, "Changed in ONTRAPORT", detail={"was": record.reason}
            )
        changed.append(record)
    await queue_mapping(session, changed)
    return len(changed)
