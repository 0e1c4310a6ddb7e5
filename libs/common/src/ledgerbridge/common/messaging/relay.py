"""The relay moves committed outbox rows to the queue; the sweeper re-sends what the queue lost.

Both lock rows with ``FOR UPDATE SKIP LOCKED`` so any number of replicas can run them side by side.
Sending twice is harmless: the queue refuses a job id it still holds, and the consumer's inbox turns a
second delivery into a no-op.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.messaging.transport import Transport
from ledgerbridge.common.models import OutboxMessage, OutboxStatus

log = structlog.get_logger(__name__)


def envelope_of(row: OutboxMessage) -> dict[str, object]:
    return {
        "id": row.id,
        "type": row.message_type,
        "version": row.body["version"],
        "account_id": str(row.account_id) if row.account_id else None,
        "body": row.body["body"],
    }


async def _send_rows(transport: Transport, rows: list[OutboxMessage], now: datetime) -> None:
    for row in rows:
        await transport.send(row.queue, str(row.id), envelope_of(row))
        row.status = OutboxStatus.sent
        row.sent_at = now
        row.send_count += 1


async def relay_once(
    sessions: async_sessionmaker[AsyncSession], transport: Transport, limit: int = 200
) -> int:
    """Send pending messages; returns how many were sent."""
    async with sessions() as session, session.begin():
        rows = list(
            (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.status == OutboxStatus.pending)
                    .order_by(OutboxMessage.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True, key_share=True)
                )
            ).all()
        )
        await _send_rows(transport, rows, datetime.now(UTC))
        return len(rows)


async def sweep_once(
    sessions: async_sessionmaker[AsyncSession], transport: Transport, older_than: timedelta, limit: int = 500
) -> int:
    """Re-send messages that were sent but never finished, e.g. because Redis was flushed or restarted."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        rows = list(
            (
                await session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.status == OutboxStatus.sent, OutboxMessage.sent_at < now - older_than
                    )
                    .order_by(OutboxMessage.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True, key_share=True)
                )
            ).all()
        )
        if rows:
            log.info("outbox.sweep", resent=len(rows))
        await _send_rows(transport, rows, now)
        return len(rows)


async def run_forever(
    sessions: async_sessionmaker[AsyncSession],
    transport: Transport,
    *,
    interval: float,
    redelivery_after: timedelta,
) -> None:
    """Relay continuously and sweep every ``redelivery_after / 4``; errors are logged and retried."""
    sweep_every = max(redelivery_after.total_seconds() / 4, interval)
    last_sweep = 0.0
    loop = asyncio.get_running_loop()
    while True:
        try:
            sent = await relay_once(sessions, transport)
            if loop.time() - last_sweep >= sweep_every:
                await sweep_once(sessions, transport, redelivery_after)
                last_sweep = loop.time()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("outbox.relay_error", error=str(exc))
            sent = 0
        if not sent:
            await asyncio.sleep(interval)
