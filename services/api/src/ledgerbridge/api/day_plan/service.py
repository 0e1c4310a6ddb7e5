"""The day plan: the calls the waiting documents need against what the day limit leaves, and when the
backlog is done. The publisher's limiter enforces the plan (``clients.xero.limiter``); this reads it."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.day_plan import repository
from ledgerbridge.api.day_plan.schemas import DayLimitIn, DayPlanOut
from ledgerbridge.api.problems import ProblemError
from ledgerbridge.common.audit import record_change
from ledgerbridge.common.clients.xero import LimiterConfig, RateLimiter
from ledgerbridge.common.models import Connection, DocumentKind, User
from ledgerbridge.common.platform import Platform

BATCH = 50  # documents per create call
# Kinds the publisher sends one per call (changes to existing documents); the rest go in batches.
ONE_PER_CALL = frozenset(
    {DocumentKind.invoice_void, DocumentKind.payment_delete, DocumentKind.credit_allocation}
)
CALLS_PER_MINUTE = 60


def calls_for(waiting: dict[DocumentKind, int]) -> int:
    return sum(n if kind in ONE_PER_CALL else math.ceil(n / BATCH) for kind, n in waiting.items())


def done_by(
    now: datetime, calls_needed: int, sends_left_today: int, sends_per_day: int, frees_at: datetime
) -> datetime | None:
    """At 60 calls a minute within today's sends; what does not fit goes on when the day's first calls
    leave the rolling window, a day's worth of sends a day."""
    if calls_needed == 0:
        return None
    if calls_needed <= sends_left_today:
        return now + timedelta(minutes=calls_needed / CALLS_PER_MINUTE)
    later = calls_needed - sends_left_today
    whole_days, rest = divmod(later, sends_per_day)
    if rest == 0:
        whole_days, rest = whole_days - 1, sends_per_day
    return max(frees_at, now) + timedelta(days=whole_days, minutes=rest / CALLS_PER_MINUTE)


async def _connection(
    session: AsyncSession, account_id: uuid.UUID, connection_id: uuid.UUID, *, for_update: bool = False
) -> Connection:
    connection = await repository.xero_connection(session, account_id, connection_id, for_update=for_update)
    if connection is None:
        raise ProblemError(404, "Not found", "No Xero connection with this id in your account")
    return connection


async def read(
    session: AsyncSession, platform: Platform, account_id: uuid.UUID, connection_id: uuid.UUID
) -> DayPlanOut:
    connection = await _connection(session, account_id, connection_id)
    config = LimiterConfig(day_limit=connection.day_limit)
    limiter = RateLimiter(platform.transport.redis, platform.settings.queue.prefix, config)
    used, per_hour = (
        (0, {}) if not connection.xero_tenant_id else await limiter.calls_today(connection.xero_tenant_id)
    )
    now = datetime.now(UTC)
    sends_per_day = config.day_limit - config.day_reserve
    sends_left = max(0, sends_per_day - used)
    first_hour = min(per_hour) if per_hour else int(now.timestamp() // 3600)
    frees_at = datetime.fromtimestamp((first_hour + 25) * 3600, UTC)
    waiting = await repository.waiting_by_kind(session, account_id, connection_id)
    needed = calls_for(waiting)
    parked = connection.parked_until if connection.parked_until and connection.parked_until > now else None
    return DayPlanOut(
        connection_id=connection.id,
        day_limit=config.day_limit,
        reserve=config.day_reserve,
        calls_last_day=used,
        sends_left_today=sends_left,
        pending_documents=sum(waiting.values()),
        calls_needed=needed,
        done_by=done_by(now, needed, sends_left, sends_per_day, frees_at),
        parked_until=parked,
    )


async def set_day_limit(
    session: AsyncSession,
    platform: Platform,
    user: User,
    connection_id: uuid.UUID,
    body: DayLimitIn,
) -> DayPlanOut:
    connection = await _connection(session, user.account_id, connection_id, for_update=True)
    before = {"day_limit": connection.day_limit}
    connection.day_limit = body.day_limit
    await record_change(
        session,
        user,
        "connection.day_limit",
        f"connection:{connection_id}",
        before=before,
        after={"day_limit": body.day_limit},
    )
    await session.flush()
    return await read(session, platform, user.account_id, connection_id)
