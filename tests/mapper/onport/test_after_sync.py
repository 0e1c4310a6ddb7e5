"""Onport bills from what the official API serves, and what happens after the bill is in Xero
(issue 15, points 11, 12 and 14): shipping rates and landed costs as lines, payout reversals, and
adjustments made after the sync."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge.bookkeeping.bills import BillSyncState, map_purchase_invoice
from ledgerbridge.bookkeeping.decisions import NoChange, Wait
from ledgerbridge.bookkeeping.documents import DocumentKind, PublishedDocument, xero_totals
from ledgerbridge.bookkeeping.reasons import ReasonCode
from tests.mapper.onport.builders import (
    MAPPINGS,
    OPTIONS,
    SUPPLIER_ID,
    landed_cost,
    payload,
    payout,
    shipping_rate,
)
from tests.mapper.onport.test_mapping import RATES, _published_bill, bill_of, fail, publish


def test_shipping_rates_and_landed_costs_are_their_own_lines() -> None:
    # Onport keeps both beside the invoice (issue 15, point 14): an addition and a deduction of
    # shipping, a commission-type rate (the marketplace's, not billed), an invoice and a line landed cost.
    record = payload(
        shippingRates=[
            shipping_rate(1, 7.5, serviceLevel="Express"),
            shipping_rate(2, 2, "deduct"),
            shipping_rate(3, 4, "commission"),
            shipping_rate(4, 9, invoiceShipping=False),
        ],
        landedCosts=[landed_cost(1, "6.40")],
        landedCostItems=[landed_cost(2, "1.10", "Freight insurance", purchaseInvoiceItemId=2)],
    )
    body = bill_of(publish(record))
    extra = [
        (line["Description"], line["UnitAmount"], line["AccountCode"], line["TaxType"])
        for line in body["LineItems"][2:]
    ]
    assert extra == [
        ("Shipping: Express", Decimal("7.5"), "425", "INPUT"),
        ("Shipping", Decimal("-2"), "425", "INPUT"),
        ("Landed cost: Import duty", Decimal("6.40"), "310", "EXEMPTEXPENSES"),
        ("Landed cost: Freight insurance (Tea Towel)", Decimal("1.10"), "310", "EXEMPTEXPENSES"),
    ]
    # 25.50 + 2.55 tax, shipping 5.50 + 0.55, landed costs 7.50.
    assert xero_totals(body, RATES).total == Decimal("41.60")


def test_a_pushed_invoice_waits_for_its_shipping_and_landed_costs() -> None:
    record = payload()
    del record["shippingRates"]
    decision = map_purchase_invoice(record, mappings=MAPPINGS, options=OPTIONS)
    assert isinstance(decision, Wait)
    assert decision.code is ReasonCode.source_incomplete


def test_fields_onport_does_not_serve_are_not_read() -> None:
    # The old sandbox's invented invoice totals, shipping and currency change nothing.
    invented = {"total": 99, "subtotal": 1, "tax": 5, "shipping": 50, "currency": "USD"}
    assert bill_of(publish(payload(invoice=invented))) == bill_of(publish(payload()))
    assert bill_of(publish(payload(vendor={"orderCurrencyCode": "AUD"})))["CurrencyCode"] == "AUD"


def test_positive_adjustment_after_sync_updates_an_unpaid_bill() -> None:
    # Issue 15, point 12: the rush fee arrives after the bill went to Xero, nothing paid yet.
    options = OPTIONS.model_copy(update={"sync_adjustments": True})
    state = BillSyncState(bill=_published_bill())
    record = payload(
        invoice={"adjustment": 15, "adjustmentReason": "Rush fee"}, payments=[payout(1, "51.30")]
    )
    decision = publish(record, options=options, state=state)
    update, payment = decision.documents
    assert (update.kind, update.target_id) == (DocumentKind.bill, "bill-xero-id")
    assert update.body["InvoiceID"] == "bill-xero-id" and update.body["InvoiceNumber"] == "INV-5001"
    assert update.body["LineItems"][-1]["Description"] == "Adjustment: Rush fee"
    assert xero_totals(update.body, RATES).total == Decimal("51.30")
    # The payout is paid in full against the updated bill (the publisher sends it after the update).
    assert (payment.body["Amount"], payment.body["Invoice"]) == (
        Decimal("51.30"),
        {"InvoiceID": "bill-xero-id"},
    )
    assert "updated to 51.30" in decision.summary
    # Once the update is published it is the bill: nothing more to do.
    done = BillSyncState(
        bill=_published_bill(update.body, "51.30"),
        payments=(PublishedDocument(xero_id="p1", amount=Decimal("51.30"), body=payment.body),),
    )
    assert isinstance(map_purchase_invoice(record, mappings=MAPPINGS, options=options, state=done), NoChange)


def test_positive_adjustment_after_the_bill_is_paid_is_an_adjustment_bill() -> None:
    options = OPTIONS.model_copy(update={"sync_adjustments": True})
    paid = BillSyncState(
        bill=_published_bill(),
        payments=(
            PublishedDocument(
                xero_id="p1",
                amount=Decimal("36.30"),
                body=publish(payload(payments=[payout(1, "36.30")])).documents[1].body,
            ),
        ),
    )
    record = payload(
        invoice={"adjustment": 15, "adjustmentReason": "Rush fee"}, payments=[payout(1, "36.30")]
    )
    [extra] = publish(record, options=options, state=paid, observed_on=date(2025, 2, 3)).documents
    assert extra.kind is DocumentKind.bill and extra.target_id is None
    body = extra.body
    assert (body["InvoiceNumber"], body["Type"], body["Date"], body["DueDate"]) == (
        "INV-5001-ADJ",
        "ACCPAY",
        "2025-02-03",
        "2025-02-17",
    )
    assert body["Contact"] == {"ContactID": SUPPLIER_ID}
    assert [(line["Description"], line["UnitAmount"], line["AccountCode"]) for line in body["LineItems"]] == [
        ("Rush fee", Decimal("15.00"), "429")
    ]
    assert xero_totals(body, RATES).total == Decimal("15.00")
    # Published, it counts towards what Xero holds: nothing more, and a second adjustment is -ADJ-2.
    adjusted = paid.model_copy(
        update={
            "adjustment_bills": (
                PublishedDocument(xero_id="adj", number="INV-5001-ADJ", amount=Decimal(15), body=body),
            )
        }
    )
    assert isinstance(
        map_purchase_invoice(record, mappings=MAPPINGS, options=options, state=adjusted), NoChange
    )
    more = payload(invoice={"adjustment": 20, "adjustmentReason": "Rush fee"}, payments=[payout(1, "36.30")])
    [second] = publish(more, options=options, state=adjusted).documents
    assert (second.body["InvoiceNumber"], second.body["LineItems"][0]["UnitAmount"]) == (
        "INV-5001-ADJ-2",
        Decimal("5.00"),
    )


def _paid_state(record: dict[str, Any]) -> BillSyncState:
    """What Xero holds once the bill and every payment the record asks for were published."""
    bill, *payments = publish(record).documents
    return BillSyncState(
        bill=_published_bill(bill.body),
        payments=tuple(
            PublishedDocument(xero_id=f"pay-{i}", amount=d.body["Amount"], body=d.body)
            for i, d in enumerate(payments, 1)
        ),
    )


def test_a_cancelled_payout_deletes_its_bill_payment() -> None:
    # Issue 15, point 11: payments cannot be edited in Xero, so a cancelled payout's payment is deleted.
    paid = payload(payments=[payout(1, 20), payout(2, "16.30")])
    state = _paid_state(paid)
    cancelled = payload(payments=[payout(1, 20), payout(2, "16.30", status="cancelled")])
    decision = publish(cancelled, state=state)
    [delete] = decision.documents
    assert (delete.kind, delete.target_id, delete.body) == (
        DocumentKind.payment_delete,
        "pay-2",
        {"PaymentID": "pay-2", "Status": "DELETED"},
    )
    assert "1 payment removed" in decision.summary
    # Once deleted, nothing more is asked; a new payout later is paid against what the bill owes again.
    gone = state.model_copy(update={"deleted_payments": ("pay-2",)})
    assert isinstance(
        map_purchase_invoice(cancelled, mappings=MAPPINGS, options=OPTIONS, state=gone), NoChange
    )
    repaid = payload(payments=[*cancelled["payments"], payout(3, "16.30")])
    [payment] = publish(repaid, state=gone).documents
    assert (payment.kind, payment.body["Amount"]) == (DocumentKind.bill_payment, Decimal("16.30"))


def test_a_refund_deletes_the_payment_and_remakes_what_is_left() -> None:
    paid = payload(payments=[payout(1, "36.30")])
    state = _paid_state(paid)
    refunded = payload(payments=[payout(1, "36.30"), payout(2, 10, type="refund", reference="REFUND-2")])
    delete, remade = publish(refunded, state=state).documents
    assert (delete.kind, delete.target_id) == (DocumentKind.payment_delete, "pay-1")
    assert remade.kind is DocumentKind.bill_payment
    assert remade.body["Amount"] == Decimal("26.30")
    assert remade.body["Reference"] == "Onport payout 1 PAYOUT-00001 less refunds: 26.30"
    assert remade.body["Invoice"] == {"InvoiceID": "bill-xero-id"}
    # Refunded in full: the payment goes and nothing is re-made.
    whole = payload(payments=[payout(1, "36.30"), payout(2, "36.30", type="refund")])
    [only] = publish(whole, state=state).documents
    assert only.kind is DocumentKind.payment_delete
    # A refund seen before the payout was ever sent: only what is left is paid, nothing deleted.
    [fresh_bill, net] = publish(refunded).documents
    assert fresh_bill.kind is DocumentKind.bill and net.body["Amount"] == Decimal("26.30")


def test_a_payment_to_delete_without_its_xero_id_fails_clearly() -> None:
    state = _paid_state(payload(payments=[payout(1, 20)]))
    unknown = state.model_copy(update={"payments": (state.payments[0].model_copy(update={"xero_id": None}),)})
    message = fail(payload(payments=[payout(1, 20, status="cancelled")]), state=unknown)
    assert "no longer stands in Onport but its Xero id is not known" in message
