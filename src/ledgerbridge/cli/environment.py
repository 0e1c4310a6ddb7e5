"""Making sure a command has a database and a Redis before anything else starts."""

from __future__ import annotations

import atexit
import os

from ledgerbridge.common.embedded import EmbeddedServers, ensure_servers
from ledgerbridge.common.settings import RuntimeSettings, get_settings


def prepare_servers() -> EmbeddedServers:
    """Start embedded servers for any unset ``DATABASE_URL``/``REDIS_URL`` and export their URLs.

    Exporting lets every child process (`ledgerbridge run` starts several) share the same servers.
    """
    runtime = RuntimeSettings()
    servers = ensure_servers(
        runtime.data_dir, os.environ.get("DATABASE_URL") or None, os.environ.get("REDIS_URL") or None
    )
    started_here = {"DATABASE_URL", "REDIS_URL"} - set(os.environ)
    os.environ["DATABASE_URL"] = servers.database_url or ""
    os.environ["REDIS_URL"] = servers.redis_url or ""
    get_settings.cache_clear()
    if started_here:
        atexit.register(servers.stop)
    return servers
