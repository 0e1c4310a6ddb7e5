"""What the poller does with each message on its queue, and the schedule that queues polls."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.clients.factory import ontraport_client
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.consumer import Handler
from ledgerbridge.common.messaging.messages import PollConnection, RefreshOnportInvoice, RunImport
from ledgerbridge.common.models import (
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Import,
    ImportStatus,
)
from ledgerbridge.common.platform import Platform
from ledgerbridge.common.records.summaries import close_due_summaries
from ledgerbridge.poller import follow_ups
from ledgerbridge.poller.imports import run_import_page
from ledgerbridge.poller.lock_dates import recheck_lock_date
from ledgerbridge.poller.onport_import import run_onport_import_page
from ledgerbridge.poller.onport_poll import (
    lock_onport_cursor,
    onport_source_for,
    poll_onport,
    refresh_invoice,
)
from ledgerbridge.poller.ontraport_poll import lock_cursor, poll
from ledgerbridge.poller.ontraport_source import OntraportSource
from ledgerbridge.poller.schedule import schedule_all_due

log = structlog.get_logger(__name__)
SCHEDULER_TICK_SECONDS = 5.0


class Poller:
    def __init__(self, platform: Platform, http: httpx.AsyncClient) -> None:
        self.platform = platform
        self.http = http

    def source_for(self, connection: Connection) -> OntraportSource:
        platform = self.platform
        credentials = platform.cipher.decrypt_json(connection.credentials)
        return OntraportSource(
            ontraport_client(platform.settings, self.http, platform.transport.redis, credentials)
        )

    async def poll_connection(self, session: AsyncSession, message: PollConnection) -> None:
        connection = await session.get(Connection, message.connection_id)
        if connection is None or connection.status is not ConnectionStatus.active:
            return
        settings = self.platform.settings
        # A follow-up waits for the poll under way (the database's lock timeout bounds the wait; a
        # timeout retries the message); any other poll leaves a held cursor to its holder.
        follow_up = message.reason == follow_ups.FOLLOW_UP
        if connection.kind is ConnectionKind.ontraport:
            cursor = await lock_cursor(session, connection.id, wait=follow_up)
            if cursor is None:
                await self._poll_under_way(session, connection, message)
                return
            await self._gather(message)
            await follow_ups.taking_over(self.platform.transport.redis, settings.queue.prefix, connection.id)
            changed = await poll(session, connection, cursor, self.source_for(connection), settings.polling)
        elif connection.kind is ConnectionKind.onport:
            cursor = await lock_onport_cursor(session, connection.id, wait=follow_up)
            if cursor is None:
                await self._poll_under_way(session, connection, message)
                return
            await self._gather(message)
            await follow_ups.taking_over(self.platform.transport.redis, settings.queue.prefix, connection.id)
            source = onport_source_for(self.platform, self.http, connection)
            changed = await poll_onport(session, connection, cursor, source, settings.polling)
        else:
            return
        await recheck_lock_date(session, connection, datetime.now(UTC))
        log.info("poll.done", connection_id=str(connection.id), reason=message.reason, changed=changed)

    async def _gather(self, message: PollConnection) -> None:
        """A poll a webhook asked for holds the cursor a moment before reading: the webhooks of the
        sales that follow find it taken and share this poll or its one follow-up, so a busy shop's
        polls stay within ONTRAPORT's 180 calls a minute instead of one poll per sale."""
        if message.reason in ("webhook", follow_ups.FOLLOW_UP):
            await asyncio.sleep(self.platform.settings.polling.webhook_gather_seconds)

    async def _poll_under_way(
        self, session: AsyncSession, connection: Connection, message: PollConnection
    ) -> None:
        """Another poll (maybe another replica's) holds the cursor and may have read before this ask."""
        if message.reason in follow_ups.ASKED_NOW:
            redis = self.platform.transport.redis
            await follow_ups.ask(redis, self.platform.settings.queue.prefix, session, connection)

    async def refresh_onport_invoice(self, session: AsyncSession, message: RefreshOnportInvoice) -> None:
        """An Onport push (queued by the API with the inbox row): re-read that invoice from Onport."""
        connection = await session.get(Connection, message.connection_id)
        if (
            connection is None
            or connection.kind is not ConnectionKind.onport
            or connection.status is not ConnectionStatus.active
        ):
            return
        source = onport_source_for(self.platform, self.http, connection)
        changed = await refresh_invoice(session, connection, source, message.invoice_id)
        log.info(
            "onport.push_refreshed",
            connection_id=str(connection.id),
            invoice_id=message.invoice_id,
            changed=changed,
        )

    async def run_import(self, session: AsyncSession, message: RunImport) -> None:
        job = await session.get(Import, message.import_id, with_for_update={"key_share": True})
        if job is None or job.status in (ImportStatus.done, ImportStatus.failed):
            return
        connection = await session.get(Connection, job.connection_id)
        if connection is not None and connection.kind is ConnectionKind.onport:
            source = onport_source_for(self.platform, self.http, connection)
            await run_onport_import_page(session, job, connection, source)
            return
        if connection is None or connection.kind is not ConnectionKind.ontraport:
            job.status = ImportStatus.failed
            job.error = "Historical import reads from ONTRAPORT or Onport connections"
            return
        await run_import_page(session, job, connection, self.source_for(connection))

    async def import_failed(self, session: AsyncSession, message: RunImport, reason: str) -> None:
        job = await session.get(Import, message.import_id, with_for_update={"key_share": True})
        if job is not None:
            job.status = ImportStatus.failed
            job.error = reason

    async def poll_failed(self, session: AsyncSession, message: PollConnection, reason: str) -> None:
        connection = await session.get(Connection, message.connection_id, with_for_update={"key_share": True})
        if connection is None:
            return
        connection.last_error = reason
        lock = lock_onport_cursor if connection.kind is ConnectionKind.onport else lock_cursor
        cursor = await lock(session, connection.id)
        if cursor is not None:
            cursor.last_error = reason

    def _app_url(self) -> str:
        """Where a person opens our web app (the single-page app's own address, else the API's)."""
        security = self.platform.settings.security
        return security.spa_url or security.public_base_url

    async def schedule_forever(self) -> None:
        while True:
            try:
                now = datetime.now(UTC)
                await schedule_all_due(self.platform.sessions, now)
                # Summary mode: the sales of days closed since the last tick become their summaries.
                async with unit_of_work(self.platform.sessions) as session:
                    quiet = timedelta(seconds=self.platform.settings.polling.summary_quiet_seconds)
                    await close_due_summaries(session, now, self._app_url(), quiet=quiet)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("poll.schedule_error", error=str(exc))
            await asyncio.sleep(SCHEDULER_TICK_SECONDS)


@asynccontextmanager
async def handlers(platform: Platform) -> AsyncIterator[list[Handler[Any]]]:
    async with httpx.AsyncClient() as http:
        poller = Poller(platform, http)
        scheduler = asyncio.create_task(poller.schedule_forever(), name="poll-scheduler")
        try:
            yield [
                Handler(PollConnection, poller.poll_connection, poller.poll_failed),
                Handler(RunImport, poller.run_import, poller.import_failed),
                Handler(RefreshOnportInvoice, poller.refresh_onport_invoice),
            ]
        finally:
            scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduler
