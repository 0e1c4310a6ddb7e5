"""The alerts worker: events → coalesced alerts → one delivery per channel → sent, with retries.

Runs in the publisher process (``run_forever``), every ``ALERTS_TICK_SECONDS``, on any number of
replicas: alerts are made once (``alerts.dedupe_key`` is unique; events are locked ``SKIP LOCKED``) and a
delivery is sent by the one replica holding its row lock, which records the outcome in the same
transaction. A failed send waits (30 s doubling, at most an hour, ``ALERTS_MAX_ATTEMPTS`` tries) and
nothing is lost while SMTP or the receiver is down.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.alerts import compose
from ledgerbridge.common.alerts.kinds import AlertKind, Channel, channels_for, fix_link
from ledgerbridge.common.alerts.senders import Outgoing, SendError, SmtpTarget, send_email, send_webhook
from ledgerbridge.common.alerts.targets import TargetError
from ledgerbridge.common.crypto import Cipher
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import (
    Alert,
    AlertDelivery,
    AlertEvent,
    AlertSettings,
    DeliveryStatus,
    Document,
    DocumentStatus,
    RecordStatus,
    Role,
    SourceRecord,
    User,
)
from ledgerbridge.common.settings import Settings

log = structlog.get_logger(__name__)
MAX_DELIVERIES_PER_TICK = 100
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0


def app_url(settings: Settings) -> str:
    """Where alerts link to: the web app, served by the gateway at PUBLIC_BASE_URL."""
    return settings.security.public_base_url


def configured_channels(row: AlertSettings | None) -> set[Channel]:
    if row is None:
        return set()
    channels: set[Channel] = set()
    if row.smtp_host and row.smtp_port and row.from_address:
        channels.add(Channel.email)
    if row.webhook_url and row.webhook_secret:
        channels.add(Channel.webhook)
    return channels


async def create_alert(
    session: AsyncSession,
    account_id: uuid.UUID,
    kind: AlertKind,
    dedupe_key: str,
    composed: compose.Composed,
    link: str,
) -> uuid.UUID | None:
    """Store the alert and a delivery per chosen, configured channel; None when it exists already."""
    alert_id: uuid.UUID | None = await session.scalar(
        insert(Alert)
        .values(
            id=uuid.uuid4(),
            account_id=account_id,
            kind=str(kind),
            dedupe_key=dedupe_key,
            title=composed.title[:300],
            body=composed.body,
            count=composed.count,
            link=link,
        )
        .on_conflict_do_nothing()
        .returning(Alert.id)
    )
    if alert_id is None:
        return None
    row = await session.get(AlertSettings, account_id)
    chosen = channels_for(row.preferences if row else {}, kind) & configured_channels(row)
    for channel in sorted(chosen):
        session.add(AlertDelivery(alert_id=alert_id, account_id=account_id, channel=str(channel)))
    await session.flush()
    return alert_id


async def _waiting_records(session: AsyncSession, details: list[dict[str, Any]]) -> int:
    connections = {uuid.UUID(str(d["connection_id"])) for d in details if d.get("connection_id")}
    if not connections:
        return 0
    waiting = await session.scalar(
        select(func.count(func.distinct(Document.record_id))).where(
            Document.xero_connection_id.in_(connections),
            Document.status.in_((DocumentStatus.pending, DocumentStatus.sending)),
        )
    )
    return int(waiting or 0)


async def coalesce(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Fold each account's unsent events of one kind into one alert, once the oldest is a window old."""
    window = timedelta(seconds=settings.alerts.coalesce_seconds)
    groups = (
        await session.execute(
            select(AlertEvent.account_id, AlertEvent.kind)
            .where(AlertEvent.alert_id.is_(None))
            .group_by(AlertEvent.account_id, AlertEvent.kind)
            .having(func.min(AlertEvent.created_at) <= now - window)
        )
    ).all()
    made = 0
    for account_id, kind_name in groups:
        events = list(
            await session.scalars(
                select(AlertEvent)
                .where(
                    AlertEvent.account_id == account_id,
                    AlertEvent.kind == kind_name,
                    AlertEvent.alert_id.is_(None),
                )
                .order_by(AlertEvent.id)
                .with_for_update(skip_locked=True)
            )
        )
        if not events:
            continue  # another replica is folding this group right now
        kind = AlertKind(kind_name)
        details = [event.detail for event in events]
        count = sum(event.count for event in events)
        if kind is AlertKind.records_failed:
            composed = compose.records_failed(details, count, events[0].created_at.astimezone(UTC))
        else:
            composed = compose.COMPOSERS_WITH_WAITING[kind](details, await _waiting_records(session, details))
        alert_id = await create_alert(
            session, account_id, kind, f"{kind}:{events[0].id}", composed, fix_link(app_url(settings), kind)
        )
        await session.execute(
            update(AlertEvent)
            .where(AlertEvent.id.in_([event.id for event in events]))
            .values(alert_id=alert_id)
        )
        made += alert_id is not None
    return made


