"""Summary mode's refunds (issue 13, point 1): a day's refunds of summarised sales as one credit note with
one refund payment, over random days of sales and refunds seen at random times (derandomized: the same
examples every run)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerbridge.bookkeeping.decisions import Fail, NoChange, Publish, Wait
from ledgerbridge.bookkeeping.documents import DocumentKind, xero_totals
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.bookkeeping.sales.summary import (
    RefundCredit,
    SummaryEntry,
    day_closes_at,
    map_summary_member,
    refunded_amount,
)
from ledgerbridge.bookkeeping.sales.summary_refunds import (
    DailyRefundSummary,
    map_daily_refund_summary,
    plan_refund_summaries,
    refund_entry,
    refund_summary_documents,
    refund_summary_number,
)
from ledgerbridge.bookkeeping.sales.transaction import parse_transaction
from ledgerbridge.sandbox.xero.openapi import schema_errors
from tests.mapper.ontraport.test_properties import Sale, sales
from tests.mapper.ontraport.test_summary import (
    AFTER_ALL,
    DAY_START,
    MAPPINGS,
    SETTINGS,
    ZONE,
    _entries,
    _paid_sale,
    _sale_record,
)

REFUND_SETTINGS = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
START = datetime.fromtimestamp(DAY_START, UTC)
LATER = AFTER_ALL + timedelta(days=10)

# A sale, its gateway, when it was made, and its refunds: each a share of the charge (1 = all that is
# left) and how long after the sale it was seen.
refunded_days = st.lists(
    st.tuples(
        sales,
        st.sampled_from([3, 5]),
        st.integers(0, 86400 - 1),
        st.lists(st.tuples(st.sampled_from([1, 2, 3, 4]), st.integers(60, 4 * 86400)), max_size=2),
    ),
    min_size=1,
    max_size=20,
)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _refund_steps(entry: SummaryEntry, refunds: list[tuple[int, int]]) -> list[tuple[Decimal, datetime]]:
    """The increments of a sale's refund, each with when it was seen: shares of what is left."""
    steps = []
    left = entry.total
    seen = START + timedelta(seconds=0)
    for share, after in sorted(refunds, key=lambda refund: refund[1]):
        amount = left if share == 1 else _cents(left / share)
        if amount <= 0:
            continue
        left -= amount
        seen = START + timedelta(seconds=after)
        steps.append((amount, seen))
    return steps


def _plan(
    day: list[tuple[Sale, int, int, list[tuple[int, int]]]],
) -> tuple[list[SummaryEntry], list[SummaryEntry]]:
    records = [_sale_record(sale, i, gateway, at) for i, (sale, gateway, at, _) in enumerate(day)]
    entries = _entries(records)
    refunds = [
        refund_entry(entry, record_id=entry.record_id, amount=amount, observed_at=seen, time_zone=ZONE)
        for entry, (*_, steps) in zip(entries, day, strict=True)
        for amount, seen in _refund_steps(entry, steps)
    ]
    return entries, refunds


def _check_documents(summary: DailyRefundSummary) -> dict[DocumentKind, dict[str, Any]]:
    decision = refund_summary_documents(summary, SETTINGS)
    documents = {doc.kind: doc.body for doc in decision.documents}
    assert set(documents) == {DocumentKind.contact, DocumentKind.credit_note, DocumentKind.refund_payment}
    note = documents[DocumentKind.credit_note]
    assert note["Type"] == "ACCRECCREDIT" and note["CreditNoteNumber"] == summary.number
    assert xero_totals(note, {}).total == summary.total  # Xero's own arithmetic, to the cent
    keys = [(line["AccountCode"], line.get("TaxType")) for line in note["LineItems"]]
    assert len(keys) == len(set(keys))  # one line per (account, tax code)
    refund = documents[DocumentKind.refund_payment]
    assert refund["CreditNote"]["CreditNoteNumber"] == summary.number
    assert refund["Amount"] == summary.total
    assert refund["Account"]["Code"] == MAPPINGS.gateways[summary.gateway_id].payment_account_code
    assert schema_errors("CreditNotes", {"CreditNotes": [note]}) == []
    assert schema_errors("Payments", {"Payments": [refund]}) == []
    return documents


@REFUND_SETTINGS
@given(refunded_days)
def test_a_days_refunds_credit_note_totals_its_refunds_to_the_cent(
    day: list[tuple[Sale, int, int, list[tuple[int, int]]]],
) -> None:
    entries, refunds = _plan(day)
    expected: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    for refund in refunds:
        expected[(refund.gateway_id, refund.day)] += refund.total
    planned = plan_refund_summaries(refunds, made={}, now=LATER, time_zone=ZONE, close_hour=2)
    assert {(s.gateway_id, s.day): s.total for s in planned} == dict(expected)
    for summary in planned:
        _check_documents(summary)
    # No line of a sale is credited beyond what its summary booked, and a whole refund credits it exactly.
    for entry in entries:
        credited: dict[tuple[str, str, tuple[tuple[str, str], ...]], Decimal] = defaultdict(Decimal)
        for refund in refunds:
            if refund.record_id == entry.record_id:
                for group in refund.groups:
                    credited[group.key] += group.gross
        booked = {group.key: group.gross for group in entry.groups}
        assert all(amount <= booked[key] for key, amount in credited.items())
        assert sum(credited.values(), Decimal(0)) <= entry.total


