from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.bookkeeping.decisions import Fail, Publish, Skip
from ledgerbridge.bookkeeping.documents import (
    DocumentKind,
    InvoiceStatus,
    XeroDocument,
    json_default,
    xero_totals,
)
from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.bookkeeping.reference import XeroReference
from ledgerbridge.bookkeeping.sales import (
    MAPPING_VERSION,
    Contact,
    CouponMode,
    GatewayMapping,
    Mappings,
    MappingSettings,
    ProductMapping,
    TaxException,
    UntaxedMode,
    contact_name_for_clash,
    map_transaction,
)

Publisher = Callable[..., Publish]
Failer = Callable[..., str]
RecordFactory = Callable[..., dict[str, Any]]

STRIPE_AUD_THEME = "5b9f0a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
PAYPAL_USD_THEME = "7c8d9e0f-1a2b-4c3d-9e4f-5a6b7c8d9e0f"
GST = {"OUTPUT": Decimal(10), "EXEMPTOUTPUT": Decimal(0)}


def _gateway() -> GatewayMapping:
    return GatewayMapping(currency_code="AUD", payment_account_code="610")


def _product() -> ProductMapping:
    return ProductMapping(account_code="200")


def _doc(decision: Publish, kind: DocumentKind) -> XeroDocument:
    (document,) = [doc for doc in decision.documents if doc.kind is kind]
    return document


def _lines(document: XeroDocument) -> list[tuple[Any, ...]]:
    return [
        (
            line["Description"],
            line["Quantity"],
            line["UnitAmount"],
            line["AccountCode"],
            line.get("TaxType"),
            line.get("TaxAmount"),
            line.get("DiscountAmount"),
        )
        for line in document.body["LineItems"]
    ]


def test_spec_worked_example(
    worked_record: dict[str, Any],
    contact: Contact,
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
) -> None:
    decision = publish(worked_record, mappings, settings, contact=contact)
    assert [doc.kind for doc in decision.documents] == [
        DocumentKind.contact,
        DocumentKind.invoice,
        DocumentKind.payment,
    ]
    assert decision.mapping_version == MAPPING_VERSION
    invoice = _doc(decision, DocumentKind.invoice)
    assert _lines(invoice) == [
        ("Pro Course", 1, Decimal("200.00"), "200", "OUTPUT", None, None),
        ("Workbook", 2, Decimal("25.00"), "210", "OUTPUT", None, None),
        ("Coupon SPRING20", 1, Decimal("-40.00"), "455", "OUTPUT", None, None),
        ("Shipping: Standard", 1, Decimal("10.00"), "260", "OUTPUT", None, None),
    ]
    assert invoice.body["LineItems"][1]["ItemCode"] == "WB"
    totals = xero_totals(invoice.body, GST)
    assert (totals.sub_total, totals.total_tax, totals.total) == (
        Decimal("220.00"),
        Decimal("22.00"),
        Decimal("242.00"),
    )
    header = {key: value for key, value in invoice.body.items() if key != "LineItems"}
    assert header == {
        "Type": "ACCREC",
        "Contact": {
            "ContactNumber": "OP-55",
            "Name": "Jane Smith",
            "FirstName": "Jane",
            "LastName": "Smith",
            "EmailAddress": "jane@example.com.au",
            "Addresses": [{"AddressType": "POBOX", "Country": "AU"}],
        },
        "Date": "2024-06-01",
        "DueDate": "2024-06-01",
        "InvoiceNumber": "OP-1001",
        "Reference": "Smith-1001",  # {invoice_id} is the transaction id (SPEC §4 item 3)
        "CurrencyCode": "AUD",
        "BrandingThemeID": STRIPE_AUD_THEME,
        "Url": "https://app.ontraport.com/#!/o_transactions10000/edit&id=1001",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
    }
    payment = _doc(decision, DocumentKind.payment)
    assert payment.body == {
        "Invoice": {"InvoiceNumber": "OP-1001"},
        "Account": {"Code": "610"},
        "Date": "2024-06-01",
        "Amount": Decimal("242.00"),
        "Reference": "ONTRAPORT transaction 1001",
    }
    assert _doc(decision, DocumentKind.contact).body == header["Contact"]


