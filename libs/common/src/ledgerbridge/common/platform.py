"""The connections one process holds: database, queue transport, cipher. Built once, closed once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ledgerbridge.common import local_secrets
from ledgerbridge.common.crypto import Cipher
from ledgerbridge.common.database import create_engine, session_factory
from ledgerbridge.common.messaging.transport import ArqTransport
from ledgerbridge.common.settings import Settings


class NotConfiguredError(RuntimeError):
    """A URL the process needs is not set (the CLI starts embedded servers before this is reached)."""


@dataclass
class Platform:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    transport: ArqTransport
    cipher: Cipher
    # Resolved once: in local runs they live in a file, which a request should not have to read.
    secret_key: str
    xero_webhook_key: str

    @classmethod
    async def start(cls, settings: Settings) -> Platform:
        if not settings.database.url:
            raise NotConfiguredError("DATABASE_URL is not set")
        if not settings.redis.url:
            raise NotConfiguredError("REDIS_URL is not set")
        engine = create_engine(
            settings.database.url, pool_size=settings.database.pool_size, echo=settings.database.echo
        )
        transport = await ArqTransport.connect(settings.redis.url, settings.queue.prefix)
        cipher = Cipher(local_secrets.encryption_keys(settings))
        return cls(
            settings,
            engine,
            session_factory(engine),
            transport,
            cipher,
            local_secrets.secret_key(settings),
            local_secrets.xero_webhook_key(settings),
        )

    async def readiness(self) -> dict[str, str]:
        """``ok`` or the error for each dependency; the process is ready when all are ``ok``."""
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {exc.__class__.__name__}"
        try:
            await self.transport.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {exc.__class__.__name__}"
        return checks

    async def close(self) -> None:
        await self.transport.close()
        await self.engine.dispose()
