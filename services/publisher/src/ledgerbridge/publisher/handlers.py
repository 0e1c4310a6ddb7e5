"""What the publisher does with each message on its queue, and the sweep that keeps nothing waiting."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import structlog
from sqlalchemy import func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.alerts import dispatch as alerts
from ledgerbridge.common.clients.factory import xero_client
from ledgerbridge.common.clients.xero import LimiterConfig, TokenService, XeroClient, XeroOAuth
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.consumer import Handler
from ledgerbridge.common.messaging.messages import HandleWebhookEvent, PublishPending, RefreshXeroReference
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Connection, ConnectionStatus, Document, DocumentStatus
from ledgerbridge.common.platform import Platform
from ledgerbridge.publisher import approved_drafts, reference
from ledgerbridge.publisher.keep_alive import keep_tokens_alive
from ledgerbridge.publisher.publishing_run import PublishingRuns
from ledgerbridge.publisher.webhook_events import handle_xero_event

log = structlog.get_logger(__name__)


async def _exclusive(session: AsyncSession, key: str) -> bool:
    """One publisher per organisation at a time, across replicas; released when the transaction ends."""
    locked = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
    )
    return bool(locked)


async def queue_waiting_organisations(session: AsyncSession, now: datetime, waited: timedelta) -> int:
    """Queue a publish run for organisations whose documents have waited longer than a run takes."""
    rows = await session.execute(
        select(Document.xero_connection_id, Connection.account_id)
        .join(Connection, Connection.id == Document.xero_connection_id)
        .where(
            Document.status.in_((DocumentStatus.pending, DocumentStatus.sending)),
            Document.updated_at < now - waited,
            Connection.status == ConnectionStatus.active,
            or_(Connection.parked_until.is_(None), Connection.parked_until < now),
        )
        .group_by(Document.xero_connection_id, Connection.account_id)
        .having(func.count() > 0)
    )
    queued = 0
    for connection_id, account_id in rows.all():
        await add_message(session, PublishPending(xero_connection_id=connection_id), account_id)
        queued += 1
    return queued


def _xero_clients(
    platform: Platform, http: httpx.AsyncClient, tokens: TokenService
) -> Callable[[Connection], XeroClient]:
    settings = platform.settings
    # A run never waits long for a slot: the batch goes back to pending and the message is retried
    # later, instead of the job sleeping into its timeout.
    limits = LimiterConfig(max_wait_seconds=min(20.0, settings.queue.job_timeout_seconds / 3))

    def client_for(connection: Connection) -> XeroClient:
        assert connection.xero_tenant_id
        provider = tokens.provider(platform.sessions, connection.id)
        redis = platform.transport.redis
        # Each organisation's calls are planned under its own day limit (SPEC §3.1).
        planned = dataclasses.replace(limits, day_limit=connection.day_limit)
        return xero_client(settings, http, redis, provider, connection.xero_tenant_id, limits=planned)

    return client_for


def _publish_handler(
    platform: Platform, runs: PublishingRuns
) -> Callable[[AsyncSession, PublishPending], Awaitable[None]]:
    """The PublishPending handler: one run per organisation at a time, and a follow-up while work is left."""
    settings = platform.settings

    async def publish(session: AsyncSession, message: PublishPending) -> None:
        if not await _exclusive(session, f"publish:{message.xero_connection_id}"):
            return  # another replica is publishing to this organisation
        await asyncio.sleep(settings.publisher.gather_seconds)
        result = await runs.publish(
            message.xero_connection_id, max_seconds=settings.publisher.max_run_seconds
        )
        if result.more:
            connection = await session.get(Connection, message.xero_connection_id)
            if connection is not None:
                await add_message(session, message, connection.account_id)

    return publish


async def _sweep_forever(
    platform: Platform, tokens: TokenService, client_for: Callable[[Connection], XeroClient]
) -> None:
    """Queue runs for documents left waiting (a message lost to a Redis flush, say), read again drafts
    that may have been approved unseen (``approved_drafts``), and keep tokens alive."""
    settings = platform.settings
    while True:
        await asyncio.sleep(settings.publisher.sweep_seconds)
        try:
            async with unit_of_work(platform.sessions) as session:
                await queue_waiting_organisations(
                    session,
                    datetime.now(UTC),
                    timedelta(seconds=settings.publisher.sweep_after_seconds),
                )
            await keep_tokens_alive(
                platform.sessions,
                tokens,
                datetime.now(UTC),
                timedelta(days=settings.publisher.token_keep_alive_days),
            )
            # Last: a Xero outage failing this pass must not keep the tokens from being refreshed.
            async with unit_of_work(platform.sessions) as session:
                await approved_drafts.sweep(
                    session,
                    client_for,
                    datetime.now(UTC),
                    timedelta(seconds=settings.publisher.draft_recheck_seconds),
                )
        except Exception as exc:
            log.warning("publish.sweep_error", error=str(exc))


@asynccontextmanager
async def handlers(platform: Platform) -> AsyncIterator[list[Handler[Any]]]:
    settings = platform.settings
    async with httpx.AsyncClient() as http:
        tokens = TokenService(XeroOAuth(http, settings.xero), platform.cipher)
        client_for = _xero_clients(platform, http, tokens)
        runs = PublishingRuns(
            platform.sessions,
            client_for,
            stale_sending=timedelta(seconds=settings.publisher.stale_sending_seconds),
            gather=settings.publisher.gather_seconds,
        )
        sweeper = asyncio.create_task(_sweep_forever(platform, tokens, client_for), name="publish-sweep")
        # Alerts go out from here (never from a request): the publisher is where Xero's troubles are seen.
        sender = alerts.Sender(platform.cipher, http, settings)
        alerting = asyncio.create_task(alerts.run_forever(platform.sessions, sender), name="alerts")
        try:
            yield [
                Handler(PublishPending, _publish_handler(platform, runs)),
                Handler(RefreshXeroReference, partial(reference.refresh, client_for=client_for)),
                Handler(HandleWebhookEvent, partial(handle_xero_event, client_for=client_for)),
            ]
        finally:
            for task in (sweeper, alerting):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
