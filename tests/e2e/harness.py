"""End-to-end harness: the three workers as real processes, the sandboxes on real ports, real PostgreSQL and Redis.

ONTRAPORT tenants are provisioned straight into the database (the API's own tests cover doing it through
the API), Onport tenants sign up through the API; everything after that happens the production way: a
poll message through the outbox, the relay, arq. ``xero_books`` is what two runs are compared by.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.account_settings import AccountOptions, OnportOptions, OntraportOptions
from ledgerbridge.common.clients.xero import TokenSet
from ledgerbridge.common.crypto import Cipher, webhook_token_hash
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.messages import PollConnection
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import (
    Account,
    AccountSettings,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Document,
    DocumentStatus,
    Mapping,
    MappingKind,
    Plan,
    PollCursor,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.models.records import SUMMARY_KINDS
from ledgerbridge.sandbox.xero.state import Organisation

SERVICES = ("poller", "mapper", "publisher")
ENCRYPTION_KEY = Fernet.generate_key().decode()
SECRET_KEY = "e2e-secret"
"""The workers' and the API's ``SECRET_KEY``: what a test signs its own access tokens with."""
XERO_WEBHOOK_KEY = "e2e-xero-webhook-key"
"""The API's Xero webhook key: what the Xero sandbox signs the webhooks a test registers with."""
# Gateway id → (currency, clearing account) in the sandbox's AU organisation.
GATEWAYS = {1: ("USD", "616"), 2: ("GBP", "618"), 3: ("AUD", "615")}
FINAL = (RecordStatus.synced, RecordStatus.skipped, RecordStatus.failed, RecordStatus.waiting)


@dataclass
class Sandboxes:
    xero: FastAPI
    xero_url: str
    ontraport: FastAPI
    ontraport_url: str
    onport: FastAPI
    onport_url: str

    def organisation(self, tenant_id: str) -> Organisation:
        organisation: Organisation = self.xero.state.sandbox.orgs[tenant_id]
        return organisation

    def transactions(self, account_id: int) -> dict[int, dict[str, str]]:
        found: dict[int, dict[str, str]] = self.ontraport.state.sandbox.accounts[account_id].transactions
        return found


@dataclass
class Stack:
    """The workers as separate processes, which a test may kill and restart at will."""

    env: dict[str, str]
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, service: str) -> None:
        log = (self.log_dir / f"{service}.log").open("ab")
        self.processes[service] = subprocess.Popen(
            [sys.executable, "-m", "ledgerbridge.cli.main", "worker", service],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self, service: str) -> None:
        process = self.processes.pop(service)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for service, process in list(self.processes.items()):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            del self.processes[service]

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-3000:]}" for path in sorted(self.log_dir.glob("*.log"))
        )


@dataclass
class Tenant:
    account_id: uuid.UUID
    xero_connection_id: uuid.UUID
    ontraport_connection_id: uuid.UUID
    tenant_id: str
    ontraport_account_id: int
    branding_theme_id: str


