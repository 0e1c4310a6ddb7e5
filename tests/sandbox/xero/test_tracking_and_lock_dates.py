"""Tracking categories and lock dates in the Xero sandbox, as Xero has them (xero_accounting.yaml)."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from ledgerbridge.sandbox.specs import xero_accounting_spec_path
from ledgerbridge.sandbox.xero.openapi import schema_errors
from ledgerbridge.sandbox.xero.testing import SandboxClient
from tests.sandbox.xero.test_accounting import invoice, messages


@cache
def _declared(schema: str) -> frozenset[str]:
    """The properties Xero's spec declares for ``schema``: a field the sandbox serves beyond them is invented."""
    with xero_accounting_spec_path().open("rb") as handle:
        document = yaml.safe_load(handle)
    return frozenset(document["components"]["schemas"][schema]["properties"])


def _tracked(*tracking: dict[str, Any], number: str = "OP-T1", **overrides: Any) -> dict[str, Any]:
    body = invoice(number, **overrides)
    body["LineItems"][0]["Tracking"] = list(tracking)
    return body


async def test_tracking_categories_are_served_as_the_spec_declares(sandbox: SandboxClient, org: str) -> None:
    answer = (await sandbox.call("GET", "TrackingCategories", org)).json()
    assert schema_errors("TrackingCategories", answer) == []
    active = {category["Name"]: category for category in answer["TrackingCategories"]}
    # Archived categories and options stay out unless asked for, as in Xero.
    assert set(active) == {"Region", "Channel"}
    for category in answer["TrackingCategories"]:
        assert set(category) <= _declared("TrackingCategory")
        assert all(set(option) <= _declared("TrackingOption") for option in category["Options"])
    assert [o["Name"] for o in active["Region"]["Options"]] == ["North", "South", "East"]
    everything = (
        await sandbox.call("GET", "TrackingCategories", org, params={"includeArchived": "true"})
    ).json()
    assert {c["Name"] for c in everything["TrackingCategories"]} == {"Region", "Channel", "Campaign 2019"}
    region_id = active["Region"]["TrackingCategoryID"]
    one = (await sandbox.call("GET", f"TrackingCategories/{region_id}", org)).json()
    assert one["TrackingCategories"][0]["Name"] == "Region"


async def test_a_tracked_line_is_stored_with_ids_and_names(sandbox: SandboxClient, org: str) -> None:
    response = await sandbox.call(
        "PUT", "Invoices", org, {"Invoices": [_tracked({"Name": "region", "Option": "north"})]}
    )
    assert response.status_code == 200, response.text
    (line,) = response.json()["Invoices"][0]["LineItems"]
    (tracking,) = line["Tracking"]
    assert (tracking["Name"], tracking["Option"]) == ("Region", "North")
    assert tracking["TrackingCategoryID"] and tracking["TrackingOptionID"]
    assert schema_errors("LineItemTracking", tracking) == []
    assert set(tracking) <= _declared("LineItemTracking")


async def test_unknown_or_archived_tracking_is_refused_with_xeros_error_shape(
    sandbox: SandboxClient, org: str
) -> None:
    cases = [
        ({"Name": "Department", "Option": "Sales"}, "tracking category 'Department' does not exist"),
        (
            {"Name": "Campaign 2019", "Option": "Launch"},
            "'Campaign 2019' does not exist or has been archived",
        ),
        ({"Name": "Region", "Option": "Old West"}, "'Old West' is not an active option of tracking category"),
        ({"Name": "Region", "Option": "Nowhere"}, "'Nowhere' is not an active option"),
    ]
    for index, (choice, expected) in enumerate(cases):
        response = await sandbox.call(
            "PUT", "Invoices", org, {"Invoices": [_tracked(choice, number=f"OP-T{index + 10}")]}
        )
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["Type"] == "ValidationException"
        assert any(expected in message for message in messages(body)), messages(body)
    three = _tracked(
        {"Name": "Region", "Option": "North"},
        {"Name": "Channel", "Option": "Online"},
        {"Name": "Region", "Option": "South"},
        number="OP-T3",
    )
    refused = await sandbox.call("PUT", "Invoices", org, {"Invoices": [three]})
    assert "A line item can have a maximum of 2 tracking categories." in messages(refused.json())


async def test_documents_in_a_locked_period_are_refused(sandbox: SandboxClient, org: str) -> None:
    locked = await sandbox.client.put(
        f"/_sandbox/organisations/{org}/lock-dates", json={"period_lock_date": "2024-03-31"}
    )
    assert locked.status_code == 200, locked.text
    organisation = (await sandbox.call("GET", "Organisation", org)).json()
    assert schema_errors("Organisations", organisation) == []
    assert {"PeriodLockDate", "EndOfYearLockDate"} <= _declared("Organisation")
    assert organisation["Organisations"][0]["PeriodLockDate"] == "/Date(1711843200000+0000)/"

    refused = await sandbox.call("PUT", "Invoices", org, {"Invoices": [invoice("OP-L1", Date="2024-03-31")]})
    assert refused.status_code == 400
    assert any("lock date, currently set at 31 Mar 2024" in m for m in messages(refused.json()))
    # A draft posts nothing, so Xero takes it; the first open day is open.
    draft = await sandbox.call(
        "PUT", "Invoices", org, {"Invoices": [invoice("OP-L2", Date="2024-03-01", Status="DRAFT")]}
    )
    assert draft.status_code == 200, draft.text
    opened = await sandbox.call("PUT", "Invoices", org, {"Invoices": [invoice("OP-L3", Date="2024-04-01")]})
    assert opened.status_code == 200, opened.text
    payment = {
        "Invoice": {"InvoiceNumber": "OP-L3"},
        "Account": {"Code": "090"},
        "Date": "2024-03-15",
        "Amount": 10,
    }
    paid_early = await sandbox.call("PUT", "Payments", org, {"Payments": [payment]})
    assert paid_early.status_code == 400
    assert any("lock date" in m for m in messages(paid_early.json()))
    # The end-of-year lock date counts too; clearing both opens the period again.
    await sandbox.client.put(
        f"/_sandbox/organisations/{org}/lock-dates", json={"end_of_year_lock_date": "2024-06-30"}
    )
    later = await sandbox.call("PUT", "Invoices", org, {"Invoices": [invoice("OP-L4", Date="2024-05-01")]})
    assert later.status_code == 400
    await sandbox.client.put(f"/_sandbox/organisations/{org}/lock-dates", json={})
    cleared = await sandbox.call("PUT", "Invoices", org, {"Invoices": [invoice("OP-L4", Date="2024-03-01")]})
    assert cleared.status_code == 200, cleared.text
    assert "PeriodLockDate" not in (await sandbox.call("GET", "Organisation", org)).json()["Organisations"][0]
