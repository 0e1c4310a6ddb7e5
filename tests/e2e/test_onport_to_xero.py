"""Onport → Xero through the API and all three services (SPEC.md §5)."""

from __future__ import annotations

import secrets
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.api.app import create_app
from ledgerbridge.cli.sandboxes import sandbox_environment
from ledgerbridge.common.account_settings import AccountOptions, OnportOptions
from ledgerbridge.common.clients.xero import TokenSet
from ledgerbridge.common.crypto import Cipher, webhook_token_hash
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.messages import PollConnection
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import (
    AccountSettings,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Document,
    DocumentKind,
    DocumentStatus,
    Mapping,
    MappingKind,
    PollCursor,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.settings import Settings
from ledgerbridge.sandbox.server import serve_in_thread
from tests.e2e.harness import ENCRYPTION_KEY, Sandboxes, Stack, money, unfinished_records, wait_for

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


@pytest.fixture
def api_url(settings: Settings, sandboxes: Sandboxes, queue_prefix: str) -> Iterator[str]:
    for name, value in sandbox_environment(
        sandboxes.xero_url, sandboxes.ontraport_url, sandboxes.onport_url
    ).items():
        group, _, field = name.lower().partition("_")
        setattr(getattr(settings, group), field, value)
    settings.security.encryption_keys = SecretStr(ENCRYPTION_KEY)
    settings.security.secret_key = SecretStr("e2e-secret")
    with serve_in_thread(create_app(settings)) as url:
        yield url


async def _organisation(http: httpx.AsyncClient, sandboxes: Sandboxes) -> tuple[str, TokenSet]:
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


async def provision(
    sessions: async_sessionmaker[AsyncSession],
    sandboxes: Sandboxes,
    api_url: str,
    *,
    seed: int,
    mark: str = "2000-01-01T00:00:00.000Z",
) -> OnportTenant:
    """Sign up through the API; two Xero organisations; Onport posting to the second; dropship synced automatically."""
    email = f"onport-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        assert (
            await http.post(
                "/v1/auth/signup",
                json={"email": email, "password": "correct horse battery", "company": "Marketplace"},
            )
        ).status_code == 201
        token = (
            await http.post("/v1/auth/token", data={"username": email, "password": "correct horse battery"})
        ).json()["access_token"]
        account_id = uuid.UUID(
            (await http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})).json()["account_id"]
        )
        other_org, other_tokens = await _organisation(http, sandboxes)
        bills_org, bills_tokens = await _organisation(http, sandboxes)
        onport = (
            await http.post(f"{sandboxes.onport_url}/_sandbox/accounts", json={"seed": seed, "purchases": 10})
        ).json()
    vendors = sandboxes_onport_vendors(sandboxes, onport["account_id"])
    supplier = next(
        c for c in sandboxes.organisation(bills_org).contacts.values() if c.get("ContactNumber") == "VEND-1"
    )
    cipher = Cipher([ENCRYPTION_KEY])
    webhook_token = secrets.token_urlsafe(32)
    async with unit_of_work(sessions) as session:
        connections = []
        for tenant_id, tokens in ((other_org, other_tokens), (bills_org, bills_tokens)):
            xero = Connection(
                account_id=account_id,
                kind=ConnectionKind.xero,
                status=ConnectionStatus.active,
                credentials=cipher.encrypt_json(tokens.to_credentials()),
                xero_tenant_id=tenant_id,
            )
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


def sandboxes_onport_vendors(sandboxes: Sandboxes, account_id: int) -> list[int]:
    return [int(vendor_id) for vendor_id in onport_table(sandboxes, account_id, "dropship-providers")]


def onport_data(sandboxes: Sandboxes, account_id: int) -> Any:
    """The sandbox account's ``OnportData`` (its own figures, e.g. ``amounts``, which Onport never serves)."""
    return sandboxes.onport.state.sandbox.accounts[account_id].data


