"""Summary mode's refunds (issue 13, point 1): a day's refunds of summarised sales as one credit note.

A summarised sale refunded later does not get a credit note of its own: the part not credited yet becomes
an entry of its own (:func:`refund_entry`: spread over the lines its summary took from it, in proportion)
and waits for the local day the refund was seen on to close, at the same hour as the sales summaries.
Then :func:`plan_refund_summaries` turns the day's entries into a frozen :class:`DailyRefundSummary` per
gateway, and :func:`refund_summary_documents` into one ACCRECCREDIT credit note (a line per account, tax
code and tracking group) and one refund payment of the day's refunds. A refund seen after its day's credit
note was made goes into an adjustment (``-ADJ1``…): a credit note, once made, never changes.

Pure: no I/O and no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from ledgerbridge.bookkeeping.decisions import Decision, MappingError, Publish
from ledgerbridge.bookkeeping.documents import DocumentKind, XeroDocument, xero_totals
from ledgerbridge.bookkeeping.money import apportion, money_text, round_cents
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.bookkeeping.sales.inputs import MappingSettings
from ledgerbridge.bookkeeping.sales.invoices import MAPPING_VERSION
from ledgerbridge.bookkeeping.sales.summary import (
    SUMMARY_CONTACT,
    DayDocument,
    SummaryEntry,
    day_groups,
    summary_line,
    summary_number,
)

REFUND_PREFIX = "CN-"


class DailyRefundSummary(DayDocument):
    """A day's refunds of one gateway's summarised sales: one credit note and its refund payment
    (:func:`refund_summary_documents`)."""

    prefix: ClassVar[str] = REFUND_PREFIX


plan_refund_summaries = DailyRefundSummary.plan


def refund_summary_number(gateway_id: int, day: date, sequence: int) -> str:
    """``CN-OP-DAY-<gateway>-<yyyymmdd>``, with ``-ADJ<n>`` for the n-th adjustment of that day."""
    return REFUND_PREFIX + summary_number(gateway_id, day, sequence)


def refund_day(observed_at: datetime, time_zone: str) -> date:
    """The local day a refund seen at ``observed_at`` belongs to."""
    return observed_at.astimezone(ZoneInfo(time_zone)).date()


def refund_entry(
    entry: SummaryEntry, *, record_id: str, amount: Decimal, observed_at: datetime, time_zone: str
) -> SummaryEntry:
    """``amount`` (tax included) of the sale's summary lines, spread over them in proportion: the refund's
    entry, a :class:`SummaryEntry` whose ``day`` is the day the refund was seen on.

    Each share keeps its line's tax in the same proportion (to the cent); the whole sale credits each
    line exactly as the summary booked it.
    """
    amount = round_cents(amount)
    if amount <= 0 or amount > entry.total:
        raise MappingError(
            f"Transaction {entry.transaction_id}'s refund of {money_text(amount)} does not fit the "
            f"{money_text(entry.total)} its summary took; check it by hand",
            ReasonCode.source_figures,
        )
    positive = [group for group in entry.groups if group.gross > 0]
    if not positive:
        raise MappingError(
            f"Transaction {entry.transaction_id} has no positive summary line to credit",
            ReasonCode.source_figures,
        )
    if amount == entry.total:
        groups = list(entry.groups)
    else:
        shares = apportion(amount, [group.gross for group in positive])
        groups = [
            group.model_copy(update={"gross": share, "tax": round_cents(group.tax * share / group.gross)})
            for group, share in zip(positive, shares, strict=True)
            if share
        ]
    return entry.model_copy(
        update={
            "record_id": record_id,
            "day": refund_day(observed_at, time_zone),
            "total": amount,
            "groups": tuple(groups),
        }
    )


def refund_summary_documents(summary: DailyRefundSummary, settings: MappingSettings) -> Publish:
    """The day's credit note (a line per group, tax inclusive with explicit tax, as the summary invoice)
    and its one refund payment of the day's refunds."""
    number = summary.number
    groups = day_groups((group for entry in summary.entries for group in entry.groups), number, settings)
    all_untaxed = all(group.tax_type is None for group in groups)
    day = summary.day.isoformat()
    body: dict[str, Any] = {
        "Type": "ACCRECCREDIT",
        "Contact": dict(SUMMARY_CONTACT),
        "Date": day,
        "CreditNoteNumber": number,
        "Reference": f"{len(summary.entries)} ONTRAPORT refunds of {day}, gateway {summary.gateway_id}",
        "CurrencyCode": summary.currency_code,
        # Always approved: its refund payment needs an AUTHORISED credit note.
        "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax" if all_untaxed else "Inclusive",
        "LineItems": [summary_line(f"ONTRAPORT refunds {day}", group) for group in groups],
    }
    if summary.branding_theme_id:
        body["BrandingThemeID"] = summary.branding_theme_id
    total = xero_totals(body, {}).total
    if total != summary.total:
        raise MappingError(
            f"Refunds credit note {number} would reach Xero as {money_text(total)} instead of the day's "
            f"{money_text(summary.total)}; this is a mapper bug, please report it",
            ReasonCode.mapping_error,
        )
    refund = {
        "CreditNote": {"CreditNoteNumber": number},
        "Account": {"Code": summary.payment_account},
        "Date": day,
        "Amount": summary.total,
        "Reference": f"ONTRAPORT refunds of {day}",
    }
    return Publish(
        (
            XeroDocument(DocumentKind.contact, dict(SUMMARY_CONTACT)),
            XeroDocument(DocumentKind.credit_note, body),
            XeroDocument(DocumentKind.refund_payment, refund),
        ),
        f"Refunds credit note {number}: {len(summary.entries)} refunds, {money_text(summary.total)}",
        MAPPING_VERSION,
    )


def map_daily_refund_summary(payload: Mapping[str, Any], settings: MappingSettings) -> Decision:
    """The documents of a stored refunds summary (its frozen payload)."""
    try:
        return refund_summary_documents(DailyRefundSummary.model_validate(payload), settings)
    except MappingError as error:
        return error.as_fail()
