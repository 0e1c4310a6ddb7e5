"""ONTRAPORT webhook subscriptions of a connection: made when it connects or rotates its URL, removed when
it disconnects; their ids are kept in the connection's reference cache."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.connections.partners import Partners
from ledgerbridge.api.reference import cache
from ledgerbridge.common.clients.ontraport import OntraportClient
from ledgerbridge.common.messaging.errors import PermanentError, TransientError
from ledgerbridge.common.models import Connection

log = structlog.get_logger(__name__)

WEBHOOK_IDS_KEY = "webhook_ids"


async def subscribe(
    client: OntraportClient, connection: Connection, url: str, product_ids: list[int]
) -> list[int]:
    subscribed: list[int] = []
    try:
        for product_id in product_ids:
            webhook = await client.subscribe_webhook(url, f"transaction_created_with_product({product_id})")
            subscribed.append(webhook.id)
    except (PermanentError, TransientError) as exc:
        # Webhooks only make syncing sooner; polling finds every transaction anyway.
        connection.last_error = f"Webhooks could not all be subscribed ({exc}); polling still syncs"[:2000]
    return subscribed


async def unsubscribe(session: AsyncSession, partners: Partners, connection: Connection) -> None:
    data, _ = await cache.read(session, connection.id)
    ids = [int(webhook_id) for webhook_id in data.get(WEBHOOK_IDS_KEY, [])]
    if not ids:
        return
    client = partners.ontraport_of(connection)
    try:
        for webhook_id in ids:
            await client.unsubscribe_webhook(webhook_id)
    except (PermanentError, TransientError) as exc:
        # Left-over subscriptions point at a token that no longer exists: harmless, so not a failure.
        log.warning("ontraport.unsubscribe_failed", connection_id=str(connection.id), error=str(exc))
    await cache.merge(session, connection.id, {WEBHOOK_IDS_KEY: []})
