"""One run sending a Xero organisation's pending documents, kind by kind, in batches, exactly once.

Every batch goes through three steps, each in its own transaction: claim (documents marked ``sending``,
committed before any call), send, record (each element's result). A crash between the first and the last
leaves documents ``sending``: their outcome is unknown, so they are looked up in Xero before anything is
created again (bills and payments have no unique number to stop a duplicate). The same lookup runs at
once when a create times out, drops its connection or answers 5xx.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.alerts import events as alerts
from ledgerbridge.common.alerts.kinds import AlertKind
from ledgerbridge.common.clients.xero import OrganisationParkedError, XeroClient
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import Connection, ConnectionStatus
from ledgerbridge.publisher.batches import look_up, send_batch
from ledgerbridge.publisher.claims import (
    BATCH_SIZE,
    arriving_at,
    claim,
    fills_a_batch,
    pending_kinds,
    stale_claims,
)
from ledgerbridge.publisher.kinds import SEND_ORDER, Destination, KindSpec
from ledgerbridge.publisher.recording import record_outcomes

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RunResult:
    settled: int
    more: bool  # stopped at the time limit with work left


@dataclass(frozen=True)
class PublishingRuns:
    """How runs are made: where documents are stored, how a connection's client is built, and the pace."""

    sessions: async_sessionmaker[AsyncSession]
    client_for: Callable[[Connection], XeroClient]
    _: KW_ONLY
    stale_sending: timedelta = timedelta(minutes=2)  # a claim older than this belongs to a dead run
    gather: float = 1.0  # seconds to let newly mapped documents gather between passes
    # While more is on its way for the organisation and its calls are running short, or its documents
    # are pouring in, a pass waits (a gather at a time, this long at most) for a whole batch: it costs no
    # more calls than a part one. A trickle with calls to spare goes at once, booked in seconds.
    hold_for_full_batch: float = 10.0

    async def publish(self, connection_id: uuid.UUID, *, max_seconds: float) -> RunResult:
        """Send what this organisation has pending, for at most ``max_seconds``.

        A backlog outlasts one run at Xero's 60 calls a minute; the caller queues a follow-up when
        ``more`` is set, so no job runs past its timeout and gets cancelled mid-send.
        """
        async with self.sessions() as session:
            connection = await session.get(Connection, connection_id)
        if (
            connection is None
            or connection.status is not ConnectionStatus.active
            or not connection.xero_tenant_id
        ):
            return RunResult(0, more=False)
        if connection.parked_until and connection.parked_until > datetime.now(UTC):
            return RunResult(0, more=False)
        destination = Destination(self.client_for(connection), self.sessions, connection_id)
        deadline = time.monotonic() + max_seconds
        return await self._drain(destination, deadline)

    async def _drain(self, destination: Destination, deadline: float) -> RunResult:
        """Pass over the kinds in send order until nothing is ready or the deadline comes."""
        settled = 0
        try:
            settled += await self._recover_stale(destination)
            while True:
                sent = False
                kinds = await pending_kinds(self.sessions, destination.connection_id)
                for spec in (s for s in SEND_ORDER if s.kind in kinds):
                    while True:
                        if not sent:
                            # Once a pass, before its first batch: what follows in the pass (the
                            # payments of the invoices just sent) goes at once, so a sale's documents
                            # reach Xero together.
                            await self.wait_for_full_batch(destination, spec)
                        batch = await claim(self.sessions, destination.connection_id, spec)
                        if not batch:
                            break
                        settled += await send_batch(destination, spec, batch)
                        sent = True
                        if time.monotonic() >= deadline:
                            return RunResult(settled, more=True)
                        if len(batch) < BATCH_SIZE:
                            break  # drained for now; more may be on its way from the mapper
                        if not await fills_a_batch(self.sessions, destination.connection_id, spec):
                            # More is on its way: what is left of this kind is a part batch the
                            # mapper, or this pass's earlier kinds, are still adding to, so it waits
                            # for the next pass and goes whole.
                            break
                if not sent:
                    break
                # Let documents mapped meanwhile gather, so a backlog goes out in full batches of 50
                # rather than many small calls against Xero's 60 a minute.
                await asyncio.sleep(min(self.gather, max(deadline - time.monotonic(), 0)))
                if time.monotonic() >= deadline:
                    return RunResult(settled, more=True)
        except OrganisationParkedError as parked:
            await self._park(destination.connection_id, parked)
        return RunResult(settled, more=False)

    async def wait_for_full_batch(self, destination: Destination, spec: KindSpec) -> float:
        """Wait, a gather at a time, while only a part batch is ready and more is on its way, and either
        the organisation has no calls to spare (``Pace.unhurried``) or its documents of this kind are
        coming fast enough to make a whole batch within the hold; returns the time held (never more
        than ``hold_for_full_batch``).

        A steady trickle of sales goes at once while calls are to spare; a backlog pouring in (an import,
        a burst) waits a moment and goes in whole batches, so it costs no more calls than it must."""
        held = 0.0
        while self.gather > 0 and held < self.hold_for_full_batch:
            # The cheap questions first: a quiet organisation's trickle goes after a Redis call and one count.
            if (await destination.client.pace()).unhurried and not await self._pouring_in(destination, spec):
                break
            if await fills_a_batch(self.sessions, destination.connection_id, spec):
                break
            await asyncio.sleep(self.gather)
            held += self.gather
        return held

    async def _pouring_in(self, destination: Destination, spec: KindSpec) -> bool:
        """Whether, at the pace of the last gather, a whole batch of this kind arrives within the hold."""
        enough = math.ceil(BATCH_SIZE * self.gather / self.hold_for_full_batch)
        recent = await arriving_at(self.sessions, destination.connection_id, spec.kind, self.gather)
        return recent >= enough

    async def _recover_stale(self, destination: Destination) -> int:
        """Settle documents a dead run left ``sending``, by looking them up in Xero first."""
        stale = await stale_claims(self.sessions, destination.connection_id, self.stale_sending)
        if not stale:
            return 0
        log.warning("publish.recovering", count=len(stale))
        await record_outcomes(self.sessions, await look_up(destination, stale))
        return len(stale)

    async def _park(self, connection_id: uuid.UUID, parked: OrganisationParkedError) -> None:
        """Xero's daily limit is spent: no run for this organisation until it resets."""
        async with unit_of_work(self.sessions) as session:
            connection = await session.get(Connection, connection_id, with_for_update=True)
            if connection is None:
                return
            now = datetime.now(UTC)
            if connection.parked_until is None or connection.parked_until <= now:
                # Newly parked (not a replica finding it parked again): the owners are told once.
                alerts.note(
                    session,
                    connection.account_id,
                    AlertKind.day_limit,
                    detail={
                        "connection_id": str(connection.id),
                        "name": connection.name,
                        "until": f"{parked.parked_until.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
                    },
                )
            connection.parked_until = parked.parked_until
        log.warning("publish.parked", connection_id=str(connection_id), until=parked.parked_until.isoformat())
