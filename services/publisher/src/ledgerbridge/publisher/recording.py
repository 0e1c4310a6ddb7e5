"""Recording what became of a batch: each document's outcome, then its record's state, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.bookkeeping.rollback import ROLLBACK_KINDS
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.messages import RefreshXeroReference
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Document, DocumentKind, DocumentStatus, RecordStatus, SourceRecord
from ledgerbridge.common.models.records import REFUND_SUMMARY_KIND, SUMMARY_KINDS
from ledgerbridge.common.records.lifecycle import move
from ledgerbridge.publisher.claimed import Decided, Outcome

ROLLED_BACK = Cause("rollback", "record")
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
                session, RefreshXeroReference(xero_connection_id=xero_connection_id, asked_at=now), account_id
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
    # All the batch's records' documents in one query, not one per record.
    by_record: dict[uuid.UUID, list[Document]] = {r.id: [] for r in records}
    for document in await session.scalars(
        select(Document)
        .where(
            Document.record_id.in_(list(by_record)),
            Document.status.not_in((DocumentStatus.superseded, DocumentStatus.rolled_back)),
        )
        .order_by(Document.record_id, Document.created_at, Document.id)
    ):
        by_record[document.record_id].append(document)
    for source_record in records:
        documents = by_record[source_record.id]
        if _settle_rollback(session, source_record, documents):
            continue
        failed = [d for d in documents if d.status is DocumentStatus.failed]
        if failed:
            reason = "; ".join(
                f"Xero rejected the {d.kind.value.replace('_', ' ')}: {d.last_error}" for d in failed
            )
            done = [
                d
                for d in documents
                if d.status is DocumentStatus.published and d.kind is not DocumentKind.contact
            ]
            if done:
                # e.g. the invoice went in but its payment did not: say so, so nobody makes it again.
                reason += (
                    "; already in Xero: "
                    + ", ".join(
                        f"{d.kind.value.replace('_', ' ')} {d.xero_number or d.xero_id}" for d in done
                    )
                    + " (a retry sends only what failed)"
                )
            if source_record.status is not RecordStatus.failed or source_record.reason != reason:
                move(session, source_record, RecordStatus.failed, reason, code=ReasonCode.xero_rejected)
                if source_record.kind in SUMMARY_KINDS:
                    await _hold_members(session, source_record)
        elif (
            documents
            and all(d.status is DocumentStatus.published for d in documents)
            and source_record.status is not RecordStatus.synced
        ):
            summary = ", ".join(
                f"{d.kind.value.replace('_', ' ')} {d.xero_number or d.xero_id}"
                for d in documents
                if d.kind not in ROLLBACK_KINDS
            )
            move(session, source_record, RecordStatus.synced, f"In Xero: {summary}")
            if source_record.kind in SUMMARY_KINDS:
                await _settle_members(session, source_record)


async def _members(session: AsyncSession, summary: SourceRecord) -> list[SourceRecord]:
    """The sales a daily summary (or the refunds a refunds summary) covers that are on their way to Xero
    with it."""
    covers: ColumnElement[bool]
    if summary.kind == REFUND_SUMMARY_KIND:
        # A sale refunded twice is in two refunds summaries: its entries name the refunds each covers.
        covers = SourceRecord.id.in_({uuid.UUID(entry["record_id"]) for entry in summary.payload["entries"]})
    else:
        covers = SourceRecord.summary_record_id == summary.id
    found = await session.scalars(
        select(SourceRecord)
        .where(
            SourceRecord.account_id == summary.account_id,
            covers,
            SourceRecord.status.in_((RecordStatus.mapped, RecordStatus.waiting)),
            # One refunded since waits for the day's refunds credit note: it is not settled by this one.
            SourceRecord.reason_code.is_distinct_from(ReasonCode.refund_summary_pending.value),
        )
        .order_by(SourceRecord.id)
        .with_for_update(key_share=True)
    )
    return list(found.all())


async def _settle_members(session: AsyncSession, summary: SourceRecord) -> None:
    for member in await _members(session, summary):
        move(session, member, RecordStatus.synced, f"In Xero through {_named(summary)}")


async def _hold_members(session: AsyncSession, summary: SourceRecord) -> None:
    """Xero refused the summary: its sales wait for it, saying so (they are synced once it is)."""
    for member in await _members(session, summary):
        move(
            session,
            member,
            RecordStatus.waiting,
            f"{_named(summary).capitalize()} was refused by Xero; fix what it says and retry it",
            code=ReasonCode.summary_pending,
        )


def _settle_rollback(session: AsyncSession, record: SourceRecord, documents: Sequence[Document]) -> bool:
    """Each document a published rollback document undid is rolled back; once nothing we made for the
    record is left in Xero (its contact aside), the record waits for a re-sync. True when it did."""
    by_id = {str(d.id): d for d in documents}
    undone = 0
    for document in documents:
        if document.kind in ROLLBACK_KINDS and document.status is DocumentStatus.published:
            target = by_id.get(str(document.request_body.get("DocumentID")))
            if target is not None and target.status is DocumentStatus.published:
                target.status = DocumentStatus.rolled_back
                undone += 1
    if not undone:
        return False
    standing = [
        d
        for d in documents
        if d.status is not DocumentStatus.rolled_back
        and d.kind not in ROLLBACK_KINDS
        and d.kind is not DocumentKind.contact
    ]
    unfinished = [
        d for d in documents if d.kind in ROLLBACK_KINDS and d.status is not DocumentStatus.published
    ]
    if standing or unfinished:
        return False
    for document in documents:
        # The contact stays in Xero; a re-sync makes its contact document again and finds that contact.
        if document.kind is DocumentKind.contact and document.status is DocumentStatus.published:
            document.status = DocumentStatus.rolled_back
    move(
        session,
        record,
        RecordStatus.waiting,
        "Rolled back: what was made in Xero for it is undone; retry it to sync it again",
        code=ReasonCode.rolled_back,
        cause=ROLLED_BACK,
    )
    return True


def _named(summary: SourceRecord) -> str:
    kind = "refunds credit note" if summary.kind == REFUND_SUMMARY_KIND else "summary"
    return f"{kind} {summary.external_id}"


def _suggests_stale_reference(error: str) -> bool:
    lowered = error.lower()
    return any(hint in lowered for hint in STALE_REFERENCE_HINTS)
