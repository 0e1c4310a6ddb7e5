"""In-memory state of the Onport sandbox: accounts, their data, limits, counters and pushes."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ledgerbridge.sandbox.onport.config import OnportSandboxConfig
from ledgerbridge.sandbox.onport.generator import OnportData
from ledgerbridge.sandbox.ratelimit import Clock, LeakyBucket


@dataclass
class CallCounter:
    calls: int = 0
    throttled: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "throttled": self.throttled, "by_endpoint": dict(self.by_endpoint)}


@dataclass
class Push:
    invoice_id: int
    url: str
    status_code: int | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice_id,
            "url": self.url,
            "status_code": self.status_code,
            "error": self.error,
        }


@dataclass
class AccountingIntegration:
    """The "custom accounting integration": where Onport posts invoices, per purchase type."""

    dropship_url: str | None = None
    replenishment_url: str | None = None
    name: str | None = None

    def as_api(self) -> dict[str, Any]:
        """The record as Onport's /accounting-integrations.json shows it (one per account here)."""
        return {
            "id": 1,
            "name": self.name,
            "dropshipEndpoint": self.dropship_url,
            "replenishmentEndpoint": self.replenishment_url,
            "saleEndpoint": None,
        }

    def url_for(self, purchase_type: str) -> str | None:
        # automated_* purchases belong with their plain kind; adjusted_dropship is a dropship too.
        return self.replenishment_url if purchase_type.endswith("replenishment") else self.dropship_url


class Account:
    def __init__(
        self,
        account_id: int,
        token: str,
        seed: int,
        purchases: int,
        config: OnportSandboxConfig,
        clock: Clock,
    ) -> None:
        self.account_id = account_id
        self.token = token
        self.seed = seed
        self.data = OnportData(seed, config.start_date)
        self.data.seed(purchases)
        self.bucket = LeakyBucket(config.get_per_second, config.write_per_second, config.burst_seconds, clock)
        self.counter = CallCounter()
        self.integration = AccountingIntegration()
        self.pushes: list[Push] = []

    def summary(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "token": self.token,
            "seed": self.seed,
            "counts": {name: len(table) for name, table in self.data.tables.items()},
            "accounting_integration": {
                "dropship_url": self.integration.dropship_url,
                "replenishment_url": self.integration.replenishment_url,
            },
        }


class OnportState:
    def __init__(self, config: OnportSandboxConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.accounts: dict[int, Account] = {}
        self._next_account_id = config.account_id
        self.reset()

    def reset(self) -> None:
        self.accounts.clear()
        self._next_account_id = self.config.account_id
        self.create_account(seed=self.config.seed, purchases=self.config.purchases, token=self.config.token)

    @property
    def demo(self) -> Account:
        return self.accounts[self.config.account_id]

    def create_account(self, *, seed: int, purchases: int, token: str | None = None) -> Account:
        account_id = self._next_account_id
        self._next_account_id += 1
        account = Account(
            account_id, token or secrets.token_urlsafe(24), seed, purchases, self.config, self.clock
        )
        self.accounts[account_id] = account
        return account

    def authenticate(self, authorization: str | None) -> Account | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        for account in self.accounts.values():
            if secrets.compare_digest(account.token, token.strip()):
                return account
        return None
