"""Typed, environment-driven settings, one object per concern.

Variable names are fixed by SPEC.md §3 (``DATABASE_URL``, ``XERO_API_URL`` …) so operators, tests and the
acceptance checks can point every client at local stand-ins.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

XERO_SCOPES = (
    "offline_access accounting.invoices accounting.payments accounting.contacts accounting.settings.read"
)


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)


class RuntimeSettings(_Settings):
    """Where the process runs and keeps local state."""

    env: str = Field(default="development", description="`production` refuses to invent missing secrets")
    data_dir: Path = Field(
        default=Path(".data"),
        validation_alias="LEDGERBRIDGE_DATA_DIR",
        description="Embedded servers and generated local secrets live here (git-ignored)",
    )
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    log_format: str = Field(default="json", validation_alias="LOG_FORMAT", description="`json` or `console`")

    @property
    def is_production(self) -> bool:
        return self.env.lower() == "production"


class DatabaseSettings(_Settings):
    model_config = SettingsConfigDict(env_prefix="DATABASE_", extra="ignore")

    url: str | None = Field(
        default=None, description="postgresql+asyncpg://…; unset starts an embedded server"
    )
    pool_size: int = 10
    echo: bool = False


class RedisSettings(_Settings):
    model_config = SettingsConfigDict(env_prefix="REDIS_", extra="ignore")

    url: str | None = Field(default=None, description="redis://host:port/db; unset starts an embedded server")


class XeroSettings(_Settings):
    model_config = SettingsConfigDict(env_prefix="XERO_", extra="ignore")

    api_url: str = "https://api.xero.com/api.xro/2.0"
    connections_url: str = "https://api.xero.com/connections"
    authorize_url: str = "https://login.xero.com/identity/connect/authorize"
    token_url: str = "https://identity.xero.com/connect/token"  # noqa: S105 - a URL, not a secret
    revoke_url: str = "https://identity.xero.com/connect/revocation"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    redirect_uri: str | None = None
    webhook_key: SecretStr | None = None
    scopes: str = XERO_SCOPES


class OntraportSettings(_Settings):
    model_config = SettingsConfigDict(env_prefix="ONTRAPORT_", extra="ignore")

    api_url: str = "https://api.ontraport.com/1"


class OnportSettings(_Settings):
    model_config = SettingsConfigDict(env_prefix="ONPORT_", extra="ignore")

    api_url: str = "https://api.jetti.io/api"


class SecuritySettings(_Settings):
    secret_key: SecretStr | None = Field(default=None, description="Signs the API's tokens")
    encryption_keys: SecretStr | None = Field(
        default=None, description="Comma-separated Fernet keys: the first encrypts, all decrypt"
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="How partners reach our webhooks"
    )
    spa_url: str | None = Field(default=None, validation_alias="SPA_URL")
    cors_origins: str = Field(default="", validation_alias="CORS_ORIGINS", description="Comma-separated")


class ApiSettings(_Settings):
    """The API gateway's limits and where it is reachable from (README, Operations)."""

    model_config = SettingsConfigDict(env_prefix="API_", extra="ignore")

    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Every request body is refused with 413 above this"
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated proxy addresses or networks whose X-Forwarded-For/-Proto are believed; "
        "empty: none, the client address is the peer's",
    )
    metrics_port: int = Field(
        default=0,
        ge=0,
        description="/metrics (with /healthz, /readyz) on this port, never the API's; 0 = off",
    )
    login_failures_per_address: int = Field(
        default=10, ge=1, description="Failed sign-ins per e-mail from one address before it is locked"
    )
    login_failures_per_email: int = Field(
        default=100, ge=1, description="Failed sign-ins per e-mail from all addresses before it is locked"
    )
    login_attempts_per_address: int = Field(
        default=30, ge=1, description="Sign-in attempts per client address, any e-mail"
    )
    login_window_seconds: int = Field(default=900, ge=1, description="Window of the sign-in counters")
    signups_per_address: int = Field(default=5, ge=1, description="Sign-ups per client address per hour")
    costly_calls_per_account: int = Field(
        default=6,
        ge=1,
        description="Sync runs, reference refreshes, live vendor lists and imports per account per minute, "
        "each kind counted on its own",
    )
    reconciliation_max_days: int = Field(
        default=93, ge=1, le=366, description="Longest period one reconciliation report or rollback may cover"
    )
    xero_document_cache_seconds: int = Field(
        default=6 * 3600,
        ge=0,
        description="How long Xero's copy of a document is trusted without a webhook saying it changed",
    )
    xero_reads_per_request: int = Field(
        default=40,
        ge=1,
        description="Most Xero calls one report, rollback preview or rollback spends re-reading documents",
    )


