"""Secrets never reach the logs; local runs invent missing secrets once, production refuses to."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from ledgerbridge.common import local_secrets
from ledgerbridge.common.logging import configure_logging
from ledgerbridge.common.settings import Settings


def test_secrets_are_redacted_from_structured_logs(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json", "test")
    structlog.get_logger("t").info(
        "xero.token_refreshed",
        refresh_token="rt-very-secret",
        credentials={"api_key": "k-very-secret", "app_id": "public-app"},
        url="https://user:pw-very-secret@example.test/x",
        error="401 for Authorization: Bearer eyJ-very-secret",
    )
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "very-secret" not in line
    event = json.loads(line)
    assert event["refresh_token"] == "[redacted]"
    assert event["credentials"] == "[redacted]"
    assert event["url"] == "https://user:[redacted]@example.test/x"
    assert event["error"] == "401 for Authorization: Bearer [redacted]"
    assert event["service"] == "test"
    logging.getLogger().handlers.clear()


def test_local_runs_make_secrets_once_and_keep_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("ENCRYPTION_KEYS", raising=False)
    settings = Settings()
    settings.runtime.data_dir = tmp_path
    first = local_secrets.secret_key(settings)
    assert len(first) > 40
    assert local_secrets.secret_key(settings) == first
    assert len(local_secrets.encryption_keys(settings)) == 1
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600


def test_production_refuses_to_invent_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = Settings()
    settings.runtime.data_dir = tmp_path
    with pytest.raises(local_secrets.MissingSecretError, match="SECRET_KEY must be set when ENV=production"):
        local_secrets.secret_key(settings)


def test_external_urls_use_the_documented_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    names = {
        "XERO_API_URL": ("xero", "api_url"),
        "XERO_CONNECTIONS_URL": ("xero", "connections_url"),
        "XERO_AUTHORIZE_URL": ("xero", "authorize_url"),
        "XERO_TOKEN_URL": ("xero", "token_url"),
        "XERO_REVOKE_URL": ("xero", "revoke_url"),
        "ONTRAPORT_API_URL": ("ontraport", "api_url"),
        "ONPORT_API_URL": ("onport", "api_url"),
        "DATABASE_URL": ("database", "url"),
        "REDIS_URL": ("redis", "url"),
        "PUBLIC_BASE_URL": ("security", "public_base_url"),
    }
    for name in names:
        monkeypatch.setenv(name, f"http://set.test/{name}")
    monkeypatch.setenv("POLL_INTERVAL_SECONDS", "60")
    settings = Settings()
    for name, (group, field) in names.items():
        assert getattr(getattr(settings, group), field) == f"http://set.test/{name}"
    assert settings.polling.poll_interval_seconds == 60


async def test_database_errors_show_the_statement_never_the_parameters(
    engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 11 of issue 10: error logs printed whole parameter tuples (tenants' data, secrets)."""
    configure_logging("INFO", "json", "test")
    secret = "owner@example.com-and-a-secret-value"
    with pytest.raises(DBAPIError) as caught:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT CAST(:value AS integer)"), {"value": secret})
    message = str(caught.value)
    assert "SELECT CAST" in message
    assert "[SQL parameters hidden due to hide_parameters=True]" in message
    # The driver still quotes the value in its own message: the log scrubs that too.
    structlog.get_logger("test").error("db.failed", error=message)
    try:
        raise caught.value
    except DBAPIError:
        structlog.get_logger("test").exception("db.failed.traceback")
    with pytest.raises(DBAPIError) as server_side:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT CAST(CAST(:value AS text) AS integer)"), {"value": secret})
    structlog.get_logger("test").error("db.failed", error=str(server_side.value))
    logged = capsys.readouterr().err
    assert logged.count("SELECT CAST") >= 3 and "invalid input" in logged
    assert secret not in logged and secret[:20] not in logged
