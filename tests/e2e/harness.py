"""End-to-end harness: the three workers as real processes, the sandboxes on real ports, real PostgreSQL and Redis.

Tenants are provisioned straight into the database (the API's own tests cover doing it through the API);
everything after that happens the production way: a poll message through the outbox, the relay, arq.
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
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.account_settings import AccountOptions, OntraportOptions
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
from ledgerbridge.common.models.records import SUMMARY_KIND
from ledgerbridge.sandbox.xero.state import Organisation

SERVICES = ("poller", "mapper", "publisher")
ENCRYPTION_KEY = Fernet.generate_key().decode()
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


async def summary_settled(
    sessions: async_sessionmaker[AsyncSession], tenant: Tenant, expected_sales: int
) -> bool:
    """Summary mode's ``settled``: every sale stored and final, none still waiting for its day (a
    waiting record is final to ``settled``), and nothing left to send. Summary records are not sales."""
    async with sessions() as session:
        sales = await session.scalar(
            select(func.count()).where(
                SourceRecord.account_id == tenant.account_id, SourceRecord.kind != SUMMARY_KIND
            )
        )
        unfinished = await session.scalar(
            select(func.count()).where(
                SourceRecord.account_id == tenant.account_id,
                unfinished_records() | (SourceRecord.reason_code == ReasonCode.summary_pending.value),
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
    """The organisation's sales documents, in a form two runs can be compared by."""
    invoices = sorted(
        (
            str(invoice["InvoiceNumber"]),
            money(invoice["Total"]),
            str(invoice["Status"]),
            str(invoice.get("CurrencyCode")),
            money(invoice.get("AmountPaid", 0)),
        )
        for invoice in organisation.invoices.values()
        if invoice.get("Type") == "ACCREC"
    )
    payments = sorted(
        (
            str(p.get("Invoice", {}).get("InvoiceNumber")),
            money(p["Amount"]),
            str(p.get("Account", {}).get("Code")),
        )
        for p in organisation.payments.values()
        if p.get("Status") != "DELETED"
    )
    return {"invoices": invoices, "payments": payments, "contacts": len(organisation.contacts)}
