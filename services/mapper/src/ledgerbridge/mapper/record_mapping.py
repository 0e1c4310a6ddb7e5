"""Mapping one stored source record: the core decides (through ``records.decide``), this module stores
the decision.

Runs inside the consumer's transaction, so the documents, the record's move, its audit row and the
message to the publisher commit together (or not at all).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.decisions import Decision, Fail, NoChange, Publish, Skip, Wait
from ledgerbridge.bookkeeping.documents import XeroDocument
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.messaging.errors import TransientError
from ledgerbridge.common.messaging.messages import MapRecord, PublishPending, RefreshXeroReference
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import (
    Account,
    Connection,
    Document,
    DocumentKind,
    DocumentStatus,
    Plan,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.records.decide import decide
from ledgerbridge.common.records.lifecycle import move

UNSENT = (DocumentStatus.pending, DocumentStatus.failed)


async def map_record(session: AsyncSession, message: MapRecord) -> None:
    record = await session.get(SourceRecord, message.record_id, with_for_update={"key_share": True})
    if record is None:
        return  # deleted with its connection; nothing left to do
    documents = list((await session.scalars(select(Document).where(Document.record_id == record.id))).all())
    if any(document.status is DocumentStatus.sending for document in documents):
        # A send is in flight; its outcome decides what this record needs next.
        raise TransientError(
            f"record {record.id} is being published; mapping it again afterwards", retry_after=5
        )
    connection = await session.get(Connection, record.connection_id)
    if connection is None:
        return
    decision = await decide(session, record, documents, lock_trial=True)
    if isinstance(decision, Publish) and record.source == "ontraport":
        await _count_trial(session, record, decision, documents)
    if isinstance(decision, Wait) and decision.code is ReasonCode.xero_reference:
        assert connection.xero_connection_id is not None  # decide() waits for a link first
        await add_message(
            session, RefreshXeroReference(xero_connection_id=connection.xero_connection_id), record.account_id
        )
    await _apply(session, record, connection.xero_connection_id, decision, documents)


async def _count_trial(
    session: AsyncSession, record: SourceRecord, decision: Publish, documents: list[Document]
) -> None:
    """A record's first invoice takes one of the trial's transactions (the account is locked by decide)."""
    had_invoice = any(
        d.kind is DocumentKind.invoice and d.status is not DocumentStatus.superseded for d in documents
    )
    if had_invoice or not any(doc.kind is DocumentKind.invoice for doc in decision.documents):
        return
    account = await session.get(Account, record.account_id)
    assert account is not None
    if account.plan is Plan.trial:  # a paid plan counts nothing: the trial's figures stay as they ended
        account.trial_used += 1


async def _apply(
    session: AsyncSession,
    record: SourceRecord,
    xero_connection_id: uuid.UUID | None,
    decision: Decision,
    documents: list[Document],
) -> None:
    if isinstance(decision, Publish):
        assert xero_connection_id is not None  # decide() publishes only for a linked connection
        _replace_unsent(session, record, xero_connection_id, decision, documents)
        move(session, record, RecordStatus.mapped, decision.summary)
        await add_message(session, PublishPending(xero_connection_id=xero_connection_id), record.account_id)
        return
    _supersede_unsent(documents)
    if isinstance(decision, NoChange):
        move(session, record, RecordStatus.synced, decision.reason)
    elif isinstance(decision, Skip):
        move(session, record, RecordStatus.skipped, decision.reason)
    elif isinstance(decision, Wait):
        move(session, record, RecordStatus.waiting, decision.reason, code=decision.code, cause=decision.cause)
    elif isinstance(decision, Fail):
        move(session, record, RecordStatus.failed, decision.reason, code=decision.code, cause=decision.cause)


def _supersede_unsent(documents: list[Document]) -> None:
    for document in documents:
        if document.status in UNSENT:
            document.status = DocumentStatus.superseded


def _replace_unsent(
    session: AsyncSession,
    record: SourceRecord,
    xero_connection_id: uuid.UUID,
    decision: Publish,
    documents: list[Document],
) -> None:
    """Keep unsent documents whose content is unchanged, supersede the others, add what is new.

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
    for doc in decision.documents:
        if (doc.kind, doc.fingerprint) in wanted:
            session.add(_document(record, xero_connection_id, decision, doc, key_base))


def _key_base(record: SourceRecord, documents: list[Document]) -> str:
    """What a document's idempotency key is made from: the record, and after a rollback how much of it
    was rolled back, so the same content made again after a rollback gets a key of its own."""
    rolled_back = sum(1 for document in documents if document.status is DocumentStatus.rolled_back)
    return f"{record.id}/{rolled_back}" if rolled_back else str(record.id)


def _document(
    record: SourceRecord, xero_connection_id: uuid.UUID, decision: Publish, doc: XeroDocument, key_base: str
) -> Document:
    return Document(
        account_id=record.account_id,
        record_id=record.id,
        xero_connection_id=xero_connection_id,
        kind=doc.kind,
        mapping_version=decision.mapping_version,
        request_body=doc.json_body(),
        fingerprint=doc.fingerprint,
        target_id=doc.target_id,
        idempotency_key=doc.idempotency_key(key_base),
        status=DocumentStatus.pending,
    )


async def record_failed(session: AsyncSession, message: MapRecord, reason: str) -> None:
    record = await session.get(SourceRecord, message.record_id, with_for_update={"key_share": True})
    if record is not None:
        move(session, record, RecordStatus.failed, reason, code=ReasonCode.mapping_error)
