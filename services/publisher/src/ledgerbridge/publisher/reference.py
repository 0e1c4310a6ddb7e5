"""Refreshing an organisation's cached reference data, then releasing the records that waited for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common import xero_reference
from ledgerbridge.common.clients.xero import XeroClient
from ledgerbridge.common.messaging.errors import TransientError
from ledgerbridge.common.messaging.messages import RefreshXeroReference
from ledgerbridge.common.models import Connection, ConnectionStatus
from ledgerbridge.common.records.healing import release_reference_waits

# An ask without its time (a message from before ``asked_at``) is served by a copy this fresh.
FRESH_ENOUGH = timedelta(minutes=1)


async def fetch(client: XeroClient) -> dict[str, object]:
    return {
        "accounts": await client.get_accounts(),
        "tax_rates": await client.get_tax_rates(),
        "branding_themes": await client.get_branding_themes(),
        "currencies": await client.get_currencies(),
        "tracking_categories": await client.get_tracking_categories(),
        "organisation": [await client.get_organisation()],
    }


async def refresh(
    session: AsyncSession, message: RefreshXeroReference, client_for: Callable[[Connection], XeroClient]
) -> None:
    connection = await session.get(Connection, message.xero_connection_id)
    if (
        connection is None
        or connection.status is not ConnectionStatus.active
        or not connection.xero_tenant_id
    ):
        return
    # Another refresh of the organisation is under way: come back once it has committed and find its
    # result fresh. Not waiting here: a new organisation's records ask many times at once, and each
    # waiter would hold a job slot and a connection the organisations' publish runs need. Not dropped
    # either: the running refresh may already have released the waiting records, without this one's.
    locked = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"xero-reference:{connection.id}"},
    )
    if not locked:
        raise TransientError("the organisation's reference data is being read; released after", retry_after=1)
    cached = await xero_reference.load(session, connection.id)
    served_since = message.asked_at or datetime.now(UTC) - FRESH_ENOUGH
    if cached is None or cached.fetched_at < served_since:
        fetched = await fetch(client_for(connection))
        await release_reference_waits(session, connection.id)
        # Stored last, so its time is as near the commit as can be: an ask made before it is served.
        await xero_reference.store(session, connection.id, fetched)
    else:
        await release_reference_waits(session, connection.id)
