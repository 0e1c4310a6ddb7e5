"""Writing messages in the same transaction as the state change that causes them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.messaging.messages import Message
from ledgerbridge.common.models import OutboxMessage


def _row(message: Message, account_id: uuid.UUID | None) -> OutboxMessage:
    return OutboxMessage(
        account_id=account_id,
        queue=str(message.QUEUE),
        message_type=message.TYPE,
        body={"version": message.VERSION, "body": message.model_dump(mode="json")},
    )


async def add_message(session: AsyncSession, message: Message, account_id: uuid.UUID | None) -> OutboxMessage:
    """Queue ``message`` for delivery once (and only if) the caller's transaction commits."""
    row = _row(message, account_id)
    session.add(row)
    await session.flush()
    return row


async def add_messages(session: AsyncSession, messages: Iterable[tuple[Message, uuid.UUID | None]]) -> None:
    """``add_message`` for many at once: one multi-row insert (the scheduler queues thousands a tick)."""
    session.add_all(_row(message, account_id) for message, account_id in messages)
    await session.flush()
