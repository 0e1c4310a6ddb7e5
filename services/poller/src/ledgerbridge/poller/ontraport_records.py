"""Storing fetched source records: new or changed payloads become work for the mapper, unchanged ones none."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import Connection, RecordStatus, SourceRecord
from ledgerbridge.common.records.lifecycle import move, queue_mapping


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


async def store_transactions(
    session: AsyncSession,
    connection: Connection,
    transactions: list[dict[str, Any]],
    contacts: dict[int, dict[str, Any]],
) -> int:
    """Upsert ONTRAPORT transactions as source records; returns how many need mapping."""
    if not transactions:
        return 0
    ids = [str(transaction["id"]) for transaction in transactions]
    existing = await _existing(session, connection, ids)
    changed: list[SourceRecord] = []
    for transaction in transactions:
        contact_id = str(transaction.get("contact_id") or "")
        contact = contacts.get(int(contact_id)) if contact_id.isdigit() else None
        # The contact is stored with the transaction so the mapper needs no network; only the
        # transaction decides whether anything changed (a renamed contact does not re-sync old sales).
        payload = {"transaction": transaction, "contact": contact}
        digest = payload_hash(transaction)
        record = existing.get(str(transaction["id"]))
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
            session.add(record)
            await session.flush()
            move(session, record, RecordStatus.received, "Fetched from ONTRAPORT")
        elif record.payload_hash != digest:
            record.payload = {**payload, "contact": contact or record.payload.get("contact")}
            record.payload_hash = digest
            move(
                session, record, RecordStatus.received, "Changed in ONTRAPORT", detail={"was": record.reason}
            )
        else:
            continue
        changed.append(record)
    await queue_mapping(session, changed)
    return len(changed)
