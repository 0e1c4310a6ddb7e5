"""Test harness on real servers.

``DATABASE_URL`` / ``REDIS_URL`` point at the servers to use; when unset, real embedded ones are started
(SPEC.md §2), never stand-ins. Each run creates its own database, migrated by Alembic, and drops it at
the end; each test runs in a transaction that is rolled back (``db``), or, for tests that need real
commits (messaging, end to end), on tables emptied afterwards (``committing``).
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ledgerbridge.common.database import async_database_url, create_engine, session_factory
from ledgerbridge.common.embedded import EmbeddedServers, ensure_servers
from ledgerbridge.common.migrate import upgrade
from ledgerbridge.common.models import Base
from ledgerbridge.common.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def servers() -> Iterator[EmbeddedServers]:
    started = ensure_servers(
        REPO_ROOT / ".data" / "test",
        os.environ.get("DATABASE_URL") or None,
        os.environ.get("REDIS_URL") or None,
    )
    yield started
    started.stop()


def _asyncpg_dsn(url: str) -> str:
    return (
        make_url(async_database_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
async def database_url(servers: EmbeddedServers) -> AsyncIterator[str]:
    assert servers.database_url
    server = make_url(async_database_url(servers.database_url))
    name = f"lb_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    created = create_engine(database_url, pool_size=5)
    yield created
    await created.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose every commit lands in a savepoint of one transaction rolled back after the test."""
    async with engine.connect() as connection:
        outer = await connection.begin()
        session = AsyncSession(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()


@pytest.fixture
async def committing(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Real commits, for code that runs several transactions; every table is emptied afterwards."""
    yield session_factory(engine)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def redis_url(servers: EmbeddedServers) -> str:
    assert servers.redis_url
    return servers.redis_url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client: Redis = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def queue_prefix() -> str:
    """A queue namespace of the test's own, so tests sharing a Redis never see each other's jobs."""
    return f"lbtest-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(database_url: str, redis_url: str, queue_prefix: str, tmp_path: Path) -> Settings:
    configured = Settings()
    configured.database.url = database_url
    configured.redis.url = redis_url
    configured.queue.prefix = queue_prefix
    configured.queue.relay_interval_seconds = 0.05
    configured.runtime.data_dir = tmp_path / "data"
    return configured
