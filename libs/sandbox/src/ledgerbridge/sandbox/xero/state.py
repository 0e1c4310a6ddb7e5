"""In-memory state of the sandbox: organisations with their books, OAuth grants, counters.

Everything is mutated from the event loop only and no mutation awaits halfway, so no locks are needed.
Documents are kept as dicts in Xero's JSON shape; keys starting with ``_`` are internal and stripped
before anything leaves the sandbox.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from ledgerbridge.sandbox.xero.faults import FaultPlan
from ledgerbridge.sandbox.xero.idempotency import IdempotencyStore
from ledgerbridge.sandbox.xero.limits import OrgLimits, RollingWindow
from ledgerbridge.sandbox.xero.webhooks import WebhookHub

Document = dict[str, Any]


@dataclass
class OrgCounters:
    calls: int = 0
    rate_limited: int = 0
    faults: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "rate_limited": self.rate_limited,
            "faults": self.faults,
            "by_endpoint": dict(self.by_endpoint),
        }


@dataclass
class Organisation:
    tenant_id: str
    name: str
    country: str
    base_currency: str
    is_demo: bool
    organisation: Document
    accounts: dict[str, Document]
    tax_rates: dict[str, Document]
    branding_themes: dict[str, Document]
    currencies: dict[str, Document]
    contacts: dict[str, Document]
    items: dict[str, Document]
    limits: OrgLimits
    faults: FaultPlan
    invoices: dict[str, Document] = field(default_factory=dict)
    credit_notes: dict[str, Document] = field(default_factory=dict)
    payments: dict[str, Document] = field(default_factory=dict)
    tracking_categories: dict[str, Document] = field(default_factory=dict)
    """TrackingCategoryID → category with its ``Options`` (each with Status), as Xero describes them."""
    sequences: Counter[str] = field(default_factory=Counter)
    counters: OrgCounters = field(default_factory=OrgCounters)

    def account_by_code(self, code: str) -> Document | None:
        for account in self.accounts.values():
            if account.get("Code") == code:
                return account
        return None

    def collection(self, name: str) -> dict[str, Document]:
        collections: dict[str, dict[str, Document]] = {
            "contacts": self.contacts,
            "invoices": self.invoices,
            "credit_notes": self.credit_notes,
            "payments": self.payments,
            "items": self.items,
        }
        return collections[name]


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    tenant_ids: list[str]
    auth_event_id: str
    expires_at: float
    used: bool = False


@dataclass
class RefreshTokenRecord:
    token: str
    client_id: str
    scope: str
    family: str
    issued_at: float
    expires_at: float
    used_at: float | None = None
    child: str | None = None
    revoked: bool = False


@dataclass
class AccessTokenRecord:
    token: str
    client_id: str
    scope: str
    family: str
    expires_at: float
    revoked: bool = False

    @property
    def scopes(self) -> set[str]:
        return set(self.scope.split())


@dataclass
class Connection:
    id: str
    client_id: str
    tenant_id: str
    auth_event_id: str
    created: float
    updated: float


class SandboxState:
    def __init__(self, config: XeroSandboxConfig) -> None:
        self.config = config
        self.webhooks = WebhookHub(config)
        self.reset()

    def reset(self) -> None:
        # Imported here because seeding builds organisations out of this module's classes.
        from ledgerbridge.sandbox.xero.seed import seed_demo_organisations

        config = self.config
        self.clock_offset = 0.0
        self.orgs: dict[str, Organisation] = {}
        self.demo_tenant_ids: list[str] = []
        self.codes: dict[str, AuthorizationCode] = {}
        self.refresh_tokens: dict[str, RefreshTokenRecord] = {}
        self.access_tokens: dict[str, AccessTokenRecord] = {}
        self.connections: dict[str, Connection] = {}
        self.next_consent_tenant_ids: list[str] | None = None
        self.refresh_counts: Counter[str] = Counter()
        self.tokens_issued: Counter[str] = Counter()
        self.app_minute = RollingWindow(config.app_minute_limit, config.app_minute_window_seconds)
        self.rate_limited_total = 0
        self.idempotency = IdempotencyStore(config.idempotency_retention_seconds)
        self.latency_ms = config.latency_ms
        self.latency_jitter_ms = config.latency_jitter_ms
        self.webhooks.reset()
        if config.seed_demo_organisations:
            for org in seed_demo_organisations(self):
                self.orgs[org.tenant_id] = org
                self.demo_tenant_ids.append(org.tenant_id)

    def now(self) -> float:
        return time.time() + self.clock_offset

    def new_org_limits(self) -> OrgLimits:
        config = self.config
        return OrgLimits(
            minute=RollingWindow(config.minute_limit, config.minute_window_seconds),
            day=RollingWindow(config.day_limit, config.day_window_seconds),
            concurrent_limit=config.concurrent_limit,
        )

    def new_fault_plan(self) -> FaultPlan:
        config = self.config
        return FaultPlan(
            seed=config.fault_seed,
            rate_429=config.fault_rate_429,
            rate_5xx=config.fault_rate_5xx,
            rate_slow=config.fault_rate_slow,
            rate_lost_response=config.fault_rate_lost_response,
            slow_seconds=config.fault_slow_seconds,
            lost_response_mode=config.fault_lost_response_mode,
            hang_seconds=config.fault_hang_seconds,
        )

    def active_connections(self, client_id: str) -> list[Connection]:
        return [
            connection
            for connection in self.connections.values()
            if connection.client_id == client_id and connection.tenant_id in self.orgs
        ]

    def connect(self, client_id: str, tenant_id: str, auth_event_id: str) -> Connection:
        now = self.now()
        for connection in self.connections.values():
            if connection.client_id == client_id and connection.tenant_id == tenant_id:
                connection.updated = now
                connection.auth_event_id = auth_event_id
                return connection
        connection = Connection(str(uuid.uuid4()), client_id, tenant_id, auth_event_id, now, now)
        self.connections[connection.id] = connection
        return connection

    def counters(self) -> dict[str, Any]:
        return {
            "organisations": {
                tenant_id: {"name": org.name, **org.counters.snapshot()}
                for tenant_id, org in self.orgs.items()
            },
            "refreshes": dict(self.refresh_counts),
            "tokens_issued": dict(self.tokens_issued),
            "rate_limited_total": self.rate_limited_total,
            "calls_total": sum(org.counters.calls for org in self.orgs.values()),
            "webhook_deliveries": len(self.webhooks.deliveries),
        }
