"""Knobs of the Onport sandbox; every one has a default and an ``ONPORT_SANDBOX_*`` variable."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from ledgerbridge.sandbox.envconfig import load_from_env

ENV_PREFIX = "ONPORT_SANDBOX_"


class OnportSandboxConfig(BaseModel):
    seed: int = 7
    """Seed of the demo account's generated data; the same seed always gives the same records."""
    purchases: int = Field(default=24, ge=0)
    """Generated purchases in the demo account (each with zero, one or several invoices)."""
    token: str = "sandbox-token"  # noqa: S105 - the demo account's published stand-in token
    """Bearer token of the demo account."""
    account_id: int = 1
    get_per_second: float = Field(default=2.0, gt=0)
    """Leak rate for reads: this many GETs per second are sustainable."""
    write_per_second: float = Field(default=1.0, gt=0)
    """Leak rate for writes (any non-GET)."""
    burst_seconds: float = Field(default=1.0, gt=0)
    """Bucket size in seconds of work: 1.0 lets two GETs or one write through at once."""
    default_limit: int = Field(default=50, ge=1)
    max_limit: int = Field(default=250, ge=1)
    """``limit`` above this is reduced to it."""
    start_date: str = "2025-01-01T00:00:00Z"
    """When the first generated purchase was ordered."""
    push_timeout_seconds: float = Field(default=5.0, gt=0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OnportSandboxConfig:
        return load_from_env(cls, ENV_PREFIX, environ)
