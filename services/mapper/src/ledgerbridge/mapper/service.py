"""Mapping one stored source record: the pure core decides, this module records the decision.

Runs inside the consumer's transaction, so the documents, the record's new state, its audit row and the
message to the publisher commit together (or not at all).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common import xero_reference
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
from ledgerbridge.common.record_transitions import transition
from ledgerbridge.mapper import inputs
from ledgerbridge.mapper.onport import BillReference, map_purchase_invoice
from ledgerbridge.mapper.ontraport import (
    Decision,
    Fail,
    NoChange,
    Publish,
    Skip,
    Wait,
    XeroDocument,
    XeroReference,
    map_transaction,
)

XERO_NOT_LINKED = "xero_not_linked"
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
    if record.source not in ("ontraport", "onport"):
        transition(session, record, RecordStatus.failed, f"records from {record.source} cannot be mapped")
        return
    if connection.xero_connection_id is None:
        _supersede_unsent(documents)
        transition(
            session,
            record,
            RecordStatus.waiting,
            "The ONTRAPORT connection is not linked to a Xero organisation yet",
            reason_code=XERO_NOT_LINKED,
        )
        return

    reference = await xero_reference.load(session, connection.xero_connection_id)
    if reference is None:
        _supersede_unsent(documents)
        transition(
            session,
            record,
            RecordStatus.waiting,
            "Reading the Xero organisation's accounts and tax rates first",
            reason_code=xero_reference.WAITING_FOR_REFERENCE,
        )
        await add_message(
            session, RefreshXeroReference(xero_connection_id=connection.xero_connection_id), record.account_id
        )
        return

    options = await inputs.account_options(session, record.account_id)
    decision: Decision
    if record.source == "ontraport":
        account = await session.get(Account, record.account_id)
        assert account is not None
        if account.plan is Plan.trial:
            # Locked so two records cannot both take the last free trial slot. NO KEY UPDATE: this
            # transaction's own inbox and outbox rows hold KEY SHARE on the account (foreign keys), and a
            # plain FOR UPDATE from two such transactions deadlocks.
            await session.refresh(account, with_for_update={"key_share": True})
        decision = map_transaction(
            record.payload.get("transaction", {}),
            contact=inputs.ontraport_contact(record.payload.get("contact")),
            mappings=await inputs.ontraport_mappings(session, record.account_id),
            settings=inputs.mapping_settings(options),
            reference=XeroReference(
                account_codes=reference.account_codes,
                tax_rates=reference.tax_rate_percents,
                branding_theme_ids=reference.branding_theme_ids,
            ),
            state=inputs.sync_state(documents),
            trial=inputs.trial_state(account),
            observed_on=datetime.now(UTC).date(),
        )
        had_invoice = any(
            d.kind is DocumentKind.invoice and d.status is not DocumentStatus.superseded for d in documents
        )
        if (
            isinstance(decision, Publish)
            and not had_invoice
            and any(doc.kind.value == DocumentKind.invoice for doc in decision.documents)
        ):
            account.trial_used += 1
    else:
        decision = map_purchase_invoice(
            record.payload,
            mappings=await inputs.bill_mappings(session, record.account_id, options),
            options=inputs.bill_options(options),
            reference=BillReference(
                account_codes=reference.account_codes,
                tax_rates=reference.tax_rate_percents,
                currencies=reference.currency_codes,
            ),
            state=inputs.bill_sync_state(documents),
            observed_on=datetime.now(UTC).date(),
        )
    await _apply(session, record, connection.xero_connection_id, decision, documents)


async def _apply(
    session: AsyncSession,
    record: SourceRecord,
    xero_connection_id: uuid.UUID,
    decision: Decision,
    documents: list[Document],
) -> None:
    if isinstance(decision, Publish):
        _replace_unsent(session, record, xero_connection_id, decision, documents)
        transition(session, record, RecordStatus.mapped, decision.summary)
        await add_message(session, PublishPending(xero_connection_id=xero_connection_id), record.account_id)
        return
    _supersede_unsent(documents)
    if isinstance(decision, NoChange):
        transition(session, record, RecordStatus.synced, decision.reason)
    elif isinstance(decision, Skip):
        transition(session, record, RecordStatus.skipped, decision.reason)
    elif isinstance(decision, Wait):
        transition(session, record, RecordStatus.waiting, decision.reason, reason_code=decision.code)
    elif isinstance(decision, Fail):
        transition(session, record, RecordStatus.failed, decision.reason, reason_code="mapping")


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
    wanted = {(doc.kind.value, doc.fingerprint): doc for doc in decision.documents}
    for document in documents:
        if document.status not in UNSENT:
            continue
        if (document.kind.value, document.fingerprint) in wanted:
            document.status = DocumentStatus.pending
            document.last_error = None
            wanted.pop((document.kind.value, document.fingerprint))
        else:
            document.status = DocumentStatus.superseded
    for doc in decision.documents:
        if (doc.kind.value, doc.fingerprint) in wanted:
            session.add(_document(record, xero_connection_id, decision, doc))


def _document(
    record: SourceRecord, xero_connection_id: uuid.UUID, decision: Publish, doc: XeroDocument
) -> Document:
    body = doc.json_body()
    return Document(
        account_id=record.account_id,
        record_id=record.id,
        xero_connection_id=xero_connection_id,
        kind=DocumentKind(doc.kind.value),
        mapping_version=decision.mapping_version,
        request_body=body,
        fingerprint=doc.fingerprint,
        target_id=doc.target_id,
        idempotency_key=doc.idempotency_key(str(record.id)),
        status=DocumentStatus.pending,
    )


async def record_failed(session: AsyncSession, message: MapRecord, reason: str) -> None:
    record = await session.get(SourceRecord, message.record_id, with_for_update={"key_share": True})
    if record is not None:
        transition(session, record, RecordStatus.failed, reason, reason_code="mapping_error")
