"""Source records, their documents and history, always within one account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
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

# The documents a person looks for in Xero: the sales invoice or the bill the record became.
LINKED_KINDS = (DocumentKind.invoice, DocumentKind.bill)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(
    account_id: uuid.UUID, source: str | None, status: RecordStatus | None, q: str | None
) -> Select[Any]:
    query = select(SourceRecord).where(SourceRecord.account_id == account_id)
    if source is not None:
        query = query.where(SourceRecord.source == source)
    if status is not None:
        query = query.where(SourceRecord.status == status)
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
    *,
    source: str | None,
    status: RecordStatus | None,
    q: str | None,
    offset: int,
    limit: int,
) -> tuple[list[SourceRecord], int]:
    query = _filtered(account_id, source, status, q)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(SourceRecord.created_at.desc(), SourceRecord.id.desc()).offset(offset).limit(limit)
    )
    records: list[SourceRecord] = list(rows)
    return records, int(total or 0)


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
