"""Onport records, vendor mappings and cached Xero contacts, always within one account."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import (
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Mapping,
    MappingKind,
    RecordStatus,
    SourceRecord,
    XeroReferenceCache,
)

SOURCE = "onport"
KIND = "purchase_invoice"


def _replenishment() -> ColumnElement[bool]:
    # automated_replenishment is a replenishment too; everything else (automated_/adjusted_dropship) a dropship.
    return func.coalesce(SourceRecord.payload["purchase"]["purchaseType"].astext, "").like("%replenishment")


def _filtered(account_id: uuid.UUID, status: RecordStatus | None, kind: str | None) -> Select[Any]:
    query = select(SourceRecord).where(
        SourceRecord.account_id == account_id, SourceRecord.source == SOURCE, SourceRecord.kind == KIND
    )
    if status is not None:
        query = query.where(SourceRecord.status == status)
    if kind == "replenishment":
        query = query.where(_replenishment())
    elif kind == "dropship":
        query = query.where(~_replenishment())
    return query


async def list_invoices(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    status: RecordStatus | None,
    kind: str | None,
    offset: int,
    limit: int,
) -> tuple[list[SourceRecord], int]:
    query = _filtered(account_id, status, kind)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(SourceRecord.source_date.desc().nulls_last(), SourceRecord.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total or 0)


async def get_invoice(
    session: AsyncSession, account_id: uuid.UUID, record_id: uuid.UUID, *, for_update: bool = False
) -> SourceRecord | None:
    query = select(SourceRecord).where(
        SourceRecord.id == record_id,
        SourceRecord.account_id == account_id,
        SourceRecord.source == SOURCE,
        SourceRecord.kind == KIND,
    )
    if for_update:
        # FOR NO KEY UPDATE: enough to serialise with the mapper, and our outbox/event inserts (which
        # reference this row) do not wait on it as they would on a plain FOR UPDATE.
        query = query.with_for_update(key_share=True)
    record: SourceRecord | None = await session.scalar(query)
    return record


async def vendors_on_records(session: AsyncSession, account_id: uuid.UUID) -> list[dict[str, Any]]:
    """Each vendor seen on the account's stored invoices, as on its most recently stored invoice, with
    that invoice's ``purchaseType`` under ``_purchaseType`` (Onport's vendor record has no kind)."""
    vendor = SourceRecord.payload["vendor"]
    # Inline literals, not bind parameters: DISTINCT ON must match ORDER BY textually, and each use of a
    # bound path would get a parameter of its own.
    vendor_id = func.jsonb_extract_path_text(
        SourceRecord.payload, literal_column("'vendor'"), literal_column("'id'")
    )
    rows = await session.execute(
        select(vendor, SourceRecord.payload["purchase"]["purchaseType"])
        .where(
            SourceRecord.account_id == account_id,
            SourceRecord.source == SOURCE,
            SourceRecord.kind == KIND,
            vendor_id.isnot(None),
        )
        .order_by(vendor_id, SourceRecord.updated_at.desc())
        .ext(distinct_on(vendor_id))
    )
    return [{**row, "_purchaseType": kind} for row, kind in rows.all() if isinstance(row, dict)]


async def vendor_links(session: AsyncSession, account_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    rows = await session.scalars(
        select(Mapping).where(Mapping.account_id == account_id, Mapping.kind == MappingKind.vendor)
    )
    return {mapping.source_id: mapping.target for mapping in rows.all()}


async def onport_connections(session: AsyncSession, account_id: uuid.UUID) -> list[Connection]:
    rows = await session.scalars(
        select(Connection)
        .where(
            Connection.account_id == account_id,
            Connection.kind == ConnectionKind.onport,
            Connection.status == ConnectionStatus.active,
        )
        .order_by(Connection.created_at)
    )
    return list(rows.all())


async def cached_contacts(session: AsyncSession, account_id: uuid.UUID) -> dict[str, str]:
    """ContactID → Name from the reference caches of the account's Xero organisations (contacts are
    only there once someone fetched them)."""
    rows = await session.scalars(
        select(XeroReferenceCache.data)
        .join(Connection, Connection.id == XeroReferenceCache.connection_id)
        .where(Connection.account_id == account_id, Connection.kind == ConnectionKind.xero)
    )
    names: dict[str, str] = {}
    for data in rows.all():
        for contact in (data or {}).get("contacts") or []:
            if isinstance(contact, dict) and contact.get("ContactID"):
                names[str(contact["ContactID"]).lower()] = str(contact.get("Name") or "")
    return names
