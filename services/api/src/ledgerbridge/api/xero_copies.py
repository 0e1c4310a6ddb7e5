"""Xero's copy of our documents, for the reconciliation report and the rollback: bulk reads within the
request's call budget (``API_XERO_READS_PER_REQUEST``), through the cache of ``common.xero_documents``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.connections.partners import Partners, partner_errors
from ledgerbridge.bookkeeping.rollback import XeroHeld
from ledgerbridge.common.models import Connection, ConnectionKind, Document, DocumentStatus
from ledgerbridge.common.xero_documents import RESOURCE_OF, ReadStats, xero_held


async def copies(
    session: AsyncSession,
    partners: Partners,
    account_id: uuid.UUID,
    documents: Sequence[Document],
    *,
    fresh: bool = False,
) -> tuple[dict[str, XeroHeld], ReadStats]:
    """Xero's copy of each published document, keyed by lower-case Xero id, and what reading it cost.

    ``fresh`` reads everything again (within the budget): a rollback acts on Xero as it is now.
    """
    wanted: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for document in documents:
        resource = RESOURCE_OF.get(document.kind)
        if resource and document.xero_id and document.status is DocumentStatus.published:
            wanted.setdefault(document.xero_connection_id, []).append((resource, document.xero_id))
    held: dict[str, XeroHeld] = {}
    total = ReadStats()
    if not wanted:
        return held, total
    connections = (
        await session.scalars(
            select(Connection).where(
                Connection.account_id == account_id,
                Connection.kind == ConnectionKind.xero,
                Connection.id.in_(list(wanted)),
            )
        )
    ).all()
    settings = partners.settings.api
    budget = settings.xero_reads_per_request
    for connection in connections:
        connection_id = connection.id
        with partner_errors("Xero"):
            found, stats = await xero_held(
                session,
                partial(partners.xero, connection_id, connection.xero_tenant_id or ""),
                account_id,
                connection_id,
                wanted[connection_id],
                now=datetime.now(UTC),
                max_age=timedelta(seconds=0 if fresh else settings.xero_document_cache_seconds),
                max_calls=max(budget - total.calls, 0),
            )
        held.update(found)
        total.calls += stats.calls
        total.read += stats.read
        total.cached += stats.cached
        total.not_read.extend(stats.not_read)
    return held, total
