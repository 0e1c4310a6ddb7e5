"""Onport vendor bills: the invoice list with sync state and Xero links, "sync to Xero", and vendors with
their links; every endpoint keeps to the caller's account."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common import xero_reference
from ledgerbridge.common.models import (
    ConnectionKind,
    DocumentKind,
    DocumentStatus,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.settings import Settings
from ledgerbridge.sandbox.onport import OnportSandboxConfig, create_app
from ledgerbridge.sandbox.server import serve_in_thread
from tests.api.conftest import MakeTenant, Tenant
from tests.api.seed import add_connection, add_document, add_record, outbox

Sessions = async_sessionmaker[AsyncSession]
BILL_ID = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
CONTACT_ID = "4a1c9f2e-0d3b-4b8e-9b5a-6f0e2d7c8a91"


@pytest.fixture(scope="module")
def onport_url() -> Iterator[str]:
    with serve_in_thread(create_app(OnportSandboxConfig(purchases=0))) as url:
        yield url


@pytest.fixture
def settings(settings: Settings, onport_url: str) -> Settings:
    settings.onport.api_url = onport_url
    return settings


def invoice_payload(
    invoice_id: int,
    purchase_type: str = "dropship",
    vendor_id: int = 1,
    vendor_name: str = "Coastal Candles Co",
) -> dict[str, Any]:
    """A stored Onport record's payload, as the poller writes it."""
    return {
        "invoice": {
            "id": invoice_id,
            "purchaseId": 1000 + invoice_id,
            "reference": f"INV-{invoice_id}",
            "paymentStatus": "notPaid",
            "createdAt": "2025-01-02T00:00:00.000Z",
            "updatedAt": "2025-01-02T00:00:00.000Z",
        },
        # 2 x 50.00 at 10 % and 8.80 shipping (untaxed): 118.80, worked out from the lines.
        "items": [
            {
                "id": 1,
                "purchaseItemId": 11,
                "quantity": 2,
                "purchaseItem": {"id": 11, "name": "Vase", "quantity": 2, "price": 50, "taxRate": 0.1},
            }
        ],
        "purchase": {"id": 1000 + invoice_id, "purchaseType": purchase_type, "dropshipProviderId": vendor_id},
        "vendor": {"id": vendor_id, "name": vendor_name, "orderCurrencyCode": "AUD"},
        "payments": [],
        "shippingRates": [
            {"id": 1, "invoiceShipping": True, "invoiceShippingType": "addition", "price": 8.8}
        ],
        "landedCosts": [],
        "landedCostItems": [],
    }


async def _onport_records(committing: Sessions, tenant: Tenant) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero, xero_tenant_id="org-1")
    source = await add_connection(
        committing, tenant.account_id, ConnectionKind.onport, xero_connection_id=xero
    )
    ids = {
        "5001": await add_record(
            committing,
            tenant.account_id,
            source,
            "5001",
            source="onport",
            status=RecordStatus.synced,
            payload=invoice_payload(5001),
        ),
        "5002": await add_record(
            committing,
            tenant.account_id,
            source,
            "5002",
            source="onport",
            status=RecordStatus.waiting,
            reason="Automatic sync is off for dropship invoices; use 'sync to Xero'",
            payload=invoice_payload(5002, "automated_dropship"),
        ),
        "5003": await add_record(
            committing,
            tenant.account_id,
            source,
            "5003",
            source="onport",
            status=RecordStatus.failed,
            reason="Vendor 4 is not linked to a Xero contact",
            payload=invoice_payload(5003, "automated_replenishment", 4, "Pacific Wholesale Supply"),
        ),
    }
    await add_document(
        committing,
        tenant.account_id,
        ids["5001"],
        xero,
        DocumentKind.bill,
        status=DocumentStatus.published,
        body={"Type": "ACCPAY", "InvoiceNumber": "INV-5001"},
        xero_id=BILL_ID,
    )
    return xero, ids


