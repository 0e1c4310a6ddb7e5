"""Sending a Xero organisation's pending documents, in batches, exactly once.

Every batch goes through three steps, each in its own transaction: claim (documents marked ``sending``,
committed before any call), send, record (each element's result). A crash between the first and the last
leaves documents ``sending``: their outcome is unknown, so they are looked up in Xero before anything is
created again (bills and payments have no unique number to stop a duplicate). The same lookup runs at
once when a create times out, drops its connection or answers 5xx.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.clients.xero import OrganisationParkedError, UnknownOutcomeError, XeroClient
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.errors import PermanentError, TransientError
from ledgerbridge.common.messaging.messages import RefreshXeroReference
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import (
    Connection,
    ConnectionStatus,
    Document,
    DocumentStatus,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.record_transitions import transition
from ledgerbridge.publisher.claimed import Claimed, Decided, Outcome
from ledgerbridge.publisher.kinds import SEND_ORDER, SPECS, Destination, KindSpec
from ledgerbridge.publisher.stages import ready

log = structlog.get_logger(__name__)

BATCH = 50


@dataclass(frozen=True)
class RunResult:
    settled: int
    more: bool  # stopped at the time limit with work left


class Publisher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client_for: Callable[[Connection], XeroClient],
        *,
        stale_sending: timedelta = timedelta(minutes=2),
        gather: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.client_for = client_for
        self.stale_sending = stale_sending
        self.gather = gather

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
        settled = 0
        try:
            settled += await self._recover_stale(destination)
            while True:
                sent = False
                for spec in SEND_ORDER:
                    while batch := await self._claim(connection_id, spec):
                        settled += await self._send(destination, spec, batch)
                        sent = True
                        if time.monotonic() >= deadline:
                            return RunResult(settled, more=True)
                        if len(batch) < BATCH:
                            break  # drained for now; more may be on its way from the mapper
                if not sent:
                    break
                # Let documents mapped meanwhile gather, so a backlog goes out in full batches of 50
                # rather than many small calls against Xero's 60 a minute.
                await asyncio.sleep(min(self.gather, max(deadline - time.monotonic(), 0)))
                if time.monotonic() >= deadline:
                    return RunResult(settled, more=True)
        except OrganisationParkedError as parked:
            async with unit_of_work(self.sessions) as session:
                await session.execute(
                    update(Connection)
                    .where(Connection.id == connection_id)
                    .values(parked_until=parked.parked_until)
                )
            log.warning(
                "publish.parked", connection_id=str(connection_id), until=parked.parked_until.isoformat()
            )
        return RunResult(settled, more=False)

    # -- claim --------------------------------------------------------------------------------------------

    async def _claim(self, connection_id: uuid.UUID, spec: KindSpec) -> list[Claimed]:
        async with unit_of_work(self.sessions) as session:
            documents = (
                await session.scalars(
                    select(Document)
                    .where(
                        Document.xero_connection_id == connection_id,
                        Document.status == DocumentStatus.pending,
                        ready(spec),
                    )
                    .order_by(Document.created_at, Document.id)
                    .limit(BATCH)
                    .with_for_update(of=Document, skip_locked=True, key_share=True)
                )
            ).all()
            for document in documents:
                document.status = DocumentStatus.sending
                document.attempts += 1
            return [
                Claimed(d.id, d.record_id, d.kind, dict(d.request_body), d.idempotency_key, d.target_id)
                for d in documents
            ]

    # -- send ---------------------------------------------------------------------------------------------

    async def _send(self, destination: Destination, spec: KindSpec, batch: list[Claimed]) -> int:
        try:
            decided = await spec.send(destination, batch)
        except UnknownOutcomeError as unknown:
            log.warning("publish.unknown_outcome", kind=str(spec.kind), count=len(batch), error=str(unknown))
            decided = await self._look_up(destination, batch)
        except OrganisationParkedError:
            await self._release(batch)
            raise
        except TransientError:
            await self._release(batch)
            raise
        except PermanentError as error:
            decided = {d.id: Outcome(False, error=str(error)) for d in batch}
        await self._record(decided)
        return len(decided)

    # -- unknown outcomes ---------------------------------------------------------------------------------

    async def _recover_stale(self, destination: Destination) -> int:
        async with self.sessions() as session:
            stale = (
                await session.scalars(
                    select(Document).where(
                        Document.xero_connection_id == destination.connection_id,
                        Document.status == DocumentStatus.sending,
                        Document.updated_at < datetime.now(UTC) - self.stale_sending,
                    )
                )
            ).all()
            claimed = [
                Claimed(d.id, d.record_id, d.kind, dict(d.request_body), d.idempotency_key, d.target_id)
                for d in stale
            ]
        if not claimed:
            return 0
        log.warning("publish.recovering", count=len(claimed))
        await self._record(await self._look_up(destination, claimed))
        return len(claimed)

    async def _look_up(self, destination: Destination, documents: list[Claimed]) -> Decided:
        """Find documents whose create may have happened; those not found go back to pending."""
        decided: Decided = {}
        for kind in {d.kind for d in documents}:
            group = [d for d in documents if d.kind is kind]
            found = await SPECS[kind].find(destination, group)
            for document in group:
                decided[document.id] = found.get(document.id) or Outcome(False)
        return decided

    # -- record -------------------------------------------------------------------------------------------

    async def _release(self, batch: list[Claimed]) -> None:
        async with unit_of_work(self.sessions) as session:
            await session.execute(
                update(Document)
                .where(Document.id.in_([d.id for d in batch]), Document.status == DocumentStatus.sending)
                .values(status=DocumentStatus.pending)
            )

    async def _record(self, decided: Decided) -> None:
        if not decided:
            return
        now = datetime.now(UTC)
        async with unit_of_work(self.sessions) as session:
            documents = (
                await session.scalars(
                    select(Document).where(Document.id.in_(list(decided))).with_for_update(key_share=True)
                )
            ).all()
            for document in documents:
                outcome = decided[document.id]
                if outcome.published:
                    document.status = DocumentStatus.published
                    document.xero_id = outcome.xero_id
                    document.xero_number = outcome.number or document.xero_number
                    document.amount = outcome.amount
                    document.published_at = now
                    document.last_error = None
                elif outcome.error:
                    document.status = DocumentStatus.failed
                    document.last_error = outcome.error
                else:
                    document.status = DocumentStatus.pending  # not found after an unknown outcome: send again
            await self._settle_records(session, {d.record_id for d in documents})
            stale = {
                (d.xero_connection_id, d.account_id)
                for d in documents
                if d.status is DocumentStatus.failed and _suggests_stale_reference(d.last_error or "")
            }
            for xero_connection_id, account_id in stale:
                # Our copy of the chart of accounts or tax rates may be out of date: read it again, so the
                # next mapping checks against what Xero has now.
                await add_message(
                    session, RefreshXeroReference(xero_connection_id=xero_connection_id), account_id
                )

    async def _settle_records(self, session: AsyncSession, record_ids: set[uuid.UUID]) -> None:
        records = (
            await session.scalars(
                select(SourceRecord)
                .where(SourceRecord.id.in_(record_ids))
                .order_by(SourceRecord.id)
                .with_for_update(key_share=True)
            )
        ).all()
        for record in records:
            documents = (
                await session.scalars(
                    select(Document).where(
                        Document.record_id == record.id, Document.status != DocumentStatus.superseded
                    )
                )
            ).all()
            failed = [d for d in documents if d.status is DocumentStatus.failed]
            if failed:
                reason = "; ".join(
                    f"Xero rejected the {d.kind.value.replace('_', ' ')}: {d.last_error}" for d in failed
                )
                if record.status is not RecordStatus.failed or record.reason != reason:
                    transition(session, record, RecordStatus.failed, reason, reason_code="xero_rejected")
            elif (
                documents
                and all(d.status is DocumentStatus.published for d in documents)
                and record.status is not RecordStatus.synced
            ):
                summary = ", ".join(
                    f"{d.kind.value.replace('_', ' ')} {d.xero_number or d.xero_id}" for d in documents
                )
                transition(session, record, RecordStatus.synced, f"In Xero: {summary}")


STALE_REFERENCE_HINTS = ("account code", "accountcode", "taxtype", "tax type", "branding theme", "currency")


def _suggests_stale_reference(error: str) -> bool:
    lowered = error.lower()
    return any(hint in lowered for hint in STALE_REFERENCE_HINTS)