async def provision(
    sessions: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    *,
    seed: int,
    transactions: int,
    start: bool = True,
    history: bool = True,
) -> Tenant:
    """A tenant as the setup leaves it: both connections, mappings for every gateway and tax, paid plan."""
    async with httpx.AsyncClient() as http:
        organisation = (
            await http.post(
                f"{sandboxes.xero_url}/_sandbox/organisations",
                json={"country": "AU", "connect_client_id": "sandbox-client"},
            )
        ).json()
        tenant_id = organisation["tenantId"]
        tokens = (
            await http.post(f"{sandboxes.xero_url}/_sandbox/tokens", json={"tenant_ids": [tenant_id]})
        ).json()
        ontraport = (
            await http.post(
                f"{sandboxes.ontraport_url}/_sandbox/accounts",
                json={"seed": seed, "transactions": transactions, "contacts": 60},
            )
        ).json()
    branding_theme_id = next(iter(sandboxes.organisation(tenant_id).branding_themes))
    cipher = Cipher([ENCRYPTION_KEY])
    token_set = TokenSet.from_response(tokens, time.time())
    async with unit_of_work(sessions) as session:
        account = Account(company=f"E2E {seed}", plan=Plan.pro)
        session.add(account)
        await session.flush()
        options = AccountOptions(
            ontraport=OntraportOptions(
                default_sales_account="200",
                default_coupon_account="220",
                default_shipping_account="210",
                tax_free_code="EXEMPTOUTPUT",
            )
        )
        session.add(AccountSettings(account_id=account.id, values=options.model_dump()))
        xero = Connection(
            account_id=account.id,
            kind=ConnectionKind.xero,
            status=ConnectionStatus.active,
            credentials=cipher.encrypt_json(token_set.to_credentials()),
            xero_tenant_id=tenant_id,
            token_expires_at=token_set.expires_at_datetime,
        )
        session.add(xero)
        await session.flush()
        source = Connection(
            account_id=account.id,
            kind=ConnectionKind.ontraport,
            status=ConnectionStatus.active,
            credentials=cipher.encrypt_json({"app_id": ontraport["app_id"], "api_key": ontraport["api_key"]}),
            xero_connection_id=xero.id,
            webhook_token=webhook_token_hash(secrets.token_urlsafe(32)),
        )
        session.add(source)
        await session.flush()
        # Without history the first poll starts from the latest sale, as for a newly connected account.
        session.add(
            PollCursor(
                connection_id=source.id, stream="transactions", high_water_mark="0" if history else None
            )
        )
        targets: list[tuple[MappingKind, str, dict[str, Any]]] = [
            (MappingKind.product, "1", {"account_code": "200", "item_code": "PRO-COURSE"}),
            *((MappingKind.tax, str(tax), {"tax_type": "OUTPUT"}) for tax in (1, 2, 3)),
            *(
                (
                    MappingKind.gateway,
                    str(gateway),
                    {
                        "currency_code": currency,
                        "branding_theme_id": branding_theme_id,
                        "payment_account_code": code,
                    },
                )
                for gateway, (currency, code) in GATEWAYS.items()
            ),
        ]
        session.add_all(
            Mapping(account_id=account.id, kind=kind, source_id=source_id, target=target)
            for kind, source_id, target in targets
        )
        if start:
            await add_message(session, PollConnection(connection_id=source.id, reason="import"), account.id)
    return Tenant(account.id, xero.id, source.id, tenant_id, int(ontraport["account_id"]), branding_theme_id)


async def add_sales(sandboxes: Sandboxes, tenant: Tenant, records: list[dict[str, Any]]) -> list[int]:
    """New transactions in the tenant's ONTRAPORT sandbox account: their ids."""
    async with httpx.AsyncClient(base_url=sandboxes.ontraport_url) as http:
        response = await http.post(
            f"/_sandbox/accounts/{tenant.ontraport_account_id}/transactions", json={"records": records}
        )
        assert response.status_code == 200, response.text
        ids: list[int] = response.json()["ids"]
        return ids


def noon(day: date) -> int:
    """A sale's ``date`` (epoch seconds): noon UTC of ``day``."""
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp())


async def set_ontraport_options(
    sessions: async_sessionmaker[AsyncSession], tenant: Tenant, **changes: Any
) -> None:
    async with unit_of_work(sessions) as session:
        row = await session.get(AccountSettings, tenant.account_id)
        assert row is not None
        options = AccountOptions.model_validate(row.values)
        ontraport = options.ontraport.model_copy(update=changes)
        row.values = options.model_copy(update={"ontraport": ontraport}).model_dump()


async def ontraport_records(
    sessions: async_sessionmaker[AsyncSession], tenant: Tenant
) -> dict[int, SourceRecord]:
    """The tenant's records by transaction id."""
    async with sessions() as session:
        rows = await session.scalars(select(SourceRecord).where(SourceRecord.account_id == tenant.account_id))
        return {int(record.external_id): record for record in rows.all()}


def sale_invoice(sandboxes: Sandboxes, tenant: Tenant, transaction_id: int) -> dict[str, Any]:
    """The sale's own invoice in the tenant's organisation."""
    organisation = sandboxes.organisation(tenant.tenant_id)
    return next(i for i in organisation.invoices.values() if i["InvoiceNumber"] == f"OP-{transaction_id}")


