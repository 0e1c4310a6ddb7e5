"""Onport purchase invoice → Xero bill (SPEC §5), case by case."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.bookkeeping.bills import (
    MAPPING_VERSION,
    BillSyncState,
    PurchaseInvoiceError,
    map_purchase_invoice,
    parse_purchase_invoice,
)
from ledgerbridge.bookkeeping.decisions import Fail, NoChange, Publish, Wait
from ledgerbridge.bookkeeping.documents import DocumentKind, InvoiceStatus, PublishedDocument, xero_totals
from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.bookkeeping.reference import XeroReference
from tests.mapper.onport.builders import (
    MAPPINGS,
    OPTIONS,
    SUPPLIER_ID,
    assert_valid,
    item,
    payload,
    payout,
)

RATES = {"INPUT": Decimal(10), "INPUT2": Decimal(20), "TAX001": Decimal("8.25"), "EXEMPTEXPENSES": Decimal(0)}


def publish(record: dict[str, Any], **kwargs: Any) -> Publish:
    kwargs.setdefault("mappings", MAPPINGS)
    kwargs.setdefault("options", OPTIONS)
    decision = map_purchase_invoice(record, **kwargs)
    assert isinstance(decision, Publish), decision
    assert decision.mapping_version == MAPPING_VERSION
    assert_valid(decision.documents)
    return decision


def fail(record: dict[str, Any], **kwargs: Any) -> str:
    kwargs.setdefault("mappings", MAPPINGS)
    kwargs.setdefault("options", OPTIONS)
    decision = map_purchase_invoice(record, **kwargs)
    assert isinstance(decision, Fail), decision
    return decision.reason


def bill_of(decision: Publish) -> dict[str, Any]:
    bills = [document.body for document in decision.documents if document.kind is DocumentKind.bill]
    assert len(bills) == 1
    return bills[0]


def test_dropship_bill() -> None:
    decision = publish(payload())
    [bill] = decision.documents
    assert bill.kind is DocumentKind.bill
    body = bill.body
    assert body["Type"] == "ACCPAY"
    assert body["InvoiceNumber"] == "INV-5001"
    assert body["Contact"] == {"ContactID": SUPPLIER_ID}
    assert body["Date"] == "2025-01-01"
    assert body["DueDate"] == "2025-01-15"
    assert body["CurrencyCode"] == "AUD"
    assert body["Status"] == "AUTHORISED"
    assert body["LineAmountTypes"] == "Exclusive"
    assert body["Url"] == "https://app.jetti.io/purchase-invoices/5001"
    lines = body["LineItems"]
    assert [(line["Description"], line["AccountCode"], line["TaxType"]) for line in lines] == [
        ("Soy Candle 200g", "310", "INPUT"),
        ("Tea Towel", "310", "INPUT"),
        ("Shipping", "425", "INPUT"),
    ]
    assert lines[0]["Quantity"] == 2 and lines[0]["UnitAmount"] == Decimal("10.0")
    assert all("DiscountAmount" not in line and "DiscountRate" not in line for line in lines)
    totals = xero_totals(body, RATES)
    assert (totals.sub_total, totals.total_tax, totals.total) == (
        Decimal("33.00"),
        Decimal("3.30"),
        Decimal("36.30"),
    )


def test_replenishment_uses_its_account_and_vendor_terms_override() -> None:
    record = payload(
        purchase={"purchaseType": "replenishment", "taxShipping": False},
        invoice={"tax": 2.55, "total": 35.55},
    )
    body = bill_of(publish(record, payment_terms_days=30))
    assert {line["AccountCode"] for line in body["LineItems"][:2]} == {"300"}
    assert body["LineItems"][2]["TaxType"] == "EXEMPTEXPENSES"
    assert body["DueDate"] == "2025-01-31"
    assert xero_totals(body, RATES).total == Decimal("35.55")


def test_invoiced_in_parts_gives_separate_bills() -> None:
    first = payload(items=[item(1, "Soy Candle 200g", 2, 10.0)])
    # Shipping is invoiced once per purchase: the second invoice has no shipping rate.
    second = payload(
        invoice={"id": 5002, "reference": "INV-5002"}, items=[item(2, "Tea Towel", 1, 5.5)], shippingRates=[]
    )
    bills = [bill_of(publish(record)) for record in (first, second)]
    assert [bill["InvoiceNumber"] for bill in bills] == ["INV-5001", "INV-5002"]
    assert [xero_totals(bill, RATES).total for bill in bills] == [Decimal("30.25"), Decimal("6.05")]


def test_split_quantity_prorates_commission() -> None:
    record = payload(
        items=[
            item(
                1,
                "Wool Throw",
                1,
                40,
                item_quantity=4,
                commissionRetained=10,
                commissionTaxRetained=1,
                commissionTaxRate=0.1,
            )
        ],
        shippingRates=[],
    )
    options = OPTIONS.model_copy(update={"commission_lines": True, "commission_account": "460"})
    body = bill_of(publish(record, options=options))
    commission = body["LineItems"][-1]
    assert commission["Description"] == "Commission retained: Wool Throw"
    assert commission["AccountCode"] == "460"
    assert commission["UnitAmount"] == Decimal("-2.50")
    assert commission["TaxType"] == "INPUT"  # Xero works out the -0.25 itself
    # The vendor is owed the invoice less the retained commission and its tax.
    assert xero_totals(body, RATES).total == Decimal("41.25")
    assert "commission account" in fail(
        record, options=options.model_copy(update={"commission_account": None})
    )


def test_tax_included_purchase_is_inclusive() -> None:
    # 2 x 10.00 incl 10 %: tax 1.82; 5.50: 0.50; shipping 7.50: 0.68 → tax 3.00, total 33.00.
    record = payload(purchase={"taxIncluded": True})
    body = bill_of(publish(record))
    assert body["LineAmountTypes"] == "Inclusive"
    totals = xero_totals(body, RATES)
    assert (totals.total, totals.total_tax) == (Decimal("33.00"), Decimal("3.00"))


def test_xero_rate_differing_from_onport_gets_explicit_tax() -> None:
    reference = XeroReference(
        tax_rates={**RATES, "INPUT": Decimal(15)}, account_codes=frozenset({"310", "425"})
    )
    body = bill_of(publish(payload(), reference=reference))
    assert [line["TaxAmount"] for line in body["LineItems"]] == [
        Decimal("2.00"),
        Decimal("0.55"),
        Decimal("0.75"),
    ]
    assert xero_totals(body, reference.tax_rates).total == Decimal("36.30")


@pytest.mark.parametrize("sync", [True, False])
def test_positive_adjustment(sync: bool) -> None:
    record = payload(invoice={"adjustment": 15, "adjustmentReason": "Rush fee", "total": 51.3})
    options = OPTIONS.model_copy(update={"sync_adjustments": sync})
    body = bill_of(publish(record, options=options))
    if sync:
        line = body["LineItems"][-1]
        assert (line["Description"], line["UnitAmount"], line["AccountCode"], line["TaxType"]) == (
            "Adjustment: Rush fee",
            Decimal(15),
            "429",
            "EXEMPTEXPENSES",
        )
        assert xero_totals(body, RATES).total == Decimal("51.30")
    else:
        assert len(body["LineItems"]) == 3
        assert xero_totals(body, RATES).total == Decimal("36.30")


def test_negative_adjustment_before_sync_is_a_negative_line() -> None:
    record = payload(invoice={"adjustment": -5, "adjustmentReason": "Late shipment", "total": 31.3})
    body = bill_of(publish(record, options=OPTIONS.model_copy(update={"sync_adjustments": True})))
    assert body["LineItems"][-1]["UnitAmount"] == Decimal(-5)
    assert xero_totals(body, RATES).total == Decimal("31.30")


def _published_bill(body: dict[str, Any] | None = None, amount: str = "36.30") -> PublishedDocument:
    body = body or bill_of(publish(payload()))
    return PublishedDocument(xero_id="bill-xero-id", number="INV-5001", amount=Decimal(amount), body=body)


def test_negative_adjustment_after_sync_is_a_supplier_credit_note() -> None:
    state = BillSyncState(bill=_published_bill())
    record = payload(invoice={"adjustment": -12.5, "adjustmentReason": "Damaged item credit", "total": 23.8})
    options = OPTIONS.model_copy(update={"sync_adjustments": True})
    decision = publish(record, options=options, state=state)
    note, allocated = decision.documents
    assert note.kind is DocumentKind.supplier_credit_note
    # Issue 15, point 12: allocated to its bill, so the bill's amount due drops by the credit.
    assert (allocated.kind, allocated.target_id) == (DocumentKind.credit_allocation, "CN-INV-5001")
    assert allocated.body == {
        "Invoice": {"InvoiceID": "bill-xero-id"},
        "Amount": Decimal("12.50"),
        "Date": note.body["Date"],
    }
    assert "allocated to bill INV-5001" in decision.summary
    body = note.body
    assert (body["Type"], body["CreditNoteNumber"], body["Contact"]) == (
        "ACCPAYCREDIT",
        "CN-INV-5001",
        {"ContactID": SUPPLIER_ID},
    )
    [line] = body["LineItems"]
    assert (line["Description"], line["UnitAmount"], line["AccountCode"]) == (
        "Damaged item credit",
        Decimal("12.50"),
        "429",
    )
    assert xero_totals(body, RATES).total == Decimal("12.50")
    published = PublishedDocument(number="CN-INV-5001", amount=Decimal("12.50"), body=body)
    credited = BillSyncState(bill=state.bill, credit_notes=(published,), allocated=("CN-INV-5001",))
    assert isinstance(
        map_purchase_invoice(record, mappings=MAPPINGS, options=options, state=credited), NoChange
    )
    # A credit note whose allocation did not go through yet is allocated on its own.
    unallocated = credited.model_copy(update={"allocated": ()})
    [again] = publish(record, options=options, state=unallocated).documents
    assert (again.kind, again.body) == (DocumentKind.credit_allocation, allocated.body)
    # With adjustments off the deduction stays out of Xero; a change to the lines is for a person to look at.
    assert isinstance(map_purchase_invoice(record, mappings=MAPPINGS, options=OPTIONS, state=state), NoChange)
    repriced = payload(
        items=[item(1, "Soy Candle 200g", 3, 10.0), item(2, "Tea Towel", 1, 5.5)],
        invoice={"subtotal": 35.5, "tax": 4.3, "total": 47.3},
    )
    assert "now comes to 47.30 but bill INV-5001 in Xero is for 36.30; check it by hand" in fail(
        repriced, state=state
    )


def test_unlinked_vendor_waits() -> None:
    record = payload(vendor={"id": 77})
    decision = map_purchase_invoice(record, mappings=MAPPINGS, options=OPTIONS)
    assert decision == Wait(
        "Vendor 'Acme Supplies' (id 77) is not linked to a Xero contact",
        ReasonCode.vendor_unlinked,
        Cause("mapping", "vendor", "77"),
    )


def test_unlinked_vendor_is_created_when_enabled() -> None:
    record = payload(vendor={"id": 77})
    decision = publish(record, options=OPTIONS.model_copy(update={"create_missing_suppliers": True}))
    contact, bill = decision.documents
    assert contact.kind is DocumentKind.contact
    assert contact.body["ContactNumber"] == "ONPORT-77"
    assert contact.body["EmailAddress"] == "ap@acme.example"
    assert contact.body["PaymentTerms"] == {"Bills": {"Day": 14, "Type": "DAYSAFTERBILLDATE"}}
    assert bill.body["Contact"] == {"ContactNumber": "ONPORT-77", "Name": "Acme Supplies"}


def test_multi_currency_bill_pays_from_that_currency_account() -> None:
    record = payload(
        items=[item(1, "Merino Scarf", 2, 10.0, rate=0.2, currency="GBP")],
        invoice={"currency": "GBP", "shipping": 0, "subtotal": 20, "tax": 4, "total": 24},
        payments=[payout(1, 24)],
    )
    assert "No payout account is mapped for GBP" in fail(record)
    options = OPTIONS.model_copy(update={"payout_accounts": {"AUD": "090", "GBP": "091"}})
    bill, payment = publish(record, options=options).documents
    assert bill.body["CurrencyCode"] == "GBP"
    assert bill.body["LineItems"][0]["TaxType"] == "INPUT2"
    assert payment.body["Account"] == {"Code": "091"}
    mixed = payload(items=[item(1, "A", 1, 1, currency="GBP"), item(2, "B", 1, 1, currency="USD")])
    assert "mixes currencies" in fail(mixed)


def test_missing_purchase_type_account_fails() -> None:
    reason = fail(payload(purchase={"purchaseType": "automated_replenishment"}))
    assert reason == (
        "Purchase type 'automated_replenishment' has no account mapped and no default purchases account is set"
    )
    options = OPTIONS.model_copy(update={"default_purchases_account": "300"})
    assert bill_of(publish(payload(purchase={"purchaseType": "automated_replenishment"}), options=options))


def test_unmapped_tax_rate_fails_unless_a_default_code_is_set() -> None:
    record = payload(
        items=[item(1, "Gift Box", 1, 10, rate="0.15")],
        invoice={"shipping": 0, "subtotal": 10, "tax": 1.5, "total": 11.5},
    )
    assert "Onport tax rate 15% (line 'Gift Box') has no Xero tax code mapped" in fail(record)
    mappings = MAPPINGS.model_copy(
        update={"taxes": MAPPINGS.taxes.model_copy(update={"default_code": "INPUT"})}
    )
    assert bill_of(publish(record, mappings=mappings))["LineItems"][0]["TaxType"] == "INPUT"


def test_payouts_become_bill_payments_once() -> None:
    record = payload(
        invoice={"paymentStatus": "paid"},
        payments=[payout(1, 20), payout(2, "16.30"), payout(3, 5, status="cancelled")],
    )
    decision = publish(record)
    bill, first, second = decision.documents
    assert [p.kind for p in (first, second)] == [DocumentKind.bill_payment] * 2
    assert first.body == {
        "Invoice": {"InvoiceNumber": "INV-5001"},
        "Account": {"Code": "090"},
        "Date": "2025-01-10",
        "Amount": Decimal(20),
        "Reference": "Onport payout 1 PAYOUT-00001",
    }
    # Once the bill is in Xero its id is known, so later payments point at it, not at a number.
    state = BillSyncState(
        bill=_published_bill(bill.body), payments=(PublishedDocument(amount=Decimal(20), body=first.body),)
    )
    [again] = publish(record, state=state).documents
    assert again.body["Invoice"] == {"InvoiceID": "bill-xero-id"}
    assert again.body["Amount"] == Decimal("16.30")
    done = BillSyncState(
        bill=state.bill,
        payments=(*state.payments, PublishedDocument(amount=Decimal("16.30"), body=second.body)),
    )
    assert isinstance(map_purchase_invoice(record, mappings=MAPPINGS, options=OPTIONS, state=done), NoChange)


def test_payout_above_what_the_bill_owes_is_capped() -> None:
    # Adjustments off: the 15.00 rush fee is not on the bill, but the vendor was paid for it.
    record = payload(invoice={"adjustment": 15, "total": 51.3}, payments=[payout(1, 51.3)])
    _, payment = publish(record).documents
    assert payment.body["Amount"] == Decimal("36.30")


def test_missing_payout_account_fails() -> None:
    record = payload(payments=[payout(1, 36.3)])
    options = OPTIONS.model_copy(update={"payout_accounts": {}})
    assert fail(record, options=options) == (
        "No payout account is mapped for AUD; the vendor payout on bill INV-5001 cannot be recorded"
    )


def test_draft_bills_take_no_payment() -> None:
    record = payload(payments=[payout(1, 36.3)])
    decision = publish(record, options=OPTIONS.model_copy(update={"bill_status": InvoiceStatus.DRAFT}))
    assert [d.kind for d in decision.documents] == [DocumentKind.bill]
    assert "draft" in decision.summary


def test_unfinalized_invoice_waits() -> None:
    decision = map_purchase_invoice(payload(invoice={"finalized": False}), mappings=MAPPINGS, options=OPTIONS)
    assert isinstance(decision, Wait) and decision.code == "invoice_not_finalized"


def test_reference_data_is_checked() -> None:
    reference = XeroReference(
        account_codes=frozenset({"310"}), tax_rates=RATES, currencies=frozenset({"AUD"})
    )
    assert fail(payload(), reference=reference) == "Account 425 (shipping) is not an active account in Xero"
    assert "not enabled in Xero" in fail(
        payload(), reference=reference.model_copy(update={"currencies": frozenset({"NZD"})})
    )


def test_parser_reads_strings_and_separate_purchase_items() -> None:
    record = payload()
    separate = [dict(row) for row in record["items"]]
    purchase_items = [row.pop("purchaseItem") for row in separate]
    parsed = parse_purchase_invoice({**record, "items": separate, "purchaseItems": purchase_items})
    assert parsed == parse_purchase_invoice(record)
    assert parsed.items[1].quantity == 1 and parsed.items[1].price == Decimal("5.50")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"shippingRates": [{"id": 1, "invoiceShipping": True, "price": "lots"}]},
            "shippingRates[0].price ('lots')",
        ),
        ({"invoice": {"reference": ""}}, "invoice.reference is missing"),
        ({"purchase": None}, "purchase is missing"),
        ({"items": []}, "items is empty"),
        (
            {"items": [{"id": 1, "purchaseItemId": 9, "quantity": 1}]},
            "purchase item 9 is not in purchaseItems",
        ),
        ({"items": [item(1, "X", 1, "1,50")]}, "items[0].purchaseItem.price ('1,50')"),
    ],
)
def test_parser_names_the_bad_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(
        PurchaseInvoiceError,
        match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]"),
    ):
        parse_purchase_invoice(payload(**change))
    assert message in fail(payload(**change))


def test_the_link_back_to_onport_follows_the_tenants_template() -> None:
    """Issue 15, point 13: placeholders {invoice_id}, {purchase_id} and {reference} (quoted for a URL);
    no template, no link."""
    custom = OPTIONS.model_copy(
        update={"url_template": "https://shop.onport.example/invoices/{reference}?purchase={purchase_id}"}
    )
    body = bill_of(publish(payload(), options=custom))
    assert body["Url"] == "https://shop.onport.example/invoices/INV-5001?purchase=" + str(
        payload()["invoice"]["purchaseId"]
    )
    assert "Url" not in bill_of(publish(payload(), options=OPTIONS.model_copy(update={"url_template": None})))
