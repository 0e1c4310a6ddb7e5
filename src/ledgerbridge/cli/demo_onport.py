"""The demo's Onport part, done as a user would through our API: connect Onport to a second Xero
organisation, link vendors, sync new dropship invoices as bills, then pay one bill by a vendor payout
and cancel that payout, so its bill payment is deleted in Xero (SPEC §5 item 6, issue 15 point 11)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

PURCHASE_ACCOUNTS = {
    "dropship": "320",
    "automated_dropship": "320",
    "replenishment": "310",
    "automated_replenishment": "310",
}
SANDBOX_ACCOUNT = "/_sandbox/accounts/1"
"""The Onport sandbox's demo account (its token is ``sandbox-token``)."""

SYNC_RUN_EVERY = 10
"""Seconds between the demo's "sync now" requests: the API allows a few a minute per account."""

Ok = Callable[[httpx.Response, str], dict[str, Any]]


async def connect_onport(
    http: httpx.AsyncClient, onport_url: str, xero_id: str, ok: Ok
) -> tuple[str, list[str]]:
    """Onport posting bills to the organisation of ``xero_id``: vendors linked, dropship synced
    automatically, six new invoices added. Returns the Onport connection id and the invoice ids."""
    onport = ok(
        await http.post(
            "/v1/connections/onport", json={"api_token": "sandbox-token", "xero_connection_id": xero_id}
        ),
        "connect Onport",
    )
    suppliers = ok(
        await http.get(f"/v1/xero/{xero_id}/contacts", params={"is_supplier": "true"}), "suppliers"
    )["items"]
    supplier = next(c["ContactID"] for c in suppliers if c.get("ContactNumber") == "VEND-1")
    vendors = ok(await http.get("/v1/onport/vendors", params={"live": "true"}), "Onport vendors")["items"]
    mappings = [
        {"kind": "vendor", "source_id": str(v["id"]), "target": {"contact_id": supplier}} for v in vendors
    ] + [
        {"kind": "purchase_type", "source_id": kind, "target": {"account_code": code}}
        for kind, code in PURCHASE_ACCOUNTS.items()
    ]
    ok(await http.put("/v1/mappings", json=mappings), "link vendors")
    options = {
        "onport": {
            "auto_sync_dropship": True,
            "sync_adjustments": True,
            "default_purchases_account": "300",
            "shipping_account": "425",
            "adjustment_account": "429",
            "default_tax_code": "INPUT2",
            "tax_free_code": "NONE",
            "payout_accounts": {"AUD": "617", "GBP": "617", "USD": "617"},
        }
    }
    ok(await http.patch("/v1/settings", json=options), "Onport settings")
    connection_id = str(onport["id"])
    # Onport's first poll only marks where "now" is; the invoices added after it are the news it finds.
    async with asyncio.timeout(120):
        while not await _polled(http, connection_id, ok):  # noqa: ASYNC110 - polling our own API
            await asyncio.sleep(1)
    async with httpx.AsyncClient(base_url=onport_url, timeout=30) as sandbox:
        added = ok(
            await sandbox.post(f"{SANDBOX_ACCOUNT}/purchase-invoices", json={"count": 6}),
            "new Onport invoices",
        )
    ok(await http.post("/v1/sync/run", json={"connection_id": connection_id}), "poll Onport now")
    return connection_id, [str(invoice_id) for invoice_id in added["invoice_ids"]]


async def _polled(http: httpx.AsyncClient, connection_id: str, ok: Ok) -> bool:
    status = ok(await http.get("/v1/sync/status"), "sync status")
    return any(c["connection_id"] == connection_id and c.get("last_polled_at") for c in status["connections"])


async def _invoices(http: httpx.AsyncClient, ok: Ok) -> dict[str, dict[str, Any]]:
    listed = ok(await http.get("/v1/onport/invoices", params={"page_size": 200}), "Onport invoices")
    return {str(item["invoice_id"]): item for item in listed["items"]}


async def bills_settled(http: httpx.AsyncClient, invoice_ids: list[str], ok: Ok) -> bool:
    if not invoice_ids:
        return True
    settled = {
        invoice_id
        for invoice_id, item in (await _invoices(http, ok)).items()
        if item["status"] in ("synced", "waiting", "skipped", "failed")
    }
    return set(invoice_ids) <= settled


async def reverse_a_payout(
    http: httpx.AsyncClient,
    onport_url: str,
    connection_id: str,
    invoice_ids: list[str],
    bill_payments: Callable[[str], tuple[int, int]],
    ok: Ok,
    *,
    seconds: float = 120,
) -> str:
    """Pay one synced bill by a vendor payout, wait for its bill payment, cancel the payout, wait for the
    payment to be deleted. ``bill_payments(reference)`` counts (standing, deleted) payments on the bill
    in Xero. Returns the bill's reference."""
    invoices = await _invoices(http, ok)
    synced = [i for i in invoice_ids if invoices.get(i, {}).get("status") == "synced"]
    if not synced:
        raise RuntimeError("no dropship invoice of the demo reached Xero, so no payout can be reversed")
    invoice_id = synced[0]
    reference = str(invoices[invoice_id]["reference"])

    async def until(what: str, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(seconds):
            while not done():
                # The change is in Onport and the next scheduled poll is minutes away, so ask for one,
                # within the API's limit on sync runs (a 429 says when to ask again).
                answer = await http.post("/v1/sync/run", json={"connection_id": connection_id})
                if answer.status_code == 429:
                    await asyncio.sleep(float(answer.headers.get("Retry-After", "5")))
                    continue
                ok(answer, what)
                for _ in range(SYNC_RUN_EVERY * 2):
                    if done():
                        return
                    await asyncio.sleep(0.5)

    async with httpx.AsyncClient(base_url=onport_url, timeout=30) as sandbox:
        payout = ok(
            await sandbox.post(f"{SANDBOX_ACCOUNT}/purchase-invoices/{invoice_id}/payments", json={}),
            "a vendor payout",
        )["payment"]
        await until("the payout's bill payment", lambda: bill_payments(reference)[0] == 1)
        ok(
            await sandbox.post(f"{SANDBOX_ACCOUNT}/purchase-invoice-payments/{payout['id']}/cancel"),
            "cancel the payout",
        )
        await until("the bill payment's deletion", lambda: bill_payments(reference) == (0, 1))
    return reference