async def test_invoices_list_with_state_type_vendor_total_and_xero_link(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    _, ids = await _onport_records(committing, tenant)
    # An ONTRAPORT record of the same account is not an Onport invoice.
    ontraport = await add_connection(committing, tenant.account_id, ConnectionKind.ontraport)
    await add_record(committing, tenant.account_id, ontraport, "1001")

    page = (await api.get("/v1/onport/invoices", headers=tenant.headers)).json()
    assert page["total"] == 3
    by_id = {item["invoice_id"]: item for item in page["items"]}
    synced = by_id["5001"]
    assert synced["id"] == str(ids["5001"])
    assert (synced["status"], synced["kind"], synced["purchase_type"]) == ("synced", "dropship", "dropship")
    assert synced["vendor"] == {"id": 1, "name": "Coastal Candles Co"}
    assert (synced["total"], synced["currency"], synced["reference"]) == ("118.80", "AUD", "INV-5001")
    assert synced["xero_bill_id"] == BILL_ID
    assert synced["xero_url"] == f"https://go.xero.com/AccountsPayable/View.aspx?InvoiceID={BILL_ID}"
    assert synced["xero"]["number"] == "INV-5001"
    waiting = by_id["5002"]
    assert (waiting["status"], waiting["kind"]) == ("waiting", "dropship")
    assert waiting["xero"] is None and waiting["xero_url"] is None and waiting["xero_bill_id"] is None
    assert by_id["5003"]["kind"] == "replenishment"

    dropship = (await api.get("/v1/onport/invoices?type=dropship", headers=tenant.headers)).json()
    assert sorted(i["invoice_id"] for i in dropship["items"]) == ["5001", "5002"]
    replenishment = (await api.get("/v1/onport/invoices?type=replenishment", headers=tenant.headers)).json()
    assert [i["invoice_id"] for i in replenishment["items"]] == ["5003"]
    waiting_only = (await api.get("/v1/onport/invoices?status=waiting", headers=tenant.headers)).json()
    assert [i["invoice_id"] for i in waiting_only["items"]] == ["5002"]
    paged = (await api.get("/v1/onport/invoices?page=2&page_size=2", headers=tenant.headers)).json()
    assert (paged["total"], len(paged["items"])) == (3, 1)
    bad = await api.get("/v1/onport/invoices?type=sale", headers=tenant.headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert (await api.get("/v1/onport/invoices")).status_code == 401


async def test_sync_to_xero_queues_a_waiting_or_failed_invoice(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    _, ids = await _onport_records(committing, tenant)

    queued = await api.post(f"/v1/onport/invoices/{ids['5002']}/sync", headers=tenant.headers)
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "received"
    assert queued.json()["invoice_id"] == "5002"
    retried = await api.post(f"/v1/onport/invoices/{ids['5003']}/sync", headers=tenant.headers)
    assert retried.status_code == 202
    messages = await outbox(committing, "record.map")
    assert [m["record_id"] for m in messages] == [str(ids["5002"]), str(ids["5003"])]
    assert {m["account_id"] for m in messages} == {tenant.account_id}
    history = (await api.get(f"/v1/records/{ids['5002']}", headers=tenant.headers)).json()["history"]
    assert history[-1]["to_status"] == "received"
    assert history[-1]["reason"] == "Sync to Xero requested"

    # Asking again while it is on its way queues nothing more.
    again = await api.post(f"/v1/onport/invoices/{ids['5002']}/sync", headers=tenant.headers)
    assert again.status_code == 200
    assert len(await outbox(committing, "record.map")) == 2

    synced = await api.post(f"/v1/onport/invoices/{ids['5001']}/sync", headers=tenant.headers)
    assert synced.status_code == 200
    assert synced.json()["xero_url"] == f"https://go.xero.com/AccountsPayable/View.aspx?InvoiceID={BILL_ID}"
    assert len(await outbox(committing, "record.map")) == 2

    missing = await api.post(f"/v1/onport/invoices/{uuid.uuid4()}/sync", headers=tenant.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_vendors_from_records_and_live_with_link_state_and_contact_names(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    xero, _ = await _onport_records(committing, tenant)
    async with committing() as session, session.begin():
        await xero_reference.store(
            session,
            xero,
            {"contacts": [{"ContactID": CONTACT_ID, "Name": "Coastal Candles Pty Ltd", "IsSupplier": True}]},
        )
    linked = await api.put("/v1/mappings/vendor/1", json={"contact_id": CONTACT_ID}, headers=tenant.headers)
    assert linked.status_code == 200, linked.text

    stored = (await api.get("/v1/onport/vendors", headers=tenant.headers)).json()
    assert stored["source"] == "records"
    assert [(v["id"], v["name"], v["linked"]) for v in stored["items"]] == [
        (1, "Coastal Candles Co", True),
        (4, "Pacific Wholesale Supply", False),
    ]
    first = stored["items"][0]
    assert (first["contact_id"], first["contact_name"]) == (CONTACT_ID, "Coastal Candles Pty Ltd")
    assert stored["items"][1]["contact_id"] is None and stored["items"][1]["contact_name"] is None

    # Stored credentials that cannot be read (the seeded connection has none) are a clear 409.
    unreadable = await api.get("/v1/onport/vendors?live=true", headers=tenant.headers)
    assert unreadable.status_code == 409
    assert unreadable.headers["content-type"] == "application/problem+json"


async def test_live_vendors_come_from_the_connected_onport_account(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    connected = await api.post(
        "/v1/connections/onport", json={"api_token": "sandbox-token"}, headers=tenant.headers
    )
    assert connected.status_code in (200, 201), connected.text
    linked = await api.put("/v1/mappings/vendor/2", json={"contact_id": CONTACT_ID}, headers=tenant.headers)
    assert linked.status_code == 200, linked.text

    # Without asking (issue 15, point 13): a new user links vendors before any invoice was stored.
    live = (await api.get("/v1/onport/vendors", headers=tenant.headers)).json()
    assert live == (await api.get("/v1/onport/vendors?live=true", headers=tenant.headers)).json()
    assert live["source"] == "onport"
    assert [v["id"] for v in live["items"]] == [1, 2, 3, 4, 5, 6]
    assert [v["id"] for v in live["items"] if v["linked"]] == [2]
    assert live["items"][1]["name"] == "Brooklyn Ceramics"
    assert live["items"][1]["currency"] == "USD"  # orderCurrencyCode: Onport's vendor has no "currency"
    assert live["items"][1]["contact_name"] is None  # the organisation's contacts were never fetched
    # Onport's vendor record has no kind; it is known once one of the vendor's invoices is stored.
    assert {v["type"] for v in live["items"]} == {None}
    stored_only = (await api.get("/v1/onport/vendors?live=false", headers=tenant.headers)).json()
    assert stored_only == {"items": [], "source": "records"}


async def test_each_endpoint_keeps_to_the_callers_account(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    owner = await make_tenant("Owner Co")
    other = await make_tenant("Other Co")
    _, ids = await _onport_records(committing, owner)
    await api.put("/v1/mappings/vendor/1", json={"contact_id": CONTACT_ID}, headers=owner.headers)

    assert (await api.get("/v1/onport/invoices", headers=other.headers)).json()["total"] == 0
    for record_id in ids.values():
        response = await api.post(f"/v1/onport/invoices/{record_id}/sync", headers=other.headers)
        assert response.status_code == 404
    assert await outbox(committing, "record.map") == []
    async with committing() as session:
        record = await session.get(SourceRecord, ids["5002"])
        assert record is not None and record.status is RecordStatus.waiting
    assert (await api.get("/v1/onport/vendors", headers=other.headers)).json()["items"] == []
    # The other account has no Onport connection: live reads nothing, and never with the owner's token.
    assert (await api.get("/v1/onport/vendors?live=true", headers=other.headers)).json()["items"] == []
    # Its own vendor on its own record shows its own link state, not the owner's mapping of the same id.
    source = await add_connection(committing, other.account_id, ConnectionKind.onport)
    await add_record(
        committing, other.account_id, source, "5001", source="onport", payload=invoice_payload(5001)
    )
    mine = (await api.get("/v1/onport/vendors", headers=other.headers)).json()["items"]
    assert [(v["id"], v["linked"]) for v in mine] == [(1, False)]
    listed = (await api.get("/v1/onport/invoices", headers=other.headers)).json()
    assert [i["invoice_id"] for i in listed["items"]] == ["5001"]
    assert listed["items"][0]["xero"] is None