def test_spec_rounding_example(
    mappings: Mappings, settings: MappingSettings, publish: Publisher, make_record: RecordFactory
) -> None:
    stickers = {
        "products": [
            {"id": n, "name": f"Sticker {n}", "quantity": 1, "price": "1.05", "taxable": 1}
            for n in (21, 22, 23)
        ],
        "taxes": [{"id": 4, "name": "GST", "rate": 10, "taxShipping": 0}],
    }
    raw = make_record(stickers, subtotal="3.15", tax="0.32", shipping="0", total="3.47")
    invoice = _doc(publish(raw, mappings, settings), DocumentKind.invoice)
    assert [line["TaxAmount"] for line in invoice.body["LineItems"]] == [
        Decimal("0.11"),
        Decimal("0.11"),
        Decimal("0.10"),
    ]
    assert [line["UnitAmount"] for line in invoice.body["LineItems"]] == [Decimal("1.05")] * 3
    assert xero_totals(invoice.body, GST).total == Decimal("3.47")
    # Without the explicit amounts Xero would have charged a cent more.
    plain = {
        **invoice.body,
        "LineItems": [
            {k: v for k, v in line.items() if k != "TaxAmount"} for line in invoice.body["LineItems"]
        ],
    }
    assert xero_totals(plain, GST).total == Decimal("3.48")