async def xero_webhooks(sandboxes: Sandboxes, url: str | None) -> None:
    """Have the Xero sandbox send its webhooks to ``url`` (None: send none), signed with
    :data:`XERO_WEBHOOK_KEY`."""
    async with httpx.AsyncClient(base_url=sandboxes.xero_url) as control:
        registered = await control.post("/_sandbox/webhooks", json={"url": url, "key": XERO_WEBHOOK_KEY})
        assert registered.status_code == 200, registered.text


async def xero_by_hand(sandboxes: Sandboxes, tenant: Tenant) -> httpx.AsyncClient:
    """A person working in the organisation through Xero's own API (what "by hand" means here)."""
    async with httpx.AsyncClient() as http:
        tokens = (
            await http.post(f"{sandboxes.xero_url}/_sandbox/tokens", json={"tenant_ids": [tenant.tenant_id]})
        ).json()
    return httpx.AsyncClient(
        base_url=f"{sandboxes.xero_url}/api.xro/2.0",
        headers={"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": tenant.tenant_id},
    )


async def poll_now(sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> None:
    async with unit_of_work(sessions) as session:
        await add_message(
            session,
            PollConnection(connection_id=tenant.ontraport_connection_id, reason="sync_now"),
            tenant.account_id,
        )


def unfinished_records() -> ColumnElement[bool]:
    """Records still on their way: not in a final state, or waiting only for Xero's reference data."""
    return or_(
        SourceRecord.status.not_in(FINAL),
        and_(
            SourceRecord.status == RecordStatus.waiting, SourceRecord.reason_code == ReasonCode.xero_reference
        ),
    )


async def settled(sessions: async_sessionmaker[AsyncSession], tenant: Tenant, expected_records: int) -> bool:
    """Every source record stored and in a final state, and nothing left to send."""
    async with sessions() as session:
        records = await session.scalar(
            select(func.count()).where(SourceRecord.account_id == tenant.account_id)
        )
        unfinished = await session.scalar(
            select(func.count()).where(SourceRecord.account_id == tenant.account_id, unfinished_records())
        )
        unsent = await session.scalar(
            select(func.count()).where(
                Document.account_id == tenant.account_id,
                Document.status.in_((DocumentStatus.pending, DocumentStatus.sending)),
            )
        )
    return records == expected_records and unfinished == 0 and unsent == 0


def all_settled(
    sessions: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, tenant: Tenant
) -> Callable[[], Awaitable[bool]]:
    """``settled`` for every transaction the tenant's ONTRAPORT account has now."""
    count = len(sandboxes.transactions(tenant.ontraport_account_id))
    return lambda: settled(sessions, tenant, count)


async def summary_settled(
    sessions: async_sessionmaker[AsyncSession], tenant: Tenant, expected_sales: int
) -> bool:
    """Summary mode's ``settled``: every sale stored and final, none still waiting for its day (a
    waiting record is final to ``settled``), and nothing left to send. Summary records are not sales."""
    async with sessions() as session:
        sales = await session.scalar(
            select(func.count()).where(
                SourceRecord.account_id == tenant.account_id, SourceRecord.kind.not_in(SUMMARY_KINDS)
            )
        )
        unfinished = await session.scalar(
            select(func.count()).where(
                SourceRecord.account_id == tenant.account_id,
                unfinished_records()
                | SourceRecord.reason_code.in_(
                    (ReasonCode.summary_pending.value, ReasonCode.refund_summary_pending.value)
                ),
            )
        )
        unsent = await session.scalar(
            select(func.count()).where(
                Document.account_id == tenant.account_id,
                Document.status.in_((DocumentStatus.pending, DocumentStatus.sending)),
            )
        )
    return sales == expected_sales and unfinished == 0 and unsent == 0


async def wait_for(check: Callable[[], Awaitable[bool]], seconds: float, stack: Stack, what: str) -> None:
    try:
        async with asyncio.timeout(seconds):
            while not await check():
                await asyncio.sleep(0.5)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}\n{stack.logs()}") from None


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def xero_books(organisation: Organisation) -> dict[str, Any]:
    """The organisation's documents (invoices and bills, payments and refunds, credit notes), in a form
    two runs can be compared by."""
    invoices = sorted(
        (
            str(invoice.get("Type")),
            str(invoice["InvoiceNumber"]),
            money(invoice["Total"]),
            str(invoice["Status"]),
            str(invoice.get("CurrencyCode")),
            money(invoice.get("AmountPaid", 0)),
            money(invoice.get("AmountCredited", 0)),
        )
        for invoice in organisation.invoices.values()
    )
    payments = sorted(
        (
            str(p.get("Invoice", {}).get("InvoiceNumber") or p.get("CreditNote", {}).get("CreditNoteNumber")),
            money(p["Amount"]),
            str(p.get("Account", {}).get("Code")),
            str(p.get("Status")),
        )
        for p in organisation.payments.values()
    )
    credit_notes = sorted(
        (
            str(note["CreditNoteNumber"]),
            money(note["Total"]),
            str(note["Status"]),
            money(note.get("RemainingCredit", 0)),
        )
        for note in organisation.credit_notes.values()
    )
    return {
        "invoices": invoices,
        "payments": payments,
        "credit_notes": credit_notes,
        "contacts": len(organisation.contacts),
    }


