"""A poll asked for while another poll of the same connection is under way is not dropped.

The poll under way may have read its page before the sale that prompted the ask existed. So the first
ask that finds the cursor taken queues one ``follow_up`` poll, which waits for the cursor (it takes it the
moment the poll under way commits) and then reads everything since; asks meanwhile are covered by it and
queue nothing, so a burst of webhooks costs one extra poll, not one each, and at most one poll per
connection waits on its cursor. A poll that takes the cursor clears the mark before it reads, so an ask
after that point queues the next follow-up.

The mark lives in Redis with a time limit: lost to a flush, it costs at most one extra poll; left behind
by a follow-up whose message was lost, it lapses, and the scheduled poll covers the gap meanwhile.
"""

from __future__ import annotations

import uuid

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.messaging.messages import PollConnection
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Connection

FOLLOW_UP = "follow_up"
# Polls asked for because something is new now; a scheduled or backlog poll that finds the cursor taken
# is simply covered by the next one.
ASKED_NOW = frozenset({"webhook", "sync_now", "import"})
MARK_SECONDS = 60


def _mark(prefix: str, connection_id: uuid.UUID) -> str:
    return f"{prefix}:poll-follow-up:{connection_id}"


async def ask(redis: Redis, prefix: str, session: AsyncSession, connection: Connection) -> bool:
    """The cursor is taken: queue the one follow-up poll unless one is already waiting. True if queued."""
    if not await redis.set(_mark(prefix, connection.id), "1", nx=True, ex=MARK_SECONDS):
        return False
    await add_message(
        session, PollConnection(connection_id=connection.id, reason=FOLLOW_UP), connection.account_id
    )
    return True


async def taking_over(redis: Redis, prefix: str, connection_id: uuid.UUID) -> None:
    """This poll holds the cursor and has not read yet: it covers every ask so far."""
    await redis.delete(_mark(prefix, connection_id))
