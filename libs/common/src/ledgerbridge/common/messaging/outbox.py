"""Writing messages in the same transaction as the state change that causes them."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.messaging.messages import Message
from ledgerbridge.common.models import OutboxMessage


async def add_message(session: AsyncSession, message: Message, account_id: uuid.UUID | None) -> OutboxMessage:
    """Queue ``message`` for delivery once (and only if) the caller's transaction commits."""
    row = OutboxMessage(
        account_id=account_id,
        queue=str(message.QUEUE),
        message_type=message.TYPE,
        body={"version": message.VERSION, "body": message.model_dump(mode="json")},
    )
    session.add(row)
    await session.flush()
    return row
