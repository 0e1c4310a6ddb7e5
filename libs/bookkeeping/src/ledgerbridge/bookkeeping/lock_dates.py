"""Documents dated in a period the Xero organisation has locked: held, or moved to the first open day.

Xero refuses any document dated on or before the organisation's lock date, so sending one would only
fail. The tenant chooses (:class:`LockedPeriod`): the record waits with a reason naming the date, or the
document is dated the first day after the lock and its reference keeps the date it really had.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from enum import StrEnum

from ledgerbridge.bookkeeping.decisions import Decision, Publish, Wait
from ledgerbridge.bookkeeping.documents import DocumentKind, XeroDocument
from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode

REFERENCE_MAX = 255
"""Xero's longest reference on invoices, credit notes and payments."""

_LABELS = {
    DocumentKind.invoice: "Invoice",
    DocumentKind.payment: "Payment",
    DocumentKind.credit_note: "Credit note",
    DocumentKind.refund_payment: "Refund",
    DocumentKind.bill: "Bill",
    DocumentKind.bill_payment: "Bill payment",
    DocumentKind.supplier_credit_note: "Supplier credit note",
}


class LockedPeriod(StrEnum):
    """What happens to a document dated on or before the Xero organisation's lock date."""

    HOLD = "hold"
    """The record waits, naming the lock date, until the date moves or this setting changes."""
    FIRST_OPEN_DAY = "first_open_day"
    """The document is dated the first day after the lock date; its reference keeps the original date."""


def _day(document: XeroDocument) -> date | None:
    value = document.body.get("Date")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _moved(document: XeroDocument, first_open: date, original: date) -> XeroDocument:
    body = dict(document.body)
    body["Date"] = first_open.isoformat()
    due = body.get("DueDate")
    if isinstance(due, str) and due < first_open.isoformat():
        body["DueDate"] = first_open.isoformat()
    note = f"(dated {original.isoformat()})"
    reference = str(body.get("Reference") or "").strip()
    body["Reference"] = f"{reference[: REFERENCE_MAX - len(note) - 1]} {note}".strip()
    return replace(document, body=body)


def apply_lock_date(
    decision: Decision, lock_date: date | None, policy: LockedPeriod, setting: str
) -> Decision:
    """``decision`` as Xero will take it under ``lock_date``; ``setting`` is the option that chose
    ``policy`` (the cause a held record names, so changing it frees the record)."""
    if not isinstance(decision, Publish) or lock_date is None:
        return decision
    locked = [
        (document, day) for document in decision.documents if (day := _day(document)) and day <= lock_date
    ]
    if not locked:
        return decision
    if policy is LockedPeriod.HOLD:
        document, day = locked[0]
        return Wait(
            f"{_LABELS.get(document.kind, 'The document')} dated {day.isoformat()} falls on or before the "
            f"Xero organisation's lock date {lock_date.isoformat()}, and Xero refuses documents in a locked "
            "period. Move the lock date in Xero, or set locked periods to post on the first open day",
            ReasonCode.period_locked,
            Cause("setting", setting),
        )
    first_open = lock_date + timedelta(days=1)
    documents = tuple(
        _moved(document, first_open, day) if (day := _day(document)) and day <= lock_date else document
        for document in decision.documents
    )
    return replace(
        decision,
        documents=documents,
        summary=f"{decision.summary}; dated {first_open.isoformat()}, the first day after Xero's lock date",
    )