class PollingSettings(_Settings):
    poll_interval_seconds: int = Field(default=300, ge=5)
    poll_jitter_seconds: int = Field(default=30, ge=0)
    recent_window_days: int = Field(default=60, ge=1)
    # Summary mode: closed days are summarised once a connection's intake has been quiet this long.
    summary_quiet_seconds: float = Field(default=10, ge=0)
    # A poll a webhook asked for holds the cursor this long before it reads, so the sales of a busy
    # shop's next second share its calls (ONTRAPORT allows an account 180 a minute).
    webhook_gather_seconds: float = Field(
        default=1.0, ge=0, description="A webhook's poll waits this long before reading, so a burst shares it"
    )


class QueueSettings(_Settings):
    model_config = SettingsConfigDict(env_prefix="QUEUE_", extra="ignore")

    prefix: str = Field(default="ledgerbridge", description="Namespaces queue names in a shared Redis")
    relay_interval_seconds: float = 0.2
    redelivery_after_seconds: float = Field(
        default=60.0, description="An unfinished message older than this is re-sent by the sweeper"
    )
    max_tries: int = 8
    pickup_seconds: float = Field(
        default=0.05, gt=0, description="How often a worker with free job slots looks for new jobs"
    )
    job_timeout_seconds: int = Field(
        default=120,
        description="A job running longer is cancelled; a killed worker's job runs again after this",
    )
    health_port: int = Field(default=0, description="Workers' /healthz, /readyz, /metrics port; 0 = off")


class PublisherSettings(_Settings):
    model_config = SettingsConfigDict(env_prefix="PUBLISHER_", extra="ignore")

    stale_sending_seconds: float = Field(
        default=120, description="A document left 'sending' this long (a crashed send) is looked up in Xero"
    )
    gather_seconds: float = Field(
        default=1.0, description="Wait this long before a run so documents mapped in a burst share batches"
    )
    max_run_seconds: float = Field(
        default=45,
        description="A run stops after this and queues a follow-up, so no job outlives its timeout",
    )
    max_jobs: int = Field(
        default=20,
        ge=1,
        description="Jobs one publisher process runs at once. Each organisation's run holds one (and a "
        "database connection) for up to max_run_seconds, so this bounds the organisations one process "
        "publishes to at the same time; the process's database pool is sized to match",
    )
    token_keep_alive_days: float = Field(
        default=7,
        description="Refresh a Xero connection's tokens when unused this long (they expire after 60)",
    )
    sweep_seconds: float = Field(default=15, description="How often waiting organisations are looked for")
    sweep_after_seconds: float = Field(default=30, description="Documents waiting this long get a run queued")
    draft_recheck_seconds: float = Field(
        default=3 * 3600,
        gt=0,
        description="While paid sales sit on DRAFT invoices, an organisation's drafts are read again this "
        "often, in case a webhook saying one was approved was missed",
    )


class AlertsSettings(_Settings):
    """The alerts worker (in the publisher process): coalescing, retries, limits of what it sends."""

    model_config = SettingsConfigDict(env_prefix="ALERTS_", extra="ignore")
    coalesce_seconds: float = Field(
        default=60, ge=0, description="Events of one kind within this window become one alert"
    )
    tick_seconds: float = Field(default=5, gt=0, description="How often the alerts worker looks for work")
    digest_hour_utc: int = Field(
        default=7, ge=0, le=23, description="The daily digest goes out after this hour"
    )
    send_timeout_seconds: float = Field(default=10, gt=0, description="Per SMTP conversation or webhook call")
    max_attempts: int = Field(
        default=20,
        ge=1,
        description="Sends tried (30 s doubling to an hour: about 13 hours) before giving up",
    )


class Settings:
    """All concerns together, read once per process."""

    def __init__(self) -> None:
        self.runtime = RuntimeSettings()
        self.database = DatabaseSettings()
        self.redis = RedisSettings()
        self.xero = XeroSettings()
        self.ontraport = OntraportSettings()
        self.onport = OnportSettings()
        self.security = SecuritySettings()
        self.api = ApiSettings()
        self.polling = PollingSettings()
        self.queue = QueueSettings()
        self.publisher = PublisherSettings()
        self.alerts = AlertsSettings()


@cache
def get_settings() -> Settings:
    return Settings()
