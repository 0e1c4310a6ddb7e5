"""Reconciliation: the source's figures beside what Xero holds now, and why each difference exists.

For each record: what the source says moved (ONTRAPORT charges and refunds, Onport vendor invoices and
payouts) and what our documents for it come to in Xero now (as read back from Xero, not as we sent
them). Grouped by period, source, gateway and currency, one row per kind of figure; every record whose
figures differ is listed with the cause a bookkeeper can act on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from ledgerbridge.bookkeeping.base import Frozen
from ledgerbridge.bookkeeping.bills.figures import bill_figures
from ledgerbridge.bookkeeping.bills.inputs import BillOptions
from ledgerbridge.bookkeeping.bills.mapping import payouts_standing
from ledgerbridge.bookkeeping.bills.record import parse_purchase_invoice
from ledgerbridge.bookkeeping.documents import DocumentKind, edited_in_xero
from ledgerbridge.bookkeeping.money import money_text
from ledgerbridge.bookkeeping.rollback import XeroHeld
from ledgerbridge.bookkeeping.sales.transaction import TransactionStatus, parse_transaction

GroupBy = Literal["day", "week", "month"]


class FigureKind(StrEnum):
    charges = "charges"
    refunds = "refunds"
    invoices = "invoices"
    payouts = "payouts"


# Which of our documents stand for each figure in Xero.
XERO_KINDS: Mapping[FigureKind, frozenset[DocumentKind]] = {
    FigureKind.charges: frozenset({DocumentKind.invoice}),
    FigureKind.refunds: frozenset({DocumentKind.credit_note}),
    FigureKind.invoices: frozenset({DocumentKind.bill}),
    FigureKind.payouts: frozenset({DocumentKind.bill_payment}),
}
GONE = frozenset({"VOIDED", "DELETED"})


class Cause(StrEnum):
    waiting = "waiting"
    failed = "failed"
    in_progress = "in_progress"
    skipped = "skipped"
    rolled_back = "rolled_back"
    voided_in_xero = "voided_in_xero"
    deleted_in_xero = "deleted_in_xero"
    amount_edited_in_xero = "amount_edited_in_xero"
    not_read = "not_read"
    amounts_differ = "amounts_differ"


class Figure(Frozen):
    kind: FigureKind
    amount: Decimal


class RecordDocument(Frozen):
    """One of our documents for the record, with its stored state."""

    kind: DocumentKind
    status: str
    """Our document status: published, rolled_back, pending…"""
    xero_id: str | None
    number: str | None
    amount: Decimal | None


class RecordFacts(Frozen):
    record_id: str
    external_id: str
    source: str
    status: str
    reason: str | None
    day: date
    gateway: str
    currency: str
    figures: tuple[Figure, ...]
    documents: tuple[RecordDocument, ...]


class Row(Frozen):
    period: date
    source: str
    gateway: str
    currency: str
    kind: FigureKind
    source_count: int
    source_amount: Decimal
    xero_count: int
    xero_amount: Decimal

    @property
    def difference(self) -> Decimal:
        return self.xero_amount - self.source_amount


class Day(Frozen):
    day: date
    currency: str
    source_amount: Decimal
    xero_amount: Decimal


class Difference(Frozen):
    record_id: str
    external_id: str
    source: str
    day: date
    currency: str
    kind: FigureKind
    source_amount: Decimal
    xero_amount: Decimal
    cause: Cause
    detail: str
    document_number: str | None = None
    xero_id: str | None = None
    document_kind: DocumentKind | None = None


class Reconciliation(Frozen):
    rows: tuple[Row, ...]
    days: tuple[Day, ...]
    differences: tuple[Difference, ...]


def ontraport_figures(transaction: Mapping[str, Any], invoice_amount: Decimal | None) -> tuple[Figure, ...]:
    """What ONTRAPORT says moved: the charge, and the refund (a partial refund lowers the transaction's
    total, so the charge is then our invoice's amount as Xero confirmed it)."""
    sale = parse_transaction(transaction)
    if sale.status is TransactionStatus.PAID:
        return (Figure(kind=FigureKind.charges, amount=sale.total),)
    if sale.status is TransactionStatus.REFUNDED:
        return (
            Figure(kind=FigureKind.charges, amount=sale.total),
            Figure(kind=FigureKind.refunds, amount=sale.total),
        )
    if sale.status is TransactionStatus.PARTIALLY_REFUNDED and invoice_amount is not None:
        return (
            Figure(kind=FigureKind.charges, amount=invoice_amount),
            Figure(kind=FigureKind.refunds, amount=invoice_amount - sale.total),
        )
    if sale.status is TransactionStatus.PARTIALLY_REFUNDED:
        return (Figure(kind=FigureKind.charges, amount=sale.total),)
    return ()  # unpaid, void, declined, written off, pending: no money moved


def onport_figures(payload: Mapping[str, Any], options: BillOptions) -> tuple[Figure, ...]:
    """What Onport says is owed (the invoice, worked out from its parts) and paid out to the vendor."""
    invoice = parse_purchase_invoice(payload)
    figures = [Figure(kind=FigureKind.invoices, amount=bill_figures(invoice, options).total)]
    figures.extend(
        Figure(kind=FigureKind.payouts, amount=left) for _, left in payouts_standing(invoice.payouts)
    )
    return tuple(figures)


def period_of(day: date, group_by: GroupBy) -> date:
    if group_by == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if group_by == "month":
        return day.replace(day=1)
    return day


def _live(document: RecordDocument, held: Mapping[str, XeroHeld]) -> XeroHeld | None:
    """Xero's copy of a published document that still counts in the books, else None."""
    if document.status != "published" or not document.xero_id:
        return None
    copy = held.get(document.xero_id.lower())
    if copy is None or not copy.found or copy.status in GONE:
        return None
    return copy


def _xero_amount(document: RecordDocument, copy: XeroHeld) -> Decimal:
    return copy.total if copy.total is not None else document.amount or Decimal(0)


def _cause(
    facts: RecordFacts, documents: Sequence[RecordDocument], held: Mapping[str, XeroHeld]
) -> tuple[Cause, str, RecordDocument | None]:
    """The most telling cause of a difference: what Xero did to a document first, then the record's state."""
    for document in documents:
        if document.status != "published" or not document.xero_id:
            continue
        label = document.number or document.xero_id
        copy = held.get(document.xero_id.lower())
        if copy is None:
            return Cause.not_read, f"{label} was not read from Xero (the report's call budget)", document
        if not copy.found or copy.status == "DELETED":
            return Cause.deleted_in_xero, f"{label} was deleted in Xero", document
        if copy.status == "VOIDED":
            return Cause.voided_in_xero, f"{label} was voided in Xero by hand", document
        if edited_in_xero(document.amount, copy.total):
            return (
                Cause.amount_edited_in_xero,
                f"{label} was edited in Xero: {money_text(document.amount)} → {money_text(copy.total)}",
                document,
            )
    rolled = next((d for d in documents if d.status == "rolled_back"), None)
    if rolled is not None:
        return Cause.rolled_back, "Rolled back from Xero; retry the record to sync it again", rolled
    reason = facts.reason or ""
    if facts.status == "waiting":
        return Cause.waiting, f"Waiting: {reason}", None
    if facts.status == "failed":
        return Cause.failed, f"Failed: {reason}", None
    if facts.status == "skipped":
        return Cause.skipped, f"Skipped: {reason}", None
    if facts.status in ("received", "mapped"):
        return Cause.in_progress, "On its way to Xero", None
    return Cause.amounts_differ, "Xero's documents do not add up to the source's figure", None


def reconcile(
    records: Iterable[RecordFacts], held: Mapping[str, XeroHeld], group_by: GroupBy
) -> Reconciliation:
    """Rows per period, source, gateway, currency and figure; days for the chart; every difference.

    ``held`` is Xero's copy of our documents, keyed by lower-case Xero id.
    """
    rows: dict[tuple[date, str, str, str, FigureKind], list[Any]] = defaultdict(
        lambda: [0, Decimal(0), 0, Decimal(0)]
    )
    days: dict[tuple[date, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    differences: list[Difference] = []
    for facts in records:
        source_by_kind: dict[FigureKind, list[Decimal]] = defaultdict(list)
        for figure in facts.figures:
            source_by_kind[figure.kind].append(figure.amount)
        kinds = set(source_by_kind)
        for kind, doc_kinds in XERO_KINDS.items():
            if any(d.kind in doc_kinds and d.status in ("published", "rolled_back") for d in facts.documents):
                kinds.add(kind)
        for kind in sorted(kinds):
            related = [d for d in facts.documents if d.kind in XERO_KINDS[kind]]
            live = [(d, copy) for d in related if (copy := _live(d, held)) is not None]
            source_amount = sum(source_by_kind.get(kind, []), Decimal(0))
            xero_amount = sum((_xero_amount(d, copy) for d, copy in live), Decimal(0))
            key = (period_of(facts.day, group_by), facts.source, facts.gateway, facts.currency, kind)
            row = rows[key]
            row[0] += len(source_by_kind.get(kind, []))
            row[1] += source_amount
            row[2] += len(live)
            row[3] += xero_amount
            if kind in (FigureKind.charges, FigureKind.invoices):
                day = days[(facts.day, facts.currency)]
                day[0] += source_amount
                day[1] += xero_amount
            if source_amount != xero_amount or len(source_by_kind.get(kind, [])) != len(live):
                cause, detail, document = _cause(facts, related, held)
                differences.append(
                    Difference(
                        record_id=facts.record_id,
                        external_id=facts.external_id,
                        source=facts.source,
                        day=facts.day,
                        currency=facts.currency,
                        kind=kind,
                        source_amount=source_amount,
                        xero_amount=xero_amount,
                        cause=cause,
                        detail=detail,
                        document_number=document.number if document else None,
                        xero_id=document.xero_id if document else None,
                        document_kind=document.kind if document else None,
                    )
                )
    return Reconciliation(
        rows=tuple(
            Row(
                period=period,
                source=source,
                gateway=gateway,
                currency=currency,
                kind=kind,
                source_count=values[0],
                source_amount=values[1],
                xero_count=values[2],
                xero_amount=values[3],
            )
            for (period, source, gateway, currency, kind), values in sorted(rows.items())
        ),
        days=tuple(
            Day(day=day, currency=currency, source_amount=values[0], xero_amount=values[1])
            for (day, currency), values in sorted(days.items())
        ),
        differences=tuple(sorted(differences, key=lambda d: (d.day, d.source, d.external_id, d.kind))),
    )
