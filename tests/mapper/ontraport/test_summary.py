"""Summary mode (issue 13, point 1): the pure core's day summaries, over random days of sales."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerbridge.bookkeeping.decisions import Fail, NoChange, Publish, Wait
from ledgerbridge.bookkeeping.documents import DocumentKind, PublishedDocument, xero_totals
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.bookkeeping.sales import (
    GatewayMapping,
    Mappings,
    MappingSettings,
    ProductMapping,
    SyncState,
    TrialState,
)
from ledgerbridge.bookkeeping.sales.summary import (
    DailySummary,
    SummaryEntry,
    day_closes_at,
    map_daily_summary,
    map_summary_member,
    parse_summary_number,
    plan_summaries,
    summary_documents,
    summary_entry,
    summary_number,
)
from ledgerbridge.sandbox.xero.openapi import schema_errors
from tests.mapper.ontraport.test_properties import Sale, _ontraport_record, sales

ZONE = "Australia/Sydney"
DAY_START = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp()) - 11 * 3600  # 2026-11-02 00:00 Sydney
MAPPINGS = Mappings(
    products={100: ProductMapping(account_code="200", item_code="P100")},
    taxes={4: "TAX"},
    gateways={
        3: GatewayMapping(currency_code="USD", payment_account_code="610"),
        5: GatewayMapping(currency_code="AUD", payment_account_code="615"),
    },
)
SETTINGS = MappingSettings(
    default_sales_account="200",
    default_coupon_account="450",
    default_shipping_account="260",
    tax_free_code="EXEMPT",
    time_zone=ZONE,
    summary_mode=True,
    summary_close_hour=2,
)
# A day of up to 25 sales is some 40 mappings per example: fewer examples than the single-sale tests.
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AFTER_ALL = datetime(2026, 11, 10, tzinfo=UTC)


def _sale_record(sale: Sale, index: int, gateway: int, seconds: int) -> dict[str, Any]:
    record = _ontraport_record(sale)
    return {**record, "id": 7000 + index, "gateway_id": gateway, "date": DAY_START + seconds}


def _entries(records: list[dict[str, Any]]) -> list[SummaryEntry]:
    entries = []
    for record in records:
        entry = summary_entry(
            record, record_id=f"r{record['id']}", contact=None, mappings=MAPPINGS, settings=SETTINGS
        )
        assert isinstance(entry, SummaryEntry), entry
        entries.append(entry)
    return entries


days = st.lists(
    st.tuples(sales, st.sampled_from([3, 5]), st.integers(0, 3 * 86400 - 1)), min_size=1, max_size=25
)


@PROPERTY_SETTINGS
@given(days)
def test_a_summary_totals_the_days_charges_to_the_cent(day: list[tuple[Sale, int, int]]) -> None:
    records = [_sale_record(sale, index, gateway, at) for index, (sale, gateway, at) in enumerate(day)]
    entries = _entries(records)
    summaries = plan_summaries(entries, made={}, now=AFTER_ALL, time_zone=ZONE, close_hour=2)
    charged: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    for record, entry in zip(records, entries, strict=True):
        charged[(record["gateway_id"], entry.day)] += Decimal(record["total"])
    assert {(s.gateway_id, s.day) for s in summaries} == set(charged)
    for summary in summaries:
        decision = summary_documents(summary, SETTINGS)
        documents = {doc.kind: doc for doc in decision.documents}
        invoice = documents[DocumentKind.invoice].body
        assert xero_totals(invoice, {}).total == charged[(summary.gateway_id, summary.day)]
        assert invoice["CurrencyCode"] == MAPPINGS.gateways[summary.gateway_id].currency_code
        keys = [(line["AccountCode"], line.get("TaxType")) for line in invoice["LineItems"]]
        assert len(keys) == len(set(keys))  # one line per (account, tax code)
        if summary.total:
            payment = documents[DocumentKind.payment].body
            assert payment["Amount"] == summary.total == charged[(summary.gateway_id, summary.day)]
            assert payment["Account"]["Code"] == MAPPINGS.gateways[summary.gateway_id].payment_account_code
        for document in decision.documents:
            schema = {"invoice": "Invoices", "payment": "Payments", "contact": "Contacts"}[
                document.kind.value
            ]
            assert schema_errors(schema, {schema: [document.json_body()]}) == []


@PROPERTY_SETTINGS
@given(days, st.randoms(use_true_random=False))
def test_grouping_is_stable_whatever_the_order(
    day: list[tuple[Sale, int, int]], shuffler: random.Random
) -> None:
    records = [_sale_record(sale, index, gateway, at) for index, (sale, gateway, at) in enumerate(day)]
    entries = _entries(records)
    shuffled = list(entries)
    shuffler.shuffle(shuffled)

    def fingerprints(found: list[SummaryEntry]) -> list[list[str]]:
        planned = plan_summaries(found, made={}, now=AFTER_ALL, time_zone=ZONE, close_hour=2)
        return [[doc.fingerprint for doc in summary_documents(s, SETTINGS).documents] for s in planned]

    assert fingerprints(shuffled) == fingerprints(entries)


@PROPERTY_SETTINGS
@given(days, st.randoms(use_true_random=False))
def test_a_late_arrival_never_changes_a_closed_summary(
    day: list[tuple[Sale, int, int]], arrivals: random.Random
) -> None:
    """Sales arrive in random order at random times; each run summarises what is closed and unsummarised."""
    records = [_sale_record(sale, index, gateway, at) for index, (sale, gateway, at) in enumerate(day)]
    entries = _entries(records)
    start = datetime.fromtimestamp(DAY_START, UTC)
    arriving = sorted(entries, key=lambda _: arrivals.random())
    made: dict[tuple[int, date], list[DailySummary]] = defaultdict(list)
    open_entries: list[SummaryEntry] = []
    sent: dict[str, str] = {}  # number → fingerprint of the invoice as first made
    clock = start
    for entry in arriving:
        clock += timedelta(hours=arrivals.uniform(0, 12))
        open_entries.append(entry)
        counts = {key: len(found) for key, found in made.items()}
        for summary in plan_summaries(open_entries, made=counts, now=clock, time_zone=ZONE, close_hour=2):
            assert clock >= day_closes_at(summary.day, ZONE, 2)  # never before its day closes
            assert summary.sequence == len(made[(summary.gateway_id, summary.day)])
            made[(summary.gateway_id, summary.day)].append(summary)
            invoice = next(
                d for d in summary_documents(summary, SETTINGS).documents if d.kind is DocumentKind.invoice
            )
            assert summary.number not in sent  # a new document, never a changed one
            sent[summary.number] = invoice.fingerprint
            taken = {e.record_id for e in summary.entries}
            open_entries = [e for e in open_entries if e.record_id not in taken]
    for summary in plan_summaries(
        open_entries, made={k: len(v) for k, v in made.items()}, now=AFTER_ALL, time_zone=ZONE, close_hour=2
    ):
        assert summary.number not in sent
        made[(summary.gateway_id, summary.day)].append(summary)
        sent[summary.number] = summary_documents(summary, SETTINGS).documents[1].fingerprint
    for (gateway, day_), summaries in made.items():
        expected = sum(
            (
                Decimal(r["total"])
                for r, e in zip(records, entries, strict=True)
                if (e.gateway_id, e.day) == (gateway, day_)
            ),
            Decimal(0),
        )
        assert sum((s.total for s in summaries), Decimal(0)) == expected
        assert [s.number.endswith(f"-ADJ{s.sequence}") for s in summaries[1:]] == [True] * (
            len(summaries) - 1
        )
    # Re-making a summary from its stored payload gives exactly the documents first made.
    for summaries in made.values():
        for summary in summaries:
            again = map_daily_summary(summary.model_dump(mode="json"), SETTINGS)
            assert isinstance(again, Publish)
            invoice = next(d for d in again.documents if d.kind is DocumentKind.invoice)
            assert invoice.fingerprint == sent[summary.number]


def test_a_summary_number_reads_back() -> None:
    for sequence in (0, 1, 12):
        number = summary_number(5, date(2026, 11, 2), sequence)
        assert parse_summary_number(number) == (5, date(2026, 11, 2), sequence)
    assert summary_number(5, date(2026, 11, 2), 2) == "OP-DAY-5-20261102-ADJ2"


def test_the_day_closes_at_the_close_hour_of_the_next_local_day() -> None:
    # 2026-11-02 in Sydney (UTC+11) closes at 2026-11-03 02:00 local = 2026-11-02 15:00 UTC.
    assert day_closes_at(date(2026, 11, 2), ZONE, 2) == datetime(2026, 11, 2, 15, tzinfo=UTC)
    assert day_closes_at(date(2026, 11, 2), "UTC", 0) == datetime(2026, 11, 3, tzinfo=UTC)


def _paid_sale() -> dict[str, Any]:
    sale = Sale(
        products=[(1, Decimal("100.00"), True)],
        rate=Decimal(10),
        tax_shipping=False,
        shipping=[],
        discount_share=Fraction(0),
        coupon_mode=SETTINGS.coupon_mode,
        untaxed_mode=SETTINGS.untaxed_mode,
    )
    return _sale_record(sale, 1, 3, 3600)


def test_a_paid_sale_waits_for_its_day_and_a_missing_mapping_fails_at_once() -> None:
    record = _paid_sale()
    decision = map_summary_member(record, record_id="r1", contact=None, mappings=MAPPINGS, settings=SETTINGS)
    assert isinstance(decision, Wait)
    assert decision.code is ReasonCode.summary_pending
    assert "2026-11-02" in decision.reason and "2026-11-03 02:00" in decision.reason
    unmapped = map_summary_member(
        {**record, "gateway_id": 9}, record_id="r1", contact=None, mappings=MAPPINGS, settings=SETTINGS
    )
    assert isinstance(unmapped, Fail) and unmapped.code is ReasonCode.gateway_unmapped
    # Off (or an invoice of its own already in Xero): the sale is mapped on its own, as before.
    off = map_summary_member(
        record,
        record_id="r1",
        contact=None,
        mappings=MAPPINGS,
        settings=SETTINGS.model_copy(update={"summary_mode": False}),
    )
    assert isinstance(off, Publish)
    assert {doc.kind for doc in off.documents} == {
        DocumentKind.contact,
        DocumentKind.invoice,
        DocumentKind.payment,
    }
    own = SyncState(invoice=PublishedDocument(number="OP-7001", amount=Decimal("110.00"), body={}))
    assert isinstance(
        map_summary_member(
            record, record_id="r1", contact=None, mappings=MAPPINGS, settings=SETTINGS, state=own
        ),
        NoChange | Publish,
    )


def test_a_summarised_sale_waits_for_its_summary_then_a_refund_is_credited_on_its_own() -> None:
    record = _paid_sale()
    (entry,) = _entries([record])
    kwargs: dict[str, Any] = {"record_id": "r1", "contact": None, "mappings": MAPPINGS, "settings": SETTINGS}
    sending = map_summary_member(record, summarised=entry, summary="OP-DAY-3-20261102", **kwargs)
    assert isinstance(sending, Wait) and "OP-DAY-3-20261102" in sending.reason
    done = map_summary_member(
        record, summarised=entry, summary="OP-DAY-3-20261102", summary_published=True, **kwargs
    )
    assert isinstance(done, NoChange)
    refunded = map_summary_member(
        {**record, "status": 2},
        summarised=entry,
        summary="OP-DAY-3-20261102",
        summary_published=True,
        observed_on=date(2026, 11, 5),
        **kwargs,
    )
    assert isinstance(refunded, Publish), refunded
    documents = {doc.kind: doc.body for doc in refunded.documents}
    assert set(documents) == {DocumentKind.credit_note, DocumentKind.refund_payment}
    assert xero_totals(documents[DocumentKind.credit_note], {"TAX": Decimal(10)}).total == entry.total
    assert documents[DocumentKind.refund_payment]["Amount"] == entry.total
    assert documents[DocumentKind.credit_note]["Date"] == "2026-11-05"


def test_a_day_mixing_taxed_and_untaxed_sales_needs_a_tax_free_code() -> None:
    taxed = _paid_sale()
    untaxed = {
        **_ontraport_record(
            Sale(
                [(1, Decimal("50.00"), False)],
                None,
                False,
                [],
                Fraction(0),
                SETTINGS.coupon_mode,
                SETTINGS.untaxed_mode,
            )
        ),
        "id": 7002,
        "gateway_id": 3,
        "date": DAY_START + 7200,
    }
    (summary,) = plan_summaries(
        _entries([taxed, untaxed]), made={}, now=AFTER_ALL, time_zone=ZONE, close_hour=2
    )
    lines = summary_documents(summary, SETTINGS).documents[1].body["LineItems"]
    assert {line["TaxType"] for line in lines} == {"TAX", "EXEMPT"}
    failed = map_daily_summary(
        summary.model_dump(mode="json"), SETTINGS.model_copy(update={"tax_free_code": None})
    )
    assert isinstance(failed, Fail) and failed.code is ReasonCode.setting_missing


def test_a_partial_refund_of_a_summarised_sale_credits_its_summary_lines_in_proportion() -> None:
    record = _paid_sale()  # 100.00 + 10 % tax = 110.00
    (entry,) = _entries([record])
    decision = map_summary_member(
        {**record, "status": 3, "total": "55.00"},
        record_id="r1",
        contact=None,
        mappings=MAPPINGS,
        settings=SETTINGS,
        summarised=entry,
        summary="OP-DAY-3-20261102",
        summary_published=True,
        observed_on=date(2026, 11, 4),
    )
    assert isinstance(decision, Publish), decision
    documents = {doc.kind: doc.body for doc in decision.documents}
    note = documents[DocumentKind.credit_note]
    assert note["CreditNoteNumber"] == "CN-OP-7001"
    assert [(line["AccountCode"], line.get("TaxType")) for line in note["LineItems"]] == [
        (group.account_code, group.tax_type) for group in entry.groups
    ]
    assert xero_totals(note, {"TAX": Decimal(10)}).total == Decimal("55.00")
    assert documents[DocumentKind.refund_payment]["Amount"] == Decimal("55.00")


def test_on_the_trial_plan_sales_go_one_by_one_and_count_against_its_limit() -> None:
    trial = TrialState(plan_is_trial=True, synced_count=3, limit=20)
    decision = map_summary_member(
        _paid_sale(), record_id="r1", contact=None, mappings=MAPPINGS, settings=SETTINGS, trial=trial
    )
    assert isinstance(decision, Publish)
    assert DocumentKind.invoice in {doc.kind for doc in decision.documents}
    full = map_summary_member(
        _paid_sale(),
        record_id="r1",
        contact=None,
        mappings=MAPPINGS,
        settings=SETTINGS,
        trial=trial.model_copy(update={"synced_count": 20}),
    )
    assert isinstance(full, Wait) and full.code is ReasonCode.plan_limit
