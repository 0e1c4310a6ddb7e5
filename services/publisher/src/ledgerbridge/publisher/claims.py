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
    """Up to one batch of this kind's ready documents, oldest first, marked ``sending`` and committed.

    Contacts count by person, not by document (see :func:`_contact_batch`); every other kind's batch is
    at most 50 documents, one element each."""
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
                .limit(CONTACTS_READ_AHEAD if spec.kind is DocumentKind.contact else BATCH_SIZE)
                # Another run skips what this one holds; key_share leaves inserts that reference them free.
                .with_for_update(of=Document, skip_locked=True, key_share=True)
            )
        ).all()
        if spec.kind is DocumentKind.contact:
            documents = await _contact_batch(session, connection_id, documents)
        for document in documents:
            document.status = DocumentStatus.sending
            document.attempts += 1
        return [_detached(d) for d in documents]


CONTACTS_READ_AHEAD = 500
"""Contact documents a claim looks at to find a whole batch of people Xero does not have yet."""


async def _contact_batch(
    session: AsyncSession, connection_id: uuid.UUID, documents: Sequence[Document]
) -> list[Document]:
    """The documents of the first 50 people Xero does not have from us yet, and of up to 50 it has.

    Every sale carries its buyer's contact and a batch sends each person once: counted by document, a
    batch with a repeat buyer in it, or one whose contact an earlier batch made, creates fewer than 50.
    A person already made costs no create (at most an update, if the details changed, in one call of at
    most 50), so the batch reads on until it has 50 to create. The rows read and not taken stay pending
    (their locks end with this claim's commit)."""
    numbers = {document.id: str(document.request_body.get("ContactNumber") or "") for document in documents}
    made = set(
        (
            await session.scalars(
                select(Document.xero_number)
                .where(
                    Document.xero_connection_id == connection_id,
                    Document.kind == DocumentKind.contact,
                    Document.status.in_((DocumentStatus.published, DocumentStatus.rolled_back)),
                    Document.xero_number.in_(set(numbers.values())),
                )
                .distinct()
            )
        ).all()
    )
    new: set[str] = set()
    known: set[str] = set()
    taken: list[Document] = []
    for document in documents:
        number = numbers[document.id]
        people = known if number in made else new
        if number not in people:
            if len(people) >= BATCH_SIZE:
                continue
            people.add(number)
        taken.append(document)
    return taken


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
        ready_now = await _up_to_a_batch(
            session,
            Document.xero_connection_id == connection_id,
            Document.status == DocumentStatus.pending,
            ready(spec),
        )
        if ready_now >= BATCH_SIZE or not ready_now:
            return True
        earlier = (*spec.needs_published, *spec.after)
        if earlier:
            blocker = aliased(Document)
            waiting = await session.scalar(
                select(
                    exists(
                        select(Document.id).where(
                            Document.xero_connection_id == connection_id,
                            Document.kind == spec.kind,
                            Document.status == DocumentStatus.pending,
                            exists(
                                select(blocker.id).where(
                                    blocker.record_id == Document.record_id,
                                    blocker.kind.in_(earlier),
                                    blocker.status.in_((DocumentStatus.pending, DocumentStatus.sending)),
                                )
                            ),
                        )
                    )
                )
            )
            if waiting:
                # Ready once the earlier document goes (the same pass sends it first, or the run that
                # holds it): the part batch waits to go with them. One blocked by a failure is not counted.
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
    pending or being sent (at most a batch's worth): how fast a backlog is flowing in."""
    async with sessions() as session:
        return await _up_to_a_batch(
            session,
            Document.xero_connection_id == connection_id,
            Document.kind == kind,
            Document.status.in_((DocumentStatus.pending, DocumentStatus.sending)),
            Document.created_at > func.now() - timedelta(seconds=within),
        )


async def _up_to_a_batch(session: AsyncSession, *conditions: ColumnElement[bool]) -> int:
    """How many documents match, counted no further than a batch (all a caller needs to know)."""
    count = await session.scalar(
        select(func.count()).select_from(select(Document.id).where(*conditions).limit(BATCH_SIZE).subquery())
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
