"""Summary mode's day close: the sales waiting for a closed day become that day's summary record.

A summary is a source record of its own (kind ``daily_summary``, external id its invoice number, payload
the frozen ``DailySummary``), so it goes to Xero through the mapper and the publisher like any record:
its documents are claimed, sent with idempotency keys and looked up after a lost answer, exactly once.
The unique (account, source, kind, external id) of records means a day's summary is made once even if
two closings race; the sales it covers point at it (``summary_record_id``) and settle with it.

A day's refunds of summarised sales are closed the same way into a refunds summary record (kind
``daily_refund_summary``, external id its credit note number, payload the frozen ``DailyRefundSummary``);
the refunds it covers are its entries, and settle with it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ledgerbridge.bookkeeping.decisions import Fail
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.bookkeeping.sales.summary import (
    DailySummary,
    SummaryEntry,
    day_bounds,
    parse_summary_number,
    plan_summaries,
)
from ledgerbridge.bookkeeping.sales.summary_refunds import (
    REFUND_PREFIX,
    DailyRefundSummary,
    plan_refund_summaries,
)
from ledgerbridge.common.messaging.messages import MapRecord
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Connection, RecordStatus, SourceRecord
from ledgerbridge.common.models.records import REFUND_SUMMARY_KIND, SUMMARY_KIND, SUMMARY_KINDS
from ledgerbridge.common.records import core_inputs as inputs
from ledgerbridge.common.records.decide import refund_entries, summary_entries
from ledgerbridge.common.records.lifecycle import move, requeue

RECORDS_PATH = "/records?source=ontraport&gateway={gateway}&since={since}&until={until}"
"""The web app's records list for one day and gateway: what a summary invoice's ``Url`` opens."""
BATCH = 5_000  # waiting sales read per connection and closing: one transaction's worth
QUIET = timedelta(seconds=10)
"""A connection's closed days are summarised once its intake is quiet this long (``SUMMARY_QUIET_SECONDS``
in the poller): a backlog (an import, a first sync, a poll after an outage) becomes the day's summary, not
a summary and a string of -ADJn."""
MOST_QUIET_WAITS = 30
"""The quiet wait is skipped once a sale has waited this many quiet windows: a steady stream of sales
(a busy shop, always something just mapped) must not hold a closed day forever."""


_WAITING_FOR_DAY = or_(
    and_(
        SourceRecord.reason_code == ReasonCode.summary_pending.value,
        SourceRecord.summary_record_id.is_(None),
    ),
    SourceRecord.reason_code == ReasonCode.refund_summary_pending.value,
)
"""A sale waiting for its day's summary, or a summarised sale's refund waiting for its day's credit note."""


async def close_due_summaries(
    session: AsyncSession, now: datetime, app_url: str, *, quiet: timedelta = QUIET
) -> int:
    """Make the summaries of every closed day that has sales waiting; returns how many were made.

    ``now`` decides which days are closed; ``quiet`` is measured on the database's clock, against the
    records' own ``updated_at``.
    """
    rows = await session.execute(
        select(SourceRecord.connection_id)
        .where(SourceRecord.status == RecordStatus.waiting, _WAITING_FOR_DAY)
        .distinct()
    )
    made = 0
    for (connection_id,) in rows.all():
        if not await _busy(session, connection_id, quiet):
            made += await _close_connection(session, connection_id, now, app_url)
    return made


async def _busy(session: AsyncSession, connection_id: uuid.UUID, quiet: timedelta) -> bool:
    """Whether sales are still coming in for the connection (one not mapped yet, or one just mapped) and
    none has waited :data:`MOST_QUIET_WAITS` quiet windows yet."""
    sales = and_(SourceRecord.connection_id == connection_id, SourceRecord.kind.not_in(SUMMARY_KINDS))
    pending = SourceRecord.reason_code.in_(
        (ReasonCode.summary_pending.value, ReasonCode.refund_summary_pending.value)
    )
    coming = exists().where(
        sales,
        or_(
            SourceRecord.status == RecordStatus.received,
            and_(pending, SourceRecord.updated_at > func.now() - quiet),
        ),
    )
    overdue = exists().where(
        sales,
        SourceRecord.status == RecordStatus.waiting,
        _WAITING_FOR_DAY,
        SourceRecord.updated_at < func.now() - quiet * MOST_QUIET_WAITS,
    )
    return bool(await session.scalar(select(and_(coming, ~overdue))))


async def _close_connection(
    session: AsyncSession, connection_id: uuid.UUID, now: datetime, app_url: str
) -> int:
    connection = await session.get(Connection, connection_id)
    if connection is None or connection.xero_connection_id is None:
        return 0
    made = await _close_sales(session, connection, now, app_url)
    return made + await _close_refunds(session, connection, now, app_url)


async def _waiting(
    session: AsyncSession, connection_id: uuid.UUID, *where: ColumnElement[bool]
) -> list[SourceRecord]:
    return list(
        (
            await session.scalars(
                select(SourceRecord)
                .where(
                    SourceRecord.connection_id == connection_id,
                    SourceRecord.status == RecordStatus.waiting,
                    SourceRecord.kind.not_in(SUMMARY_KINDS),
                    *where,
                )
                .order_by(SourceRecord.id)
                .limit(BATCH)
                # A closing elsewhere, or the mapper, holds some: they are left for the next tick.
                .with_for_update(skip_locked=True, key_share=True)
            )
        ).all()
    )


