"""In-memory state of the ONTRAPORT sandbox: accounts, their data, webhooks and call counters."""

from __future__ import annotations

import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledgerbridge.sandbox.ontraport import catalog
from ledgerbridge.sandbox.ontraport.amounts import money
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.ontraport.generator import (
    NameVariety,
    TransactionFactory,
    TransactionSpec,
    generate_contacts,
    purchase_records,
    transaction_record,
    worked_examples,
)
from ledgerbridge.sandbox.ratelimit import Clock, FixedWindowLimiter

OBJECT_NAMES = {
    0: "Contact",
    16: "Product",
    17: "Purchase",
    46: "Transaction",
    63: "Tax",
    64: "ShippingMethod",
    70: "Gateway",
    123: "Coupon",
    124: "CouponCode",
    125: "CouponProduct",
}


class UnknownTransactionError(LookupError):
    pass


@dataclass
class WebhookSubscription:
    id: int
    url: str
    event: str
    data: str

    def as_dict(self, owner: int) -> dict[str, str]:
        return {
            "id": str(self.id),
            "url": self.url,
            "event": self.event,
            "data": self.data,
            "owner": str(owner),
        }


@dataclass
class Delivery:
    subscription_id: int
    url: str
    event: str
    payload: dict[str, str]
    status_code: int | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "subscription_id": self.subscription_id,
            "url": self.url,
            "event": self.event,
            "payload": self.payload,
            "status_code": self.status_code,
            "error": self.error,
        }


@dataclass
class CallCounter:
    calls: int = 0
    throttled: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "throttled": self.throttled, "by_endpoint": dict(self.by_endpoint)}


class Account:
    def __init__(
        self,
        account_id: int,
        app_id: str,
        api_key: str,
        seed: int,
        transactions: int,
        contacts: int,
        config: OntraportSandboxConfig,
        clock: Clock,
        names: NameVariety = "varied",
    ) -> None:
        self.account_id = account_id
        self.app_id = app_id
        self.api_key = api_key
        self.seed = seed
        self.limiter = FixedWindowLimiter(config.rate_limit, config.rate_window_seconds, clock)
        self.counter = CallCounter()
        self.contacts = generate_contacts(random.Random(seed), contacts, config.start_date, names)
        self.factory = TransactionFactory(
            seed, self.contacts, config.start_date, config.seconds_between_transactions
        )
        self.specs: dict[int, TransactionSpec] = {}
        # Each spec's Purchase objects, made once: every purchases read (a poll asks for each page)
        # would otherwise build the whole account's again. A spec put again drops its entry.
        self._purchases: dict[int, list[dict[str, str]]] = {}
        self.transactions: dict[int, dict[str, str]] = {}
        self.webhooks: dict[int, WebhookSubscription] = {}
        self.deliveries: list[Delivery] = []
        self._next_webhook_id = 1
        self._reference_date = config.start_date - 90 * 86400
        for spec in worked_examples(config.start_date):
            self.put_spec(spec)
        self.generate(transactions)

    def contact(self, contact_id: int) -> dict[str, str]:
        for contact in self.contacts:
            if contact["id"] == str(contact_id):
                return contact
        return {}

    def put_spec(self, spec: TransactionSpec) -> dict[str, str]:
        self.specs[spec.transaction_id] = spec
        self._purchases.pop(spec.transaction_id, None)
        record = transaction_record(spec, self.contact(spec.contact_id))
        self.transactions[spec.transaction_id] = record
        self.factory.next_id = max(self.factory.next_id, spec.transaction_id + 1)
        return record

    def put_raw(self, record: dict[str, Any]) -> dict[str, str]:
        """Store a record exactly as given (values as strings), for tests that need malformed data."""
        transaction_id = int(record.get("id") or self.factory.next_id)
        stored = {key: value if isinstance(value, str) else str(value) for key, value in record.items()}
        stored["id"] = str(transaction_id)
        self.specs.pop(transaction_id, None)
        self._purchases.pop(transaction_id, None)
        self.transactions[transaction_id] = stored
        self.factory.next_id = max(self.factory.next_id, transaction_id + 1)
        return stored

    def generate(self, count: int) -> list[int]:
        return [int(self.put_spec(self.factory.random_spec())["id"]) for _ in range(count)]

    def set_status(self, transaction_id: int, status: int, refunded: Decimal | None) -> dict[str, str]:
        if transaction_id not in self.transactions:
            raise UnknownTransactionError(transaction_id)
        if status not in range(8):
            raise ValueError(f"status must be 0..7, not {status}")
        spec = self.specs.get(transaction_id)
        if spec is None:
            self.transactions[transaction_id]["status"] = str(status)
            return self.transactions[transaction_id]
        if status == 3:
            original = spec.amounts().total
            already = spec.refunded if spec.status == 3 else Decimal("0.00")
            amount = money(refunded) if refunded is not None else self.factory.partial_refund_amount(spec)
            if amount <= 0 or already + amount >= original:
                raise ValueError(
                    f"a partial refund must be more than 0 and leave something charged "
                    f"(charged {original}, already refunded {already}, asked {amount})"
                )
            spec.refunded = already + amount
        spec.status = status
        return self.put_spec(spec)

    def objects(self, object_id: int) -> list[dict[str, str]]:
        date = self._reference_date
        match object_id:
            case 0:
                return self.contacts
            case 16:
                return catalog.product_objects(date)
            case 17:
                return [record for key in sorted(self.specs) for record in self._purchases_of(key)]
            case 46:
                return [self.transactions[key] for key in sorted(self.transactions)]
            case 63:
                return catalog.tax_objects()
            case 64:
                return catalog.shipping_objects()
            case 70:
                return catalog.GATEWAYS
            case 123:
                return catalog.coupon_objects(date)
            case 124:
                return catalog.coupon_code_objects(date)
            case 125:
                return catalog.coupon_product_objects()
        raise KeyError(object_id)

    def _purchases_of(self, transaction_id: int) -> list[dict[str, str]]:
        made = self._purchases.get(transaction_id)
        if made is None:
            made = self._purchases[transaction_id] = purchase_records(self.specs[transaction_id])
        return made

    def subscribe(self, url: str, event: str, data: str) -> WebhookSubscription:
        subscription = WebhookSubscription(self._next_webhook_id, url, event, data)
        self.webhooks[subscription.id] = subscription
        self._next_webhook_id += 1
        return subscription

    def subscriptions_for(self, event: str, transaction_id: int) -> list[WebhookSubscription]:
        """Subscriptions to ``event`` itself, or to its per-product form for a product on the record."""
        spec = self.specs.get(transaction_id)
        product_events = (
            {f"{event}_with_product({line.product_id})" for line in spec.lines} if spec else set()
        )
        return [s for s in self.webhooks.values() if s.event == event or s.event in product_events]

    def summary(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "app_id": self.app_id,
            "api_key": self.api_key,
            "seed": self.seed,
            "transactions": len(self.transactions),
            "contacts": len(self.contacts),
            "max_transaction_id": max(self.transactions, default=0),
        }


