"""Mapping stored source records, one or a batch per message: the core decides each record (through
``records.decide``), this module stores the decisions.

Runs inside the consumer's transaction, so the documents, the records' moves, their audit rows and the
messages to the publisher commit together (or not at all), and the inbox takes each message once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, Text, bindparam, func, insert, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.decisions import Decision, Fail, NoChange, Publish, Skip, Wait
from ledgerbridge.bookkeeping.documents import XeroDocument
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.messaging.errors import ErrorClass, TransientError, classify
from ledgerbridge.common.messaging.messages import (
    MapRecord,
    MapRecords,
    Message,
    PublishPending,
    RefreshXeroReference,
)
from ledgerbridge.common.messaging.outbox import add_messages
from ledgerbridge.common.models import (
    Document,
    DocumentKind,
    DocumentStatus,
    Plan,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.records.decide import Reads, decide
from ledgerbridge.common.records.lifecycle import Moves

UNSENT = (DocumentStatus.pending, DocumentStatus.failed)
_DOCUMENTS = cast(Table, Document.__table__)
_INSERT_DOCUMENTS = insert(_DOCUMENTS).values(
    request_body=sql_cast(bindparam("request_body_text", type_=Text), JSONB),
    created_at=func.clock_timestamp(),
)
"""New documents are inserted by the table, not as ORM objects: a batch writes hundreds at once. A body
goes as the JSON text the core already made of it (``XeroDocument.json_text``), not encoded again. They
are dated when written, not when the batch's transaction began, so the publisher sees how fast they come
(``claims.arriving_at``) however long the batch took."""


async def map_record(session: AsyncSession, message: MapRecord) -> None:
    await _map(session, [message.record_id])


async def map_records(session: AsyncSession, message: MapRecords) -> None:
    await _map(session, message.record_ids)


async def _map(session: AsyncSession, record_ids: Sequence[uuid.UUID]) -> None:
    """Map the records in one transaction: the batch's inputs read once, the core asked per record,
    what it decided written a statement per kind of row, one publish message per Xero organisation. A
    record that cannot be mapped now goes its own way (failed, or a message of its own to retry) without
    holding back the others."""
    ids = sorted(set(record_ids))  # locked in one order, so two batches sharing records cannot deadlock
    records = (
        await session.scalars(
            select(SourceRecord)
            .where(SourceRecord.id.in_(ids))
            .order_by(SourceRecord.id)
            .with_for_update(key_share=True)
        )
    ).all()  # a record deleted with its connection is simply not here: nothing left to do
    documents: dict[uuid.UUID, list[Document]] = {record.id: [] for record in records}
    for document in await session.scalars(select(Document).where(Document.record_id.in_(documents))):
        documents[document.record_id].append(document)
    batch = _Batch(Moves(session))
    reads = Reads(session)
    await reads.prefetch(records, documents)
    for record in records:
        try:
            await _map_one(session, reads, record, documents[record.id], batch)
        except TransientError:
            if len(ids) == 1:
                raise  # the consumer retries this message with backoff
            # A message of its own retries it with backoff; the rest of the batch goes on.
            batch.retry.append((record.id, record.account_id))
        except SQLAlchemyError:
            raise  # the transaction is unusable: the whole batch is tried again (or fails as one)
        except Exception as exc:
            if len(ids) == 1 or classify(exc) is ErrorClass.transient:
                raise
            # The core could not map this one record (a bug the record's reason names): it fails alone.
            batch.moves.move(record, RecordStatus.failed, str(exc)[:2000], code=ReasonCode.mapping_error)
    await batch.write(session)


@dataclass
class _Batch:
    """What a batch writes once its records are decided: their moves, their new documents, and the
    messages it owes (one per Xero organisation and tenant however many records asked)."""

    moves: Moves
    # Before any of the batch's reads: a reference copy read after this serves its refresh asks.
    began: datetime = field(default_factory=lambda: datetime.now(UTC))
    documents: list[dict[str, Any]] = field(default_factory=list)
    publish: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)
    refresh: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)
    retry: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)

    async def write(self, session: AsyncSession) -> None:
        if self.documents:
            await session.execute(_INSERT_DOCUMENTS, self.documents)
        await self.moves.write()
        messages: list[tuple[Message, uuid.UUID | None]] = [
            (MapRecord(record_id=record_id), account_id) for record_id, account_id in self.retry
        ]
        messages += [
            (RefreshXeroReference(xero_connection_id=xero_connection_id, asked_at=self.began), account_id)
            for xero_connection_id, account_id in sorted(self.refresh)
        ]
        messages += [
            (PublishPending(xero_connection_id=xero_connection_id), account_id)
            for xero_connection_id, account_id in sorted(self.publish)
        ]
        await add_messages(session, messages)


async def _map_one(
    session: AsyncSession,
    reads: Reads,
    record: SourceRecord,
    documents: list[Document],
    batch: _Batch,
) -> None:
    if any(document.status is DocumentStatus.sending for document in documents):
        # A send is in flight; its outcome decides what this record needs next.
        raise TransientError(
            f"record {record.id} is being published; mapping it again afterwards", retry_after=5
        )
    connection = await reads.connection(record.connection_id)
    if connection is None:
        return
    decision = await decide(session, record, documents, lock_trial=True, reads=reads)
    if isinstance(decision, Publish) and record.source == "ontraport":
        await _count_trial(reads, record, decision, documents)
    if isinstance(decision, Wait) and decision.code is ReasonCode.xero_reference:
        assert connection.xero_connection_id is not None  # decide() waits for a link first
        batch.refresh.add((connection.xero_connection_id, record.account_id))
    _apply(record, connection.xero_connection_id, decision, documents, batch)


async def _count_trial(
    reads: Reads, record: SourceRecord, decision: Publish, documents: list[Document]
) -> None:
    """A record's first invoice takes one of the trial's transactions (the account is locked by decide)."""
    had_invoice = any(
        d.kind is DocumentKind.invoice and d.status is not DocumentStatus.superseded for d in documents
    )
    if had_invoice or not any(doc.kind is DocumentKind.invoice for doc in decision.documents):
        return
    account = await reads.account(record.account_id)
    if account.plan is Plan.trial:  # a paid plan counts nothing: the trial's figures stay as they ended
        account.trial_used += 1


def _apply(
    record: SourceRecord,
    xero_connection_id: uuid.UUID | None,
    decision: Decision,
    documents: list[Document],
    batch: _Batch,
) -> None:
    moves = batch.moves
    if isinstance(decision, Publish):
        assert xero_connection_id is not None  # decide() publishes only for a linked connection
        batch.documents += _replace_unsent(record, xero_connection_id, decision, documents)
        moves.move(record, RecordStatus.mapped, decision.summary)
        batch.publish.add((xero_connection_id, record.account_id))
        return
    _supersede_unsent(documents)
    if isinstance(decision, NoChange):
        moves.move(record, RecordStatus.synced, decision.reason)
    elif isinstance(decision, Skip):
        moves.move(record, RecordStatus.skipped, decision.reason)
    elif isinstance(decision, Wait):
        moves.move(record, RecordStatus.waiting, decision.reason, code=decision.code, cause=decision.cause)
    elif isinstance(decision, Fail):
        moves.move(record, RecordStatus.failed, decision.reason, code=decision.code, cause=decision.cause)


def _supersede_unsent(documents: list[Document]) -> None:
    for document in documents:
        if document.status in UNSENT:
            document.status = DocumentStatus.superseded


def _replace_unsent(
    record: SourceRecord, xero_connection_id: uuid.UUID, decision: Publish, documents: list[Document]
) -> list[dict[str, Any]]:
    """Keep unsent documents whose content is unchanged, supersede the others; the rows of what is new.

    A published document is never touched: the core already knows about it through the sync state.
    """
    wanted = {(doc.kind, doc.fingerprint): doc for doc in decision.documents}
    for document in documents:
        if document.status not in UNSENT:
            continue
        if (document.kind, document.fingerprint) in wanted:
            document.status = DocumentStatus.pending
            document.last_error = None
            wanted.pop((document.kind, document.fingerprint))
        else:
            document.status = DocumentStatus.superseded
    key_base = _key_base(record, documents)
    return [
        _document(record, xero_connection_id, decision, doc, key_base)
        for doc in decision.documents
        if (doc.kind, doc.fingerprint) in wanted
    ]


def _key_base(record: SourceRecord, documents: list[Document]) -> str:
    """What a document's idempotency key is made from: the record, and after a rollback how much of it
    was rolled back, so the same content made again after a rollback gets a key of its own."""
    rolled_back = sum(1 for document in documents if document.status is DocumentStatus.rolled_back)
    return f"{record.id}/{rolled_back}" if rolled_back else str(record.id)


def _document(
    record: SourceRecord, xero_connection_id: uuid.UUID, decision: Publish, doc: XeroDocument, key_base: str
) -> dict[str, Any]:
    """A new document's row (every column the insert names, the same for every row of the batch)."""
    return {
        "id": uuid.uuid4(),
        "account_id": record.account_id,
        "record_id": record.id,
        "xero_connection_id": xero_connection_id,
        "kind": doc.kind,
        "mapping_version": decision.mapping_version,
        "request_body_text": doc.json_text,
        "fingerprint": doc.fingerprint,
        "target_id": doc.target_id,
        "idempotency_key": doc.idempotency_key(key_base),
        "status": DocumentStatus.pending,
    }


async def record_failed(session: AsyncSession, message: MapRecord, reason: str) -> None:
    await _failed(session, [message.record_id], reason)


async def records_failed(session: AsyncSession, message: MapRecords, reason: str) -> None:
    await _failed(session, message.record_ids, reason)


async def _failed(session: AsyncSession, record_ids: Sequence[uuid.UUID], reason: str) -> None:
    records = await session.scalars(
        select(SourceRecord)
        .where(SourceRecord.id.in_(sorted(set(record_ids))))
        .order_by(SourceRecord.id)
        .with_for_update(key_share=True)
    )
    moves = Moves(session)
    for record in records:
        moves.move(record, RecordStatus.failed, reason, code=ReasonCode.mapping_error)
    await moves.write()