def onport_table(sandboxes: Sandboxes, account_id: int, name: str) -> dict[Any, dict[str, Any]]:
    app = sandboxes.onport
    table: dict[Any, dict[str, Any]] = app.state.sandbox.accounts[account_id].data.tables[name]
    return table


async def _records(
    sessions: async_sessionmaker[AsyncSession], tenant: OnportTenant
) -> dict[str, SourceRecord]:
    async with sessions() as session:
        rows = await session.scalars(select(SourceRecord).where(SourceRecord.account_id == tenant.account_id))
        return {record.external_id: record for record in rows.all()}


async def _quiet(sessions: async_sessionmaker[AsyncSession], tenant: OnportTenant, expected: int) -> bool:
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


async def test_dropship_bills_sync_automatically_replenishment_on_demand_pushes_and_payouts(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack, api_url: str
) -> None:
    tenant = await provision(committing, sandboxes, api_url, seed=31)
    invoices = onport_table(sandboxes, tenant.onport_account_id, "purchase-invoices")
    purchases = onport_table(sandboxes, tenant.onport_account_id, "purchases")

    def purchase_type(invoice: dict[str, Any]) -> str:
        return str(purchases[invoice["purchaseId"]]["purchaseType"])

    await wait_for(lambda: _quiet(committing, tenant, len(invoices)), 180, stack, "the Onport sync to settle")
    records = await _records(committing, tenant)
    made = bills(sandboxes, tenant.org_for_bills)
    assert bills(sandboxes, tenant.other_org) == []  # bills land only in the organisation Onport posts to
    by_number = Counter(bill["InvoiceNumber"] for bill in made)
    assert all(count == 1 for count in by_number.values())
    for invoice_id, invoice in invoices.items():
        record = records[str(invoice_id)]
        if purchase_type(invoice) in DROPSHIP:
            assert record.status is RecordStatus.synced, (record.status, record.reason)
            bill = next(b for b in made if b["InvoiceNumber"] == invoice["reference"])
            assert (
                money(bill["Total"])
                == onport_data(sandboxes, tenant.onport_account_id).amounts[invoice_id].total
            )
        else:
            assert (record.status, record.reason_code) == (RecordStatus.waiting, "manual_sync")
            assert invoice["reference"] not in by_number

    # "Sync to Xero" on one replenishment invoice answers with its Xero link once published.
    headers = {"Authorization": f"Bearer {tenant.token}"}
    waiting = next(r for r in records.values() if r.status is RecordStatus.waiting)
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as http:
        assert (await http.post(f"/v1/onport/invoices/{waiting.id}/sync")).status_code == 202

        async def linked() -> bool:
            answer = (await http.post(f"/v1/onport/invoices/{waiting.id}/sync")).json()
            return bool(answer.get("xero", {}) and answer["xero"].get("url"))

        await wait_for(linked, 90, stack, "the manual sync to reach Xero")
    invoice = invoices[int(waiting.external_id)]
    assert any(b["InvoiceNumber"] == invoice["reference"] for b in bills(sandboxes, tenant.org_for_bills))

    # A vendor payout becomes a payment on the bill, from the payout account.
    paid_invoice_id, paid_invoice = next(
        (i, inv)
        for i, inv in invoices.items()
        if purchase_type(inv) in DROPSHIP and Decimal(str(inv.get("paid", 0) or 0)) == 0
    )
    async with httpx.AsyncClient(base_url=sandboxes.onport_url, timeout=30) as http:
        response = await http.post(
            f"/_sandbox/accounts/{tenant.onport_account_id}/purchase-invoices/{paid_invoice_id}/payments",
            json={},
        )
        assert response.status_code == 200, response.text
    bill = next(
        b for b in bills(sandboxes, tenant.org_for_bills) if b["InvoiceNumber"] == paid_invoice["reference"]
    )

    async def paid() -> bool:
        async with unit_of_work(committing) as session:
            await add_message(
                session,
                PollConnection(connection_id=tenant.onport_connection_id, reason="sync_now"),
                tenant.account_id,
            )
        return any(
            p.get("Invoice", {}).get("InvoiceID") == bill["InvoiceID"]
            for p in sandboxes.organisation(tenant.org_for_bills).payments.values()
        )

    await wait_for(paid, 90, stack, "the payout to become a bill payment")
    payment = next(
        p
        for p in sandboxes.organisation(tenant.org_for_bills).payments.values()
        if p.get("Invoice", {}).get("InvoiceID") == bill["InvoiceID"]
    )
    assert payment["Account"]["Code"] == PAYOUT_ACCOUNT

    # A pushed invoice ("custom accounting integration") arrives through our webhook and becomes a bill.
    push_url = f"{api_url}/webhooks/onport/{tenant.webhook_token}"
    async with httpx.AsyncClient(base_url=sandboxes.onport_url, timeout=30) as http:
        await http.put(
            f"/_sandbox/accounts/{tenant.onport_account_id}/accounting-integration",
            json={"dropship_url": f"{push_url}/dropship", "replenishment_url": f"{push_url}/replenishment"},
        )
        pushed = (
            await http.post(
                f"/_sandbox/accounts/{tenant.onport_account_id}/purchase-invoices",
                json={"count": 1, "push": True},
            )
        ).json()
    assert [p["status_code"] for p in pushed["pushes"]] == [202]
    pushed_id = pushed["invoice_ids"][0]
    pushed_invoice = invoices[pushed_id]

    async def pushed_arrived() -> bool:
        record = (await _records(committing, tenant)).get(str(pushed_id))
        return record is not None and record.status in (RecordStatus.synced, RecordStatus.waiting)

    await wait_for(pushed_arrived, 90, stack, "the pushed invoice to be stored and handled")
    if purchase_type(pushed_invoice) in DROPSHIP:
        # A push carries no shipping rates or landed costs: the bill goes out once a poll read them.
        async def billed() -> bool:
            async with unit_of_work(committing) as session:
                await add_message(
                    session,
                    PollConnection(connection_id=tenant.onport_connection_id, reason="sync_now"),
                    tenant.account_id,
                )
            return any(
                b["InvoiceNumber"] == pushed_invoice["reference"]
                for b in bills(sandboxes, tenant.org_for_bills)
            )

        await wait_for(billed, 90, stack, "the pushed invoice to become a bill")


