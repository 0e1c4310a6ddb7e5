"""Inbox rows for webhook deliveries, and the connections webhooks are addressed to."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.crypto import webhook_token_hash
from ledgerbridge.common.models import Connection, ConnectionKind, InboxMessage


async def store(
    session: AsyncSession,
    consumer: str,
    message_key: str,
    account_id: uuid.UUID | None,
    payload: dict[str, Any],
    *,
    processed: bool = False,
) -> bool:
    """Store a delivery once; False when the same delivery is already there (a duplicate is a no-op)."""
    statement = (
        insert(InboxMessage)
        .values(
            consumer=consumer,
            message_key=message_key,
            account_id=account_id,
            payload=payload,
            # A delivery whose effect commits with it (a queued poll) is processed as it is stored.
            processed_at=func.now() if processed else None,
        )
        .on_conflict_do_nothing(index_elements=[InboxMessage.consumer, InboxMessage.message_key])
        .returning(InboxMessage.message_key)
    )
    inserted = await session.scalar(statement)
    return inserted is not None


async def connection_by_token(session: AsyncSession, kind: ConnectionKind, token: str) -> Connection | None:
    """The connection whose stored token hash is this token's (tokens are never stored in clear)."""
    found: Connection | None = await session.scalar(
        select(Connection).where(
            Connection.webhook_token == webhook_token_hash(token), Connection.kind == kind
        )
    )
    return found


async def accounts_by_tenant(session: AsyncSession, tenant_ids: set[str]) -> dict[str, set[uuid.UUID]]:
    """The accounts connected to each Xero organisation (one organisation may serve several accounts)."""
    rows = await session.execute(
        select(Connection.xero_tenant_id, Connection.account_id).where(
            Connection.kind == ConnectionKind.xero, Connection.xero_tenant_id.in_(tenant_ids)
        )
    )
    accounts: dict[str, set[uuid.UUID]] = {}
    for tenant_id, account_id in rows.all():
        accounts.setdefault(str(tenant_id), set()).add(account_id)
    return accounts
