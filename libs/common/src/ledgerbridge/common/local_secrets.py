"""Secrets for local runs: made once, kept in the data folder; refused in production.

A developer's `make run` must work with no configuration, yet production must never silently run with a
key nobody else has (tokens would not verify across replicas, stored credentials would be unreadable).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from ledgerbridge.common.settings import Settings


class MissingSecretError(RuntimeError):
    """A required secret is not configured where we may not invent one."""


def _stored(data_dir: Path) -> dict[str, str]:
    path = data_dir / "secrets.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    return {}


def _make_and_store(data_dir: Path, name: str, value: str) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secrets.json"
    current = _stored(data_dir)
    if name in current:  # another process won the race; everyone must share one value
        return current[name]
    current[name] = value
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return value


def _resolve(settings: Settings, name: str, configured: str | None, make: str) -> str:
    if configured:
        return configured
    if settings.runtime.is_production:
        raise MissingSecretError(f"{name} must be set when ENV=production")
    data_dir = settings.runtime.data_dir
    return _stored(data_dir).get(name) or _make_and_store(data_dir, name, make)


def secret_key(settings: Settings) -> str:
    configured = settings.security.secret_key
    return _resolve(
        settings,
        "SECRET_KEY",
        configured.get_secret_value() if configured else None,
        secrets.token_urlsafe(48),
    )


def encryption_keys(settings: Settings) -> list[str]:
    configured = settings.security.encryption_keys
    raw = _resolve(
        settings,
        "ENCRYPTION_KEYS",
        configured.get_secret_value() if configured else None,
        Fernet.generate_key().decode(),
    )
    return [key.strip() for key in raw.split(",") if key.strip()]


def xero_webhook_key(settings: Settings) -> str:
    configured = settings.xero.webhook_key
    return _resolve(
        settings,
        "XERO_WEBHOOK_KEY",
        configured.get_secret_value() if configured else None,
        secrets.token_urlsafe(32),
    )
