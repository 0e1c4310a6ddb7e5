"""Reading records, retrying them, and previewing what the mapping would send to Xero now."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.problems import ProblemError
from ledgerbridge.api.records import repository
from ledgerbridge.api.records.repository import RecordFilter
from ledgerbridge.api.records.schemas import (
    DocumentOut,
    PreviewDocument,
    RecordDetail,
    RecordEventOut,
    RecordPage,
    RecordPreview,
    RecordSummary,
    RetryFilter,
    RetryQueued,
    XeroLink,
)
from ledgerbridge.bookkeeping.decisions import NoChange, Publish, Skip, Wait
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.models import (
    Document,
    DocumentKind,
    DocumentStatus,
    RecordStatus,
    SourceRecord,
    User,
)
from ledgerbridge.common.records.decide import decide
from ledgerbridge.common.records.lifecycle import requeue

RETRYABLE = (RecordStatus.failed, RecordStatus.waiting)
BULK_RETRY_MAX = 5_000  # one transaction's worth; the answer says how many remain

_XERO_VIEW = {
    "ACCREC": "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID={}",
    "ACCPAY": "https://go.xero.com/AccountsPayable/View.aspx?InvoiceID={}",
}


def xero_url(document: Document) -> str | None:
    """Deep link to an invoice or bill in Xero; other kinds have no page of their own to link to."""
    if not document.xero_id or document.kind not in repository.LINKED_KINDS:
        return None
    invoice_type = document.request_body.get("Type") or (
        "ACCPAY" if document.kind is DocumentKind.bill else "ACCREC"
    )
    template = _XERO_VIEW.get(str(invoice_type))
    return template.format(document.xero_id) if template else None


def _link(document: Document | None) -> XeroLink | None:
    if document is None:
        return None
    number = document.xero_number or document.request_body.get("InvoiceNumber")
    return XeroLink(
        document_id=document.id,
        kind=document.kind,
        status=document.status,
        number=str(number) if number is not None else None,
        xero_id=document.xero_id,
        url=xero_url(document),
    )


async def _links(session: AsyncSession, records: Sequence[SourceRecord]) -> dict[uuid.UUID, Document]:
    """Each record's invoice or bill in Xero; a summarised sale's is its daily summary's invoice."""
    summaries = {record.id: record.summary_record_id for record in records if record.summary_record_id}
    found = await repository.linked_documents(
        session, [record.id for record in records] + list(set(summaries.values()))
    )
    for record_id, summary_id in summaries.items():
        if record_id not in found and summary_id in found:
            found[record_id] = found[summary_id]
    return found


def _not_found(record_id: uuid.UUID) -> ProblemError:
    return ProblemError(404, "Not found", f"No record {record_id}")


async def list_records(
    session: AsyncSession, account_id: uuid.UUID, where: RecordFilter, *, page: int, page_size: int
) -> RecordPage:
    records, total = await repository.list_records(
        session, account_id, where, offset=(page - 1) * page_size, limit=page_size
    )
    links = await _links(session, records)
    items = [
        RecordSummary.model_validate(record).model_copy(update={"xero": _link(links.get(record.id))})
        for record in records
    ]
    return RecordPage(items=items, page=page, page_size=page_size, total=total)


async def _detail(session: AsyncSession, record: SourceRecord) -> RecordDetail:
    documents = await repository.documents_of(session, record.id)
    events = await repository.events_of(session, record.id)
    links = await _links(session, [record])
    return RecordDetail(
        **RecordSummary.model_validate(record).model_dump(exclude={"xero"}),
        xero=_link(links.get(record.id)),
        payload=record.payload,
        documents=[
            DocumentOut.model_validate(document).model_copy(update={"url": xero_url(document)})
            for document in documents
        ],
        history=[RecordEventOut.model_validate(event) for event in events],
    )


async def get_record(session: AsyncSession, account_id: uuid.UUID, record_id: uuid.UUID) -> RecordDetail:
    record = await repository.get_record(session, account_id, record_id)
    if record is None:
        raise _not_found(record_id)
    return await _detail(session, record)


async def retry(session: AsyncSession, user: User, record_id: uuid.UUID) -> RecordDetail:
    # Locked so a concurrent mapper run or a second retry sees this one's outcome, not a stale status.
    record = await repository.get_record(session, user.account_id, record_id, for_update=True)
    if record is None:
        raise _not_found(record_id)
    if record.status not in RETRYABLE:
        raise ProblemError(
            409,
            "Record cannot be retried",
            f"Record {record_id} is {record.status}; only failed or waiting records are retried",
            type_="https://ledgerbridge.dev/problems/not-retryable",
        )
    await requeue(session, record, "Retry requested", detail={"requested_by": str(user.id)})
    await session.flush()
    await session.refresh(record)  # server-side updated_at
    return await _detail(session, record)


async def retry_matching(session: AsyncSession, user: User, wanted: RetryFilter) -> RetryQueued:
    """Retry every failed or waiting record the filter matches, up to :data:`BULK_RETRY_MAX` a call."""
    where = RecordFilter(
        source=wanted.source,
        statuses=tuple(RecordStatus(status) for status in wanted.status),
        reason_code=wanted.reason_code,
        since=wanted.since,
        until=wanted.until,
    )
    records, matched = await repository.lock_matching(session, user.account_id, where, BULK_RETRY_MAX)
    detail = {"requested_by": str(user.id), "bulk": True}
    for record in records:
        await requeue(session, record, "Retry requested", detail=detail)
    return RetryQueued(queued=len(records), matched=matched, remaining=matched - len(records))


TRIAL_HOLDS = (ReasonCode.plan_limit, ReasonCode.trial_expired)


def _preview_documents(decision: Publish, documents: list[Document]) -> list[PreviewDocument]:
    stored = {
        (document.kind, document.fingerprint): document.status
        for document in documents
        if document.status is not DocumentStatus.superseded
    }
    return [
        PreviewDocument(
            kind=doc.kind.value,
            body=doc.json_body(),
            target_id=doc.target_id,
            fingerprint=doc.fingerprint,
            stored_status=stored.get((doc.kind, doc.fingerprint)),
        )
        for doc in decision.documents
    ]


async def preview(session: AsyncSession, account_id: uuid.UUID, record_id: uuid.UUID) -> RecordPreview:
    """What the mapper would decide for the record now: the same ``decide`` on the same inputs. A record
    the trial holds shows what it will send once the plan is upgraded."""
    record = await repository.get_record(session, account_id, record_id)
    if record is None:
        raise _not_found(record_id)
    documents = await repository.documents_of(session, record.id)
    decision = await decide(session, record, documents)
    if isinstance(decision, Publish):
        return RecordPreview(
            record_id=record.id,
            decision="publish",
            reason=decision.summary,
            documents=_preview_documents(decision, documents),
        )
    if isinstance(decision, NoChange):
        return RecordPreview(record_id=record.id, decision="no_change", reason=decision.reason)
    if isinstance(decision, Skip):
        return RecordPreview(record_id=record.id, decision="skip", reason=decision.reason)
    held: list[PreviewDocument] = []
    if isinstance(decision, Wait) and decision.code in TRIAL_HOLDS:
        upgraded = await decide(session, record, documents, as_upgraded=True)
        held = _preview_documents(upgraded, documents) if isinstance(upgraded, Publish) else []
    return RecordPreview(
        record_id=record.id,
        decision="wait" if isinstance(decision, Wait) else "fail",
        reason=decision.reason,
        reason_code=decision.code,
        documents=held,
    )
