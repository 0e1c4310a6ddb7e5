"""The account's alert settings row and its latest alerts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import Alert, AlertDelivery, AlertSettings


async def settings_row(session: AsyncSession, account_id: uuid.UUID) -> AlertSettings | None:
    return await session.get(AlertSettings, account_id)


async def locked_settings_row(session: AsyncSession, account_id: uuid.UUID) -> AlertSettings:
    """The row, made when missing, locked so two concurrent saves do not lose each other's secret."""
    await session.execute(
        insert(AlertSettings)
        .values(
            account_id=account_id, smtp_tls="starttls", webhook_format="json", recipients=[], preferences={}
        )
        .on_conflict_do_nothing()
    )
    row = await session.scalar(
        select(AlertSettings).where(AlertSettings.account_id == account_id).with_for_update()
    )
    assert row is not None  # inserted just above when missing
    await session.refresh(row)
    return row


async def recent_alerts(
    session: AsyncSession, account_id: uuid.UUID, limit: int = 20
) -> list[tuple[Alert, Sequence[AlertDelivery]]]:
    alerts = list(
        await session.scalars(
            select(Alert).where(Alert.account_id == account_id).order_by(Alert.created_at.desc()).limit(limit)
        )
    )
    deliveries = await session.scalars(
        select(AlertDelivery)
        .where(AlertDelivery.account_id == account_id, AlertDelivery.alert_id.in_([a.id for a in alerts]))
        .order_by(AlertDelivery.channel)
    )
    by_alert: dict[uuid.UUID, list[AlertDelivery]] = {}
    for delivery in deliveries:
        by_alert.setdefault(delivery.alert_id, []).append(delivery)
    return [(alert, by_alert.get(alert.id, [])) for alert in alerts]
