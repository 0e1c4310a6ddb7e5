"""Noting what happened, in the caller's transaction: the alert exists only if the cause commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.alerts.kinds import AlertKind
from ledgerbridge.common.models import AlertEvent


def note(
    session: AsyncSession,
    account_id: uuid.UUID,
    kind: AlertKind,
    *,
    count: int = 1,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an alert event; the alerts worker folds the events of a minute into one alert."""
    session.add(AlertEvent(account_id=account_id, kind=str(kind), count=count, detail=detail or {}))
