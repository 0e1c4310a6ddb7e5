"""Knobs of the ONTRAPORT sandbox; every one has a default and an ``ONTRAPORT_SANDBOX_*`` variable."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from ledgerbridge.sandbox.envconfig import load_from_env

ENV_PREFIX = "ONTRAPORT_SANDBOX_"


class OntraportSandboxConfig(BaseModel):
    seed: int = 42
    """Seed of the demo account's generated data; the same seed always gives the same records."""
    transactions: int = Field(default=150, ge=0)
    """Generated transactions in the demo account, besides the two fixed worked examples."""
    contacts: int = Field(default=40, ge=1)
    app_id: str = "sandbox-app"
    api_key: str = "sandbox-key"
    account_id: int = 100001
    """Account id of the demo account; accounts created later count up from here."""
    rate_limit: int = Field(default=180, ge=1)
    """Requests per window per account."""
    rate_window_seconds: float = Field(default=60.0, gt=0)
    max_range: int = Field(default=50, ge=1)
    """``range`` larger than this is silently reduced to it."""
    start_date: int = 1735689600
    """Unix time of the first generated transaction (2025-01-01T00:00:00Z)."""
    seconds_between_transactions: int = Field(default=3 * 3600, ge=1)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OntraportSandboxConfig:
        return load_from_env(cls, ENV_PREFIX, environ)
