"""Onport's "custom accounting integration": POSTing a purchase invoice to the receiver's URL."""

from __future__ import annotations

import httpx

from ledgerbridge.sandbox.onport.state import Account, Push


class NoIntegrationUrlError(LookupError):
    """No URL is registered for the invoice's purchase type."""


async def push_invoice(account: Account, invoice_id: int, timeout_seconds: float) -> Push:
    payload = account.data.embedded_invoice(invoice_id)
    url = account.integration.url_for(payload["purchase"]["purchaseType"])
    if url is None:
        raise NoIntegrationUrlError(
            f"no accounting integration URL for {payload['purchase']['purchaseType']}"
        )
    try:
        async with httpx.AsyncClient(timeout=timeout_seconds) as client:
            response = await client.post(url, json=payload, headers={"User-Agent": "onport-sandbox"})
        push = Push(invoice_id, url, response.status_code, None)
    except httpx.HTTPError as error:
        # The receiver being down is an outcome to report, not a sandbox failure.
        push = Push(invoice_id, url, None, repr(error))
    account.pushes.append(push)
    return push