def test_date_is_in_tenant_time_zone(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    evening = {**worked_record, "date": "1717279200"}  # 2024-06-01 22:00 UTC
    sydney = _doc(publish(evening, mappings, settings), DocumentKind.invoice)
    utc = _doc(
        publish(evening, mappings, settings.model_copy(update={"time_zone": "UTC"})), DocumentKind.invoice
    )
    assert (sydney.body["Date"], sydney.body["DueDate"]) == ("2024-06-02", "2024-06-02")
    assert utc.body["Date"] == "2024-06-01"


def test_templates(
    worked_record: dict[str, Any],
    contact: Contact,
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
) -> None:
    custom = settings.model_copy(
        update={
            "invoice_number_template": "ONT{transaction_id}",
            "reference_template": "{first_name} order {order_id}",
            "url_template": None,
        }
    )
    invoice = _doc(publish(worked_record, mappings, custom, contact=contact), DocumentKind.invoice)
    assert (invoice.body["InvoiceNumber"], invoice.body["Reference"]) == ("ONT1001", "Jane order 0")
    assert "Url" not in invoice.body
    with pytest.raises(ValueError, match="uses email"):
        MappingSettings(reference_template="{email}")


def test_coupon_as_discount_amount(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    on_lines = settings.model_copy(update={"coupon_mode": CouponMode.DISCOUNT_AMOUNT})
    invoice = _doc(publish(worked_record, mappings, on_lines), DocumentKind.invoice)
    assert _lines(invoice) == [
        ("Pro Course", 1, Decimal("200.00"), "200", "OUTPUT", None, Decimal("32.00")),
        ("Workbook", 2, Decimal("25.00"), "210", "OUTPUT", None, Decimal("8.00")),
        ("Shipping: Standard", 1, Decimal("10.00"), "260", "OUTPUT", None, None),
    ]
    assert xero_totals(invoice.body, GST).total == Decimal("242.00")


def test_coupon_limited_to_products_and_default_account(
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    offer: dict[str, Any],
    make_record: RecordFactory,
) -> None:
    offer["coupon"] = {"code": "COURSE", "discount": "40.00", "product_ids": [1]}
    offer["products"][1]["taxable"] = 0
    raw = make_record(offer, tax="17.00", total="237.00")
    invoice = _doc(publish(raw, mappings, settings), DocumentKind.invoice)
    assert _lines(invoice)[1:3] == [
        ("Workbook", 2, Decimal("25.00"), "210", "EXEMPTOUTPUT", None, None),
        ("Coupon COURSE", 1, Decimal("-40.00"), "450", "OUTPUT", None, None),
    ]
    on_lines = _doc(
        publish(raw, mappings, settings.model_copy(update={"coupon_mode": CouponMode.DISCOUNT_AMOUNT})),
        DocumentKind.invoice,
    )
    assert [line.get("DiscountAmount") for line in on_lines.body["LineItems"]] == [
        Decimal("40.00"),
        None,
        None,
    ]


def test_coupon_over_mixed_tax_lines_is_split(
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    offer: dict[str, Any],
    make_record: RecordFactory,
) -> None:
    offer["products"][1]["taxable"] = 0  # Workbook untaxed: 40 off splits 32 taxed / 8 untaxed
    raw = make_record(offer, tax="17.80", total="237.80")
    invoice = _doc(publish(raw, mappings, settings), DocumentKind.invoice)
    coupon_lines = [line for line in _lines(invoice) if line[0] == "Coupon SPRING20"]
    assert coupon_lines == [
        ("Coupon SPRING20", 1, Decimal("-32.00"), "455", "OUTPUT", None, None),
        ("Coupon SPRING20", 1, Decimal("-8.00"), "455", "EXEMPTOUTPUT", None, None),
    ]
    assert xero_totals(invoice.body, GST).total == Decimal("237.80")


def test_shipping_untaxed_without_tax_shipping(
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    offer: dict[str, Any],
    make_record: RecordFactory,
) -> None:
    offer["taxes"] = [{"id": 4, "name": "GST", "rate": "10", "tax_shipping": "0"}]
    raw = make_record(offer, tax="21.00", total="241.00")
    invoice = _doc(publish(raw, mappings, settings), DocumentKind.invoice)
    assert _lines(invoice)[-1] == (
        "Shipping: Standard",
        1,
        Decimal("10.00"),
        "260",
        "EXEMPTOUTPUT",
        None,
        None,
    )
    assert xero_totals(invoice.body, GST).total == Decimal("241.00")


def test_shipping_without_method_uses_default_account(
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    offer: dict[str, Any],
    make_record: RecordFactory,
) -> None:
    del offer["shipping"]
    invoice = _doc(publish(make_record(offer), mappings, settings), DocumentKind.invoice)
    assert _lines(invoice)[-1] == ("Shipping", 1, Decimal("10.00"), "260", "OUTPUT", None, None)


def test_unmapped_items_fall_back_to_defaults(
    worked_record: dict[str, Any], settings: MappingSettings, publish: Publisher
) -> None:
    bare = Mappings(taxes={4: "OUTPUT"}, gateways={3: _gateway()})
    invoice = _doc(publish(worked_record, bare, settings), DocumentKind.invoice)
    assert [line["AccountCode"] for line in invoice.body["LineItems"]] == ["200", "200", "450", "260"]
    assert all("ItemCode" not in line for line in invoice.body["LineItems"])


def test_multi_currency_by_gateway(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    decision = publish({**worked_record, "gateway_id": "5"}, mappings, settings)
    invoice = _doc(decision, DocumentKind.invoice)
    assert (invoice.body["CurrencyCode"], invoice.body["BrandingThemeID"]) == ("USD", PAYPAL_USD_THEME)
    assert _doc(decision, DocumentKind.payment).body["Account"] == {"Code": "615"}


def test_tax_exception_makes_invoice_inclusive(
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    offer: dict[str, Any],
    make_record: RecordFactory,
) -> None:
    offer["taxes"] = []
    for product in offer["products"]:
        product["taxable"] = 0
    raw = make_record(offer, tax="0", total="220.00")
    rules = (
        TaxException(name="NZ buyers", countries=frozenset({"nz"}), tax_type="OUTPUT2"),
        TaxException(name="Aussie shoppers", email_domains=frozenset({"example.com.au"}), tax_type="OUTPUT"),
    )
    with_rules = mappings.model_copy(update={"tax_exceptions": rules})
    buyer = Contact(id=55, email="Jane@Example.com.au", country="AU")
    invoice = _doc(publish(raw, with_rules, settings, contact=buyer), DocumentKind.invoice)
    assert invoice.body["LineAmountTypes"] == "Inclusive"
    assert {line["TaxType"] for line in invoice.body["LineItems"]} == {"OUTPUT"}
    totals = xero_totals(invoice.body, GST)
    assert totals.total == Decimal("220.00")
    assert totals.total_tax == Decimal("20.00")
    # Another buyer matches no rule: no tax, NoTax invoice.
    other = _doc(
        publish(raw, with_rules, settings, contact=Contact(id=55, email="a@b.com", country="US")),
        DocumentKind.invoice,
    )
    assert other.body["LineAmountTypes"] == "NoTax"


@pytest.mark.parametrize(
    "rule",
    [
        TaxException(name="email", emails=frozenset({"jane@example.com.au"}), tax_type="OUTPUT"),
        TaxException(name="tag", tags=frozenset({"VIP"}), tax_type="OUTPUT"),
        TaxException(name="gateway", gateway_ids=frozenset({3}), tax_type="OUTPUT"),
        TaxException(name="product", product_ids=frozenset({9}), tax_type="OUTPUT"),
        TaxException(name="both", countries=frozenset({"AU"}), gateway_ids=frozenset({3}), tax_type="OUTPUT"),
    ],
)
def test_tax_exception_filters(
    rule: TaxException,
    worked_record: dict[str, Any],
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
) -> None:
    buyer = Contact(id=55, email="jane@example.com.au", country="AU", tags=frozenset({"vip"}))
    invoice = _doc(
        publish(
            worked_record, mappings.model_copy(update={"tax_exceptions": (rule,)}), settings, contact=buyer
        ),
        DocumentKind.invoice,
    )
    assert invoice.body["LineAmountTypes"] == "Inclusive"
    # ONTRAPORT also charged 22.00 tax: it is folded into the prices so the total still matches.
    assert xero_totals(invoice.body, GST).total == Decimal("242.00")
    assert _lines(invoice)[:2] == [
        ("Pro Course", 1, Decimal("220.00"), "200", "OUTPUT", None, None),
        ("Workbook", 2, Decimal("27.50"), "210", "OUTPUT", None, None),
    ]


def test_tax_exception_not_matching_on_other_filter(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    rule = TaxException(
        name="both", countries=frozenset({"NZ"}), gateway_ids=frozenset({3}), tax_type="OUTPUT"
    )
    buyer = Contact(id=55, country="AU")
    invoice = _doc(
        publish(
            worked_record, mappings.model_copy(update={"tax_exceptions": (rule,)}), settings, contact=buyer
        ),
        DocumentKind.invoice,
    )
    assert invoice.body["LineAmountTypes"] == "Exclusive"
    with pytest.raises(ValueError, match="has no filter"):
        TaxException(name="all", tax_type="OUTPUT")


def _untaxed_record(offer: dict[str, Any], make_record: RecordFactory) -> dict[str, Any]:
    offer["taxes"] = []
    return make_record(offer, tax="0.00", total="220.00")


def test_no_tax_mode(
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    offer: dict[str, Any],
    make_record: RecordFactory,
) -> None:
    invoice = _doc(publish(_untaxed_record(offer, make_record), mappings, settings), DocumentKind.invoice)
    assert invoice.body["LineAmountTypes"] == "NoTax"
    assert all("TaxType" not in line for line in invoice.body["LineItems"])
    assert xero_totals(invoice.body, {}).total == Decimal("220.00")


def test_tax_free_code_mode(
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    offer: dict[str, Any],
    make_record: RecordFactory,
) -> None:
    coded = settings.model_copy(update={"untaxed_mode": UntaxedMode.TAX_FREE_CODE})
    invoice = _doc(publish(_untaxed_record(offer, make_record), mappings, coded), DocumentKind.invoice)
    assert invoice.body["LineAmountTypes"] == "Exclusive"
    assert {line["TaxType"] for line in invoice.body["LineItems"]} == {"EXEMPTOUTPUT"}
    with pytest.raises(ValueError, match="needs a tax_free_code"):
        MappingSettings(untaxed_mode=UntaxedMode.TAX_FREE_CODE)


def test_draft_invoices_get_no_payment(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    decision = publish(
        worked_record, mappings, settings.model_copy(update={"invoice_status": InvoiceStatus.DRAFT})
    )
    assert [doc.kind for doc in decision.documents] == [DocumentKind.contact, DocumentKind.invoice]
    assert _doc(decision, DocumentKind.invoice).body["Status"] == "DRAFT"


def test_gateway_transaction_id_is_payment_reference(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    raw = {**worked_record, "gateway_transaction_id": "ch_3PabcXYZ"}
    assert _doc(publish(raw, mappings, settings), DocumentKind.payment).body["Reference"] == "ch_3PabcXYZ"


@pytest.mark.parametrize(
    ("status", "word"),
    [("5", "declined"), ("6", "written off"), ("7", "pending")],
)
def test_statuses_that_never_sync(
    status: str, word: str, worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings
) -> None:
    decision = map_transaction(
        {**worked_record, "status": status}, contact=None, mappings=mappings, settings=settings
    )
    assert decision == Skip(f"Transaction 1001 is {word}; only paid transactions go to Xero")


def test_unpaid(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    unpaid = {**worked_record, "status": "0"}
    skipped = map_transaction(unpaid, contact=None, mappings=mappings, settings=settings)
    assert isinstance(skipped, Skip)
    assert "unpaid" in skipped.reason
    decision = publish(unpaid, mappings, settings.model_copy(update={"sync_unpaid": True}))
    assert [doc.kind for doc in decision.documents] == [DocumentKind.contact, DocumentKind.invoice]
    assert _doc(decision, DocumentKind.invoice).body["Status"] == "AUTHORISED"


def test_missing_product_account_without_default(
    worked_record: dict[str, Any], settings: MappingSettings, fail: Failer
) -> None:
    mappings = Mappings(taxes={4: "OUTPUT"}, gateways={3: _gateway()})
    reason = fail(worked_record, mappings, settings.model_copy(update={"default_sales_account": None}))
    assert reason == "Product 'Pro Course' (id 1) has no account and no default sales account is set"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"default_coupon_account": None},
            "Coupon 'SPRING20' has no account and no default coupon account is set",
        ),
        (
            {"default_shipping_account": None},
            "Shipping method 'Standard' (id 2) has no account and no default shipping account is set",
        ),
    ],
)
def test_missing_coupon_or_shipping_account(
    change: dict[str, Any],
    reason: str,
    worked_record: dict[str, Any],
    settings: MappingSettings,
    fail: Failer,
) -> None:
    mappings = Mappings(
        products={1: _product(), 9: _product()}, taxes={4: "OUTPUT"}, gateways={3: _gateway()}
    )
    assert fail(worked_record, mappings, settings.model_copy(update=change)) == reason


def test_missing_gateway_and_tax_mappings(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, fail: Failer
) -> None:
    assert (
        fail({**worked_record, "gateway_id": "8"}, mappings, settings) == "Gateway 8 has no currency mapping"
    )
    no_tax = mappings.model_copy(update={"taxes": {}})
    assert fail(worked_record, no_tax, settings) == "Tax 'GST' (id 4) has no Xero tax code mapped"
    no_account = mappings.model_copy(
        update={"gateways": {3: _gateway().model_copy(update={"payment_account_code": None})}}
    )
    assert fail(worked_record, no_account, settings) == "Gateway 3 has no payment account mapped"


def test_parts_not_adding_up(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, fail: Failer
) -> None:
    reason = fail({**worked_record, "tax": "21.99", "total": "242.00"}, mappings, settings)
    assert reason == "Transaction 1001 does not add up: parts give 241.99 but ONTRAPORT charged 242.00"
    reason = fail({**worked_record, "subtotal": "260.00", "total": "252.00"}, mappings, settings)
    assert (
        reason == "Transaction 1001 does not add up: its products come to 250.00 but its subtotal is 260.00"
    )


def test_unreadable_offer_data_fails(
    worked_record: dict[str, Any],
    mappings: Mappings,
    settings: MappingSettings,
    fail: Failer,
    offer: dict[str, Any],
) -> None:
    offer["products"][1]["price"] = "abc"
    reason = fail({**worked_record, "offer_data": json.dumps(offer)}, mappings, settings)
    assert reason == "offer_data: product 2 has no readable price ('abc')"


def test_tax_charged_without_taxable_line(
    worked_record: dict[str, Any],
    mappings: Mappings,
    settings: MappingSettings,
    fail: Failer,
    offer: dict[str, Any],
) -> None:
    offer["taxes"] = []
    reason = fail({**worked_record, "offer_data": json.dumps(offer)}, mappings, settings)
    assert reason == "ONTRAPORT charged 22.00 tax on transaction 1001 but no line of its offer is taxable"


def test_xero_reference_data_is_checked(
    worked_record: dict[str, Any],
    mappings: Mappings,
    settings: MappingSettings,
    publish: Publisher,
    fail: Failer,
) -> None:
    reference = XeroReference(account_codes=frozenset({"200", "210", "455", "610"}), tax_rates=GST)
    assert fail(worked_record, mappings, settings, reference=reference) == (
        "Account 260 (line 'Shipping: Standard') is not an active account in Xero"
    )
    full = reference.model_copy(update={"account_codes": reference.account_codes | {"260"}})
    publish(worked_record, mappings, settings, reference=full)
    assert "not an active tax rate" in fail(
        worked_record,
        mappings,
        settings,
        reference=full.model_copy(update={"tax_rates": {"EXEMPTOUTPUT": Decimal(0)}}),
    )


def test_fingerprints_are_deterministic(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    first = publish(worked_record, mappings, settings)
    again = publish(dict(worked_record), mappings, settings)
    changed = publish(
        worked_record, mappings, settings.model_copy(update={"reference_template": "{invoice_id}"})
    )
    assert [doc.fingerprint for doc in first.documents] == [doc.fingerprint for doc in again.documents]
    assert _doc(first, DocumentKind.invoice).fingerprint != _doc(changed, DocumentKind.invoice).fingerprint
    assert _doc(first, DocumentKind.payment).fingerprint == _doc(changed, DocumentKind.payment).fingerprint
    invoice = _doc(first, DocumentKind.invoice)
    key = invoice.idempotency_key("ontraport:acct-1:1001")
    assert key == invoice.idempotency_key("ontraport:acct-1:1001")
    assert key != _doc(first, DocumentKind.payment).idempotency_key("ontraport:acct-1:1001")
    long_key = invoice.idempotency_key("x" * 300)
    assert len(key) <= 128
    assert len(long_key) <= 128
    assert json.loads(json.dumps(invoice.body, default=json_default))["LineItems"][0]["UnitAmount"] == 200.0


def test_contact_name_for_clash() -> None:
    assert contact_name_for_clash("Jane Smith", "jane@example.com") == "Jane Smith (jane@example.com)"
    assert len(contact_name_for_clash("J" * 300, "jane@example.com")) == 255


def test_contact_without_details_uses_transaction_name(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, publish: Publisher
) -> None:
    invoice = _doc(publish(worked_record, mappings, settings), DocumentKind.invoice)
    assert invoice.body["Contact"] == {"ContactNumber": "OP-55", "Name": "Jane Smith"}
    assert invoice.body["Reference"] == "Smith-1001"


def test_a_payment_account_xero_takes_no_payments_to_fails_before_anything_is_sent(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, fail: Failer
) -> None:
    # SPEC §3.1: payments need a bank account or one with payments enabled; a sales account would
    # leave an approved, unpaid invoice in Xero.
    reference = XeroReference(
        account_codes=frozenset({"200", "210", "260", "455", "610"}), payment_account_codes=frozenset({"090"})
    )
    reason = fail(worked_record, mappings, settings, reference=reference)
    assert reason == (
        "Payment account 610 of gateway 3 takes no payments in Xero; choose a bank account or one with "
        "payments enabled"
    )


def test_a_tax_code_that_does_not_apply_to_sales_fails(
    worked_record: dict[str, Any], mappings: Mappings, settings: MappingSettings, fail: Failer
) -> None:
    reference = XeroReference(tax_rates={"OUTPUT": Decimal(10)}, sales_tax_types=frozenset({"EXEMPTOUTPUT"}))
    assert "Tax code OUTPUT" in fail(worked_record, mappings, settings, reference=reference)
    assert "cannot be used on sales" in fail(worked_record, mappings, settings, reference=reference)


def test_several_taxes_on_one_transaction_each_keep_their_own_code(
    mappings: Mappings,
    settings: MappingSettings,
    fail: Failer,
    offer: dict[str, Any],
    make_record: RecordFactory,
) -> None:
    """GST 10 % (with shipping) and a 5 % levy (without) charged together. Shipping carries GST alone
    and keeps GST's own code; the products carry both, and a Xero line has one tax code whose base is
    the line's amount, so they take the code mapped for the combination (a compound rate in Xero)."""
    offer["taxes"].append({"id": 6, "name": "Levy", "rate": "5", "taxShipping": 0, "taxTotal": "10.50"})
    # Taxed base 210.00 after the coupon: GST 21.00 + levy 10.50, and GST 1.00 on the shipping.
    raw = make_record(offer, tax="32.50", total="252.50")
    singles = mappings.model_copy(update={"taxes": {4: "OUTPUT", 6: "LEVY"}})
    decision = map_transaction(raw, contact=None, mappings=singles, settings=settings)
    assert isinstance(decision, Fail)
    assert decision.code is ReasonCode.tax_unmapped and decision.cause == Cause("mapping", "tax", "4+6")
    assert "map the combination '4+6'" in decision.reason and "LEVY, OUTPUT" in decision.reason

    reference = XeroReference(
        tax_rates={"OUTPUT": Decimal("10"), "LEVY": Decimal("5"), "GSTLEVY": Decimal("15")}
    )
    combined = singles.model_copy(update={"tax_combinations": {"4+6": "GSTLEVY"}})
    published = map_transaction(raw, contact=None, mappings=combined, settings=settings, reference=reference)
    assert isinstance(published, Publish), published
    invoice = _doc(published, DocumentKind.invoice)
    assert [(line["Description"], line["TaxType"]) for line in invoice.body["LineItems"]] == [
        ("Pro Course", "GSTLEVY"),
        ("Workbook", "GSTLEVY"),
        ("Coupon SPRING20", "GSTLEVY"),
        ("Shipping: Standard", "OUTPUT"),
    ]
    totals = xero_totals(invoice.body, reference.tax_rates)
    assert (totals.total_tax, totals.total) == (Decimal("32.50"), Decimal("252.50"))
