"""The sandbox on real ports: webhooks to a real receiver, the intent-to-receive handshake, faults that
break or stall the connection, the UI, and the env-driven config."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from ledgerbridge.sandbox.server import serve_in_thread
from ledgerbridge.sandbox.xero.app import create_app
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from ledgerbridge.sandbox.xero.testing import SandboxClient

KEY = "webhook-signing-key-123"


def receiver() -> tuple[FastAPI, list[dict[str, Any]]]:
    """A product-side webhook endpoint that checks Xero's signature the way SPEC §3.1 says."""
    received: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/xero/webhooks")
    async def hook(request: Request) -> Response:
        raw = await request.body()
        expected = base64.b64encode(hmac.new(KEY.encode(), raw, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, request.headers.get("x-xero-signature", "")):
            return Response(status_code=401)
        received.append(json.loads(raw))
        return Response(status_code=200)

    return app, received


def wait_for(condition: Any, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def invoice_body(number: str, contact: str = "City Agency") -> dict[str, Any]:
    return {
        "Invoices": [
            {
                "Type": "ACCREC",
                "Contact": {"Name": contact},
                "Date": "2024-05-01",
                "Status": "AUTHORISED",
                "InvoiceNumber": number,
                "LineItems": [
                    {
                        "Description": "x",
                        "Quantity": 1,
                        "UnitAmount": 10,
                        "AccountCode": "200",
                        "TaxType": "OUTPUT",
                    }
                ],
            }
        ]
    }


async def real_client(base: str, **kwargs: Any) -> SandboxClient:
    client = httpx.AsyncClient(base_url=base, **kwargs)
    sandbox = SandboxClient(None, client)
    await sandbox.login()
    return sandbox


async def test_signed_webhooks_and_handshake_over_real_ports() -> None:
    hook_app, received = receiver()
    with serve_in_thread(hook_app) as hook_base, serve_in_thread(create_app()) as xero_base:
        sandbox = await real_client(xero_base)
        try:
            registered = await sandbox.client.post(
                "/_sandbox/webhooks", json={"url": f"{hook_base}/xero/webhooks", "key": KEY}
            )
            assert registered.status_code == 200
            handshake = (await sandbox.client.post("/_sandbox/webhooks/intent-to-receive")).json()
            assert handshake["valid_signature_status"] == 200
            assert handshake["invalid_signature_status"] == 401
            assert handshake["ok"] is True
            org = await sandbox.new_org()
            created = await sandbox.call(
                "PUT", "Invoices", org, invoice_body("WH-1", contact="Webhook Person")
            )
            invoice_id = created.json()["Invoices"][0]["InvoiceID"]
            note = {
                "CreditNotes": [
                    {
                        "Type": "ACCRECCREDIT",
                        "Contact": {"Name": "City Agency"},
                        "Status": "AUTHORISED",
                        "LineItems": [
                            {
                                "Description": "r",
                                "Quantity": 1,
                                "UnitAmount": 5,
                                "AccountCode": "200",
                                "TaxType": "OUTPUT",
                            }
                        ],
                    }
                ]
            }
            assert (await sandbox.call("PUT", "CreditNotes", org, note)).status_code == 200
            wait_for(lambda: sum(len(p["events"]) for p in received) >= 3)
        finally:
            await sandbox.client.aclose()
    events = [event for payload in received for event in payload["events"]]
    invoice_events = [event for event in events if event["eventCategory"] == "INVOICE"]
    assert invoice_events[0]["resourceId"] == invoice_id
    assert invoice_events[0]["eventType"] == "CREATE"
    assert invoice_events[0]["tenantId"] == org
    assert invoice_events[0]["tenantType"] == "ORGANISATION"
    assert invoice_events[0]["resourceUrl"] == f"{xero_base}/api.xro/2.0/Invoices/{invoice_id}"
    note_event = next(event for event in events if event["eventCategory"] == "CREDITNOTE")
    assert note_event["data"] == {"Type": "ACCRECCREDIT", "Status": "AUTHORISED"}
    assert {"CONTACT"} <= {event["eventCategory"] for event in events}
    sequences = [(p["firstEventSequence"], p["lastEventSequence"]) for p in received]
    assert all(first <= last for first, last in sequences)
    assert all(len(p["entropy"]) == 20 for p in received)


async def test_webhook_delivery_recorded_in_process() -> None:
    app = create_app(XeroSandboxConfig(webhook_url="http://127.0.0.1:9/unreachable", webhook_key=KEY))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://xero.test"
    ) as client:
        sandbox = SandboxClient(app, client)
        await sandbox.login()
        org = await sandbox.new_org()
        await sandbox.call("PUT", "Invoices", org, invoice_body("WH-2"))
        deliveries = (await client.get("/_sandbox/webhooks/deliveries")).json()
    delivery = next(
        d for d in deliveries if any(e["eventCategory"] == "INVOICE" for e in d["payload"]["events"])
    )
    raw = json.dumps(delivery["payload"], separators=(",", ":")).encode()
    assert (
        delivery["signature"]
        == base64.b64encode(hmac.new(KEY.encode(), raw, hashlib.sha256).digest()).decode()
    )
    assert delivery["error"]  # nobody listens on port 9; the failure is recorded, the request was not slowed


async def test_lost_response_breaks_a_real_connection_after_commit() -> None:
    with serve_in_thread(create_app()) as base:
        sandbox = await real_client(base)
        try:
            org = await sandbox.new_org()
            await sandbox.client.post(
                "/_sandbox/faults", json={"tenant_id": org, "script": ["lost_response"]}
            )
            with pytest.raises(httpx.RemoteProtocolError):
                await sandbox.call("PUT", "Invoices", org, invoice_body("LR-1"))
            found = await sandbox.call("GET", "Invoices", org, params={"InvoiceNumbers": "LR-1"})
            assert len(found.json()["Invoices"]) == 1
        finally:
            await sandbox.client.aclose()


async def test_hang_mode_makes_the_client_time_out_after_commit() -> None:
    with serve_in_thread(create_app()) as base:
        # Setting up gets a patient client (a loaded machine is slow); only the hung call gets a short one.
        sandbox = await real_client(base, timeout=httpx.Timeout(30))
        try:
            org = await sandbox.new_org()
            await sandbox.client.post(
                "/_sandbox/faults",
                json={
                    "tenant_id": org,
                    "script": ["lost_response"],
                    "lost_response_mode": "hang",
                    "hang_seconds": 5,
                },
            )
            sandbox.client.timeout = httpx.Timeout(0.5)
            with pytest.raises(httpx.ReadTimeout):
                await sandbox.call("PUT", "Invoices", org, invoice_body("HG-1"))
            sandbox.client.timeout = httpx.Timeout(30)
            found = await sandbox.call("GET", "Invoices", org, params={"InvoiceNumbers": "HG-1"})
            assert len(found.json()["Invoices"]) == 1
        finally:
            await sandbox.client.aclose()


async def test_ui_lists_documents(sandbox: SandboxClient, org: str) -> None:
    await sandbox.call("PUT", "Invoices", org, invoice_body("UI-1"))
    page = await sandbox.client.get("/")
    assert page.status_code == 200
    assert "UI-1" in page.text
    assert "http-equiv='refresh'" in page.text
    assert "City Agency" in page.text
    assert (await sandbox.client.get("/_sandbox/ui")).status_code == 200


def test_config_from_env() -> None:
    config = XeroSandboxConfig.from_env(
        {
            "XERO_SANDBOX_CLIENT_ID": "abc",
            "XERO_SANDBOX_MINUTE_LIMIT": "7",
            "XERO_SANDBOX_MINUTE_WINDOW_SECONDS": "0.5",
            "XERO_SANDBOX_FAULT_SEED": "42",
            "XERO_SANDBOX_REDIRECT_HOSTS": "localhost,demo.local",
            "XERO_SANDBOX_WEBHOOK_URL": "http://localhost:9000/hook",
        }
    )
    assert config.client_id == "abc"
    assert config.client_secret == "sandbox-secret"
    assert config.minute_limit == 7
    assert config.minute_window_seconds == 0.5
    assert config.fault_seed == 42
    assert config.redirect_hosts == ["localhost", "demo.local"]
    assert config.webhook_url == "http://localhost:9000/hook"
    assert XeroSandboxConfig.from_env({}).access_token_ttl_seconds == 1800


async def test_approving_a_draft_sends_the_invoice_update_webhook_xero_sends() -> None:
    app = create_app(XeroSandboxConfig(webhook_url="http://127.0.0.1:9/unreachable", webhook_key=KEY))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://xero.test"
    ) as client:
        sandbox = SandboxClient(app, client)
        await sandbox.login()
        org = await sandbox.new_org()
        body = invoice_body("WH-DRAFT")
        body["Invoices"][0]["Status"] = "DRAFT"
        created = (await sandbox.call("PUT", "Invoices", org, body)).json()["Invoices"][0]
        assert created["Status"] == "DRAFT"
        path = f"/_sandbox/organisations/{org}/invoices/{created['InvoiceID']}/approve"
        edited = [{**body["Invoices"][0]["LineItems"][0], "UnitAmount": 8}]
        approved = await client.post(path, json={"line_items": edited})
        assert approved.status_code == 200, approved.text
        assert (approved.json()["Status"], approved.json()["Total"]) == ("AUTHORISED", 8.8)
        again = await client.post(path, json={})
        assert again.status_code == 409
        assert "AUTHORISED" in again.json()["detail"]
        missing = await client.post(f"/_sandbox/organisations/{org}/invoices/{uuid.uuid4()}/approve", json={})
        assert missing.status_code == 404
        read = (await sandbox.call("GET", f"Invoices/{created['InvoiceID']}", org)).json()["Invoices"][0]
        deliveries = (await client.get("/_sandbox/webhooks/deliveries")).json()
    assert read["Status"] == "AUTHORISED"
    events = [
        e for d in deliveries for e in d["payload"]["events"] if e["resourceId"] == created["InvoiceID"]
    ]
    assert [(e["eventCategory"], e["eventType"], e["tenantId"]) for e in events] == [
        ("INVOICE", "CREATE", org),
        ("INVOICE", "UPDATE", org),
    ]
