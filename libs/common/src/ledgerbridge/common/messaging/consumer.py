"""The task wrapper: one message, one transaction, one effect.

For each delivery: decode the envelope, claim it in the inbox, run the handler, mark the outbox row done,
commit, all in one transaction. A second delivery finds the inbox row and does nothing; a crash before
the commit leaves nothing behind, and the message is delivered again. Transient errors become arq
``Retry`` with backoff and jitter; permanent ones (and transient ones past ``max_tries``) are recorded on
the outbox row and handed to the handler's ``on_failure`` so the user sees a readable reason.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import structlog
from arq import Retry
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common import metrics
from ledgerbridge.common.messaging.errors import ErrorClass, TransientError, backoff_seconds, classify
from ledgerbridge.common.messaging.messages import Envelope, Message, UnknownMessageError, decode
from ledgerbridge.common.models import InboxMessage, OutboxMessage, OutboxStatus

log = structlog.get_logger(__name__)

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Handler(Generic[M]):
    """What a service does with one message type."""

    message_type: type[M]
    handle: Callable[[AsyncSession, M], Awaitable[None]]
    # Runs in its own transaction when the message is given up on; records the reason for the user.
    on_failure: Callable[[AsyncSession, M, str], Awaitable[None]] | None = None


@dataclass(frozen=True)
class Outcome:
    status: str  # done | duplicate | retry | failed
    detail: str = ""


class Consumer:
    def __init__(
        self,
        name: str,
        sessions: async_sessionmaker[AsyncSession],
        handlers: list[Handler[Any]],
        *,
        max_tries: int,
    ) -> None:
        self.name = name
        self.sessions = sessions
        self.handlers = {handler.message_type.TYPE: handler for handler in handlers}
        self.max_tries = max_tries

    async def process(self, raw: dict[str, Any], attempt: int = 1) -> Outcome:
        """Process one delivery; raises ``Retry`` for transient errors still worth retrying."""
        started = time.perf_counter()
        envelope = Envelope.model_validate(raw)
        structlog.contextvars.bind_contextvars(message_id=envelope.id, message_type=envelope.type)
        try:
            outcome = await self._process(envelope, attempt)
        finally:
            structlog.contextvars.unbind_contextvars("message_id", "message_type")
        metrics.JOB_OUTCOMES.labels(self.name, envelope.type, outcome.status).inc()
        metrics.JOB_DURATION.labels(self.name, envelope.type).observe(time.perf_counter() - started)
        if outcome.status == "retry":
            raise Retry(defer=float(outcome.detail))
        return outcome

    async def _process(self, envelope: Envelope, attempt: int) -> Outcome:
        handler = self.handlers.get(envelope.type)
        try:
            if handler is None:
                raise UnknownMessageError(f"consumer {self.name!r} has no handler for {envelope.type!r}")
            message = decode(envelope, {envelope.type: handler.message_type})
        except (UnknownMessageError, ValueError) as exc:
            await self._record_failure(envelope, None, None, f"unreadable message: {exc}")
            return Outcome("failed", str(exc))

        try:
            async with self.sessions() as session, session.begin():
                if not await self._claim(session, envelope):
                    return Outcome("duplicate")
                await handler.handle(session, message)
                await self._finish(session, envelope.id, OutboxStatus.done, None)
            return Outcome("done")
        except Exception as exc:
            reason = _describe(exc)
            if classify(exc) is ErrorClass.transient and attempt < self.max_tries:
                retry_after = exc.retry_after if isinstance(exc, TransientError) else None
                delay = backoff_seconds(attempt, retry_after=retry_after)
                log.warning("message.retry", attempt=attempt, delay=round(delay, 2), error=reason)
                return Outcome("retry", str(delay))
            if classify(exc) is ErrorClass.transient:
                reason = f"gave up after {attempt} attempts: {reason}"
            log.error("message.failed", attempt=attempt, error=reason)
            await self._record_failure(envelope, handler, message, reason)
            return Outcome("failed", reason)

    async def _claim(self, session: AsyncSession, envelope: Envelope) -> bool:
        claimed = await session.scalar(
            insert(InboxMessage)
            .values(
                consumer=self.name,
                message_key=str(envelope.id),
                account_id=envelope.account_id,
                processed_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing()
            .returning(InboxMessage.message_key)
        )
        return claimed is not None

    async def _finish(
        self, session: AsyncSession, outbox_id: int, status: OutboxStatus, error: str | None
    ) -> None:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id)
            .values(status=status, finished_at=datetime.now(UTC), last_error=error)
        )

    async def _record_failure(
        self, envelope: Envelope, handler: Handler[Any] | None, message: Message | None, reason: str
    ) -> None:
        async with self.sessions() as session, session.begin():
            await self._finish(session, envelope.id, OutboxStatus.failed, reason)
            if handler is not None and handler.on_failure is not None and message is not None:
                await handler.on_failure(session, message, reason)


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if len(text) <= 2000 else text[:1997] + "..."
