"""Trust in the books (issue 14 points 1-2), through the API and all three workers against the sandboxes:
the reconciliation report finds a document voided in Xero by hand (told by Xero's webhook), a rollback of
an import followed by a re-sync gives identical books, and a rollback under lost responses and a killed
publisher voids nothing twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.api.auth.tokens import AccessClaims, issue_access_token
from ledgerbridge.bookkeeping.documents import DocumentKind
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.messages import RunImport
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import (
    Document,
    DocumentStatus,
    Import,
    ImportStatus,
    PollCursor,
    RecordStatus,
    Role,
    SourceRecord,
    User,
    XeroDocumentState,
)
from ledgerbridge.sandbox.xero.state import Organisation
from tests.e2e.harness import (
    SECRET_KEY,
    Sandboxes,
    Stack,
    Tenant,
    money,
    provision,
    settled,
    wait_for,
    xero_by_hand,
    xero_webhooks,
)

SEED = 20261201


async def _owner(sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> dict[str, str]:
    async with unit_of_work(sessions) as session:
        user = User(
            account_id=tenant.account_id,
            email=f"owner-{uuid.uuid4().hex[:8]}@example.com",
            password_hash="!",
            role=Role.owner,
        )
        session.add(user)
        await session.flush()
        token = issue_access_token(
            SECRET_KEY, AccessClaims(user.id, tenant.account_id, Role.owner, 0), datetime.now(UTC)
        )
    return {"Authorization": f"Bearer {token}"}


def _period(organisation: Organisation) -> dict[str, str]:
    days = sorted(str(invoice["DateString"])[:10] for invoice in organisation.invoices.values())
    return {"from": days[0], "to": days[-1]}


def _live_books(organisation: Organisation) -> dict[str, Any]:
    """The books as a bookkeeper reads them: voided and deleted documents count for nothing."""
    invoices = sorted(
        (
            str(i["InvoiceNumber"]),
            money(i["Total"]),
            str(i["Status"]),
            str(i.get("CurrencyCode")),
            money(i.get("AmountPaid", 0)),
            str(i["Contact"]["ContactID"]),
            str(i["DateString"])[:10],
            tuple((line.get("Description"), money(line["LineAmount"])) for line in i["LineItems"]),
        )
        for i in organisation.invoices.values()
        if i["Status"] not in ("VOIDED", "DELETED")
    )
    payments = sorted(
        (str(p["Invoice"]["InvoiceNumber"]), money(p["Amount"]), str(p["Account"]["Code"]), str(p["Date"]))
        for p in organisation.payments.values()
        if p.get("Status") != "DELETED" and "Invoice" in p
    )
    credit_notes = sorted(
        (str(n["CreditNoteNumber"]), money(n["Total"]), str(n["Status"]), str(n["Contact"]["ContactID"]))
        for n in organisation.credit_notes.values()
        if n["Status"] not in ("VOIDED", "DELETED")
    )
    return {
        "invoices": invoices,
        "credit_notes": credit_notes,
        "payments": payments,
        "contacts": len(organisation.contacts),
    }


async def _unsent(sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).where(
                    Document.account_id == tenant.account_id,
                    Document.status.in_((DocumentStatus.pending, DocumentStatus.sending)),
                )
            )
            or 0
        )


async def _rolled_back(sessions: async_sessionmaker[AsyncSession], tenant: Tenant, expected: int) -> bool:
    async with sessions() as session:
        waiting = await session.scalar(
            select(func.count()).where(
                SourceRecord.account_id == tenant.account_id,
                SourceRecord.status == RecordStatus.waiting,
                SourceRecord.reason_code == ReasonCode.rolled_back,
            )
        )
    return waiting == expected and await _unsent(sessions, tenant) == 0


async def test_the_report_finds_an_invoice_voided_in_xero_by_hand(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack, api_url: str
) -> None:
    tenant = await provision(committing, sandboxes, seed=SEED, transactions=30)
    expected = len(sandboxes.transactions(tenant.ontraport_account_id))
    await wait_for(lambda: settled(committing, tenant, expected), 180, stack, "the first sync to settle")
    organisation = sandboxes.organisation(tenant.tenant_id)
    headers = await _owner(committing, tenant)
    await xero_webhooks(sandboxes, f"{api_url}/webhooks/xero")
    period = _period(organisation)

    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=60) as api:
        first = await api.get("/v1/reports/reconciliation", params={**period, "group_by": "week"})
        assert first.status_code == 200, first.text
        report = first.json()
        assert report["xero"]["calls"] >= 1
        assert report["xero"]["read"] >= len(organisation.invoices)
        causes = {d["cause"] for d in report["differences"]}
        assert "voided_in_xero" not in causes
        charges = [row for row in report["rows"] if row["figure"] == "charges"]
        assert charges
        paid_total = sum(
            (money(i["Total"]) for i in organisation.invoices.values() if i["Status"] == "PAID"), money(0)
        )
        assert sum((money(row["xero_amount"]) for row in charges), money(0)) == paid_total

        again = (await api.get("/v1/reports/reconciliation", params=period)).json()
        assert again["xero"]["calls"] == 0  # all cached: nothing changed in Xero
        assert again["differences"] == report["differences"]

        # A bookkeeper deletes one invoice's payment and voids the invoice in Xero.
        victim = next(i for i in organisation.invoices.values() if i["Status"] == "PAID" and i["Total"] > 0)
        async with await xero_by_hand(sandboxes, tenant) as xero:
            for payment in victim["Payments"]:
                deleted = await xero.post(f"/Payments/{payment['PaymentID']}", json={"Status": "DELETED"})
                assert deleted.status_code == 200, deleted.text
            voided = await xero.post(
                f"/Invoices/{victim['InvoiceID']}", json={"Invoices": [{"Status": "VOIDED"}]}
            )
            assert voided.status_code == 200, voided.text

        async def marked_stale() -> bool:
            async with committing() as session:
                state = await session.get(
                    XeroDocumentState, (tenant.xero_connection_id, "invoice", victim["InvoiceID"].lower())
                )
                return state is not None and state.stale

        await wait_for(marked_stale, 60, stack, "Xero's webhook to mark the invoice stale")
        third = (await api.get("/v1/reports/reconciliation", params=period)).json()
        assert 1 <= third["xero"]["calls"] <= 2  # only what the webhook named: the invoice (and its payment)
        found = [d for d in third["differences"] if d["cause"] == "voided_in_xero"]
        assert [(d["external_id"], d["figure"], d["document_number"]) for d in found] == [
            (victim["InvoiceNumber"].removeprefix("OP-"), "charges", victim["InvoiceNumber"])
        ]
        assert money(found[0]["source_amount"]) == money(victim["Total"])
        assert money(found[0]["xero_amount"]) == 0
        assert found[0]["xero_url"].endswith(victim["InvoiceID"])
        assert found[0]["record_url"].startswith("/records/")

        csv = await api.get("/v1/reports/reconciliation", params={**period, "format": "csv"})
        assert csv.status_code == 200
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.strip().splitlines()
        assert lines[0] == (
            "period,source,gateway,currency,figure,source_count,source_amount,xero_count,xero_amount,difference"
        )
        assert any(f"-{money(victim['Total'])}" in line for line in lines[1:])
        differences = await api.get(
            "/v1/reports/reconciliation",
            params={**period, "table": "differences"},
            headers={"Accept": "text/csv"},
        )
        assert "voided_in_xero" in differences.text
        assert victim["InvoiceNumber"] in differences.text
        print(csv.text)


async def _import_last(
    sessions: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack, seed: int, last_n: int
) -> tuple[Tenant, uuid.UUID]:
    tenant = await provision(sessions, sandboxes, seed=seed, transactions=last_n + 5, history=False)

    async def first_poll_done() -> bool:
        async with sessions() as session:
            cursor = await session.scalar(
                select(PollCursor).where(PollCursor.connection_id == tenant.ontraport_connection_id)
            )
            return cursor is not None and cursor.high_water_mark is not None

    await wait_for(first_poll_done, 60, stack, "the first poll")
    async with unit_of_work(sessions) as session:
        job = Import(
            account_id=tenant.account_id,
            connection_id=tenant.ontraport_connection_id,
            params={"last_n": last_n},
        )
        session.add(job)
        await session.flush()
        await add_message(session, RunImport(import_id=job.id), tenant.account_id)

    async def imported() -> bool:
        async with sessions() as session:
            current = await session.get(Import, job.id)
            return current is not None and current.status is ImportStatus.done

    await wait_for(imported, 120, stack, "the import")
    await wait_for(lambda: settled(sessions, tenant, last_n), 180, stack, "the imported records to settle")
    return tenant, job.id


async def test_rolling_back_an_import_then_syncing_it_again_gives_identical_books(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack, api_url: str
) -> None:
    tenant, import_id = await _import_last(committing, sandboxes, stack, SEED + 1, 20)
    organisation = sandboxes.organisation(tenant.tenant_id)
    before = _live_books(organisation)
    assert len(before["invoices"]) >= 10
    headers = await _owner(committing, tenant)
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=60) as api:
        dry = await api.post("/v1/rollbacks/dry-run", json={"import_id": str(import_id)})
        assert dry.status_code == 200, dry.text
        plan = dry.json()
        assert plan["matched"] == 20
        undo = [r for r in plan["records"] if r["outcome"] == "undo"]
        assert len(undo) == plan["undo"] == len({i[0] for i in before["invoices"]})
        for record in undo:
            actions = sorted(d["action"] for d in record["documents"])
            assert "void" in actions
            payments = [d for d in record["documents"] if d["kind"] in ("payment", "refund_payment")]
            assert actions.count("delete_payment") == len(payments)
        assert _live_books(organisation) == before  # a dry run changes nothing

        ran = await api.post("/v1/rollbacks", json={"import_id": str(import_id), "confirm": True})
        assert ran.status_code == 202, ran.text
        assert ran.json()["queued_documents"] > len(undo)
        # Who rolled back what: the rollback as asked, and an entry on each record it undid.
        audit = await api.get("/v1/audit", params={"subject": "rollbacks"})
        assert audit.status_code == 200, audit.text
        (asked,) = audit.json()["items"]
        assert asked["action"] == "rollbacks.run"
        assert asked["after"]["selection"]["import_id"] == str(import_id)
        assert asked["after"]["undone_records"] == len(undo)
        first = await api.get("/v1/audit", params={"subject": f"record:{undo[0]['record_id']}"})
        assert [e["action"] for e in first.json()["items"]] == ["record.rollback"]
        await wait_for(lambda: _rolled_back(committing, tenant, len(undo)), 180, stack, "the rollback")
        emptied = _live_books(organisation)
        assert emptied["invoices"] == emptied["credit_notes"] == emptied["payments"] == []
        voided = [i for i in organisation.invoices.values() if i["Status"] == "VOIDED"]
        assert len(voided) == len(undo)
        assert all("-RB-" in str(i["InvoiceNumber"]) for i in voided)

        retried = await api.post(
            "/v1/records/retry", json={"status": ["waiting"], "reason_code": ReasonCode.rolled_back.value}
        )
        assert retried.status_code == 202, retried.text
        assert retried.json()["queued"] == len(undo)
    await wait_for(lambda: settled(committing, tenant, 20), 180, stack, "the re-sync")
    assert _live_books(organisation) == before
    async with committing() as session:
        kinds = (
            await session.execute(
                select(Document.kind, Document.status, func.count())
                .where(Document.account_id == tenant.account_id)
                .group_by(Document.kind, Document.status)
            )
        ).all()
    counts = {(kind, status): n for kind, status, n in kinds}
    assert counts[(DocumentKind.invoice, DocumentStatus.rolled_back)] == len(undo)
    assert counts[(DocumentKind.invoice, DocumentStatus.published)] == len(undo)


async def test_a_rollback_under_lost_responses_and_a_killed_publisher_voids_nothing_twice(
    committing: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, stack: Stack, api_url: str
) -> None:
    tenant = await provision(committing, sandboxes, seed=SEED + 2, transactions=25)
    expected = len(sandboxes.transactions(tenant.ontraport_account_id))
    await wait_for(lambda: settled(committing, tenant, expected), 180, stack, "the first sync to settle")
    organisation = sandboxes.organisation(tenant.tenant_id)
    ours = {
        i["InvoiceID"]: i["InvoiceNumber"] for i in organisation.invoices.values() if i["Status"] == "PAID"
    }
    assert len(ours) >= 10
    notes = {n["CreditNoteID"]: n["CreditNoteNumber"] for n in organisation.credit_notes.values()}
    headers = await _owner(committing, tenant)
    start = datetime.now(UTC) - timedelta(days=90)
    selection = {"since": start.isoformat(), "until": (start + timedelta(days=90)).isoformat()}
    async with httpx.AsyncClient(base_url=sandboxes.xero_url) as control:
        faults = await control.post(
            "/_sandbox/faults",
            json={
                "tenant_id": tenant.tenant_id,
                "seed": SEED,
                "rate_lost_response": 0.2,
                "rate_5xx": 0.05,
                "methods": ["POST"],
            },
        )
        assert faults.status_code == 200, faults.text
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=60) as api:
        ran = await api.post("/v1/rollbacks", json={**selection, "confirm": True})
        assert ran.status_code == 202, ran.text
        undo = ran.json()["undo"]
        assert undo == len(ours)

        async def under_way() -> bool:
            async with committing() as session:
                done = await session.scalar(
                    select(func.count()).where(
                        Document.account_id == tenant.account_id,
                        Document.kind.in_((DocumentKind.rollback_payment, DocumentKind.rollback_document)),
                        Document.status == DocumentStatus.published,
                    )
                )
            return bool(done)

        await wait_for(under_way, 120, stack, "the rollback to start")
        stack.kill("publisher")  # mid-way: some changes sent, their answers never read
        stack.start("publisher")
        await wait_for(
            lambda: _rolled_back(committing, tenant, undo), 300, stack, "the rollback under faults"
        )
        # A second run finds nothing left to undo: every record waits for a re-sync.
        again = await api.post("/v1/rollbacks/dry-run", json=selection)
        assert again.json()["undo"] == 0
    assert sum(organisation.faults.injected.values()) > 0
    for invoice_id, number in ours.items():
        invoice = organisation.invoices[invoice_id.lower()]
        assert invoice["Status"] == "VOIDED", number
        assert str(invoice["InvoiceNumber"]).startswith(f"{number}-RB-")
    for note_id, number in notes.items():
        note = organisation.credit_notes[note_id.lower()]
        assert (note["Status"], str(note["CreditNoteNumber"])[: len(number) + 4]) == (
            "VOIDED",
            f"{number}-RB-",
        )
    assert all(p["Status"] == "DELETED" for p in organisation.payments.values())
    async with committing() as session:
        per_target = (
            await session.execute(
                select(Document.target_id, func.count())
                .where(
                    Document.account_id == tenant.account_id, Document.kind == DocumentKind.rollback_document
                )
                .group_by(Document.target_id)
            )
        ).all()
    # One void per invoice and credit note we made: none sent as a second document.
    assert sorted(str(target).lower() for target, _ in per_target) == sorted(
        i.lower() for i in [*ours, *notes]
    )
    assert {n for _, n in per_target} == {1}
