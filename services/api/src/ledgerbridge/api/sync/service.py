"""Queuing polls now, and putting together the sync status of every connection."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.problems import ProblemError
from ledgerbridge.api.sync import repository
from ledgerbridge.api.sync.schemas import ConnectionSyncStatus, SyncRunQueued, SyncStatus
from ledgerbridge.common.messaging.messages import PollConnection
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import (
    Connection,
    ConnectionKind,
    ConnectionStatus,
    DocumentStatus,
    RecordStatus,
)

# Work still ahead: records not mapped yet or mapped and not yet in Xero, documents not yet sent.
BACKLOG_RECORDS = (RecordStatus.received, RecordStatus.mapped)
BACKLOG_DOCUMENTS = (DocumentStatus.pending, DocumentStatus.sending)


async def run(session: AsyncSession, account_id: uuid.UUID, connection_id: uuid.UUID | None) -> SyncRunQueued:
    if connection_id is not None:
        found = await repository.connection(session, account_id, connection_id)
        if found is None:
            raise ProblemError(404, "Not found", f"No connection {connection_id}")
        if found.kind not in repository.SOURCE_KINDS:
            raise ProblemError(
                409, "Not a source connection", "Only ONTRAPORT and Onport connections are polled"
            )
        if found.status is not ConnectionStatus.active:
            raise ProblemError(409, "Connection not active", f"Connection {connection_id} is {found.status}")
        targets: list[Connection] = [found]
    else:
        targets = [
            c
            for c in await repository.connections(session, account_id)
            if c.kind in repository.SOURCE_KINDS and c.status is ConnectionStatus.active
        ]
        if not targets:
            raise ProblemError(
                409, "Nothing to poll", "The account has no active ONTRAPORT or Onport connection"
            )
    for target in targets:
        await add_message(session, PollConnection(connection_id=target.id, reason="sync_now"), account_id)
    return SyncRunQueued(connection_ids=[target.id for target in targets])


async def status(session: AsyncSession, account_id: uuid.UUID) -> SyncStatus:
    cursors = await repository.cursor_summaries(session, account_id)
    records = await repository.record_counts(session, account_id)
    by_source = await repository.document_counts_by_source(session, account_id)
    by_xero = await repository.document_counts_by_xero(session, account_id)
    items: list[ConnectionSyncStatus] = []
    for connection in await repository.connections(session, account_id):
        is_xero = connection.kind is ConnectionKind.xero
        cursor = cursors.get(connection.id)
        record_counts = {} if is_xero else records.get(connection.id, {})
        documents = (by_xero if is_xero else by_source).get(connection.id, {})
        backlog = sum(documents.get(str(s), 0) for s in BACKLOG_DOCUMENTS)
        if not is_xero:
            backlog += sum(record_counts.get(str(s), 0) for s in BACKLOG_RECORDS)
        items.append(
            ConnectionSyncStatus(
                connection_id=connection.id,
                kind=connection.kind,
                name=connection.name,
                status=connection.status,
                last_polled_at=cursor.last_polled_at if cursor else None,
                next_poll_at=cursor.next_poll_at if cursor else None,
                last_error=(cursor.last_error if cursor else None) or connection.last_error,
                parked_until=connection.parked_until if is_xero else None,
                backlog=backlog,
                records=record_counts,
                documents=documents,
            )
        )
    totals: dict[str, int] = {}
    for counts in records.values():
        for key, count in counts.items():
            totals[key] = totals.get(key, 0) + count
    return SyncStatus(connections=items, records=totals)
