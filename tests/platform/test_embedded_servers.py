"""With no servers configured, real embedded PostgreSQL and Redis serve a migration and a queue round trip."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
from alembic.script import ScriptDirectory
from redis.asyncio import Redis
from sqlalchemy import text

from ledgerbridge.common.database import create_engine
from ledgerbridge.common.embedded import ensure_servers
from ledgerbridge.common.messaging.transport import ArqTransport
from ledgerbridge.common.migrate import alembic_config, upgrade


def _postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


async def test_embedded_servers_start_serve_and_stop(tmp_path: Path) -> None:
    servers = ensure_servers(tmp_path, None, None)
    try:
        assert servers.database_url and servers.redis_url
        assert servers.redis_url.startswith("unix://")
        postgres_pid = _postmaster_pid(tmp_path / "postgres")
        assert psutil.pid_exists(postgres_pid)

        upgrade(servers.database_url)
        engine = create_engine(servers.database_url, pool_size=1)
        async with engine.connect() as connection:
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            assert (
                version
                == ScriptDirectory.from_config(alembic_config(servers.database_url)).get_current_head()
            )
        await engine.dispose()

        transport = await ArqTransport.connect(servers.redis_url, "embedded")
        assert await transport.send("poller", "1", {"id": 1})
        assert not await transport.send("poller", "1", {"id": 1})  # same job id: refused while queued
        assert await transport.depth("poller") == 1
        await transport.close()
        redis_pid = int((await Redis.from_url(servers.redis_url).info("server"))["process_id"])
    finally:
        servers.stop()

    assert (
        not psutil.pid_exists(postgres_pid) or psutil.Process(postgres_pid).status() == psutil.STATUS_ZOMBIE
    )
    assert not psutil.pid_exists(redis_pid) or psutil.Process(redis_pid).status() == psutil.STATUS_ZOMBIE
    assert os.listdir(tmp_path / "postgres")  # the data stays for the next run
