"""Accounting API: seed data, business-rule validation, batches, totals, payments, credit notes, reads."""

from __future__ import annotations

from typing import Any

import pytest

from ledgerbridge.sandbox.xero.testing import SCOPE, SandboxClient


def invoice(number: str | None = "OP-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": {"Name": "Ridgeway University"},
        "Date": "2024-03-01",
        "DueDate": "2024-03-01",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "CurrencyCode": "AUD",
        "LineItems": [
            {
                "Description": "Pro Course",
                "Quantity": 1,
                "UnitAmount": 200.0,
                "AccountCode": "200",
                "TaxType": "OUTPUT",
            }
        ],
    }
    if number is not None:
        body["InvoiceNumber"] = number
    body.update(overrides)
    return body


def bill(number: str = "PO-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Type": "ACCPAY",
        "Contact": {"Name": "Acme Wholesale"},
        "Date": "2024-03-02",
        "DueDate": "2024-03-30",
        "Status": "AUTHORISED",
        "InvoiceNumber": number,
        "LineItems": [
            {
                "Description": "Widgets",
                "Quantity": 2,
                "UnitAmount": 50.0,
                "AccountCode": "310",
                "TaxType": "INPUT",
            }
        ],
    }
    body.update(overrides)
    return body


async def create_invoice(sandbox: SandboxClient, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await sandbox.call("PUT", "Invoices", tenant, {"Invoices": [body]})
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()["Invoices"][0]
    return created


def messages(response_json: dict[str, Any], index: int = 0) -> list[str]:
    element = response_json["Elements"][index]
    assert element["StatusAttributeString"] == "ERROR"
    return [error["Message"] for error in element["ValidationErrors"]]


# --- seed -----------------------------------------------------------------------------------------------


async def test_seeded_reference_data(sandbox: SandboxClient, org: str) -> None:
    accounts = (await sandbox.call("GET", "Accounts", org)).json()["Accounts"]
    by_code = {account["Code"]: account for account in accounts}
    assert by_code["200"]["Type"] == "REVENUE"
    assert by_code["615"]["Name"] == "Stripe Clearing"
    assert by_code["615"]["EnablePaymentsToAccount"] is True
    assert by_code["620"]["EnablePaymentsToAccount"] is False
    assert by_code["090"]["Type"] == "BANK"
    tax = {rate["TaxType"] for rate in (await sandbox.call("GET", "TaxRates", org)).json()["TaxRates"]}
    assert {"OUTPUT", "INPUT", "EXEMPTOUTPUT", "EXEMPTEXPENSES", "BASEXCLUDED"} <= tax
    currencies = {c["Code"] for c in (await sandbox.call("GET", "Currencies", org)).json()["Currencies"]}
    assert currencies == {"AUD", "GBP", "NZD", "USD"}
    themes = (await sandbox.call("GET", "BrandingThemes", org)).json()["BrandingThemes"]
    assert len(themes) >= 2
    organisation = (await sandbox.call("GET", "Organisation", org)).json()["Organisations"][0]
    assert organisation["BaseCurrency"] == "AUD"
    assert not any(key.startswith("_") for key in organisation)
    banks = (await sandbox.call("GET", "Accounts", org, params={"where": 'Type=="BANK"'})).json()["Accounts"]
    assert {account["Code"] for account in banks} == {"090", "091"}


async def test_uk_and_us_organisations_have_their_tax_codes(sandbox: SandboxClient) -> None:
    uk = await sandbox.new_org("UK")
    us = await sandbox.new_org("US")
    uk_tax = {r["TaxType"] for r in (await sandbox.call("GET", "TaxRates", uk)).json()["TaxRates"]}
    us_tax = {r["TaxType"] for r in (await sandbox.call("GET", "TaxRates", us)).json()["TaxRates"]}
    assert {"OUTPUT2", "INPUT2", "ZERORATEDOUTPUT", "NONE"} <= uk_tax
    assert {"TAX001", "NONE"} <= us_tax
    created = await create_invoice(
        sandbox,
        uk,
        invoice(
            CurrencyCode="GBP",
            LineItems=[
                {
                    "Description": "x",
                    "Quantity": 1,
                    "UnitAmount": 100,
                    "AccountCode": "200",
                    "TaxType": "OUTPUT2",
                }
            ],
        ),
    )
    assert created["TotalTax"] == 20.0


async def test_fresh_organisations_are_isolated(sandbox: SandboxClient) -> None:
    first = await sandbox.new_org()
    second = await sandbox.new_org()
    await create_invoice(sandbox, first, invoice("ISO-1"))
    assert len((await sandbox.call("GET", "Invoices", second)).json()["Invoices"]) == 0
    # The same sales number is fine in another organisation.
    await create_invoice(sandbox, second, invoice("ISO-1"))


# --- creating and totals ----------------------------------------------------------------------------------


async def test_invoice_is_created_with_xero_fields(sandbox: SandboxClient, org: str) -> None:
    created = await create_invoice(
        sandbox, org, invoice("OP-100", Reference="Smith-9", Url="https://op.example/t/100")
    )
    assert created["StatusAttributeString"] == "OK"
    assert created["InvoiceID"]
    assert created["InvoiceNumber"] == "OP-100"
    assert created["Status"] == "AUTHORISED"
    assert created["SubTotal"] == 200.0
    assert created["TotalTax"] == 20.0
    assert created["Total"] == 220.0
    assert created["AmountDue"] == 220.0
    assert created["AmountPaid"] == 0.0
    assert created["Date"].startswith("/Date(")
    assert created["DateString"] == "2024-03-01T00:00:00"
    assert created["Contact"]["Name"] == "Ridgeway University"
    assert not any(key.startswith("_") for key in created)
    fetched = (await sandbox.call("GET", f"Invoices/{created['InvoiceID']}", org)).json()["Invoices"][0]
    assert fetched["Total"] == 220.0
    by_number = (await sandbox.call("GET", "Invoices/OP-100", org)).json()["Invoices"][0]
    assert by_number["InvoiceID"] == created["InvoiceID"]


async def test_worked_example_with_coupon_and_shipping(sandbox: SandboxClient, org: str) -> None:
    lines = [
        {
            "Description": "Pro Course",
            "Quantity": 1,
            "UnitAmount": 200.00,
            "AccountCode": "200",
            "TaxType": "OUTPUT",
        },
        {
            "Description": "Workbook",
            "Quantity": 2,
            "UnitAmount": 25.00,
            "AccountCode": "200",
            "TaxType": "OUTPUT",
        },
        {
            "Description": "Coupon SPRING20",
            "Quantity": 1,
            "UnitAmount": -40.00,
            "AccountCode": "220",
            "TaxType": "OUTPUT",
        },
        {
            "Description": "Shipping: Standard",
            "Quantity": 1,
            "UnitAmount": 10.00,
            "AccountCode": "210",
            "TaxType": "OUTPUT",
        },
    ]
    created = await create_invoice(sandbox, org, invoice("OP-1001", LineItems=lines))
    assert (created["SubTotal"], created["TotalTax"], created["Total"]) == (220.0, 22.0, 242.0)
    assert [line["TaxAmount"] for line in created["LineItems"]] == [20.0, 5.0, -4.0, 1.0]


async def test_tax_is_rounded_per_line(sandbox: SandboxClient, org: str) -> None:
    line = {
        "Description": "Tiny",
        "Quantity": 1,
        "UnitAmount": 1.05,
        "AccountCode": "200",
        "TaxType": "OUTPUT",
    }
    created = await create_invoice(sandbox, org, invoice("R-1", LineItems=[dict(line) for _ in range(3)]))
    assert created["TotalTax"] == 0.33
    assert created["Total"] == 3.48


async def test_explicit_tax_amounts_are_honoured(sandbox: SandboxClient, org: str) -> None:
    line = {
        "Description": "Tiny",
        "Quantity": 1,
        "UnitAmount": 1.05,
        "AccountCode": "200",
        "TaxType": "OUTPUT",
    }
    lines = [{**line, "TaxAmount": tax} for tax in (0.11, 0.11, 0.10)]
    created = await create_invoice(sandbox, org, invoice("R-2", LineItems=lines, Total=999.0))
    assert created["TotalTax"] == 0.32
    assert created["Total"] == 3.47  # Total in the request is read-only and ignored


async def test_inclusive_notax_discounts_and_unitdp(sandbox: SandboxClient, org: str) -> None:
    inclusive = await create_invoice(
        sandbox,
        org,
        invoice(
            "INC-1",
            LineAmountTypes="Inclusive",
            LineItems=[
                {
                    "Description": "a",
                    "Quantity": 1,
                    "UnitAmount": 110.0,
                    "AccountCode": "200",
                    "TaxType": "OUTPUT",
                }
            ],
        ),
    )
    assert (inclusive["SubTotal"], inclusive["TotalTax"], inclusive["Total"]) == (100.0, 10.0, 110.0)
    notax = await create_invoice(
        sandbox,
        org,
        invoice(
            "NT-1",
            LineAmountTypes="NoTax",
            LineItems=[{"Description": "a", "Quantity": 3, "UnitAmount": 9.99, "AccountCode": "200"}],
        ),
    )
    assert (notax["TotalTax"], notax["Total"]) == (0.0, 29.97)
    discounted = await create_invoice(
        sandbox,
        org,
        invoice(
            "DS-1",
            LineItems=[
                {
                    "Description": "a",
                    "Quantity": 2,
                    "UnitAmount": 50.0,
                    "DiscountRate": 20,
                    "AccountCode": "200",
                    "TaxType": "OUTPUT",
                },
                {
                    "Description": "b",
                    "Quantity": 1,
                    "UnitAmount": 30.0,
                    "DiscountAmount": 5,
                    "AccountCode": "200",
                    "TaxType": "OUTPUT",
                },
            ],
        ),
    )
    assert [line["LineAmount"] for line in discounted["LineItems"]] == [80.0, 25.0]
    assert discounted["TotalDiscount"] == 25.0
    assert discounted["Total"] == 115.5
    precise_line = {
        "Description": "p",
        "Quantity": 3,
        "UnitAmount": 1.2345,
        "AccountCode": "200",
        "TaxType": "OUTPUT",
    }
    rounded = await create_invoice(sandbox, org, invoice("DP-2", LineItems=[precise_line]))
    assert rounded["LineItems"][0]["UnitAmount"] == 1.23
    response = await sandbox.call(
        "PUT",
        "Invoices",
        org,
        {"Invoices": [invoice("DP-4", LineItems=[precise_line])]},
        params={"unitdp": "4"},
    )
    four = response.json()["Invoices"][0]
    assert four["LineItems"][0]["UnitAmount"] == 1.2345
    assert four["LineItems"][0]["LineAmount"] == 3.70


async def test_unknown_contact_name_creates_contact_and_bills_mark_suppliers(
    sandbox: SandboxClient, org: str
) -> None:
    await create_invoice(
        sandbox, org, invoice("NEW-1", Contact={"Name": "Brand New Customer", "EmailAddress": "n@x.io"})
    )
    found = (
        await sandbox.call("GET", "Contacts", org, params={"where": 'Name=="Brand New Customer"'})
    ).json()["Contacts"]
    assert len(found) == 1
    assert found[0]["IsCustomer"] is True
    await create_invoice(sandbox, org, bill("B-1", Contact={"Name": "Brand New Supplier"}))
    suppliers = (await sandbox.call("GET", "Contacts", org, params={"where": "IsSupplier==true"})).json()[
        "Contacts"
    ]
    assert "Brand New Supplier" in {contact["Name"] for contact in suppliers}


# --- business rules ---------------------------------------------------------------------------------------

RULES = [
    (
        "unknown account",
        invoice(
            "V-1", LineItems=[{"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "999"}]
        ),
        "not a valid code",
    ),
    (
        "archived account",
        invoice(
            "V-1",
            LineItems=[
                {"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "499", "TaxType": "INPUT"}
            ],
        ),
        "not a valid code",
    ),
    (
        "unknown tax type",
        invoice(
            "V-1",
            LineItems=[
                {"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "200", "TaxType": "GST"}
            ],
        ),
        "does not exist",
    ),
    (
        "tax type not allowed on account",
        invoice(
            "V-1",
            LineItems=[
                {"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "200", "TaxType": "INPUT"}
            ],
        ),
        "cannot be used with account code '200'",
    ),
    (
        "authorised line without account",
        invoice("V-1", LineItems=[{"Description": "x", "Quantity": 1, "UnitAmount": 1}]),
        "account code must be specified",
    ),
    (
        "discount on a bill",
        bill(
            "V-1",
            LineItems=[
                {
                    "Description": "x",
                    "Quantity": 1,
                    "UnitAmount": 10,
                    "AccountCode": "310",
                    "TaxType": "INPUT",
                    "DiscountRate": 10,
                }
            ],
        ),
        "Discounts are not supported on ACCPAY",
    ),
    (
        "archived contact",
        invoice("V-1", Contact={"Name": "Old Vendor Ltd", "ContactNumber": "VEND-OLD"}),
        "archived",
    ),
    (
        "three tracking categories",
        invoice(
            "V-1",
            LineItems=[
                {
                    "Description": "x",
                    "Quantity": 1,
                    "UnitAmount": 1,
                    "AccountCode": "200",
                    "TaxType": "OUTPUT",
                    "Tracking": [
                        {"Name": "A", "Option": "1"},
                        {"Name": "B", "Option": "2"},
                        {"Name": "C", "Option": "3"},
                    ],
                }
            ],
        ),
        "maximum of 2 tracking",
    ),
    ("currency not enabled", invoice("V-1", CurrencyCode="EUR"), "not subscribed to currency EUR"),
    (
        "unknown branding theme",
        invoice("V-1", BrandingThemeID="11111111-2222-3333-4444-555555555555"),
        "Branding theme",
    ),
]


@pytest.mark.parametrize(("rule", "body", "expected"), RULES, ids=[rule for rule, _, _ in RULES])
async def test_business_rules_fail_with_xero_validation_exception(
    sandbox: SandboxClient, org: str, rule: str, body: dict[str, Any], expected: str
) -> None:
    response = await sandbox.call("PUT", "Invoices", org, {"Invoices": [body]})
    assert response.status_code == 400, rule
    payload = response.json()
    assert payload["ErrorNumber"] == 10
    assert payload["Type"] == "ValidationException"
    assert payload["Message"] == "A validation exception occurred"
    assert any(expected.lower() in message.lower() for message in messages(payload)), messages(payload)
    assert (await sandbox.call("GET", "Invoices", org)).json()["Invoices"] == []


async def test_branding_theme_and_foreign_currency_that_exist_are_accepted(
    sandbox: SandboxClient, org: str
) -> None:
    theme = (await sandbox.call("GET", "BrandingThemes", org)).json()["BrandingThemes"][1]["BrandingThemeID"]
    created = await create_invoice(sandbox, org, invoice("FX-1", CurrencyCode="USD", BrandingThemeID=theme))
    assert created["CurrencyCode"] == "USD"
    assert created["BrandingThemeID"] == theme


async def test_sales_numbers_are_unique_but_bill_numbers_may_repeat(sandbox: SandboxClient, org: str) -> None:
    await create_invoice(sandbox, org, invoice("DUP-1"))
    again = await sandbox.call("PUT", "Invoices", org, {"Invoices": [invoice("DUP-1")]})
    assert again.status_code == 400
    assert "Invoice # must be unique." in messages(again.json())
    await create_invoice(sandbox, org, bill("SAME"))
    await create_invoice(sandbox, org, bill("SAME"))
    bills = (
        await sandbox.call(
            "GET", "Invoices", org, params={"where": 'Type=="ACCPAY" AND InvoiceNumber=="SAME"'}
        )
    ).json()
    assert len(bills["Invoices"]) == 2


async def test_contacts_unique_name_and_number(sandbox: SandboxClient, org: str) -> None:
    ok = await sandbox.call(
        "PUT",
        "Contacts",
        org,
        {"Contacts": [{"Name": "Jane Doe", "ContactNumber": "OP-12", "EmailAddress": "jane@example.com"}]},
    )
    assert ok.status_code == 200
    same_name = await sandbox.call("PUT", "Contacts", org, {"Contacts": [{"Name": "jane doe"}]})
    assert "already assigned to another contact" in messages(same_name.json())[0]
    same_number = await sandbox.call(
        "PUT", "Contacts", org, {"Contacts": [{"Name": "Other", "ContactNumber": "OP-12"}]}
    )
    assert "contact number OP-12" in messages(same_number.json())[0]
    by_number = (
        await sandbox.call("GET", "Contacts", org, params={"where": 'ContactNumber=="OP-12"'})
    ).json()["Contacts"]
    by_email = (
        await sandbox.call("GET", "Contacts", org, params={"where": 'EmailAddress=="jane@example.com"'})
    ).json()["Contacts"]
    assert by_number[0]["ContactID"] == by_email[0]["ContactID"]
    contact_id = by_number[0]["ContactID"]
    renamed = await sandbox.call(
        "POST", f"Contacts/{contact_id}", org, {"Contacts": [{"Name": "Jane Q Doe"}]}
    )
    assert renamed.json()["Contacts"][0]["Name"] == "Jane Q Doe"
    single = (await sandbox.call("GET", f"Contacts/{contact_id}", org)).json()["Contacts"][0]
    assert single["ContactNumber"] == "OP-12"


# --- summarizeErrors ----------------------------------------------------------------------------------------


async def test_summarize_errors_false_returns_every_element(sandbox: SandboxClient, org: str) -> None:
    batch = [invoice("S-1"), invoice("S-2", CurrencyCode="EUR"), invoice("S-3"), invoice("S-1")]
    response = await sandbox.call(
        "PUT", "Invoices", org, {"Invoices": batch}, params={"summarizeErrors": "false"}
    )
    assert response.status_code == 200
    results = response.json()["Invoices"]
    assert [result["StatusAttributeString"] for result in results] == ["OK", "ERROR", "OK", "ERROR"]
    assert results[0]["InvoiceID"] and results[2]["InvoiceID"]
    assert "InvoiceID" not in results[1]
    assert results[1]["ValidationErrors"][0]["Message"].startswith("Organisation is not subscribed")
    assert results[3]["ValidationErrors"] == [{"Message": "Invoice # must be unique."}]
    stored = (await sandbox.call("GET", "Invoices", org)).json()["Invoices"]
    assert sorted(doc["InvoiceNumber"] for doc in stored) == ["S-1", "S-3"]


async def test_summarized_batch_fails_whole_and_creates_nothing(sandbox: SandboxClient, org: str) -> None:
    batch = [invoice("T-1", Contact={"Name": "Auto Created Pty"}), invoice("T-2", CurrencyCode="EUR")]
    response = await sandbox.call("PUT", "Invoices", org, {"Invoices": batch})
    assert response.status_code == 400
    payload = response.json()
    assert len(payload["Elements"]) == 1
    assert payload["Elements"][0]["InvoiceNumber"] == "T-2"
    assert (await sandbox.call("GET", "Invoices", org)).json()["Invoices"] == []
    contacts = (await sandbox.call("GET", "Contacts", org, params={"searchTerm": "Auto Created"})).json()[
        "Contacts"
    ]
    assert contacts == []


# --- payments ---------------------------------------------------------------------------------------------


def payment(invoice_id: str, amount: float, code: str = "615") -> dict[str, Any]:
    return {
        "Invoice": {"InvoiceID": invoice_id},
        "Account": {"Code": code},
        "Date": "2024-03-01",
        "Amount": amount,
        "Reference": "ch_123",
    }


async def test_payments_settle_and_deleting_restores(sandbox: SandboxClient, org: str) -> None:
    created = await create_invoice(sandbox, org, invoice("P-1"))
    part = await sandbox.call("PUT", "Payments", org, {"Payments": [payment(created["InvoiceID"], 20.0)]})
    assert part.status_code == 200
    after_part = (await sandbox.call("GET", f"Invoices/{created['InvoiceID']}", org)).json()["Invoices"][0]
    assert (after_part["AmountDue"], after_part["AmountPaid"], after_part["Status"]) == (
        200.0,
        20.0,
        "AUTHORISED",
    )
    rest = await sandbox.call(
        "PUT", "Payments", org, {"Payments": [payment(created["InvoiceID"], 200.0, "090")]}
    )
    paid = (await sandbox.call("GET", f"Invoices/{created['InvoiceID']}", org)).json()["Invoices"][0]
    assert (paid["AmountDue"], paid["Status"]) == (0.0, "PAID")
    assert len(paid["Payments"]) == 2
    payment_id = rest.json()["Payments"][0]["PaymentID"]
    assert rest.json()["Payments"][0]["PaymentType"] == "ACCRECPAYMENT"
    deleted = await sandbox.call("POST", f"Payments/{payment_id}", org, {"Status": "DELETED"})
    assert deleted.status_code == 200
    assert deleted.json()["Payments"][0]["Status"] == "DELETED"
    restored = (await sandbox.call("GET", f"Invoices/{created['InvoiceID']}", org)).json()["Invoices"][0]
    assert (restored["AmountDue"], restored["Status"]) == (200.0, "AUTHORISED")
    listed = (await sandbox.call("GET", "Payments", org, params={"where": 'Status=="AUTHORISED"'})).json()[
        "Payments"
    ]
    assert len(listed) == 1


async def test_payment_rules(sandbox: SandboxClient, org: str) -> None:
    authorised = await create_invoice(sandbox, org, invoice("PR-1"))
    draft = await create_invoice(sandbox, org, invoice("PR-2", Status="DRAFT"))
    batch = [
        payment(authorised["InvoiceID"], 500.0),
        payment(authorised["InvoiceID"], 10.0, code="620"),
        payment(authorised["InvoiceID"], 10.0, code="200"),
        payment(draft["InvoiceID"], 10.0),
        payment(authorised["InvoiceID"], 10.0),
    ]
    response = await sandbox.call(
        "PUT", "Payments", org, {"Payments": batch}, params={"summarizeErrors": "false"}
    )
    results = response.json()["Payments"]
    assert [r["StatusAttributeString"] for r in results] == ["ERROR", "ERROR", "ERROR", "ERROR", "OK"]
    assert "exceeds the amount outstanding" in results[0]["ValidationErrors"][0]["Message"]
    assert "payments enabled" in results[1]["ValidationErrors"][0]["Message"]
    assert "payments enabled" in results[2]["ValidationErrors"][0]["Message"]
    assert "AUTHORISED" in results[3]["ValidationErrors"][0]["Message"]


async def test_void_and_delete_invoices(sandbox: SandboxClient, org: str) -> None:
    authorised = await create_invoice(sandbox, org, invoice("VD-1"))
    draft = await create_invoice(sandbox, org, invoice("VD-2", Status="DRAFT"))
    cannot_delete = await sandbox.call(
        "POST", f"Invoices/{authorised['InvoiceID']}", org, {"Status": "DELETED"}
    )
    assert cannot_delete.status_code == 400
    paid = await sandbox.call("PUT", "Payments", org, {"Payments": [payment(authorised["InvoiceID"], 50.0)]})
    cannot_void = await sandbox.call("POST", f"Invoices/{authorised['InvoiceID']}", org, {"Status": "VOIDED"})
    assert cannot_void.status_code == 400
    await sandbox.call(
        "POST", f"Payments/{paid.json()['Payments'][0]['PaymentID']}", org, {"Status": "DELETED"}
    )
    voided = await sandbox.call("POST", f"Invoices/{authorised['InvoiceID']}", org, {"Status": "VOIDED"})
    assert voided.json()["Invoices"][0]["Status"] == "VOIDED"
    deleted = await sandbox.call(
        "POST", f"Invoices/{draft['InvoiceID']}", org, {"InvoiceNumber": "VD-2", "Status": "DELETED"}
    )
    assert deleted.json()["Invoices"][0]["Status"] == "DELETED"
    statuses = (await sandbox.call("GET", "Invoices", org, params={"Statuses": "VOIDED,DELETED"})).json()[
        "Invoices"
    ]
    assert len(statuses) == 2


async def test_draft_can_be_updated_and_authorised(sandbox: SandboxClient, org: str) -> None:
    draft = await create_invoice(
        sandbox, org, invoice("UP-1", Status="DRAFT", LineItems=[{"Description": "later"}])
    )
    updated = await sandbox.call(
        "POST",
        "Invoices",
        org,
        {
            "Invoices": [
                {
                    "InvoiceID": draft["InvoiceID"],
                    "Status": "AUTHORISED",
                    "LineItems": [
                        {
                            "Description": "now",
                            "Quantity": 1,
                            "UnitAmount": 10,
                            "AccountCode": "200",
                            "TaxType": "OUTPUT",
                        }
                    ],
                }
            ]
        },
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["Invoices"][0]["Total"] == 11.0
    assert updated.json()["Invoices"][0]["Status"] == "AUTHORISED"


# --- credit notes ------------------------------------------------------------------------------------------


def credit_note(number: str = "CN-OP-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Type": "ACCRECCREDIT",
        "Contact": {"Name": "Ridgeway University"},
        "Date": "2024-03-05",
        "Status": "AUTHORISED",
        "CreditNoteNumber": number,
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {
                "Description": "Refund",
                "Quantity": 1,
                "UnitAmount": 100.0,
                "AccountCode": "200",
                "TaxType": "OUTPUT",
            }
        ],
    }
    body.update(overrides)
    return body


async def test_credit_note_allocation_and_refund(sandbox: SandboxClient, org: str) -> None:
    created = await create_invoice(sandbox, org, invoice("CI-1"))
    response = await sandbox.call(
        "PUT", "CreditNotes", org, {"CreditNotes": [credit_note("CN-1"), credit_note("CN-2")]}
    )
    assert response.status_code == 200, response.text
    first, second = response.json()["CreditNotes"]
    assert (first["Total"], first["RemainingCredit"]) == (110.0, 110.0)
    allocation = await sandbox.call(
        "PUT",
        f"CreditNotes/{first['CreditNoteID']}/Allocations",
        org,
        {
            "Allocations": [
                {"Invoice": {"InvoiceID": created["InvoiceID"]}, "Amount": 110.0, "Date": "2024-03-05"}
            ]
        },
    )
    assert allocation.status_code == 200, allocation.text
    note = (await sandbox.call("GET", f"CreditNotes/{first['CreditNoteID']}", org)).json()["CreditNotes"][0]
    assert (note["RemainingCredit"], note["Status"]) == (0.0, "PAID")
    inv = (await sandbox.call("GET", f"Invoices/{created['InvoiceID']}", org)).json()["Invoices"][0]
    assert (inv["AmountDue"], inv["AmountCredited"]) == (110.0, 110.0)
    too_much = await sandbox.call(
        "PUT",
        f"CreditNotes/{second['CreditNoteID']}/Allocations",
        org,
        {
            "Allocations": [
                {"Invoice": {"InvoiceID": created["InvoiceID"]}, "Amount": 111.0, "Date": "2024-03-05"}
            ]
        },
    )
    assert too_much.status_code == 400
    refund = await sandbox.call(
        "PUT",
        "Payments",
        org,
        {
            "Payments": [
                {
                    "CreditNote": {"CreditNoteID": second["CreditNoteID"]},
                    "Account": {"Code": "615"},
                    "Date": "2024-03-06",
                    "Amount": 110.0,
                }
            ]
        },
    )
    assert refund.status_code == 200, refund.text
    assert refund.json()["Payments"][0]["PaymentType"] == "ARCREDITPAYMENT"
    refunded = (await sandbox.call("GET", f"CreditNotes/{second['CreditNoteID']}", org)).json()[
        "CreditNotes"
    ][0]
    assert refunded["Status"] == "PAID"
    duplicate = await sandbox.call("PUT", "CreditNotes", org, {"CreditNotes": [credit_note("CN-1")]})
    assert duplicate.status_code == 400


async def test_credit_notes_reject_discounts(sandbox: SandboxClient, org: str) -> None:
    body = credit_note(
        "CN-D",
        LineItems=[
            {
                "Description": "x",
                "Quantity": 1,
                "UnitAmount": 10,
                "AccountCode": "200",
                "TaxType": "OUTPUT",
                "DiscountAmount": 1,
            }
        ],
    )
    response = await sandbox.call("PUT", "CreditNotes", org, {"CreditNotes": [body]})
    assert response.status_code == 400
    assert "credit notes" in messages(response.json())[0]


# --- reads --------------------------------------------------------------------------------------------------


async def test_pagination_and_filters(sandbox: SandboxClient, org: str) -> None:
    batch = [invoice(f"PG-{index:03d}") for index in range(120)]
    for start in range(0, 120, 50):
        response = await sandbox.call("PUT", "Invoices", org, {"Invoices": batch[start : start + 50]})
        assert response.status_code == 200
    await create_invoice(sandbox, org, bill("B-77"))
    first = (await sandbox.call("GET", "Invoices", org, params={"page": "1"})).json()
    assert len(first["Invoices"]) == 100
    assert first["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 2, "itemCount": 121}
    second = (await sandbox.call("GET", "Invoices", org, params={"page": "2"})).json()
    assert len(second["Invoices"]) == 21
    small = (await sandbox.call("GET", "Invoices", org, params={"page": "3", "pageSize": "50"})).json()
    assert len(small["Invoices"]) == 21
    numbers = (await sandbox.call("GET", "Invoices", org, params={"InvoiceNumbers": "PG-001,PG-002"})).json()[
        "Invoices"
    ]
    assert {doc["InvoiceNumber"] for doc in numbers} == {"PG-001", "PG-002"}
    ids = (await sandbox.call("GET", "Invoices", org, params={"IDs": numbers[0]["InvoiceID"]})).json()[
        "Invoices"
    ]
    assert len(ids) == 1
    bills = (await sandbox.call("GET", "Invoices", org, params={"where": 'Type=="ACCPAY"'})).json()[
        "Invoices"
    ]
    assert [doc["InvoiceNumber"] for doc in bills] == ["B-77"]
    either = (
        await sandbox.call(
            "GET", "Invoices", org, params={"where": 'InvoiceNumber=="PG-005" OR InvoiceNumber=="B-77"'}
        )
    ).json()
    assert len(either["Invoices"]) == 2
    not_rec = (await sandbox.call("GET", "Invoices", org, params={"where": 'Type!="ACCREC"'})).json()[
        "Invoices"
    ]
    assert len(not_rec) == 1
    contact_id = bills[0]["Contact"]["ContactID"]
    by_contact = (await sandbox.call("GET", "Invoices", org, params={"ContactIDs": contact_id})).json()[
        "Invoices"
    ]
    assert len(by_contact) == 1
    bad = await sandbox.call("GET", "Invoices", org, params={"where": 'Type=="ACCREC" AND'})
    assert bad.status_code == 400


async def test_contact_listing_archived_search_and_page_size(sandbox: SandboxClient, org: str) -> None:
    default = (await sandbox.call("GET", "Contacts", org)).json()["Contacts"]
    assert "Old Vendor Ltd" not in {c["Name"] for c in default}
    archived = (await sandbox.call("GET", "Contacts", org, params={"includeArchived": "true"})).json()[
        "Contacts"
    ]
    assert "Old Vendor Ltd" in {c["Name"] for c in archived}
    search = (await sandbox.call("GET", "Contacts", org, params={"searchTerm": "acme"})).json()["Contacts"]
    assert [c["Name"] for c in search] == ["Acme Wholesale"]
    paged = (await sandbox.call("GET", "Contacts", org, params={"page": "1", "pageSize": "2"})).json()
    assert len(paged["Contacts"]) == 2
    assert paged["pagination"]["pageSize"] == 2


async def test_items(sandbox: SandboxClient, org: str) -> None:
    items = (await sandbox.call("GET", "Items", org)).json()["Items"]
    assert {item["Code"] for item in items} >= {"PRO-COURSE", "WORKBOOK"}
    sticker = {"Code": "STICKER", "Name": "Sticker", "SalesDetails": {"UnitPrice": 2.5, "AccountCode": "200"}}
    created = await sandbox.call("PUT", "Items", org, {"Items": [sticker]})
    assert created.status_code == 401  # writing items needs accounting.settings, not .read
    await sandbox.login(scope=SCOPE + " accounting.settings")
    created = await sandbox.call("PUT", "Items", org, {"Items": [sticker]})
    assert created.status_code == 200, created.text
    from_item = await create_invoice(
        sandbox, org, invoice("IT-1", LineItems=[{"ItemCode": "STICKER", "Quantity": 4}])
    )
    line = from_item["LineItems"][0]
    assert (line["UnitAmount"], line["AccountCode"], line["LineAmount"]) == (2.5, "200", 10.0)


async def test_an_approved_invoice_for_nothing_is_paid_at_once(sandbox: SandboxClient, org: str) -> None:
    free = invoice("OP-FREE")
    free["LineItems"] = [{**line, "UnitAmount": 0} for line in free["LineItems"]]
    created = await create_invoice(sandbox, org, free)
    assert (created["Status"], created["Total"], created["AmountDue"]) == ("PAID", 0.0, 0.0)
