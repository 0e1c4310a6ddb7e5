"""Recording what became of a batch: each document's outcome, then its record's state, in one transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.messages import RefreshXeroReference
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Document, DocumentStatus, RecordStatus, SourceRecord
from ledgerbridge.common.records.lifecycle import move
from ledgerbridge.publisher.claimed import Decided, Outcome

STALE_REFERENCE_HINTS = (
    "account code",
    "accountcode",
    "taxtype",
    "tax type",
    "branding theme",
    "currency",
    "tracking",
    "lock date",
)


async def record_outcomes(sessions: async_sessionmaker[AsyncSession], decided: Decided) -> None:
    if not decided:
        return
    now = datetime.now(UTC)
    async with unit_of_work(sessions) as session:
        documents = (
            await session.scalars(
                select(Document).where(Document.id.in_(list(decided))).with_for_update(key_share=True)
            )
        ).all()
        for document in documents:
            _apply(document, decided[document.id], now)
        await _settle_records(session, {d.record_id for d in documents})
        stale = {
            (d.xero_connection_id, d.account_id)
            for d in documents
            if d.status is DocumentStatus.failed and _suggests_stale_reference(d.last_error or "")
        }
        for xero_connection_id, account_id in stale:
            # Our copy of the chart of accounts or tax rates may be out of date: read it again, so the
            # next mapping checks against what Xero has now.
            await add_message(
                session, RefreshXeroReference(xero_connection_id=xero_connection_id), account_id
            )


def _apply(document: Document, outcome: Outcome, now: datetime) -> None:
    if outcome.published:
        document.status = DocumentStatus.published
        document.xero_id = outcome.xero_id
        document.xero_number = outcome.number or document.xero_number
        document.amount = outcome.amount
        document.published_at = now
        document.last_error = None
    elif outcome.error:
        document.status = DocumentStatus.failed
        document.last_error = outcome.error
    else:
        document.status = DocumentStatus.pending  # not found after an unknown outcome: send again


async def _settle_records(session: AsyncSession, record_ids: set[uuid.UUID]) -> None:
    """A record fails with any document Xero rejected, and is synced once all its documents are in Xero."""
    records = (
        await session.scalars(
            select(SourceRecord)
            .where(SourceRecord.id.in_(record_ids))
            .order_by(SourceRecord.id)  # one lock order for all runs, so two never deadlock
            .with_for_update(key_share=True)
        )
    ).all()
    for source_record in records:
        documents = (
            await session.scalars(
                select(Document).where(
                    Document.record_id == source_record.id, Document.status != DocumentStatus.superseded
                )
            )
        ).all()
        failed = [d for d in documents if d.status is DocumentStatus.failed]
        if failed:
            reason = "; ".join(
                f"Xero rejected the {d.kind.value.replace('_', ' ')}: {d.last_error}" for d in failed
            )
            if source_record.status is not RecordStatus.failed or source_record.reason != reason:
                move(session, source_record, RecordStatus.failed, reason, code=ReasonCode.xero_rejected)
        elif (
            documents
            and all(d.status is DocumentStatus.published for d in documents)
            and source_record.status is not RecordStatus.synced
        ):
            summary = ", ".join(
                f"{d.kind.value.replace('_', ' ')} {d.xero_number or d.xero_id}" for d in documents
            )
            move(session, source_record, RecordStatus.synced, f"In Xero: {summary}")


def _suggests_stale_reference(error: str) -> bool:
    lowered = error.lower()
    return any(hint in lowered for hint in STALE_REFERENCE_HINTS)
