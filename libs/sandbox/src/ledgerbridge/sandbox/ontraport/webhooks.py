"""Delivering webhook pings the way ONTRAPORT does: a form-encoded POST, no signature, no retries."""

from __future__ import annotations

import httpx

from ledgerbridge.sandbox.ontraport.state import Account, Delivery


def transaction_payload(account: Account, transaction_id: int, event: str, webhook_id: int) -> dict[str, str]:
    record = account.transactions[transaction_id]
    payload = {
        "webhook_id": str(webhook_id),
        "event": event,
        "account_id": str(account.account_id),
        "object_id": "46",
        "object_type_id": "46",
        "id": record["id"],
    }
    for name in ("contact_id", "status", "total", "date", "gateway_id"):
        if name in record:
            payload[name] = record[name]
    return payload


async def fire(account: Account, transaction_id: int, event: str, timeout_seconds: float) -> list[Delivery]:
    deliveries = []
    subscriptions = account.subscriptions_for(event, transaction_id)
    async with httpx.AsyncClient(timeout=timeout_seconds) as client:
        for subscription in subscriptions:
            payload = transaction_payload(account, transaction_id, subscription.event, subscription.id)
            try:
                response = await client.post(subscription.url, data=payload)
                delivery = Delivery(
                    subscription.id, subscription.url, subscription.event, payload, response.status_code, None
                )
            except httpx.HTTPError as error:
                # A receiver that is down is the receiver's problem; ONTRAPORT just moves on.
                delivery = Delivery(
                    subscription.id, subscription.url, subscription.event, payload, None, repr(error)
                )
            deliveries.append(delivery)
    account.deliveries.extend(deliveries)
    return deliveries
