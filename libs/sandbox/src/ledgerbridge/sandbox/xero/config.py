"""Every knob of the Xero sandbox, with Xero's real figures as defaults."""

from __future__ import annotations

import json
import os
from typing import Any, Literal

from pydantic import BaseModel, Field

ENV_PREFIX = "XERO_SANDBOX_"


class XeroSandboxConfig(BaseModel):
    """Settings of one sandbox instance; ``from_env`` reads ``XERO_SANDBOX_<FIELD>`` variables."""

    # OAuth2 client and token lifetimes.
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"  # noqa: S105 - the sandbox's published default
    extra_clients: dict[str, str] = Field(default_factory=dict, description="more client_id -> secret")
    redirect_hosts: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1", "::1"])
    authorization_code_ttl_seconds: float = 300
    access_token_ttl_seconds: int = 1800
    refresh_token_ttl_seconds: float = 60 * 24 * 3600
    refresh_grace_seconds: float = 1800
    enforce_scopes: bool = True

    # Xero's API limits; windows are configurable so tests can shrink them instead of waiting.
    minute_limit: int = 60
    minute_window_seconds: float = 60
    day_limit: int = 5000
    day_window_seconds: float = 86400
    concurrent_limit: int = 5
    app_minute_limit: int = 10000
    app_minute_window_seconds: float = 60

    # Response latency for accounting calls (benchmarks): fixed plus a random share.
    latency_ms: float = 0
    latency_jitter_ms: float = 0

    idempotency_retention_seconds: float = 600
    idempotency_key_max_length: int = 128

    default_page_size: int = 100
    max_page_size: int = 1000

    # Fault injection applied to every organisation unless a control call overrides it.
    fault_seed: int | None = None
    fault_rate_429: float = 0
    fault_rate_5xx: float = 0
    fault_rate_slow: float = 0
    fault_rate_lost_response: float = 0
    fault_slow_seconds: float = 3
    fault_lost_response_mode: Literal["drop", "hang"] = "drop"
    fault_hang_seconds: float = 60

    # Outgoing webhooks (the sandbox plays Xero calling the product).
    webhook_url: str | None = None
    webhook_key: str | None = None
    webhook_timeout_seconds: float = 5
    webhook_categories: list[str] = Field(default_factory=lambda: ["INVOICE", "CREDITNOTE", "CONTACT"])

    # Where webhook events say resources live; None means the URL the request came in on.
    public_base_url: str | None = None
    seed_demo_organisations: bool = True
    ui_refresh_seconds: int = 3

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> XeroSandboxConfig:
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            raw = source.get(ENV_PREFIX + name.upper())
            if raw is None:
                continue
            annotation = str(field.annotation)
            # Lists and dicts come as JSON; a comma list is accepted for lists of names.
            if "list" in annotation or "dict" in annotation:
                stripped = raw.strip()
                values[name] = (
                    json.loads(stripped)
                    if stripped.startswith(("[", "{"))
                    else [part.strip() for part in stripped.split(",") if part.strip()]
                )
            elif raw == "" and "None" in annotation:
                values[name] = None
            else:
                values[name] = raw
        return cls.model_validate(values)

    def clients(self) -> dict[str, str]:
        return {self.client_id: self.client_secret, **self.extra_clients}
