"""Status changes after (and before) sync: payments, refunds, partial refunds, voids; the trial limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge.bookkeeping.decisions import NoChange, Publish, Skip, Wait
from ledgerbridge.bookkeeping.documents import DocumentKind, PublishedDocument, xero_totals
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.bookkeeping.sales import Mappings, MappingSettings, SyncState, TrialState, map_transaction

Publisher = Callable[..., Publish]
Failer = Callable[..., str]
GST = {"OUTPUT": Decimal(10)}
PAYMENT_ID = "0d9c1a2b-3c4d-4e5f-8a9b-112233445566"
INVOICE_ID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"


def _synced(
    worked_record: dict[str, Any],
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    *,
    paid: bool = True,
) -> SyncState:
    """The state after the worked example went out as invoice (and payment)."""
    documents = {doc.kind: doc for doc in publish(worked_record, mappings, settings).documents}
    invoice = documents[DocumentKind.invoice]
    return SyncState(
        invoice=PublishedDocument(
            xero_id=INVOICE_ID,
            number="OP-1001",
            amount=Decimal("242.00"),
            fingerprint=invoice.fingerprint,
            body=invoice.json_body(),  # as a database would give it back: JSON numbers
        ),
        payment=PublishedDocument(xero_id=PAYMENT_ID, number="OP-1001", amount=Decimal("242.00"))
        if paid
        else None,
    )


def _decide(raw: dict[str, Any], mappings: Mappings, settings: MappingSettings, **kwargs: Any) -> Any:
    return map_transaction(raw, contact=None, mappings=mappings, settings=settings, **kwargs)


def test_full_refund_after_sync(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    state = _synced(worked_record, mappings, settings, publish)
    decision = publish(
        {**worked_record, "status": "2"}, mappings, settings, state=state, observed_on=date(2024, 6, 9)
    )
    credit_note, refund = decision.documents
    assert (credit_note.kind, refund.kind) == (DocumentKind.credit_note, DocumentKind.refund_payment)
    assert credit_note.body["Type"] == "ACCRECCREDIT"
    assert credit_note.body["CreditNoteNumber"] == "CN-OP-1001"
    assert credit_note.body["Date"] == "2024-06-09"
    assert credit_note.body["LineItems"] == state.invoice.body["LineItems"]  # type: ignore[union-attr]
    assert credit_note.body["CurrencyCode"] == "AUD"
    assert xero_totals(credit_note.body, GST).total == Decimal("242.00")
    assert refund.body == {
        "CreditNote": {"CreditNoteNumber": "CN-OP-1001"},
        "Account": {"Code": "610"},
        "Date": "2024-06-09",
        "Amount": Decimal("242.00"),
        "Reference": "Refund: ONTRAPORT transaction 1001",
    }
    done = state.model_copy(
        update={
            "credit_notes": (PublishedDocument(number="CN-OP-1001", amount=Decimal("242.00")),),
            "refund_payments": (PublishedDocument(number="CN-OP-1001", amount=Decimal("242.00")),),
        }
    )
    assert isinstance(_decide({**worked_record, "status": "2"}, mappings, settings, state=done), NoChange)


def test_refund_payment_resent_when_missing(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    state = _synced(worked_record, mappings, settings, publish).model_copy(
        update={"credit_notes": (PublishedDocument(number="CN-OP-1001", amount=Decimal("242.00")),)}
    )
    decision = publish({**worked_record, "status": "2"}, mappings, settings, state=state)
    assert [doc.kind for doc in decision.documents] == [DocumentKind.refund_payment]


def test_partial_refund_credits_refunded_amount_only(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    state = _synced(worked_record, mappings, settings, publish)
    decision = publish(
        {**worked_record, "status": "3"}, mappings, settings, state=state, refunded_total=Decimal("55.00")
    )
    credit_note, refund = decision.documents
    assert credit_note.body["LineAmountTypes"] == "Inclusive"
    assert xero_totals(credit_note.body, GST).total == Decimal("55.00")
    assert [(line["AccountCode"], line["TaxType"]) for line in credit_note.body["LineItems"]] == [
        ("200", "OUTPUT"),
        ("210", "OUTPUT"),
        ("260", "OUTPUT"),
    ]
    assert refund.body["Amount"] == Decimal("55.00")
    # A second partial refund later credits only the new part, under the next number.
    later = state.model_copy(
        update={
            "credit_notes": (PublishedDocument(number="CN-OP-1001", amount=Decimal("55.00")),),
            "refund_payments": (PublishedDocument(number="CN-OP-1001", amount=Decimal("55.00")),),
        }
    )
    second = publish(
        {**worked_record, "status": "3"}, mappings, settings, state=later, refunded_total=Decimal("80.00")
    )
    assert second.documents[0].body["CreditNoteNumber"] == "CN-OP-1001-2"
    assert xero_totals(second.documents[0].body, GST).total == Decimal("25.00")


def test_void_and_recharge_smaller_amount_is_a_partial_refund(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    state = _synced(worked_record, mappings, settings, publish)
    decision = publish({**worked_record, "total": "200.00"}, mappings, settings, state=state)
    assert xero_totals(decision.documents[0].body, GST).total == Decimal("42.00")


def test_partial_refund_with_unknown_amount_fails(
    worked_record: dict[str, Any],
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    fail: Failer,
) -> None:
    state = _synced(worked_record, mappings, settings, publish)
    reason = fail({**worked_record, "status": "3"}, mappings, settings, state=state)
    assert reason == (
        "Transaction 1001 is partially refunded but the refunded amount (0.00) does not fit invoice OP-1001 (242.00)"
    )


def test_void_after_sync_deletes_payment_then_voids_invoice(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    state = _synced(worked_record, mappings, settings, publish)
    decision = publish({**worked_record, "status": "4"}, mappings, settings, state=state)
    delete, void = decision.documents
    assert (delete.kind, delete.target_id, delete.body) == (
        DocumentKind.payment_delete,
        PAYMENT_ID,
        {"PaymentID": PAYMENT_ID, "Status": "DELETED"},
    )
    assert (void.kind, void.target_id, void.body) == (
        DocumentKind.invoice_void,
        INVOICE_ID,
        {"InvoiceNumber": "OP-1001", "Status": "VOIDED", "InvoiceID": INVOICE_ID},
    )
    after_delete = state.model_copy(update={"payment_deleted": True})
    assert [
        doc.kind
        for doc in publish({**worked_record, "status": "4"}, mappings, settings, state=after_delete).documents
    ] == [DocumentKind.invoice_void]
    voided = after_delete.model_copy(update={"invoice_voided": True})
    assert _decide({**worked_record, "status": "4"}, mappings, settings, state=voided) == NoChange(
        "Invoice OP-1001 is void in Xero"
    )


def test_void_before_sync_creates_nothing(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings
) -> None:
    assert _decide({**worked_record, "status": "4"}, mappings, settings) == Skip(
        "Transaction 1001 was void before it was synced: the charge never settled, so nothing was created in Xero"
    )


def test_refunded_before_sync_books_the_charge_and_the_refund(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    decision = publish({**worked_record, "status": "2"}, mappings, settings, observed_on=date(2024, 7, 1))
    documents = {doc.kind: doc for doc in decision.documents}
    assert list(documents) == [
        DocumentKind.contact,
        DocumentKind.invoice,
        DocumentKind.payment,
        DocumentKind.credit_note,
        DocumentKind.refund_payment,
    ]
    invoice, credit_note = documents[DocumentKind.invoice], documents[DocumentKind.credit_note]
    assert xero_totals(invoice.body, GST).total == Decimal("242.00")
    assert documents[DocumentKind.payment].body["Amount"] == Decimal("242.00")
    assert credit_note.body["CreditNoteNumber"] == "CN-OP-1001"
    assert xero_totals(credit_note.body, GST).total == Decimal("242.00")
    refund = documents[DocumentKind.refund_payment].body
    assert (refund["Amount"], refund["Date"], refund["CreditNote"]) == (
        Decimal("242.00"),
        "2024-07-01",
        {"CreditNoteNumber": "CN-OP-1001"},
    )
    # Once all four are in Xero, the record needs nothing more.
    state = _synced(worked_record, mappings, settings, publish).model_copy(
        update={
            "credit_notes": (PublishedDocument(number="CN-OP-1001", amount=Decimal("242.00")),),
            "refund_payments": (PublishedDocument(number="CN-OP-1001", amount=Decimal("242.00")),),
        }
    )
    assert isinstance(_decide({**worked_record, "status": "2"}, mappings, settings, state=state), NoChange)


def test_partially_refunded_before_sync_credits_the_refunded_part(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    # ONTRAPORT lowers the total by what was refunded; the other amounts describe the charge.
    decision = publish({**worked_record, "status": "3", "total": "187.00"}, mappings, settings)
    documents = {doc.kind: doc for doc in decision.documents}
    assert xero_totals(documents[DocumentKind.invoice].body, GST).total == Decimal("242.00")
    assert documents[DocumentKind.payment].body["Amount"] == Decimal("242.00")
    assert xero_totals(documents[DocumentKind.credit_note].body, GST).total == Decimal("55.00")
    assert documents[DocumentKind.refund_payment].body["Amount"] == Decimal("55.00")


def test_a_free_sale_refunded_before_sync_moved_no_money(
    make_record: Any, mappings: Mappings, settings: MappingSettings
) -> None:
    offer = {"products": [{"id": "1", "name": "Webinar", "quantity": "1", "price": "0.00", "total": "0.00"}]}
    free = make_record(offer, status="2", subtotal="0.00", tax="0.00", shipping="0.00", total="0.00")
    decision = _decide(free, mappings, settings)
    assert isinstance(decision, Skip) and "no money moved" in decision.reason


def test_refunded_before_sync_is_skipped_when_the_setting_says_so(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings
) -> None:
    skipping = settings.model_copy(update={"skip_refunded_before_sync": True})
    assert _decide({**worked_record, "status": "2"}, mappings, skipping) == Skip(
        "Transaction 1001 was refunded before it was synced; the setting to skip such transactions is on"
    )
    # A partial refund still moved money twice: it is booked whatever the setting.
    partial = _decide({**worked_record, "status": "3", "total": "187.00"}, mappings, skipping)
    assert isinstance(partial, Publish)


def test_payment_after_unpaid_invoice(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    unpaid = settings.model_copy(update={"sync_unpaid": True})
    state = _synced({**worked_record, "status": "0"}, mappings, unpaid, publish, paid=False)
    assert isinstance(_decide({**worked_record, "status": "0"}, mappings, unpaid, state=state), NoChange)
    decision = publish(worked_record, mappings, unpaid, state=state)
    (payment,) = decision.documents
    assert payment.kind is DocumentKind.payment
    assert payment.body["Amount"] == Decimal("242.00")
    paid = _synced(worked_record, mappings, settings, publish)
    assert _decide(worked_record, mappings, settings, state=paid) == NoChange(
        "Invoice OP-1001 and its payment are already in Xero"
    )


def test_status_turning_declined_after_sync_is_held(
    worked_record: dict[str, Any],
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    fail: Failer,
) -> None:
    state = _synced(worked_record, mappings, settings, publish)
    assert "now declined but invoice OP-1001 is already in Xero" in fail(
        {**worked_record, "status": "5"}, mappings, settings, state=state
    )


def test_trial_limit(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    publish(worked_record, mappings, settings, trial=TrialState(plan_is_trial=True, synced_count=19))
    decision = _decide(
        worked_record, mappings, settings, trial=TrialState(plan_is_trial=True, synced_count=20)
    )
    assert isinstance(decision, Wait)
    assert decision.code == ReasonCode.plan_limit == "plan_limit"
    assert "upgraded" in decision.reason
    publish(worked_record, mappings, settings, trial=TrialState(plan_is_trial=False, synced_count=500))
    # Follow-ups of a record already in Xero are not held back by the limit.
    state = _synced(worked_record, mappings, settings, publish)
    publish(
        {**worked_record, "status": "2"},
        mappings,
        settings,
        state=state,
        trial=TrialState(plan_is_trial=True, synced_count=20),
    )
    # Declined records are skipped, not parked.
    declined = _decide(
        {**worked_record, "status": "5"},
        mappings,
        settings,
        trial=TrialState(plan_is_trial=True, synced_count=20),
    )
    assert isinstance(declined, Skip)
