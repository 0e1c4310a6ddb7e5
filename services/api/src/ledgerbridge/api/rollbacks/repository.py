"""The records a rollback selection covers, and their documents, always within one account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.rollbacks.schemas import RollbackSelection
from ledgerbridge.common.models import Document, Import, SourceRecord


def _day(value: Any, end: bool = False) -> datetime | None:
    if not isinstance(value, str):
        return None
    day = date.fromisoformat(value) + (timedelta(days=1) if end else timedelta())
    return datetime.combine(day, time.min, tzinfo=UTC)


async def find_import(session: AsyncSession, account_id: uuid.UUID, import_id: uuid.UUID) -> Import | None:
    return await session.scalar(select(Import).where(Import.id == import_id, Import.account_id == account_id))


def selected(account_id: uuid.UUID, wanted: RollbackSelection, job: Import | None) -> Select[Any]:
    query = select(SourceRecord).where(SourceRecord.account_id == account_id)
    if job is not None:
        # An import's records: from its connection, stored while it ran, within its date range.
        query = query.where(
            SourceRecord.connection_id == job.connection_id, SourceRecord.created_at >= job.created_at
        )
        if job.finished_at is not None:
            query = query.where(SourceRecord.created_at <= job.finished_at)
        since, until = _day(job.params.get("since")), _day(job.params.get("until"), end=True)
        if since is not None:
            query = query.where(SourceRecord.source_date >= since)
        if until is not None:
            query = query.where(SourceRecord.source_date < until)
    if wanted.since is not None:
        query = query.where(SourceRecord.source_date >= wanted.since)
    if wanted.until is not None:
        query = query.where(SourceRecord.source_date < wanted.until)
    if wanted.record_ids:
        query = query.where(SourceRecord.id.in_(wanted.record_ids))
    if wanted.source is not None:
        query = query.where(SourceRecord.source == wanted.source)
    return query


async def count(session: AsyncSession, query: Select[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def records(
    session: AsyncSession, query: Select[Any], limit: int, *, lock: bool
) -> Sequence[SourceRecord]:
    ordered = query.order_by(SourceRecord.source_date, SourceRecord.id).limit(limit)
    if lock:
        # A second run for the same records waits here, then finds their rollback already queued.
        ordered = ordered.with_for_update(key_share=True)
    return (await session.scalars(ordered)).all()


async def documents_of(
    session: AsyncSession, account_id: uuid.UUID, record_ids: Sequence[uuid.UUID]
) -> Sequence[Document]:
    if not record_ids:
        return []
    return (
        await session.scalars(
            select(Document)
            .where(Document.account_id == account_id, Document.record_id.in_(record_ids))
            .order_by(Document.created_at, Document.id)
        )
    ).all()