async def test_lost_responses_never_duplicate_a_bill(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack, api_url: str
) -> None:
    tenant = await provision(committing, sandboxes, api_url, seed=32)
    async with httpx.AsyncClient(base_url=sandboxes.xero_url) as http:
        # The first creates, and a share after, are committed but their answers lost: exactly the case where a blind re-send of a
        # bill makes a duplicate, since Xero does not keep bill numbers unique.
        response = await http.post(
            "/_sandbox/faults",
            json={
                "tenant_id": tenant.org_for_bills,
                "seed": 5,
                "script": ["lost_response", "lost_response"],
                "rate_lost_response": 0.3,
                "methods": ["PUT"],
            },
        )
        assert response.status_code == 200, response.text
    invoices = onport_table(sandboxes, tenant.onport_account_id, "purchase-invoices")
    await wait_for(
        lambda: _quiet(committing, tenant, len(invoices)), 240, stack, "the faulty Onport sync to settle"
    )
    assert sum(sandboxes.organisation(tenant.org_for_bills).faults.injected.values()) > 0
    made = bills(sandboxes, tenant.org_for_bills)
    assert made
    assert Counter(b["InvoiceNumber"] for b in made).most_common(1)[0][1] == 1
    async with committing() as session:
        published = (
            await session.scalars(
                select(Document.xero_id).where(
                    Document.account_id == tenant.account_id,
                    Document.kind == DocumentKind.bill,
                    Document.status == DocumentStatus.published,
                )
            )
        ).all()
    assert sorted(str(xero_id) for xero_id in published) == sorted(str(b["InvoiceID"]) for b in made)