# -- Onport ------------------------------------------------------------------------------------

PAYOUT_ACCOUNT = "617"
DROPSHIP = ("dropship", "automated_dropship")


@dataclass
class OnportTenant:
    account_id: uuid.UUID
    token: str
    onport_connection_id: uuid.UUID
    onport_account_id: int
    webhook_token: str
    org_for_bills: str
    other_org: str


async def sign_up(http: httpx.AsyncClient, company: str) -> tuple[str, uuid.UUID]:
    """A new account through the API (``http`` is based at it): its bearer token and account id."""
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse battery"
    signed_up = await http.post(
        "/v1/auth/signup", json={"email": email, "password": password, "company": company}
    )
    assert signed_up.status_code == 201, signed_up.text
    token = (await http.post("/v1/auth/token", data={"username": email, "password": password})).json()[
        "access_token"
    ]
    me = (await http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
    return str(token), uuid.UUID(me["account_id"])


def xero_connection(account_id: uuid.UUID, tenant_id: str, tokens: TokenSet) -> Connection:
    """A connected Xero organisation, as the OAuth callback leaves it."""
    return Connection(
        account_id=account_id,
        kind=ConnectionKind.xero,
        status=ConnectionStatus.active,
        credentials=Cipher([ENCRYPTION_KEY]).encrypt_json(tokens.to_credentials()),
        xero_tenant_id=tenant_id,
        token_expires_at=tokens.expires_at_datetime,
    )


async def xero_organisation(http: httpx.AsyncClient, sandboxes: Sandboxes) -> tuple[str, TokenSet]:
    tenant_id = (
        await http.post(
            f"{sandboxes.xero_url}/_sandbox/organisations",
            json={"country": "AU", "connect_client_id": "sandbox-client"},
        )
    ).json()["tenantId"]
    tokens = (
        await http.post(f"{sandboxes.xero_url}/_sandbox/tokens", json={"tenant_ids": [tenant_id]})
    ).json()
    return tenant_id, TokenSet.from_response(tokens, time.time())


async def provision_onport(
    sessions: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    api_url: str,
    *,
    seed: int,
    mark: str = "2000-01-01T00:00:00.000Z",
) -> OnportTenant:
    """Sign up through the API; two Xero organisations; Onport posting to the second; dropship synced automatically."""
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        token, account_id = await sign_up(http, "Marketplace")
        other_org, other_tokens = await xero_organisation(http, sandboxes)
        bills_org, bills_tokens = await xero_organisation(http, sandboxes)
        onport = (
            await http.post(f"{sandboxes.onport_url}/_sandbox/accounts", json={"seed": seed, "purchases": 10})
        ).json()
    vendors = onport_vendors(sandboxes, onport["account_id"])
    supplier = next(
        c for c in sandboxes.organisation(bills_org).contacts.values() if c.get("ContactNumber") == "VEND-1"
    )
    cipher = Cipher([ENCRYPTION_KEY])
    webhook_token = secrets.token_urlsafe(32)
    async with unit_of_work(sessions) as session:
        connections = []
        for tenant_id, tokens in ((other_org, other_tokens), (bills_org, bills_tokens)):
            xero = xero_connection(account_id, tenant_id, tokens)
            session.add(xero)
            connections.append(xero)
        await session.flush()
        source = Connection(
            account_id=account_id,
            kind=ConnectionKind.onport,
            status=ConnectionStatus.active,
            credentials=cipher.encrypt_json({"api_token": onport["token"]}),
            xero_connection_id=connections[1].id,
            webhook_token=webhook_token_hash(webhook_token),
        )
        session.add(source)
        await session.flush()
        session.add(
            PollCursor(
                connection_id=source.id,
                stream="purchase_invoices",
                high_water_mark=mark,
            )
        )
        options = AccountOptions(
            onport=OnportOptions(
                auto_sync_dropship=True,
                sync_adjustments=True,
                default_purchases_account="300",
                shipping_account="425",
                adjustment_account="429",
                default_tax_code="INPUT",
                tax_free_code="EXEMPTEXPENSES",
                payout_accounts={currency: PAYOUT_ACCOUNT for currency in ("AUD", "USD", "GBP")},
            )
        )
        existing = await session.get(AccountSettings, account_id)
        if existing is None:
            session.add(AccountSettings(account_id=account_id, values=options.model_dump()))
        else:
            existing.values = options.model_dump()
        mappings = [
            (MappingKind.vendor, str(vendor), {"contact_id": supplier["ContactID"]}) for vendor in vendors
        ] + [
            (MappingKind.purchase_type, kind, {"account_code": "320" if "dropship" in kind else "310"})
            for kind in ("dropship", "automated_dropship", "replenishment", "automated_replenishment")
        ]
        session.add_all(Mapping(account_id=account_id, kind=k, source_id=s, target=t) for k, s, t in mappings)
        await add_message(session, PollConnection(connection_id=source.id, reason="sync_now"), account_id)
    return OnportTenant(
        account_id, token, source.id, int(onport["account_id"]), webhook_token, bills_org, other_org
    )


def onport_vendors(sandboxes: Sandboxes, account_id: int) -> list[int]:
    return [int(vendor_id) for vendor_id in onport_table(sandboxes, account_id, "dropship-providers")]


def onport_data(sandboxes: Sandboxes, account_id: int) -> Any:
    """The sandbox account's ``OnportData`` (its own figures, e.g. ``amounts``, which Onport never serves)."""
    return sandboxes.onport.state.sandbox.accounts[account_id].data


def onport_table(sandboxes: Sandboxes, account_id: int, name: str) -> dict[Any, dict[str, Any]]:
    app = sandboxes.onport
    table: dict[Any, dict[str, Any]] = app.state.sandbox.accounts[account_id].data.tables[name]
    return table


async def onport_records(
    sessions: async_sessionmaker[AsyncSession], tenant: OnportTenant
) -> dict[str, SourceRecord]:
    async with sessions() as session:
        rows = await session.scalars(select(SourceRecord).where(SourceRecord.account_id == tenant.account_id))
        return {record.external_id: record for record in rows.all()}


async def onport_settled(
    sessions: async_sessionmaker[AsyncSession], tenant: OnportTenant, expected: int
) -> bool:
    async with sessions() as session:
        records = await session.scalar(
            select(func.count()).where(SourceRecord.account_id == tenant.account_id)
        )
        unfinished = await session.scalar(
            select(func.count()).where(SourceRecord.account_id == tenant.account_id, unfinished_records())
        )
        unsent = await session.scalar(
            select(func.count()).where(
                Document.account_id == tenant.account_id,
                Document.status.in_((DocumentStatus.pending, DocumentStatus.sending)),
            )
        )
    return (records or 0) >= expected and unfinished == 0 and unsent == 0


def bills(sandboxes: Sandboxes, tenant_id: str) -> list[dict[str, Any]]:
    return [i for i in sandboxes.organisation(tenant_id).invoices.values() if i.get("Type") == "ACCPAY"]


async def poll_onport_until(
    committing: async_sessionmaker[AsyncSession],
    tenant: OnportTenant,
    stack: Stack,
    what: str,
    done: Any,
) -> None:
    """Ask for a poll on every check (the change is in Onport; the next scheduled poll is minutes away)."""

    async def check() -> bool:
        async with unit_of_work(committing) as session:
            await add_message(
                session,
                PollConnection(connection_id=tenant.onport_connection_id, reason="sync_now"),
                tenant.account_id,
            )
        return bool(done())

    await wait_for(check, 120, stack, what)
