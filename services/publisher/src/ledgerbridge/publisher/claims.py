"""Claiming documents for a send, and giving them back.

A claim marks documents ``sending`` and commits before any call to Xero, so a crash mid-send leaves them
``sending``: their outcome is unknown, and they are looked up in Xero before anything is created again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import (
    Connection,
    Document,
    DocumentKind,
    DocumentStatus,
    PollCursor,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.publisher.claimed import Claimed
from ledgerbridge.publisher.kinds import KindSpec

BATCH_SIZE = 50  # Xero takes at most 50 documents per create call
UNFINISHED = (DocumentStatus.pending, DocumentStatus.sending, DocumentStatus.failed)


def ready(spec: KindSpec) -> ColumnElement[bool]:
    """SQL condition: a document of this kind has everything it waits for."""
    other = aliased(Document)
    conditions: list[ColumnElement[bool]] = []
    for kind in spec.needs_published:
        of_kind = and_(other.record_id == Document.record_id, other.kind == kind)
        conditions.append(
            or_(
                exists(select(other.id).where(of_kind, other.status == DocumentStatus.published)),
                # A record without one at all: a summarised sale's or a day's refunds credit note has
                # no invoice of its own (the day's summary invoice is another record's).
                not_(exists(select(other.id).where(of_kind, other.status != DocumentStatus.superseded))),
            )
        )
    if spec.after:
        conditions.append(
            not_(
                exists(
                    select(other.id).where(
                        other.record_id == Document.record_id,
                        other.kind.in_(spec.after),
                        other.status.in_(UNFINISHED),
                        other.id != Document.id,
                    )
                )
            )
        )
    return and_(Document.kind == spec.kind, *conditions)


def _detached(document: Document) -> Claimed:
    return Claimed(
        document.id,
        document.record_id,
        document.kind,
        dict(document.request_body),
        document.idempotency_key,
        document.target_id,
    )


async def claim(
    sessions: async_sessionmaker[AsyncSession], connection_id: uuid.UUID, spec: KindSpec
) -> list[Claimed]:
    """Up to one batch of this kind's ready documents, oldest first, marked ``sending`` and committed."""
    async with unit_of_work(sessions) as session:
        documents = (
            await session.scalars(
                select(Document)
                .where(
                    Document.xero_connection_id == connection_id,
                    Document.status == DocumentStatus.pending,
                    ready(spec),
                )
                .order_by(Document.created_at, Document.id)
                .limit(BATCH_SIZE)
                # Another run skips what this one holds; key_share leaves inserts that reference them free.
                .with_for_update(of=Document, skip_locked=True, key_share=True)
            )
        ).all()
        for document in documents:
            document.status = DocumentStatus.sending
            document.attempts += 1
        return [_detached(d) for d in documents]


async def pending_kinds(
    sessions: async_sessionmaker[AsyncSession], connection_id: uuid.UUID
) -> set[DocumentKind]:
    """The kinds this organisation has documents pending of, ready or not: a pass claims only those,
    instead of asking about every kind twice."""
    async with sessions() as session:
        kinds = await session.scalars(
            select(Document.kind)
            .where(Document.xero_connection_id == connection_id, Document.status == DocumentStatus.pending)
            .distinct()
        )
        return set(kinds.all())


async def fills_a_batch(
    sessions: async_sessionmaker[AsyncSession], connection_id: uuid.UUID, spec: KindSpec
) -> bool:
    """Whether a whole batch of this kind is ready, or nothing more is on its way for the organisation:
    no document of the kind waiting on an earlier one still to be sent (an invoice on its contact), no
    poll of a source posting to it under way, no record of one waiting to be mapped."""
    async with sessions() as session:
        ready_now = await session.scalar(
            select(func.count()).select_from(
                select(Document.id)
                .where(
                    Document.xero_connection_id == connection_id,
                    Document.status == DocumentStatus.pending,
                    ready(spec),
                )
                .limit(BATCH_SIZE)
                .subquery()
            )
        )
        if (ready_now or 0) >= BATCH_SIZE or not ready_now:
            return True
        waiting = await session.scalar(
            select(
                exists(
                    select(Document.id).where(
                        Document.xero_connection_id == connection_id,
                        Document.kind == spec.kind,
                        Document.status == DocumentStatus.pending,
                        not_(ready(spec)),
                    )
                )
            )
        )
        if waiting:
            # Ready once the earlier kind goes, in this pass or the next: the part batch waits to go
            # with them (a permanently blocked one is sent by a later pass once its hold is up).
            return False
        sources = select(Connection.id).where(Connection.xero_connection_id == connection_id)
        # A poll holds its cursor row locked until its pages commit: a row this share lock must skip is
        # a poll under way, whose records the mapper gets next.
        cursors = await session.scalar(
            select(func.count()).select_from(PollCursor).where(PollCursor.connection_id.in_(sources))
        )
        free = len(
            (
                await session.scalars(
                    select(PollCursor.id)
                    .where(PollCursor.connection_id.in_(sources))
                    .with_for_update(read=True, skip_locked=True)
                )
            ).all()
        )
        if free < (cursors or 0):
            return False
        mapping = await session.scalar(
            select(
                exists(
                    select(SourceRecord.id)
                    .join(Connection, Connection.id == SourceRecord.connection_id)
                    .where(
                        Connection.xero_connection_id == connection_id,
                        SourceRecord.status == RecordStatus.received,
                    )
                )
            )
        )
        return not mapping


async def arriving_at(
    sessions: async_sessionmaker[AsyncSession], connection_id: uuid.UUID, kind: DocumentKind, within: float
) -> int:
    """How many documents of this kind the organisation got in the last ``within`` seconds that are still
    unsent (at most a batch's worth): how fast a backlog is flowing in."""
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(
                select(Document.id)
                .where(
                    Document.xero_connection_id == connection_id,
                    Document.kind == kind,
                    Document.status.in_((DocumentStatus.pending, DocumentStatus.sending)),
                    Document.created_at > func.now() - timedelta(seconds=within),
                )
                .limit(BATCH_SIZE)
                .subquery()
            )
        )
        return int(count or 0)


async def stale_claims(
    sessions: async_sessionmaker[AsyncSession], connection_id: uuid.UUID, older_than: timedelta
) -> list[Claimed]:
    """Documents left ``sending`` by a run that did not finish: their outcome is unknown."""
    async with sessions() as session:
        stale = (
            await session.scalars(
                select(Document).where(
                    Document.xero_connection_id == connection_id,
                    Document.status == DocumentStatus.sending,
                    Document.updated_at < datetime.now(UTC) - older_than,
                )
            )
        ).all()
        return [_detached(d) for d in stale]


async def release(sessions: async_sessionmaker[AsyncSession], batch: Sequence[Claimed]) -> None:
    """Back to pending: nothing was sent (a pause, a blip), so the next run sends the batch again."""
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(Document)
            .where(Document.id.in_([d.id for d in batch]), Document.status == DocumentStatus.sending)
            .values(status=DocumentStatus.pending)
        )
