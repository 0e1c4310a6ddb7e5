"""Request bodies against Xero's official schemas.

Every body any test here gets accepted is checked against the official schema by the client hook in
``conftest.py``; this file adds the explicit examples and proves schema-breaking bodies are refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from ledgerbridge.sandbox.xero.openapi import schema_errors
from ledgerbridge.sandbox.xero.testing import SandboxClient

LINE = {
    "Description": "Pro Course",
    "Quantity": 1,
    "UnitAmount": 200.0,
    "AccountCode": "200",
    "TaxType": "OUTPUT",
}

GOOD: list[tuple[str, str, dict[str, Any]]] = [
    (
        "Contacts",
        "Contacts",
        {"Contacts": [{"Name": "Schema Person", "ContactNumber": "OP-900", "EmailAddress": "s@example.com"}]},
    ),
    (
        "Invoices",
        "Invoices",
        {
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"Name": "Schema Person"},
                    "Date": "2024-01-05",
                    "DueDate": "2024-01-05",
                    "InvoiceNumber": "OP-900",
                    "Status": "AUTHORISED",
                    "LineAmountTypes": "Exclusive",
                    "LineItems": [LINE],
                }
            ]
        },
    ),
    (
        "CreditNotes",
        "CreditNotes",
        {
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"Name": "Schema Person"},
                    "Date": "2024-01-06",
                    "CreditNoteNumber": "CN-OP-900",
                    "Status": "AUTHORISED",
                    "LineItems": [LINE],
                }
            ]
        },
    ),
]

BAD: list[tuple[str, dict[str, Any]]] = [
    ("Invoices", {"Invoices": [{"Type": "SALE", "Contact": {"Name": "X"}}]}),
    ("Invoices", {"Invoices": [{"Type": "ACCREC", "LineItems": [{"Quantity": "one"}]}]}),
    ("Invoices", {"Invoices": [{"Type": "ACCREC", "LineAmountTypes": "Sometimes"}]}),
    ("Contacts", {"Contacts": [{"Name": 12}]}),
    ("Contacts", {"Contacts": "not a list"}),
    ("Payments", {"Payments": [{"Amount": "ten"}]}),
    ("CreditNotes", {"CreditNotes": [{"Type": "ACCREC"}]}),
]


@pytest.mark.parametrize(("schema", "path", "body"), GOOD, ids=[schema for schema, _, _ in GOOD])
def test_example_bodies_match_the_official_schema(schema: str, path: str, body: dict[str, Any]) -> None:
    assert schema_errors(schema, body) == []


async def test_example_bodies_are_accepted_in_order(sandbox: SandboxClient, org: str) -> None:
    for _, path, body in GOOD:
        response = await sandbox.call("PUT", path, org, body)
        assert response.status_code == 200, response.text
    invoice_id = (await sandbox.call("GET", "Invoices/OP-900", org)).json()["Invoices"][0]["InvoiceID"]
    pay = {
        "Payments": [
            {
                "Invoice": {"InvoiceID": invoice_id},
                "Account": {"Code": "615"},
                "Date": "2024-01-05",
                "Amount": 220.0,
            }
        ]
    }
    assert schema_errors("Payments", pay) == []
    assert (await sandbox.call("PUT", "Payments", org, pay)).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"), BAD, ids=[f"{path}-{index}" for index, (path, _) in enumerate(BAD)]
)
async def test_schema_breaking_bodies_are_rejected(
    sandbox: SandboxClient, org: str, path: str, body: dict[str, Any]
) -> None:
    assert schema_errors(path, body) != []
    response = await sandbox.call("PUT", path, org, body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["Type"] == "PostDataInvalidException"
    assert payload["ErrorNumber"] == 14
    assert payload["Message"].startswith("JSON for post data was invalid")
    assert payload["SchemaErrors"]


async def test_malformed_json_is_rejected(sandbox: SandboxClient, org: str) -> None:
    response = await sandbox.client.put(
        "/api.xro/2.0/Invoices",
        content=b"{not json",
        headers={**sandbox.headers(org), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["Type"] == "PostDataInvalidException"