async def make_digests(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Once a UTC day, after ALERTS_DIGEST_HOUR_UTC, a digest for each account that set up a channel."""
    if now.hour < settings.alerts.digest_hour_utc:
        return 0
    day = now.date().isoformat()
    made = 0
    key = f"digest:{day}"
    # Only accounts without today's digest: after the first tick of the day this reads no rows.
    due = select(AlertSettings).where(
        ~select(Alert.id)
        .where(Alert.account_id == AlertSettings.account_id, Alert.dedupe_key == key)
        .exists()
    )
    for row in await session.scalars(due):
        if not channels_for(row.preferences, AlertKind.daily_digest) & configured_channels(row):
            continue
        figures = dict(
            (
                await session.execute(
                    select(SourceRecord.status, func.count())
                    .where(
                        SourceRecord.account_id == row.account_id,
                        SourceRecord.updated_at > now - timedelta(days=1),
                    )
                    .group_by(SourceRecord.status)
                )
            ).all()
        )
        attention = await session.scalar(
            select(func.count()).where(
                SourceRecord.account_id == row.account_id,
                SourceRecord.status.in_((RecordStatus.failed, RecordStatus.waiting)),
            )
        )
        composed = compose.daily_digest(
            day, {str(status): int(n) for status, n in figures.items()}, int(attention or 0)
        )
        link = fix_link(app_url(settings), AlertKind.daily_digest)
        made += (
            await create_alert(session, row.account_id, AlertKind.daily_digest, key, composed, link)
            is not None
        )
    return made


def backoff(attempts: int) -> timedelta:
    seconds = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=seconds * (1 + random.random() / 10))


async def _owner_emails(session: AsyncSession, account_id: uuid.UUID) -> tuple[str, ...]:
    emails = await session.scalars(
        select(User.email).where(User.account_id == account_id, User.role == Role.owner).order_by(User.email)
    )
    return tuple(emails)


@dataclass(frozen=True)
class Sender:
    cipher: Cipher
    http: httpx.AsyncClient
    settings: Settings

    async def send(self, session: AsyncSession, delivery: AlertDelivery) -> None:
        alert = await session.get(Alert, delivery.alert_id)
        row = await session.get(AlertSettings, delivery.account_id)
        if alert is None or row is None or Channel(delivery.channel) not in configured_channels(row):
            raise SendError(f"the {delivery.channel} channel is no longer set up in Alerts settings")
        outgoing = Outgoing(
            delivery_id=delivery.id,
            alert_id=str(alert.id),
            kind=alert.kind,
            title=alert.title,
            body=alert.body,
            count=alert.count,
            link=alert.link,
            created_at=alert.created_at.astimezone(UTC).isoformat(),
        )
        production = self.settings.runtime.is_production
        timeout = self.settings.alerts.send_timeout_seconds
        if delivery.channel == Channel.email:
            assert row.smtp_host
            assert row.smtp_port
            assert row.from_address
            password = self.cipher.decrypt_json(row.smtp_password)["password"] if row.smtp_password else None
            recipients = tuple(row.recipients) or await _owner_emails(session, row.account_id)
            target = SmtpTarget(
                row.smtp_host,
                row.smtp_port,
                row.smtp_tls,
                row.smtp_username,
                password,
                row.from_address,
                recipients,
            )
            await send_email(outgoing, target, send_seconds=timeout, production=production)
        else:
            assert row.webhook_url
            assert row.webhook_secret
            secret = str(self.cipher.decrypt_json(row.webhook_secret)["secret"])
            await send_webhook(
                self.http,
                outgoing,
                url=row.webhook_url,
                fmt=row.webhook_format,
                secret=secret,
                send_seconds=timeout,
                production=production,
            )


async def deliver_due(sessions: async_sessionmaker[AsyncSession], sender: Sender, now: datetime) -> int:
    """Send due deliveries one at a time, each under its row lock, recording the outcome with it."""
    sent = 0
    for _ in range(MAX_DELIVERIES_PER_TICK):
        async with unit_of_work(sessions) as session:
            delivery = await session.scalar(
                select(AlertDelivery)
                .where(AlertDelivery.status == DeliveryStatus.pending, AlertDelivery.next_attempt_at <= now)
                .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if delivery is None:
                return sent
            delivery.attempts += 1
            try:
                await sender.send(session, delivery)
            except (SendError, TargetError) as exc:
                delivery.last_error = str(exc)[:2000]
                if delivery.attempts >= sender.settings.alerts.max_attempts:
                    delivery.status = DeliveryStatus.failed
                else:
                    delivery.next_attempt_at = now + backoff(delivery.attempts)
                log.warning(
                    "alerts.send_failed", delivery_id=delivery.id, attempts=delivery.attempts, error=str(exc)
                )
            else:
                delivery.status = DeliveryStatus.sent
                delivery.sent_at = datetime.now(UTC)
                delivery.last_error = None
                sent += 1
    return sent


async def run_once(sessions: async_sessionmaker[AsyncSession], sender: Sender, now: datetime) -> int:
    async with unit_of_work(sessions) as session:
        await coalesce(session, sender.settings, now)
        await make_digests(session, sender.settings, now)
    return await deliver_due(sessions, sender, now)


async def run_forever(sessions: async_sessionmaker[AsyncSession], sender: Sender) -> None:
    while True:
        try:
            await run_once(sessions, sender, datetime.now(UTC))
        except Exception as exc:  # a database blip must not end the loop; the next tick tries again
            log.warning("alerts.tick_error", error=str(exc))
        await asyncio.sleep(sender.settings.alerts.tick_seconds)
