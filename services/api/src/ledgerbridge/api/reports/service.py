"""The reconciliation report: gathers a period's records, their documents and Xero's copy of them, and
asks the core (``bookkeeping.reconciliation``) what adds up and what does not."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.connections.partners import Partners
from ledgerbridge.api.problems import ProblemError
from ledgerbridge.api.reports import repository
from ledgerbridge.api.reports.schemas import Reconciliation, ReportDay, ReportDifference, ReportRow, XeroReads
from ledgerbridge.api.xero_copies import copies
from ledgerbridge.bookkeeping import reconciliation as core
from ledgerbridge.bookkeeping.bills.inputs import BillOptions
from ledgerbridge.bookkeeping.bills.record import PurchaseInvoiceError
from ledgerbridge.bookkeeping.documents import DocumentKind
from ledgerbridge.bookkeeping.sales.transaction import TransactionError
from ledgerbridge.common.models import Document, DocumentStatus, SourceRecord
from ledgerbridge.common.records import core_inputs

_XERO_VIEW = {
    DocumentKind.invoice: "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID={}",
    DocumentKind.bill: "https://go.xero.com/AccountsPayable/View.aspx?InvoiceID={}",
    DocumentKind.credit_note: "https://go.xero.com/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={}",
    DocumentKind.supplier_credit_note: "https://go.xero.com/AccountsPayable/ViewCreditNote.aspx?creditNoteID={}",
}
CSV_COLUMNS = (
    "period",
    "source",
    "gateway",
    "currency",
    "figure",
    "source_count",
    "source_amount",
    "xero_count",
    "xero_amount",
    "difference",
)
DIFFERENCE_COLUMNS = (
    "day",
    "source",
    "external_id",
    "currency",
    "figure",
    "source_amount",
    "xero_amount",
    "cause",
    "detail",
    "document_number",
    "record_url",
    "xero_url",
)


def xero_link(kind: DocumentKind | None, xero_id: str | None) -> str | None:
    template = _XERO_VIEW.get(kind) if kind else None
    return template.format(xero_id) if template and xero_id else None


def check_period(date_from: date, date_to: date, max_days: int) -> None:
    """A period is at most ``max_days`` long and ends on or after it starts: a clear 422 otherwise."""
    if date_to < date_from:
        raise _period_problem("to", f"'to' ({date_to}) is before 'from' ({date_from}): swap them")
    if (date_to - date_from).days + 1 > max_days:
        raise _period_problem(
            "to",
            f"The period is {(date_to - date_from).days + 1} days; at most {max_days} fit in one report: shorten it",
        )


def _period_problem(field: str, message: str) -> ProblemError:
    return ProblemError(
        422,
        "Request validation failed",
        message,
        type_="https://ledgerbridge.dev/problems/validation",
        errors=[{"loc": ["query", field], "msg": message, "type": "value_error"}],
    )


def _figures(
    record: SourceRecord, documents: Sequence[Document], bill_options: BillOptions
) -> tuple[core.Figure, ...]:
    try:
        if record.source == "onport":
            return core.onport_figures(record.payload, bill_options)
        invoice = next(
            (d for d in documents if d.kind is DocumentKind.invoice and d.status is DocumentStatus.published),
            None,
        )
        return core.ontraport_figures(
            record.payload.get("transaction", {}), invoice.amount if invoice else None
        )
    except (TransactionError, PurchaseInvoiceError, ValueError, KeyError, TypeError):
        return ()  # unreadable: the record itself says why (it failed with source_unreadable)


def _currency(record: SourceRecord, documents: Sequence[Document], gateway_currency: dict[str, str]) -> str:
    for document in documents:
        code = document.request_body.get("CurrencyCode")
        if code:
            return str(code)
    if record.source == "ontraport":
        gateway = str(record.payload.get("transaction", {}).get("gateway_id") or "")
        return gateway_currency.get(gateway) or "unknown"
    return "unknown"


def _gateway(record: SourceRecord, names: dict[tuple[uuid.UUID, str], str]) -> str:
    if record.source == "onport":
        purchase = record.payload.get("purchase") or {}
        return (
            str(purchase.get("purchaseType") or "purchase invoices")
            if isinstance(purchase, dict)
            else "purchase invoices"
        )
    gateway = str(record.payload.get("transaction", {}).get("gateway_id") or "")
    if not gateway:
        return "no gateway"
    return names.get((record.connection_id, gateway), f"Gateway {gateway}")


def _day(record: SourceRecord, zone: ZoneInfo) -> date:
    return (record.source_date or record.created_at).astimezone(zone).date()


async def reconciliation(
    session: AsyncSession,
    partners: Partners,
    account_id: uuid.UUID,
    date_from: date,
    date_to: date,
    group_by: core.GroupBy,
) -> Reconciliation:
    check_period(date_from, date_to, partners.settings.api.reconciliation_max_days)
    options = await core_inputs.account_options(session, account_id)
    bill_options = core_inputs.bill_options(options)
    # Days are the tenant's own (the time zone its invoices and bills are dated in): read a day either
    # side in UTC, then keep what falls inside the period locally.
    zone = ZoneInfo(options.ontraport.time_zone)  # the account's one time zone (bills are dated in it too)
    start = datetime.combine(date_from - timedelta(days=1), time.min, tzinfo=UTC)
    end = datetime.combine(date_to + timedelta(days=2), time.min, tzinfo=UTC)
    records = [
        record
        for record in await repository.records_between(session, account_id, start, end)
        if date_from <= _day(record, zone) <= date_to
    ]
    documents = await repository.documents_of(session, account_id, [r.id for r in records])
    by_record: dict[uuid.UUID, list[Document]] = {}
    for document in documents:
        by_record.setdefault(document.record_id, []).append(document)
    held, stats = await copies(session, partners, account_id, documents)
    names = await repository.gateway_names(session, account_id)
    currencies = await repository.gateway_currencies(session, account_id)
    facts = []
    for record in records:
        own = by_record.get(record.id, [])
        facts.append(
            core.RecordFacts(
                record_id=str(record.id),
                external_id=record.external_id,
                source=record.source,
                status=str(record.status),
                reason=record.reason,
                day=_day(record, zone),
                gateway=_gateway(record, names),
                currency=_currency(record, own, currencies),
                figures=_figures(record, own, bill_options),
                documents=tuple(
                    core.RecordDocument(
                        kind=d.kind,
                        status=str(d.status),
                        xero_id=d.xero_id,
                        number=d.xero_number,
                        amount=d.amount,
                    )
                    for d in own
                ),
            )
        )
    result = core.reconcile(facts, held, group_by)
    return Reconciliation(
        date_from=date_from,
        date_to=date_to,
        group_by=group_by,
        rows=[
            ReportRow(
                period=row.period,
                source=row.source,
                gateway=row.gateway,
                currency=row.currency,
                figure=row.kind,
                source_count=row.source_count,
                source_amount=row.source_amount,
                xero_count=row.xero_count,
                xero_amount=row.xero_amount,
                difference=row.difference,
            )
            for row in result.rows
        ],
        days=[
            ReportDay(
                day=d.day, currency=d.currency, source_amount=d.source_amount, xero_amount=d.xero_amount
            )
            for d in result.days
        ],
        differences=[
            ReportDifference(
                record_id=uuid.UUID(d.record_id),
                external_id=d.external_id,
                source=d.source,
                day=d.day,
                currency=d.currency,
                figure=d.kind,
                source_amount=d.source_amount,
                xero_amount=d.xero_amount,
                cause=d.cause,
                detail=d.detail,
                document_number=d.document_number,
                record_url=f"/records/{d.record_id}",
                xero_url=xero_link(d.document_kind, d.xero_id),
            )
            for d in result.differences
        ],
        xero=XeroReads(calls=stats.calls, read=stats.read, cached=stats.cached, not_read=len(stats.not_read)),
    )


def _cell(value: object) -> str:
    text = f"{value:.2f}" if isinstance(value, Decimal) else str(value if value is not None else "")
    # A cell a spreadsheet would run as a formula is written as text (CSV injection).
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def as_csv(report: Reconciliation, table: Literal["summary", "differences"]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if table == "differences":
        writer.writerow(DIFFERENCE_COLUMNS)
        for d in report.differences:
            values = d.model_dump()
            writer.writerow([_cell(values[c]) for c in DIFFERENCE_COLUMNS])
        return out.getvalue()
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        values = row.model_dump()
        writer.writerow([_cell(values[c]) for c in CSV_COLUMNS])
    return out.getvalue()
