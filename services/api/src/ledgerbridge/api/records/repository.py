"""Source records, their documents and history, always within one account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import (
    Document,
    DocumentKind,
    DocumentStatus,
    RecordEvent,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.models.records import SUMMARY_KINDS

# The documents a person looks for in Xero: the sales invoice or the bill the record became.
LINKED_KINDS = (DocumentKind.invoice, DocumentKind.bill)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class RecordFilter:
    """Which of an account's records a list or a bulk retry covers; ``None`` leaves a field open."""

    source: str | None = None
    statuses: tuple[RecordStatus, ...] = ()
    reason_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    """By the source's own date (the sale's or the invoice's), ``until`` excluded."""
    gateway: int | None = None
    """ONTRAPORT gateway: a sale's ``gateway_id``, or a daily summary's (sales or refunds)."""
    q: str | None = None


NEWEST_FIRST = (
    SourceRecord.source_date.desc().nulls_last(),
    SourceRecord.created_at.desc(),
    SourceRecord.id.desc(),
)
"""The source's own date first (an import stores old sales late), then arrival, then id: a stable order."""


def _filtered(account_id: uuid.UUID, where: RecordFilter) -> Select[Any]:
    query = select(SourceRecord).where(SourceRecord.account_id == account_id)
    if where.source is not None:
        query = query.where(SourceRecord.source == where.source)
    if where.statuses:
        query = query.where(SourceRecord.status.in_(where.statuses))
    if where.reason_code is not None:
        query = query.where(SourceRecord.reason_code == where.reason_code)
    if where.since is not None:
        query = query.where(SourceRecord.source_date >= where.since)
    if where.until is not None:
        query = query.where(SourceRecord.source_date < where.until)
    if where.gateway is not None:
        gateway = str(where.gateway)
        query = query.where(
            or_(
                SourceRecord.payload["transaction"]["gateway_id"].astext == gateway,
                and_(
                    SourceRecord.kind.in_(SUMMARY_KINDS), SourceRecord.payload["gateway_id"].astext == gateway
                ),
            )
        )
    q = where.q
    if q:
        pattern = f"%{_escape_like(q)}%"
        query = query.where(
            or_(
                SourceRecord.external_id.ilike(pattern, escape="\\"),
                SourceRecord.reason.ilike(pattern, escape="\\"),
            )
        )
    return query


async def list_records(
    session: AsyncSession,
    account_id: uuid.UUID,
    where: RecordFilter,
    *,
    offset: int,
    limit: int,
) -> tuple[list[SourceRecord], int]:
    query = _filtered(account_id, where)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(*NEWEST_FIRST).offset(offset).limit(limit))
    records: list[SourceRecord] = list(rows)
    return records, int(total or 0)


async def lock_matching(
    session: AsyncSession, account_id: uuid.UUID, where: RecordFilter, limit: int
) -> tuple[list[SourceRecord], int]:
    """Up to ``limit`` matching records, oldest first and locked, and how many match in all."""
    query = _filtered(account_id, where)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(SourceRecord.source_date.nulls_first(), SourceRecord.created_at, SourceRecord.id)
        .limit(limit)
        .with_for_update(key_share=True)
    )
    return list(rows), int(total or 0)


async def get_record(
    session: AsyncSession, account_id: uuid.UUID, record_id: uuid.UUID, *, for_update: bool = False
) -> SourceRecord | None:
    query = select(SourceRecord).where(SourceRecord.id == record_id, SourceRecord.account_id == account_id)
    if for_update:
        query = query.with_for_update(key_share=True)
    record: SourceRecord | None = await session.scalar(query)
    return record


async def documents_of(session: AsyncSession, record_id: uuid.UUID) -> list[Document]:
    rows = await session.scalars(
        select(Document).where(Document.record_id == record_id).order_by(Document.created_at, Document.id)
    )
    return list(rows)


async def events_of(session: AsyncSession, record_id: uuid.UUID) -> list[RecordEvent]:
    rows = await session.scalars(
        select(RecordEvent).where(RecordEvent.record_id == record_id).order_by(RecordEvent.id)
    )
    return list(rows)


async def linked_documents(
    session: AsyncSession, record_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Document]:
    """Per record, its current invoice or bill: the published one, else the newest not superseded."""
    if not record_ids:
        return {}
    rows = await session.scalars(
        select(Document)
        .where(
            Document.record_id.in_(record_ids),
            Document.kind.in_(LINKED_KINDS),
            Document.status != DocumentStatus.superseded,
        )
        .order_by(
            Document.record_id,
            (Document.status == DocumentStatus.published).desc(),
            Document.created_at.desc(),
        )
        .ext(distinct_on(Document.record_id))
    )
    return {document.record_id: document for document in rows}