@REFUND_SETTINGS
@given(refunded_days, st.randoms(use_true_random=False))
def test_a_late_refund_goes_into_an_adjustment_and_never_changes_a_made_credit_note(
    day: list[tuple[Sale, int, int, list[tuple[int, int]]]], arrivals: random.Random
) -> None:
    _, refunds = _plan(day)
    pending = sorted(refunds, key=lambda _: arrivals.random())
    made: dict[tuple[int, date], list[DailyRefundSummary]] = defaultdict(list)
    sent: dict[str, str] = {}
    open_entries: list[SummaryEntry] = []
    clock = START
    for refund in pending:
        clock += timedelta(hours=arrivals.uniform(0, 12))
        open_entries.append(refund)
        counts = {key: len(found) for key, found in made.items()}
        for summary in plan_refund_summaries(
            open_entries, made=counts, now=clock, time_zone=ZONE, close_hour=2
        ):
            assert clock >= day_closes_at(summary.day, ZONE, 2)
            assert summary.number not in sent  # a new credit note, never a changed one
            assert summary.number == refund_summary_number(
                summary.gateway_id, summary.day, len(made[(summary.gateway_id, summary.day)])
            )
            made[(summary.gateway_id, summary.day)].append(summary)
            note = next(
                d
                for d in refund_summary_documents(summary, SETTINGS).documents
                if d.kind is DocumentKind.credit_note
            )
            sent[summary.number] = note.fingerprint
            taken = {(e.record_id, e.total, e.day) for e in summary.entries}
            open_entries = [e for e in open_entries if (e.record_id, e.total, e.day) not in taken]
    counts = {key: len(found) for key, found in made.items()}
    for summary in plan_refund_summaries(open_entries, made=counts, now=LATER, time_zone=ZONE, close_hour=2):
        assert summary.number not in sent
        made[(summary.gateway_id, summary.day)].append(summary)
    expected: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    for refund in refunds:
        expected[(refund.gateway_id, refund.day)] += refund.total
    booked = {key: sum((s.total for s in found), Decimal(0)) for key, found in made.items()}
    assert booked == dict(expected)  # each day's refunds, adjustments included, to the cent
    for found in made.values():
        for summary in found:
            again = map_daily_refund_summary(summary.model_dump(mode="json"), SETTINGS)
            assert isinstance(again, Publish)
            if summary.number in sent:
                note = next(d for d in again.documents if d.kind is DocumentKind.credit_note)
                assert note.fingerprint == sent[summary.number]


def test_a_summarised_sales_refund_waits_for_its_days_credit_note_then_is_settled_by_it() -> None:
    record = _paid_sale()  # 110.00
    (entry,) = _entries([record])
    kwargs: dict[str, Any] = {
        "record_id": "r1",
        "contact": None,
        "mappings": MAPPINGS,
        "settings": SETTINGS,
        "summarised": entry,
        "summary": "OP-DAY-3-20261102",
        "summary_published": True,
    }
    partial = {**record, "status": 3, "total": "70.00"}
    seen = datetime(2026, 11, 4, 20, tzinfo=UTC)  # 2026-11-05 07:00 in Sydney
    waiting = map_summary_member(partial, observed_at=seen, **kwargs)
    assert isinstance(waiting, Wait) and waiting.code is ReasonCode.refund_summary_pending
    assert (
        "40.00" in waiting.reason and "2026-11-05" in waiting.reason and "2026-11-06 02:00" in waiting.reason
    )
    amount = refunded_amount(parse_transaction(partial), entry)
    assert amount == Decimal("40.00")
    credit = RefundCredit(number="CN-OP-DAY-3-20261105", amount=Decimal("40.00"))
    sending = map_summary_member(partial, refunds=(credit,), **kwargs)
    assert isinstance(sending, Wait) and sending.code is ReasonCode.summary_pending
    assert "CN-OP-DAY-3-20261105" in sending.reason
    done = map_summary_member(partial, refunds=(credit.model_copy(update={"published": True}),), **kwargs)
    assert isinstance(done, NoChange)
    # Refunded in full later: the rest (70.00) waits for its own day's credit note.
    rest = map_summary_member({**record, "status": 2}, refunds=(credit,), observed_at=seen, **kwargs)
    assert isinstance(rest, Wait) and "70.00" in rest.reason
    # More credited than ONTRAPORT now shows refunded: a person must look.
    over = map_summary_member(
        {**record, "status": 3, "total": "100.00"}, refunds=(credit,), observed_at=seen, **kwargs
    )
    assert isinstance(over, Fail) and over.code is ReasonCode.source_figures


def test_a_partial_refund_keeps_each_lines_tax_in_proportion() -> None:
    (entry,) = _entries([_paid_sale()])  # one line: 110.00 with 10.00 tax
    refund = refund_entry(
        entry, record_id="r1", amount=Decimal("55.00"), observed_at=AFTER_ALL, time_zone=ZONE
    )
    assert [(g.gross, g.tax) for g in refund.groups] == [(Decimal("55.00"), Decimal("5.00"))]
    assert refund.day == date(2026, 11, 10)  # 11:00 in Sydney
    (summary,) = plan_refund_summaries([refund], made={}, now=LATER, time_zone=ZONE, close_hour=2)
    assert summary.number == "CN-OP-DAY-3-20261110"
    note = _check_documents(summary)[DocumentKind.credit_note]
    assert note["LineItems"][0]["TaxAmount"] == Decimal("5.00")
    assert note["LineAmountTypes"] == "Inclusive"
