"""The accounting client against the Xero sandbox: batches, idempotency, auth and failure modes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ledgerbridge.common.clients.xero import (
    OrganisationParkedError,
    RateLimiter,
    TokenService,
    UnknownOutcomeError,
    XeroClient,
)
from ledgerbridge.common.clients.xero.client import XeroNotFoundError, parse_batch
from ledgerbridge.common.clients.xero.tokens import AccessTokenProvider
from ledgerbridge.common.messaging.errors import PermanentError, TransientError
from ledgerbridge.common.settings import XeroSettings
from ledgerbridge.sandbox.xero.testing import SandboxClient

from .conftest import MakeConnection, Sessions, counters, refreshes


def invoice(number: str, account_code: str = "200", status: str = "AUTHORISED") -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "Contact": {"Name": f"Customer {number}"},
        "InvoiceNumber": number,
        "Status": status,
        "Date": "2025-01-10",
        "DueDate": "2025-01-20",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {
                "Description": "Course",
                "Quantity": 1,
                "UnitAmount": 100.1234,
                "AccountCode": account_code,
                "TaxType": "OUTPUT",
            }
        ],
    }


def key() -> str:
    return f"test-{uuid.uuid4().hex}"


async def faults(sandbox: SandboxClient, tenant_id: str, **plan: Any) -> None:
    response = await sandbox.client.post("/_sandbox/faults", json={"tenant_id": tenant_id, **plan})
    assert response.status_code == 200, response.text


async def test_one_bad_document_fails_alone(client: XeroClient) -> None:
    results = await client.put_invoices(
        [invoice("INV-1"), invoice("INV-2", account_code="999"), invoice("INV-3")],
        unitdp4=True,
        idempotency_key=key(),
    )
    assert [result.index for result in results] == [0, 1, 2]
    assert [result.ok for result in results] == [True, False, True]
    assert results[0].number == "INV-1" and results[0].xero_id
    assert results[0].body["LineItems"][0]["UnitAmount"] == 100.1234  # unitdp=4 was sent
    assert results[1].xero_id is None and results[1].errors
    assert {
        found["InvoiceNumber"]
        for found in await client.get_invoices(invoice_numbers=["INV-1", "INV-2", "INV-3"])
    } == {
        "INV-1",
        "INV-3",
    }


async def test_a_repeated_idempotency_key_creates_nothing_new(
    client: XeroClient, sandbox: SandboxClient
) -> None:
    same = key()
    contacts = [{"Name": "Ada Lovelace", "ContactNumber": "OP-1"}]
    first = await client.put_contacts(contacts, idempotency_key=same)
    again = await client.put_contacts(contacts, idempotency_key=same)
    assert first[0].ok and again[0].xero_id == first[0].xero_id
    assert (await counters(sandbox))["idempotent_replays"] == 1
    assert [found["ContactID"] for found in await client.get_contacts(contact_numbers=["OP-1"])] == [
        first[0].xero_id
    ]


async def test_batch_and_key_limits_are_checked_before_calling(
    client: XeroClient, sandbox: SandboxClient
) -> None:
    with pytest.raises(ValueError, match="at most 50"):
        await client.put_contacts([{"Name": f"C{index}"} for index in range(51)], idempotency_key=key())
    with pytest.raises(ValueError, match="Idempotency-Key"):
        await client.put_contacts([{"Name": "C"}], idempotency_key="k" * 129)
    assert (await counters(sandbox))["calls_total"] == 0


async def test_an_expired_token_is_refreshed_once_and_the_call_retried(
    client: XeroClient, sandbox: SandboxClient
) -> None:
    await client.get_organisation()
    expired = await sandbox.client.post("/_sandbox/tokens/expire")
    assert expired.json()["expired"] >= 1
    organisation = await client.get_organisation()
    assert organisation["Name"]
    assert await refreshes(sandbox) == 1


async def test_a_429_is_transient_with_retry_after(
    client: XeroClient, sandbox: SandboxClient, tenant_id: str
) -> None:
    await faults(sandbox, tenant_id, script=["429"])
    with pytest.raises(TransientError) as raised:
        await client.put_contacts([{"Name": "Grace Hopper"}], idempotency_key=key())
    assert not isinstance(raised.value, UnknownOutcomeError)  # a 429 is answered before any work
    assert raised.value.retry_after == 1.0


async def test_a_day_limit_429_parks_the_organisation(
    client: XeroClient, sandbox: SandboxClient, tenant_id: str, limiter: RateLimiter
) -> None:
    await sandbox.client.post("/_sandbox/limits", json={"tenant_id": tenant_id, "day_limit": 1})
    sandbox.access_token = (await sandbox.login())["access_token"]
    assert (await sandbox.call("GET", "Organisation", tenant_id)).status_code == 200  # spent elsewhere

    with pytest.raises(OrganisationParkedError) as raised:
        await client.get_accounts()
    parked_until = raised.value.parked_until
    assert parked_until > datetime.now(UTC)
    assert await limiter.parked_until(tenant_id) == parked_until
    calls = (await counters(sandbox))["organisations"][tenant_id]["rate_limited"]
    with pytest.raises(OrganisationParkedError):
        await client.get_accounts()
    assert (await counters(sandbox))["organisations"][tenant_id]["rate_limited"] == calls  # not even tried


async def test_a_lost_response_is_an_unknown_outcome_and_the_document_can_be_found(
    client: XeroClient, sandbox: SandboxClient, tenant_id: str
) -> None:
    await faults(sandbox, tenant_id, script=["lost_response"])
    with pytest.raises(UnknownOutcomeError):
        await client.put_invoices([invoice("INV-77")], idempotency_key=key())
    found = await client.get_invoices(invoice_numbers=["INV-77"])
    assert [document["InvoiceNumber"] for document in found] == ["INV-77"]


async def test_server_errors_and_timeouts(
    client: XeroClient,
    sandbox: SandboxClient,
    tenant_id: str,
    http: httpx.AsyncClient,
    xero_settings: XeroSettings,
    limiter: RateLimiter,
    tokens: TokenService,
    make_connection: MakeConnection,
    committing: Sessions,
) -> None:
    await faults(sandbox, tenant_id, script=["503", "500"])
    with pytest.raises(UnknownOutcomeError):
        await client.put_contacts([{"Name": "Alan Turing"}], idempotency_key=key())
    with pytest.raises(TransientError) as raised:
        await client.get_contacts()
    assert not isinstance(raised.value, UnknownOutcomeError)  # a read has no outcome to doubt

    provider: AccessTokenProvider = tokens.provider(committing, await make_connection())
    impatient = XeroClient(http, xero_settings, limiter, provider, tenant_id, timeout=0.2)
    await faults(sandbox, tenant_id, script=["slow", "slow"], slow_seconds=2)
    with pytest.raises(TransientError, match="wire") as timed_out:
        await impatient.get_currencies()
    assert not isinstance(timed_out.value, UnknownOutcomeError)
    with pytest.raises(UnknownOutcomeError):
        await impatient.put_contacts([{"Name": "Slow Create"}], idempotency_key=key())


async def test_reads_filters_and_reference_data(client: XeroClient) -> None:
    created = await client.put_contacts(
        [
            {"Name": "Vendor Pty", "ContactNumber": "V-1", "IsSupplier": True},
            {"Name": "Buyer Ltd", "ContactNumber": "C-1"},
        ],
        idempotency_key=key(),
    )
    assert all(result.ok for result in created)
    assert [c["Name"] for c in await client.get_contacts(search_term="vendor")] == ["Vendor Pty"]
    assert [
        c["Name"]
        for c in await client.get_contacts(contact_numbers=["V-1", "C-1"], where='Name=="Buyer Ltd"')
    ] == ["Buyer Ltd"]
    assert [c["ContactID"] for c in await client.get_contacts(ids=[str(created[0].xero_id)], page=1)] == [
        created[0].xero_id
    ]
    assert await client.get_contacts(where='Name=="Nobody \\"quoted\\""') == []

    organisation = await client.get_organisation()
    assert organisation["BaseCurrency"] == "AUD"
    assert any(account["Code"] == "200" for account in await client.get_accounts())
    assert [account["Code"] for account in await client.get_accounts(where='Code=="090"')] == ["090"]
    assert any(rate["TaxType"] == "OUTPUT" for rate in await client.get_tax_rates())
    assert await client.get_branding_themes()
    assert any(currency["Code"] == "AUD" for currency in await client.get_currencies())
    assert await client.get_credit_notes(where='Status=="AUTHORISED"') == []
    with pytest.raises(PermanentError):
        await client.get_invoices(where="this is not a filter ((")


async def test_payment_deletion_and_voiding(client: XeroClient) -> None:
    [made] = await client.put_invoices([invoice("INV-9")], idempotency_key=key())
    assert made.ok and made.xero_id
    [paid] = await client.put_payments(
        [
            {
                "Invoice": {"InvoiceID": made.xero_id},
                "Account": {"Code": "090"},
                "Date": "2025-01-11",
                "Amount": 10.0,
            }
        ],
        idempotency_key=key(),
    )
    assert paid.ok and paid.xero_id and paid.number is None
    deleted = await client.delete_payment(paid.xero_id)
    assert deleted.ok
    again = await client.delete_payment(paid.xero_id)
    assert not again.ok and "already been deleted" in again.errors[0]

    voided = await client.post_invoice_status("INV-9", "VOIDED")
    assert voided.ok and voided.body["Status"] == "VOIDED"
    [found] = await client.get_invoices(ids=[made.xero_id], statuses=["VOIDED"])
    assert found["InvoiceNumber"] == "INV-9"
    with pytest.raises(XeroNotFoundError):
        await client.delete_payment(str(uuid.uuid4()))


async def test_a_credit_note_batch(client: XeroClient) -> None:
    note = {
        "Type": "ACCRECCREDIT",
        "Contact": {"Name": "Refunded Customer"},
        "CreditNoteNumber": "CN-1",
        "Status": "AUTHORISED",
        "Date": "2025-01-12",
        "LineItems": [
            {
                "Description": "Refund",
                "Quantity": 1,
                "UnitAmount": 20,
                "AccountCode": "200",
                "TaxType": "OUTPUT",
            }
        ],
    }
    [result] = await client.put_credit_notes([note], idempotency_key=key())
    assert result.ok and result.number == "CN-1" and result.xero_id
    assert [
        found["CreditNoteNumber"] for found in await client.get_credit_notes(where='CreditNoteNumber=="CN-1"')
    ] == ["CN-1"]


def test_a_whole_batch_validation_exception_is_read_per_element() -> None:
    request = httpx.Request("PUT", "https://api.xero.com/api.xro/2.0/Invoices")
    body = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [
            {"InvoiceNumber": "A-1", "ValidationErrors": []},
            {
                "InvoiceNumber": "A-2",
                "HasErrors": True,
                "ValidationErrors": [{"Message": "Account code is invalid"}],
            },
        ],
    }
    results = parse_batch(httpx.Response(400, json=body, request=request), "Invoices", 2)
    assert [(result.ok, result.number, result.errors) for result in results] == [
        (True, "A-1", []),
        (False, "A-2", ["Account code is invalid"]),
    ]
    with pytest.raises(PermanentError, match="Idempotency-Key"):
        parse_batch(
            httpx.Response(
                400,
                json={
                    "Type": "ValidationException",
                    "Message": "This Idempotency-Key was already used",
                    "Elements": [],
                },
                request=request,
            ),
            "Invoices",
            2,
        )
