"""Rollback: the dry run and the run. The core (``bookkeeping.rollback``) plans each record from Xero's
copy of its documents; the run stores the plan's rollback documents and hands them to the publisher,
which sends them exactly once and returns each record, once undone, to a state a re-sync starts from."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.connections.partners import Partners
from ledgerbridge.api.problems import ProblemError
from ledgerbridge.api.reports.service import check_period
from ledgerbridge.api.rollbacks import repository
from ledgerbridge.api.rollbacks.schemas import (
    PlannedDocumentOut,
    RecordRollback,
    RollbackPlan,
    RollbackRun,
    RollbackSelection,
)
from ledgerbridge.api.xero_copies import copies
from ledgerbridge.bookkeeping.rollback import OurDocument, Outcome, RecordPlan, plan_record
from ledgerbridge.common.audit import record_change
from ledgerbridge.common.messaging.messages import PublishPending
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Document, DocumentStatus, Import, RecordStatus, SourceRecord, User
from ledgerbridge.common.records.lifecycle import move

MAX_RECORDS = 200  # a run's voids and deletions are about 3 Xero calls a record: a few minutes of budget
IN_FLIGHT = (DocumentStatus.pending, DocumentStatus.sending)
# Records a rollback may start from: what it undoes must be settled (nothing on its way to Xero).
ROLLABLE = (RecordStatus.synced, RecordStatus.failed, RecordStatus.waiting)


def _not_found(field: str, detail: str) -> ProblemError:
    return ProblemError(
        404, "Not found", detail, errors=[{"loc": ["body", field], "msg": detail, "type": "not_found"}]
    )


async def _import(session: AsyncSession, account_id: uuid.UUID, wanted: RollbackSelection) -> Import | None:
    if wanted.import_id is None:
        return None
    job = await repository.find_import(session, account_id, wanted.import_id)
    if job is None:
        raise _not_found(
            "import_id", f"No import {wanted.import_id} in this account: list them at GET /v1/imports"
        )
    return job


def _ours(documents: Sequence[Document]) -> list[OurDocument]:
    return [
        OurDocument(
            id=str(d.id),
            kind=d.kind,
            xero_id=d.xero_id,
            number=d.xero_number,
            amount=d.amount,
            target_id=d.target_id,
        )
        for d in documents
        if d.status is DocumentStatus.published
    ]


def _out(record: SourceRecord, outcome: str, reason: str, plan: RecordPlan | None) -> RecordRollback:
    return RecordRollback(
        record_id=record.id,
        source=record.source,
        external_id=record.external_id,
        status=str(record.status),
        outcome=outcome,
        reason=reason,
        documents=[
            PlannedDocumentOut(
                document_id=uuid.UUID(d.document_id),
                kind=d.kind,
                number=d.number,
                xero_id=d.xero_id,
                amount=d.amount,
                action=d.action,
                note=d.note,
            )
            for d in (plan.documents if plan else ())
        ],
    )


async def _plan(
    session: AsyncSession, partners: Partners, user: User, wanted: RollbackSelection, *, lock: bool
) -> tuple[list[tuple[SourceRecord, RecordRollback, RecordPlan | None]], int, int]:
    if wanted.since is not None and wanted.until is not None:
        check_period(wanted.since.date(), wanted.until.date(), partners.settings.api.reconciliation_max_days)
    job = await _import(session, user.account_id, wanted)
    query = repository.selected(user.account_id, wanted, job)
    matched = await repository.count(session, query)
    records = await repository.records(session, query, MAX_RECORDS, lock=lock)
    documents = await repository.documents_of(session, user.account_id, [r.id for r in records])
    by_record: dict[uuid.UUID, list[Document]] = {}
    for document in documents:
        by_record.setdefault(document.record_id, []).append(document)
    held, stats = await copies(session, partners, user.account_id, documents, fresh=lock)
    planned: list[tuple[SourceRecord, RecordRollback, RecordPlan | None]] = []
    for record in records:
        own = by_record.get(record.id, [])
        if record.status not in ROLLABLE or any(d.status in IN_FLIGHT for d in own):
            planned.append(
                (
                    record,
                    _out(record, "busy", "Being published or rolled back right now: try again shortly", None),
                    None,
                )
            )
            continue
        plan = plan_record(_ours(own), held)
        planned.append((record, _out(record, plan.outcome, plan.reason, plan), plan))
    return planned, matched, stats.calls


def _summary(
    planned: Sequence[tuple[SourceRecord, RecordRollback, RecordPlan | None]], matched: int, calls: int
) -> RollbackPlan:
    rows = [row for _, row, _ in planned]
    return RollbackPlan(
        records=rows,
        matched=matched,
        remaining=max(matched - len(rows), 0),
        undo=sum(1 for row in rows if row.outcome == Outcome.undo),
        left_alone=sum(1 for row in rows if row.outcome in (Outcome.left_alone, "busy")),
        xero_calls=calls,
    )


async def dry_run(
    session: AsyncSession, partners: Partners, user: User, wanted: RollbackSelection
) -> RollbackPlan:
    planned, matched, calls = await _plan(session, partners, user, wanted, lock=False)
    return _summary(planned, matched, calls)


async def run(
    session: AsyncSession, partners: Partners, user: User, wanted: RollbackSelection
) -> RollbackRun:
    """Plans again against Xero as it is now (the dry run may be old), then queues what the plan undoes."""
    planned, matched, calls = await _plan(session, partners, user, wanted, lock=True)
    rollback_id = uuid.uuid4()
    queued = 0
    connections: set[uuid.UUID] = set()
    for record, _, plan in planned:
        if plan is None or plan.outcome is not Outcome.undo:
            continue
        xero_connection_id = await _queue(session, record, plan)
        connections.add(xero_connection_id)
        queued += len(plan.undo)
        await rolled_back_by(session, user, rollback_id, record, plan)
    for xero_connection_id in connections:
        await add_message(session, PublishPending(xero_connection_id=xero_connection_id), user.account_id)
    summary = _summary(planned, matched, calls)
    # The rollback as asked, beside one entry per record it undoes (above): who, when, which selection.
    await record_change(
        session,
        user,
        "rollbacks.run",
        "rollbacks",
        after={
            "rollback_id": str(rollback_id),
            "selection": wanted.model_dump(mode="json", exclude={"confirm"}),
            "undone_records": summary.undo,
            "left_alone": summary.left_alone,
            "queued_documents": queued,
        },
    )
    return RollbackRun(**summary.model_dump(), rollback_id=rollback_id, queued_documents=queued)


async def _queue(session: AsyncSession, record: SourceRecord, plan: RecordPlan) -> uuid.UUID:
    """Stores the plan's rollback documents for the publisher; returns the organisation they go to."""
    xero_connection_id: uuid.UUID | None = None
    for undo in plan.undo:
        target = await session.get(Document, uuid.UUID(str(undo.body["DocumentID"])))
        # Planned from this record's own documents, loaded in this session.
        assert target is not None
        assert target.record_id == record.id
        xero_connection_id = target.xero_connection_id
        session.add(
            Document(
                account_id=record.account_id,
                record_id=record.id,
                xero_connection_id=target.xero_connection_id,
                kind=undo.kind,
                mapping_version="rollback/1",
                request_body=undo.json_body(),
                fingerprint=undo.fingerprint,
                target_id=undo.target_id,
                idempotency_key=undo.idempotency_key(str(record.id)),
                status=DocumentStatus.pending,
            )
        )
    assert xero_connection_id is not None  # an undo plan has at least one document
    return xero_connection_id


async def rolled_back_by(
    session: AsyncSession, user: User, rollback_id: uuid.UUID, record: SourceRecord, plan: RecordPlan
) -> None:
    """Who rolled back what: the record's move names the rollback and the person who asked for it, and
    the audit trail shows it on the record's page."""
    before = {"status": str(record.status), "reason": record.reason}
    undone = [d.document_id for d in plan.documents if d.action.value in ("delete_payment", "void", "delete")]
    move(
        session,
        record,
        RecordStatus.mapped,
        f"Rolling back in Xero: {plan.reason}",
        detail={
            "rollback_id": str(rollback_id),
            "user_id": str(user.id),
            "user_email": user.email,
            "documents": undone,
        },
    )
    await record_change(
        session,
        user,
        "record.rollback",
        f"record:{record.id}",
        before=before,
        after={"status": str(record.status), "rollback_id": str(rollback_id), "documents": undone},
    )