async def _close_sales(session: AsyncSession, connection: Connection, now: datetime, app_url: str) -> int:
    assert connection.xero_connection_id is not None
    waiting = await _waiting(
        session,
        connection.id,
        SourceRecord.reason_code == ReasonCode.summary_pending.value,
        SourceRecord.summary_record_id.is_(None),
    )
    if not waiting:
        return 0
    read = await summary_entries(session, connection.account_id, connection.xero_connection_id, waiting)
    if read is None:
        return 0  # the reference data is being read again; the next tick closes
    settings, entries = read
    by_id = {record.id: record for record in waiting}
    ready: list[SummaryEntry] = []
    for record_id, entry in entries.items():
        if isinstance(entry, Fail) or not settings.summary_mode:
            # Its mappings changed since it waited, or summary mode is off now: map it again, on its own.
            await requeue(session, by_id[record_id], "Mapped again at the day close")
        else:
            ready.append(entry)
    counts = await _made(session, connection.account_id, SUMMARY_KIND)
    summaries = plan_summaries(
        ready,
        made=counts,
        now=now,
        time_zone=settings.time_zone,
        close_hour=settings.summary_close_hour,
        records_url=app_url.rstrip("/") + RECORDS_PATH,
    )
    for summary in summaries:
        await _store(session, connection, summary, by_id, settings.time_zone)
    return len(summaries)


async def _close_refunds(session: AsyncSession, connection: Connection, now: datetime, app_url: str) -> int:
    waiting = await _waiting(
        session, connection.id, SourceRecord.reason_code == ReasonCode.refund_summary_pending.value
    )
    if not waiting:
        return 0
    settings = inputs.mapping_settings(await inputs.account_options(session, connection.account_id))
    entries = await refund_entries(session, settings, waiting)
    by_id = {record.id: record for record in waiting}
    ready: list[SummaryEntry] = []
    for record_id, entry in entries.items():
        if entry is None:
            # Nothing left to credit, unreadable, or summary mode is off now: map it again, on its own.
            await requeue(session, by_id[record_id], "Mapped again at the day close")
        else:
            ready.append(entry)
    summaries = plan_refund_summaries(
        ready,
        made=await _made(session, connection.account_id, REFUND_SUMMARY_KIND),
        now=now,
        time_zone=settings.time_zone,
        close_hour=settings.summary_close_hour,
        records_url=app_url.rstrip("/") + RECORDS_PATH,
    )
    for summary in summaries:
        await _store_refunds(session, connection, summary, by_id, settings.time_zone)
    return len(summaries)


async def _made(session: AsyncSession, account_id: uuid.UUID, kind: str) -> dict[tuple[int, date], int]:
    """How many summaries of ``kind`` (the day's and its adjustments) each gateway and day already has."""
    numbers = await session.scalars(
        select(SourceRecord.external_id).where(
            SourceRecord.account_id == account_id, SourceRecord.kind == kind
        )
    )
    made: dict[tuple[int, date], int] = defaultdict(int)
    for number in numbers.all():
        gateway_id, day, _ = parse_summary_number(number.removeprefix(REFUND_PREFIX))
        made[(gateway_id, day)] += 1
    return dict(made)


async def _store(
    session: AsyncSession,
    connection: Connection,
    summary: DailySummary,
    members: dict[uuid.UUID, SourceRecord],
    time_zone: str,
) -> None:
    record = await _add(
        session,
        connection,
        summary,
        SUMMARY_KIND,
        time_zone,
        f"Summary of {len(summary.entries)} sales of {summary.day.isoformat()}, gateway {summary.gateway_id}",
    )
    for entry in summary.entries:
        member = members[uuid.UUID(entry.record_id)]
        member.summary_record_id = record.id
        move(session, member, RecordStatus.mapped, f"In summary {summary.number}, being sent to Xero")
    await add_message(session, MapRecord(record_id=record.id), connection.account_id)


async def _store_refunds(
    session: AsyncSession,
    connection: Connection,
    summary: DailyRefundSummary,
    members: dict[uuid.UUID, SourceRecord],
    time_zone: str,
) -> None:
    record = await _add(
        session,
        connection,
        summary,
        REFUND_SUMMARY_KIND,
        time_zone,
        f"Refunds credit note of {len(summary.entries)} refunds of {summary.day.isoformat()}, "
        f"gateway {summary.gateway_id}",
    )
    for entry in summary.entries:
        move(
            session,
            members[uuid.UUID(entry.record_id)],
            RecordStatus.mapped,
            f"Refund in credit note {summary.number}, being sent to Xero",
        )
    await add_message(session, MapRecord(record_id=record.id), connection.account_id)


async def _add(
    session: AsyncSession,
    connection: Connection,
    summary: DailySummary | DailyRefundSummary,
    kind: str,
    time_zone: str,
    reason: str,
) -> SourceRecord:
    payload = summary.model_dump(mode="json")
    record = SourceRecord(
        id=uuid.uuid4(),
        account_id=connection.account_id,
        connection_id=connection.id,
        source="ontraport",
        kind=kind,
        external_id=summary.number,
        payload=payload,
        payload_hash=hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest(),
        status=RecordStatus.received,
        # Listed with the day's sales: the start of its local day.
        source_date=day_bounds(summary.day, time_zone)[0],
    )
    session.add(record)
    await session.flush()
    move(session, record, RecordStatus.received, reason)
    return record