class OntraportState:
    def __init__(self, config: OntraportSandboxConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.accounts: dict[int, Account] = {}
        # By App ID, so a call authenticates in one look-up even with 10,000 accounts (the many-tenants bench).
        self._by_app_id: dict[str, list[Account]] = {}
        self._next_account_id = config.account_id
        self.reset()

    def reset(self) -> None:
        self.accounts.clear()
        self._by_app_id.clear()
        self._next_account_id = self.config.account_id
        self.create_account(
            seed=self.config.seed,
            transactions=self.config.transactions,
            contacts=self.config.contacts,
            app_id=self.config.app_id,
            api_key=self.config.api_key,
        )

    @property
    def demo(self) -> Account:
        return self.accounts[self.config.account_id]

    def create_account(
        self,
        *,
        seed: int,
        transactions: int,
        contacts: int,
        app_id: str | None = None,
        api_key: str | None = None,
        names: NameVariety = "varied",
    ) -> Account:
        account_id = self._next_account_id
        self._next_account_id += 1
        account = Account(
            account_id=account_id,
            app_id=app_id or f"app-{account_id}-{secrets.token_hex(4)}",
            api_key=api_key or secrets.token_urlsafe(18),
            seed=seed,
            transactions=transactions,
            contacts=contacts,
            config=self.config,
            clock=self.clock,
            names=names,
        )
        self.accounts[account_id] = account
        self._by_app_id.setdefault(account.app_id, []).append(account)
        return account

    def authenticate(self, app_id: str | None, api_key: str | None) -> Account | None:
        if not app_id or not api_key:
            return None
        for account in self._by_app_id.get(app_id, []):
            if secrets.compare_digest(account.api_key, api_key):
                return account
        return None
