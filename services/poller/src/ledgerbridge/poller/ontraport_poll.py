"""Polling one ONTRAPORT connection.

New transactions are found by id above the stored high-water mark; status changes (refunds, voids) by
re-reading a slice of the recent window on every poll, in the same request, so an idle poll costs one
call and the whole window is covered every few polls. The cursor row is locked for the whole poll, so
one poll per connection runs at a time across replicas, and the mark advances in the same transaction
as the records it covers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.messaging.messages import PollConnection
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import (
    Connection,
    PollCursor,
    PollStream,
    SourceRecord,
)
from ledgerbridge.common.settings import PollingSettings
from ledgerbridge.poller.ontraport_records import store_transactions
from ledgerbridge.poller.schedule import next_poll_at
from ledgerbridge.poller.source import TransactionSource

PAGE = 50
RECHECK_SLICE = 25  # leaves room in the one page for new transactions
MAX_PAGES_PER_POLL = 20  # a backlog continues in a follow-up poll so no job runs for long


async def lock_cursor(
    session: AsyncSession, connection_id: object, *, wait: bool = False
) -> PollCursor | None:
    """The connection's cursor, locked for this poll; None while another poll holds it, unless ``wait``
    (a follow-up poll: it takes the cursor the moment the poll under way commits, or times out)."""
    cursor: PollCursor | None = await session.scalar(
        select(PollCursor)
        .where(PollCursor.connection_id == connection_id, PollCursor.stream == PollStream.transactions)
        .with_for_update(skip_locked=not wait, key_share=True)
    )
    return cursor


async def _recheck_ids(
    session: AsyncSession, connection: Connection, cursor: PollCursor, since: datetime
) -> list[int]:
    """The next slice of the recent window, after where the last poll stopped; wraps around."""

    numeric_id = cast(SourceRecord.external_id, BigInteger)

    async def slice_after(after: int) -> list[int]:
        rows = await session.scalars(
            select(numeric_id)
            .where(
                SourceRecord.connection_id == connection.id,
                SourceRecord.kind == "transaction",
                SourceRecord.source_date >= since,
                numeric_id > after,
            )
            .order_by(numeric_id)
            .limit(RECHECK_SLICE)
        )
        return [int(value) for value in rows.all()]

    ids = await slice_after(cursor.window_offset)
    if not ids and cursor.window_offset:
        ids = await slice_after(0)
    return ids


async def poll(
    session: AsyncSession,
    connection: Connection,
    cursor: PollCursor,
    source: TransactionSource,
    polling: PollingSettings,
) -> int:
    """One poll; returns how many records need mapping. Schedules a follow-up when a backlog remains."""
    now = datetime.now(UTC)
    if cursor.high_water_mark is None:
        # Connections made before the API took the mark at connect time start at their first poll.
        latest = await source.latest_transaction_id()
        cursor.high_water_mark = str(latest or 0)
        cursor.last_polled_at = now
        cursor.next_poll_at = next_poll_at(polling, now)
        return 0

    mark = int(cursor.high_water_mark)
    recheck = await _recheck_ids(
        session, connection, cursor, now - timedelta(days=polling.recent_window_days)
    )
    changed = 0
    backlog = False
    for page_number in range(MAX_PAGES_PER_POLL):
        page = await source.transactions_after_or_in(mark, recheck if page_number == 0 else [], PAGE)
        new_contact_ids = sorted(
            {
                int(t["contact_id"])
                for t in page
                if str(t.get("contact_id") or "").isdigit() and int(t["id"]) > mark
            }
        )
        contacts = await source.contacts(new_contact_ids) if new_contact_ids else {}
        changed += await store_transactions(session, connection, page, contacts, source.purchases)
        mark = max([mark, *(int(t["id"]) for t in page)])
        if len(page) < PAGE:
            break
    else:
        backlog = True

    cursor.high_water_mark = str(mark)
    cursor.window_offset = recheck[-1] if recheck else 0
    cursor.last_polled_at = now
    cursor.last_error = None
    cursor.next_poll_at = now if backlog else next_poll_at(polling, now)
    if backlog:
        await add_message(
            session, PollConnection(connection_id=connection.id, reason="backlog"), connection.account_id
        )
    return changed
