"""The pure rules of a rollback plan (Xero's order and what is left alone) and of the reconciliation
(figures, periods, causes): worked examples and properties (fixed seed)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from ledgerbridge.bookkeeping.bills.inputs import BillOptions
from ledgerbridge.bookkeeping.documents import DocumentKind, edited_in_xero
from ledgerbridge.bookkeeping.reconciliation import (
    Cause,
    FigureKind,
    RecordDocument,
    RecordFacts,
    onport_figures,
    ontraport_figures,
    period_of,
    reconcile,
)
from ledgerbridge.bookkeeping.rollback import Action, OurDocument, Outcome, XeroHeld, plan_record, renumbered
from tests.mapper.onport import builders

INVOICE_ID = "inv-1"
PAYMENT_ID = "pay-1"


def _sale(amount: str = "242.00") -> list[OurDocument]:
    return [
        OurDocument(id="d-contact", kind=DocumentKind.contact, xero_id="c-1", number="OP-7", amount=None),
        OurDocument(
            id="d-invoice",
            kind=DocumentKind.invoice,
            xero_id=INVOICE_ID,
            number="OP-1001",
            amount=Decimal(amount),
        ),
        OurDocument(
            id="d-payment",
            kind=DocumentKind.payment,
            xero_id=PAYMENT_ID,
            number="OP-1001",
            amount=Decimal(amount),
        ),
    ]


def _held(status: str = "PAID", total: str = "242.00", **changes: object) -> dict[str, XeroHeld]:
    invoice = XeroHeld(found=True, status=status, total=Decimal(total), payment_ids=(PAYMENT_ID,))
    payment = XeroHeld(found=True, status="AUTHORISED", total=Decimal("242.00"))
    held = {INVOICE_ID: invoice, PAYMENT_ID: payment}
    if "payment" in changes:
        held[PAYMENT_ID] = changes["payment"]  # type: ignore[assignment]
    if "invoice" in changes:
        held[INVOICE_ID] = changes["invoice"]  # type: ignore[assignment]
    return held


def test_a_paid_invoice_is_undone_payment_first_then_voided_and_renumbered() -> None:
    plan = plan_record(_sale(), _held())
    assert plan.outcome is Outcome.undo
    assert [(d.kind, d.body.get("Status"), d.target_id) for d in plan.undo] == [
        (DocumentKind.rollback_payment, "DELETED", PAYMENT_ID),
        (DocumentKind.rollback_document, "VOIDED", INVOICE_ID),
    ]
    assert plan.undo[1].body["Number"] == renumbered("OP-1001", "d-invoice")
    actions = {d.kind: d.action for d in plan.documents}
    assert actions == {
        DocumentKind.contact: Action.keep,
        DocumentKind.invoice: Action.void,
        DocumentKind.payment: Action.delete_payment,
    }


def test_a_draft_is_deleted_not_voided_and_keeps_its_number() -> None:
    documents = [d for d in _sale() if d.kind is DocumentKind.invoice]
    plan = plan_record(documents, {INVOICE_ID: XeroHeld(found=True, status="DRAFT", total=Decimal("242.00"))})
    assert [(d.body["Status"], "Number" in d.body) for d in plan.undo] == [("DELETED", False)]


def test_what_xero_holds_differently_leaves_the_whole_record_alone() -> None:
    cases = {
        "voided in Xero by hand": _held(status="VOIDED"),
        "amount was edited": _held(total="200.00"),
        "reconciled with a bank line": _held(
            payment=XeroHeld(found=True, status="AUTHORISED", total=Decimal("242.00"), reconciled=True)
        ),
        "payment made in Xero outside": _held(
            invoice=XeroHeld(
                found=True, status="PAID", total=Decimal("242.00"), payment_ids=(PAYMENT_ID, "x")
            )
        ),
        "deleted in Xero": _held(payment=XeroHeld(found=False)),
    }
    for words, held in cases.items():
        plan = plan_record(_sale(), held)
        assert plan.outcome is Outcome.left_alone, words
        assert words in plan.reason, (words, plan.reason)
        assert plan.undo == ()


def test_a_sale_voided_at_the_source_has_nothing_left_to_undo() -> None:
    documents = [
        *_sale(),
        OurDocument(
            id="d-del",
            kind=DocumentKind.payment_delete,
            xero_id=PAYMENT_ID,
            number=None,
            amount=None,
            target_id=PAYMENT_ID,
        ),
        OurDocument(
            id="d-void",
            kind=DocumentKind.invoice_void,
            xero_id=INVOICE_ID,
            number=None,
            amount=None,
            target_id=INVOICE_ID,
        ),
    ]
    plan = plan_record(documents, {})
    assert plan.outcome is Outcome.nothing
    assert plan.undo == ()


@seed(20261201)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payments=st.integers(min_value=0, max_value=4),
    notes=st.integers(min_value=0, max_value=3),
    approved=st.booleans(),
)
def test_every_payment_goes_before_any_document_and_each_document_is_undone_once(
    payments: int, notes: int, approved: bool
) -> None:
    documents = [
        OurDocument(id="inv", kind=DocumentKind.invoice, xero_id="i", number="OP-1", amount=Decimal(10))
    ]
    held = {
        "i": XeroHeld(
            found=True,
            status="PAID" if approved else "DRAFT",
            total=Decimal(10),
            payment_ids=tuple(f"p{n}" for n in range(payments)),
        )
    }
    for n in range(payments):
        documents.append(
            OurDocument(
                id=f"pay{n}", kind=DocumentKind.payment, xero_id=f"p{n}", number="OP-1", amount=Decimal(1)
            )
        )
        held[f"p{n}"] = XeroHeld(found=True, status="AUTHORISED", total=Decimal(1))
    for n in range(notes):
        documents.append(
            OurDocument(
                id=f"cn{n}",
                kind=DocumentKind.credit_note,
                xero_id=f"c{n}",
                number=f"CN-{n}",
                amount=Decimal(1),
            )
        )
        held[f"c{n}"] = XeroHeld(found=True, status="AUTHORISED", total=Decimal(1))
    plan = plan_record(documents, held)
    assert plan.outcome is Outcome.undo
    kinds = [d.kind for d in plan.undo]
    assert kinds == sorted(kinds, key=lambda k: k is DocumentKind.rollback_document)
    targets = [d.target_id for d in plan.undo]
    assert len(targets) == len(set(targets)) == 1 + payments + notes
    assert len({d.fingerprint for d in plan.undo}) == len(plan.undo)


def _facts(status: str, documents: tuple[RecordDocument, ...], total: str = "242.00") -> RecordFacts:
    return RecordFacts(
        record_id="r-1",
        external_id="1001",
        source="ontraport",
        status=status,
        reason="Map the product",
        day=date(2026, 11, 4),
        gateway="Stripe",
        currency="AUD",
        figures=ontraport_figures(
            {
                "id": 1001,
                "contact_id": 7,
                "date": 1793750400,
                "status": 1,
                "subtotal": total,
                "tax": "0",
                "total": total,
                "offer_data": "{}",
            },
            None,
        ),
        documents=documents,
    )


INVOICE = RecordDocument(
    kind=DocumentKind.invoice,
    status="published",
    xero_id=INVOICE_ID,
    number="OP-1001",
    amount=Decimal("242.00"),
)


def test_the_report_names_what_xero_did_and_what_the_record_waits_for() -> None:
    causes = {
        "voided": (
            _facts("synced", (INVOICE,)),
            {INVOICE_ID: XeroHeld(found=True, status="VOIDED", total=Decimal("242.00"))},
        ),
        "edited": (
            _facts("synced", (INVOICE,)),
            {INVOICE_ID: XeroHeld(found=True, status="PAID", total=Decimal("240.00"))},
        ),
        "waiting": (_facts("failed", ()), {}),
    }
    found = {name: reconcile([facts], held, "day").differences for name, (facts, held) in causes.items()}
    assert [(d.cause, d.source_amount, d.xero_amount) for d in found["voided"]] == [
        (Cause.voided_in_xero, Decimal("242.00"), Decimal(0))
    ]
    assert [(d.cause, d.xero_amount) for d in found["edited"]] == [
        (Cause.amount_edited_in_xero, Decimal("240.00"))
    ]
    assert [(d.cause, d.detail) for d in found["waiting"]] == [(Cause.failed, "Failed: Map the product")]
    clean = reconcile(
        [_facts("synced", (INVOICE,))],
        {INVOICE_ID: XeroHeld(found=True, status="PAID", total=Decimal("242.00"))},
        "month",
    )
    assert clean.differences == ()
    assert [(r.period, r.kind, r.source_count, r.xero_count, r.difference) for r in clean.rows] == [
        (date(2026, 11, 1), FigureKind.charges, 1, 1, Decimal(0))
    ]


@seed(20261202)
@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
def test_periods_start_on_monday_and_on_the_first(day: date) -> None:
    week = period_of(day, "week")
    assert week.weekday() == 0 and 0 <= (day - week).days < 7
    assert period_of(day, "month") == day.replace(day=1)
    assert period_of(day, "day") == day


@seed(20261203)
@settings(max_examples=100, deadline=None)
@given(
    amounts=st.lists(st.integers(min_value=1, max_value=100_000), min_size=1, max_size=12), voided=st.data()
)
def test_rows_add_up_and_every_missing_cent_is_a_listed_difference(
    amounts: list[int], voided: st.DataObject
) -> None:
    records, held = [], {}
    for n, cents in enumerate(amounts):
        total = Decimal(cents) / 100
        xero_id = f"i{n}"
        gone = voided.draw(st.booleans())
        held[xero_id] = XeroHeld(found=True, status="VOIDED" if gone else "PAID", total=total)
        document = RecordDocument(
            kind=DocumentKind.invoice, status="published", xero_id=xero_id, number=f"OP-{n}", amount=total
        )
        facts = _facts("synced", (document,), str(total))
        records.append(facts.model_copy(update={"record_id": f"r{n}", "external_id": str(n)}))
    report = reconcile(records, held, "week")
    source = sum((r.source_amount for r in report.rows), Decimal(0))
    xero = sum((r.xero_amount for r in report.rows), Decimal(0))
    assert source == sum((Decimal(c) / 100 for c in amounts), Decimal(0))
    assert source - xero == sum((d.source_amount - d.xero_amount for d in report.differences), Decimal(0))
    assert {d.cause for d in report.differences} <= {Cause.voided_in_xero}


def test_onport_figures_are_the_invoice_worked_out_from_its_parts_and_each_payout_standing() -> None:
    record = builders.payload(payments=[builders.payout(1, 20.0), builders.payout(2, 16.3)])
    figures = onport_figures(record, BillOptions())
    assert [(f.kind, f.amount) for f in figures] == [
        (FigureKind.invoices, Decimal("36.30")),
        (FigureKind.payouts, Decimal("20.0")),
        (FigureKind.payouts, Decimal("16.3")),
    ]
    refunded = builders.payload(
        payments=[
            builders.payout(1, 36.3),
            builders.payout(2, 36.3, type="refund", paidAt="2025-01-11T03:00:00.000Z"),
        ]
    )
    assert [f.kind for f in onport_figures(refunded, BillOptions())] == [FigureKind.invoices]


def test_an_amount_counts_as_edited_in_xero_only_when_both_totals_are_known_and_differ() -> None:
    """The one rule behind the report's ``amount_edited_in_xero`` and the draft's ``approved_amount_differs``."""
    assert edited_in_xero(Decimal("110.00"), Decimal("100.00"))
    assert not edited_in_xero(Decimal("110.00"), Decimal("110"))
    assert not edited_in_xero(None, Decimal("100.00"))
    assert not edited_in_xero(Decimal("110.00"), None)
