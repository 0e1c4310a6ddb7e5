"""Fixtures for the end-to-end tests (helpers live in ``harness.py`` so tests can import them)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.api.app import create_app
from ledgerbridge.cli.sandboxes import sandbox_environment
from ledgerbridge.common.settings import Settings
from ledgerbridge.sandbox.onport.app import create_app as create_onport
from ledgerbridge.sandbox.ontraport.app import create_app as create_ontraport
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.server import serve_in_thread
from ledgerbridge.sandbox.xero.app import create_app as create_xero
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from tests.e2e.harness import ENCRYPTION_KEY, SECRET_KEY, SERVICES, XERO_WEBHOOK_KEY, Sandboxes, Stack


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[Sandboxes]:
    xero = create_xero(XeroSandboxConfig())
    # Recent sales, so refunds fall in the poller's 60-day re-read window.
    recent = int(time.time()) - 30 * 86400
    ontraport = create_ontraport(
        OntraportSandboxConfig(transactions=10, start_date=recent, seconds_between_transactions=3600)
    )
    onport = create_onport()
    with (
        serve_in_thread(xero) as xero_url,
        serve_in_thread(ontraport) as ontraport_url,
        serve_in_thread(onport) as onport_url,
    ):
        yield Sandboxes(xero, xero_url, ontraport, ontraport_url, onport, onport_url)


@pytest.fixture
def stack_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Extra environment for the workers: a test passes it with ``parametrize(..., indirect=True)``."""
    extra: dict[str, str] = getattr(request, "param", {})
    return extra


@pytest.fixture
def stack(
    committing: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    database_url: str,
    redis_url: str,
    queue_prefix: str,
    tmp_path: Path,
    stack_env: dict[str, str],
) -> Iterator[Stack]:
    env = {
        **os.environ,
        **sandbox_environment(sandboxes.xero_url, sandboxes.ontraport_url, sandboxes.onport_url),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUEUE_PREFIX": queue_prefix,
        "ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "SECRET_KEY": SECRET_KEY,
        "LEDGERBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "WARNING",
        "QUEUE_RELAY_INTERVAL_SECONDS": "0.1",
        "QUEUE_REDELIVERY_AFTER_SECONDS": "4",
        "QUEUE_JOB_TIMEOUT_SECONDS": "30",
        "PUBLISHER_STALE_SENDING_SECONDS": "4",
        "PUBLISHER_GATHER_SECONDS": "1.5",
        "PUBLISHER_SWEEP_SECONDS": "2",
        "PUBLISHER_SWEEP_AFTER_SECONDS": "3",
        "PUBLISHER_MAX_RUN_SECONDS": "12",
        "POLL_INTERVAL_SECONDS": "3600",
        "SUMMARY_QUIET_SECONDS": "3",
        **stack_env,
    }
    running = Stack(env, tmp_path)
    for service in SERVICES:
        running.start(service)
    yield running
    running.stop()


@pytest.fixture
def api_url(settings: Settings, sandboxes: Sandboxes, queue_prefix: str) -> Iterator[str]:
    """The API in this process on a real port, talking to the sandboxes, PostgreSQL and Redis; the Xero
    webhooks a test registers (``xero_webhooks``) reach it."""
    for name, value in sandbox_environment(
        sandboxes.xero_url, sandboxes.ontraport_url, sandboxes.onport_url
    ).items():
        group, _, field = name.lower().partition("_")
        setattr(getattr(settings, group), field, value)
    settings.security.encryption_keys = SecretStr(ENCRYPTION_KEY)
    settings.security.secret_key = SecretStr(SECRET_KEY)
    settings.xero.webhook_key = SecretStr(XERO_WEBHOOK_KEY)
    with serve_in_thread(create_app(settings)) as url:
        yield url
