"""The publisher against the Xero sandbox in process: token keep-alive, stale reference data, contact names."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common import xero_reference
from ledgerbridge.common.clients.xero import (
    LimiterConfig,
    RateLimiter,
    XeroClient,
)
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.errors import TransientError
from ledgerbridge.common.messaging.messages import HandleWebhookEvent, RefreshXeroReference
from ledgerbridge.common.models import (
    AlertEvent,
    Connection,
    Document,
    DocumentKind,
    DocumentStatus,
    InboxMessage,
    OutboxMessage,
    PollCursor,
    PollStream,
    RecordStatus,
    SourceRecord,
    XeroContactName,
)
from ledgerbridge.common.settings import Settings
from ledgerbridge.publisher import reference
from ledgerbridge.publisher.claims import claim, fills_a_batch, pending_kinds
from ledgerbridge.publisher.keep_alive import keep_tokens_alive
from ledgerbridge.publisher.kinds import Destination
from ledgerbridge.publisher.kinds.contact import ContactSpec, told_apart
from ledgerbridge.publisher.kinds.contact_names import changed_in_xero, name_key
from ledgerbridge.publisher.kinds.invoice import InvoiceSpec
from ledgerbridge.publisher.publishing_run import PublishingRuns
from ledgerbridge.publisher.webhook_events import handle_xero_event
from tests.publisher.conftest import (
    XeroSide,
    invoice_body,
    ontraport_source,
    source_record,
    stored_document,
    xero_connection,
)


def _no_xero(connection: Connection) -> XeroClient:
    raise AssertionError("these events name none of our drafts: nothing is read from Xero")


async def test_connections_unused_for_a_week_are_refreshed_once_and_busy_ones_not(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide
) -> None:
    _, idle, _ = await xero_connection(committing, xero, last_refreshed_days_ago=8)
    _, busy, _ = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    now = datetime.now(UTC)

    refreshed = await keep_tokens_alive(committing, xero.tokens, now, timedelta(days=7))

    assert refreshed == 1
    assert xero.app.state.sandbox.refresh_counts["sandbox-client"] == 1
    async with committing() as session:
        idle_row = await session.get(Connection, idle)
        busy_row = await session.get(Connection, busy)
    assert idle_row is not None
    assert busy_row is not None
    assert idle_row.token_expires_at is not None
    assert idle_row.token_expires_at > now  # a fresh pair, good for another 60 days of refresh token
    assert await keep_tokens_alive(committing, xero.tokens, now, timedelta(days=7)) == 0


async def test_a_rejected_account_code_fails_the_record_and_asks_for_fresh_reference_data(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    account_id, connection_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    record_id = await _pending_invoice(committing, account_id, connection_id, "999")

    await _runs(committing, xero, redis, settings, tenant_id).publish(connection_id, max_seconds=30)

    async with committing() as session:
        document = await session.scalar(select(Document).where(Document.record_id == record_id))
        stored = await session.get(SourceRecord, record_id)
        messages = (await session.scalars(select(OutboxMessage.message_type))).all()
    assert document is not None
    assert stored is not None
    assert document.status is DocumentStatus.failed
    assert document.last_error is not None
    assert "999" in document.last_error
    assert stored.status is RecordStatus.failed
    assert stored.reason is not None
    assert stored.reason.startswith("Xero rejected the invoice:")
    assert list(messages) == ["xero.reference.refresh"]
    # The owners are told, from the same transaction that failed the record.
    [event] = await _alert_events(committing, account_id)
    assert (event.kind, event.detail["record_id"], event.detail["reason"]) == (
        "records_failed",
        str(record_id),
        stored.reason,
    )


async def test_two_people_of_one_name_in_a_batch_are_told_apart_before_it_is_sent(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    account_id, connection_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    async with unit_of_work(committing) as session:
        for n in (1, 2):
            record = source_record(account_id, connection_id, str(n), status=RecordStatus.mapped)
            session.add(record)
            await session.flush()
            body = {"Name": "Jane Smith", "ContactNumber": f"OP-{n}", "EmailAddress": f"jane{n}@example.com"}
            session.add(
                stored_document(
                    account_id, record.id, connection_id, DocumentKind.contact, body, fingerprint=f"{n}" * 64
                )
            )
    limiter = RateLimiter(redis, settings.queue.prefix)
    client_for = xero.client_for(committing, settings, limiter, tenant_id)
    await PublishingRuns(committing, client_for, gather=0).publish(connection_id, max_seconds=30)

    organisation = xero.app.state.sandbox.orgs[tenant_id]
    names = sorted(
        str(c["Name"])
        for c in organisation.contacts.values()
        if str(c.get("ContactNumber", "")).startswith("OP-")
    )
    assert names[0] == "Jane Smith"
    assert names[1] in ("Jane Smith (jane1@example.com)", "Jane Smith (jane2@example.com)")
    calls = dict(organisation.counters.by_endpoint)
    # One GET: the organisation's contact names, read once; no clash was provoked, none looked up.
    assert (calls.get("PUT Contacts"), calls.get("GET Contacts", 0)) == (1, 1)


# --- contact names kept per organisation: clashes predicted, not provoked -------------------------------


def _xero_side_contact(side: XeroSide, tenant_id: str, name: str, number: str | None = None) -> str:
    """A contact someone made in Xero itself (the bookkeeper, another app): no call of ours."""
    contact_id = str(uuid.uuid4())
    contact = {"ContactID": contact_id, "Name": name, "ContactStatus": "ACTIVE", "EmailAddress": ""}
    if number:
        contact["ContactNumber"] = number
    side.app.state.sandbox.orgs[tenant_id].contacts[contact_id] = contact
    return contact_id


async def _contact_documents(
    sessions: async_sessionmaker[AsyncSession],
    account_id: uuid.UUID,
    connection_id: uuid.UUID,
    contacts: list[tuple[str, str, str]],
) -> dict[str, uuid.UUID]:
    """One mapped record with one pending contact document per (number, name, email); ids by number."""
    bodies = [
        {"Name": name, "ContactNumber": number, "EmailAddress": email} for number, name, email in contacts
    ]
    return await _contact_bodies(sessions, account_id, connection_id, bodies)


async def _contact_bodies(
    sessions: async_sessionmaker[AsyncSession],
    account_id: uuid.UUID,
    connection_id: uuid.UUID,
    bodies: list[dict[str, Any]],
) -> dict[str, uuid.UUID]:
    """One mapped record with one pending contact document per body; ids by ContactNumber."""
    ids: dict[str, uuid.UUID] = {}
    async with unit_of_work(sessions) as session:
        for body in bodies:
            number = str(body["ContactNumber"])
            record = source_record(
                account_id, connection_id, f"{number}-{uuid.uuid4().hex[:6]}", status=RecordStatus.mapped
            )
            session.add(record)
            await session.flush()
            document = Document(
                account_id=account_id,
                record_id=record.id,
                xero_connection_id=connection_id,
                kind=DocumentKind.contact,
                mapping_version="test",
                request_body=body,
                fingerprint=uuid.uuid4().hex * 2,
                idempotency_key=f"lb:test:{uuid.uuid4()}",
            )
            session.add(document)
            await session.flush()
            ids[number] = document.id
    return ids


async def _publish(
    sessions: async_sessionmaker[AsyncSession],
    side: XeroSide,
    redis: Redis,
    settings: Settings,
    connection_id: uuid.UUID,
    tenant_id: str,
) -> None:
    limiter = RateLimiter(redis, settings.queue.prefix)
    client_for = side.client_for(sessions, settings, limiter, tenant_id)
    await PublishingRuns(sessions, client_for, gather=0).publish(connection_id, max_seconds=30)


async def _published(sessions: async_sessionmaker[AsyncSession], ids: dict[str, uuid.UUID]) -> dict[str, str]:
    async with sessions() as session:
        documents = (await session.scalars(select(Document).where(Document.id.in_(ids.values())))).all()
    assert all(d.status is DocumentStatus.published for d in documents), [d.last_error for d in documents]
    return {str(d.xero_number): str(d.xero_id) for d in documents}


def _active_names(side: XeroSide, tenant_id: str) -> list[str]:
    organisation = side.app.state.sandbox.orgs[tenant_id]
    return [str(c["Name"]).lower() for c in organisation.contacts.values() if c["ContactStatus"] == "ACTIVE"]


async def test_names_taken_in_xero_are_foreseen_and_our_lost_contact_is_adopted_without_a_call(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    account_id, connection_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    stranger = _xero_side_contact(xero, tenant_id, "Sam Smith")
    lost = _xero_side_contact(xero, tenant_id, "Ann Lee", number="OP-3")  # ours, its answer lost
    ids = await _contact_documents(
        committing,
        account_id,
        connection_id,
        [
            ("OP-1", "Sam Smith", "sam@example.com"),
            ("OP-2", "Bo Chen", "bo@example.com"),
            ("OP-3", "Ann Lee", "ann@example.com"),
        ],
    )

    await _publish(committing, xero, redis, settings, connection_id, tenant_id)

    linked = await _published(committing, ids)
    organisation = xero.app.state.sandbox.orgs[tenant_id]
    assert linked["OP-3"] == lost
    assert stranger not in linked.values()  # the stranger of the same name is never merged with ours
    assert organisation.contacts[linked["OP-1"]]["Name"] == "Sam Smith (sam@example.com)"
    assert organisation.contacts[linked["OP-2"]]["Name"] == "Bo Chen"
    names = _active_names(xero, tenant_id)
    assert len(names) == len(set(names))
    calls = dict(organisation.counters.by_endpoint)
    # The names read once (one page), one PUT of the two new contacts, no refusal and no look-up.
    assert (calls.get("GET Contacts"), calls.get("PUT Contacts")) == (1, 1)
    assert organisation.counters.rate_limited == 0


async def test_a_clash_nobody_could_foresee_is_recovered_and_the_name_is_kept_for_next_time(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    account_id, connection_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    first = await _contact_documents(committing, account_id, connection_id, [("OP-1", "Ann Lee", "a@x.com")])
    await _publish(committing, xero, redis, settings, connection_id, tenant_id)
    await _published(committing, first)
    # Made in Xero after our names were read, and no webhook told us.
    stranger = _xero_side_contact(xero, tenant_id, "Kim Park")
    organisation = xero.app.state.sandbox.orgs[tenant_id]
    before = dict(organisation.counters.by_endpoint)

    ids = await _contact_documents(
        committing, account_id, connection_id, [("OP-2", "Kim Park", "kim@x.com"), ("OP-3", "Kim Park", "")]
    )
    await _publish(committing, xero, redis, settings, connection_id, tenant_id)

    linked = await _published(committing, ids)
    assert stranger not in linked.values()
    assert {organisation.contacts[linked[n]]["Name"] for n in ("OP-2", "OP-3")} == {
        "Kim Park (kim@x.com)",
        "Kim Park (OP-3)",
    }
    names = _active_names(xero, tenant_id)
    assert len(names) == len(set(names))
    calls = dict(organisation.counters.by_endpoint)
    # Refused once, one look-up (which learns who holds the name), sent again renamed.
    assert calls["PUT Contacts"] - before["PUT Contacts"] == 2
    assert calls["GET Contacts"] - before["GET Contacts"] == 1

    # The name is known now: the next Kim Park is named before sending, with no refusal.
    more = await _contact_documents(committing, account_id, connection_id, [("OP-4", "Kim Park", "k4@x.com")])
    before = dict(organisation.counters.by_endpoint)
    await _publish(committing, xero, redis, settings, connection_id, tenant_id)
    linked = await _published(committing, more)
    assert organisation.contacts[linked["OP-4"]]["Name"] == "Kim Park (k4@x.com)"
    calls = dict(organisation.counters.by_endpoint)
    assert (
        calls["PUT Contacts"] - before["PUT Contacts"],
        calls["GET Contacts"] - before["GET Contacts"],
    ) == (
        1,
        0,
    )


async def test_names_are_read_page_by_page_and_a_contact_webhook_refreshes_one_name(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    account_id, connection_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    for n in range(1001):
        _xero_side_contact(xero, tenant_id, f"Customer {n}")
    renamed = _xero_side_contact(xero, tenant_id, "Lee Wong")
    ids = await _contact_documents(
        committing, account_id, connection_id, [("OP-1", "Customer 7", "c7@x.com")]
    )
    await _publish(committing, xero, redis, settings, connection_id, tenant_id)
    linked = await _published(committing, ids)
    organisation = xero.app.state.sandbox.orgs[tenant_id]
    assert organisation.contacts[linked["OP-1"]]["Name"] == "Customer 7 (c7@x.com)"
    calls = dict(organisation.counters.by_endpoint)
    assert (calls["GET Contacts"], calls["PUT Contacts"]) == (2, 1)  # 1,002 names: two pages of 1,000

    # In Xero, "Lee Wong" becomes "Mia Wong"; Xero's webhook says the contact changed.
    organisation.contacts[renamed]["Name"] = "Mia Wong"
    async with unit_of_work(committing) as session:
        assert await changed_in_xero(session, tenant_id, renamed.upper(), created=False) == 1
    ids = await _contact_documents(
        committing,
        account_id,
        connection_id,
        [("OP-2", "Lee Wong", "l@x.com"), ("OP-3", "Mia Wong", "m@x.com")],
    )
    await _publish(committing, xero, redis, settings, connection_id, tenant_id)
    linked = await _published(committing, ids)
    assert organisation.contacts[linked["OP-2"]]["Name"] == "Lee Wong"  # freed by the rename
    assert organisation.contacts[linked["OP-3"]]["Name"] == "Mia Wong (m@x.com)"
    calls = dict(organisation.counters.by_endpoint)
    assert (calls["GET Contacts"], calls["PUT Contacts"]) == (3, 2)  # one re-read by id, no refusal
    names = _active_names(xero, tenant_id)
    assert len(names) == len(set(names))


_NAME = st.sampled_from(["Sam Smith", "sam smith ", "Ann Lee", "Bo Chen"])


@hypothesis_settings(max_examples=200, derandomize=True, deadline=None)
@given(
    people=st.lists(st.tuples(_NAME, st.sampled_from(["", "a@x.com", "b@x.com"])), max_size=12),
    taken=st.dictionaries(
        st.sampled_from(["sam smith", "sam smith (a@x.com)", "ann lee", "sam smith (op-0)"]),
        st.sets(st.sampled_from([None, "X-1"]), min_size=1),
    ),
)
def test_told_apart_gives_every_newcomer_a_name_nobody_else_holds(
    people: list[tuple[str, str]], taken: dict[str, set[str | None]]
) -> None:
    bodies = [
        {"Name": name, "ContactNumber": f"OP-{n}", "EmailAddress": email}
        for n, (name, email) in enumerate(people)
    ]
    told = told_apart(bodies, taken)
    held = set(taken)
    for body, sent in zip(bodies, told, strict=True):
        assert {**sent, "Name": body["Name"]} == body  # only the name may change
        name, email, number = body["Name"], body["EmailAddress"], body["ContactNumber"]
        forms = [name, f"{name} ({email})", f"{name} ({number})"] if email else [name, f"{name} ({number})"]
        free = [form for form in forms if name_key(form) not in held]
        # The first form nobody holds (in Xero or earlier in the batch); with none free, the last one,
        # left to the recovery.
        assert sent["Name"] == (free[0] if free else forms[-1])
        held.add(name_key(sent["Name"]))


async def test_a_backlog_bigger_than_the_day_limit_waits_for_the_next_day_without_a_429(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    account_id, connection_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    async with unit_of_work(committing) as session:
        connection = await session.get(Connection, connection_id)
        assert connection is not None
        connection.day_limit = 4  # 3 sends a day, the 4th call kept for reads
    ids = await _contact_documents(
        committing, account_id, connection_id, [(f"OP-{n}", f"Person {n}", f"p{n}@x.com") for n in range(60)]
    )
    limiter = RateLimiter(redis, settings.queue.prefix, LimiterConfig(day_limit=4))
    client_for = xero.client_for(committing, settings, limiter, tenant_id)
    await PublishingRuns(committing, client_for, gather=0).publish(connection_id, max_seconds=30)

    organisation = xero.app.state.sandbox.orgs[tenant_id]
    calls = dict(organisation.counters.by_endpoint)
    # The names read, then two batches (50 and 10 contacts): the three sends of the day; nothing refused.
    assert (calls.get("GET Contacts"), calls.get("PUT Contacts")) == (1, 2)
    await _published(committing, ids)

    more = await _contact_documents(
        committing, account_id, connection_id, [("OP-99", "Late Comer", "l@x.com")]
    )
    await PublishingRuns(committing, client_for, gather=0).publish(connection_id, max_seconds=30)
    assert organisation.counters.rate_limited == 0  # the day's plan stopped us, not Xero
    assert dict(organisation.counters.by_endpoint).get("PUT Contacts") == 2
    async with committing() as session:
        waiting = await session.get(Document, more["OP-99"])
        parked = await session.get(Connection, connection_id)
    assert waiting is not None and waiting.status is DocumentStatus.pending  # waits, is not failed
    assert parked is not None and parked.parked_until is not None
    assert timedelta(hours=23) < parked.parked_until - datetime.now(UTC) <= timedelta(hours=25)


async def test_a_part_batch_waits_while_the_mapper_has_more_for_the_organisation(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide
) -> None:
    account_id, xero_id, _ = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    async with unit_of_work(committing) as session:
        source = await ontraport_source(session, account_id, xero_id)
        source_id = source.id
    await _contact_documents(committing, account_id, xero_id, [(f"OP-{n}", f"P {n}", "") for n in range(10)])
    spec = ContactSpec()
    assert await fills_a_batch(committing, xero_id, spec)  # nothing more coming: send the 10
    async with unit_of_work(committing) as session:
        session.add(PollCursor(connection_id=source_id, stream=PollStream.transactions))
    async with committing() as polling, polling.begin():  # a poll holds its cursor until its pages commit
        await polling.scalar(
            select(PollCursor).where(PollCursor.connection_id == source_id).with_for_update(key_share=True)
        )
        assert not await fills_a_batch(committing, xero_id, spec)
    assert await fills_a_batch(committing, xero_id, spec)  # the poll is over and brought nothing
    async with unit_of_work(committing) as session:
        coming = source_record(account_id, source_id, "still-mapping", status=RecordStatus.received)
        session.add(coming)
    assert not await fills_a_batch(committing, xero_id, spec)  # the mapper is still at it: wait
    await _contact_documents(
        committing, account_id, xero_id, [(f"OP-{n}", f"P {n}", "") for n in range(10, 50)]
    )
    assert await fills_a_batch(committing, xero_id, spec)  # a whole batch: send it


async def test_a_contact_webhook_marks_the_name_to_be_read_again_and_our_own_creates_are_not(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    account_id, connection_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    ids = await _contact_documents(committing, account_id, connection_id, [("OP-1", "Ann Lee", "a@x.com")])
    await _publish(committing, xero, redis, settings, connection_id, tenant_id)
    ours = (await _published(committing, ids))["OP-1"]
    theirs = str(uuid.uuid4())

    async def event(key: str, resource_id: str, event_type: str) -> None:
        payload = {"resourceId": resource_id, "tenantId": tenant_id, "eventCategory": "CONTACT"}
        async with unit_of_work(committing) as session:
            session.add(
                InboxMessage(
                    consumer="xero-webhook", message_key=key, payload={**payload, "eventType": event_type}
                )
            )
        async with unit_of_work(committing) as session:
            await handle_xero_event(
                session,
                HandleWebhookEvent(consumer="xero-webhook", message_key=key),
                client_for=_no_xero,
            )

    await event("e1", ours, "CREATE")  # our own create, already known: nothing to read again
    async with committing() as session:
        kept = await session.get(XeroContactName, (connection_id, ours.lower()))
    assert kept is not None and kept.name_key == "ann lee"
    await event("e2", theirs, "CREATE")  # someone else's: its name is read before the next send
    await event("e3", ours, "UPDATE")  # ours, renamed in Xero: read again too
    async with committing() as session:
        rows = (
            await session.execute(
                select(XeroContactName.contact_id, XeroContactName.name_key).where(
                    XeroContactName.connection_id == connection_id,
                    XeroContactName.contact_id.in_([ours.lower(), theirs]),
                )
            )
        ).all()
    assert sorted(rows, key=str) == sorted([(ours.lower(), None), (theirs, None)], key=str)


async def _pending_invoice(
    sessions: async_sessionmaker[AsyncSession],
    account_id: uuid.UUID,
    connection_id: uuid.UUID,
    account_code: str,
) -> uuid.UUID:
    """A mapped record with one invoice waiting to be sent; the record's id."""
    async with unit_of_work(sessions) as session:
        record = source_record(account_id, connection_id, "77", status=RecordStatus.mapped)
        session.add(record)
        await session.flush()
        body = invoice_body(
            "OP-77", {"Name": "Grace Hopper", "ContactNumber": "OP-9"}, account_code=account_code
        )
        session.add(
            Document(
                account_id=account_id,
                record_id=record.id,
                xero_connection_id=connection_id,
                kind=DocumentKind.invoice,
                mapping_version="test",
                request_body=body,
                fingerprint="f" * 64,
                idempotency_key=f"lb:test:{uuid.uuid4()}",
            )
        )
        return record.id


def _runs(
    committing: async_sessionmaker[AsyncSession],
    xero: XeroSide,
    redis: Redis,
    settings: Settings,
    tenant_id: str,
) -> PublishingRuns:
    limiter = RateLimiter(redis, settings.queue.prefix)
    return PublishingRuns(committing, xero.client_for(committing, settings, limiter, tenant_id), gather=0)


async def _alert_events(
    sessions: async_sessionmaker[AsyncSession], account_id: uuid.UUID
) -> list[AlertEvent]:
    async with sessions() as session:
        return list(await session.scalars(select(AlertEvent).where(AlertEvent.account_id == account_id)))


async def test_a_day_limit_parks_the_organisation_and_tells_the_owners_once(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    account_id, connection_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    await _pending_invoice(committing, account_id, connection_id, "200")
    limited = await xero.http.post("/_sandbox/limits", json={"tenant_id": tenant_id, "day_limit": 0})
    assert limited.status_code == 200
    runs = _runs(committing, xero, redis, settings, tenant_id)

    for _ in range(3):  # the first run meets the limit, the later ones find the organisation parked
        await runs.publish(connection_id, max_seconds=30)

    async with committing() as session:
        connection = await session.get(Connection, connection_id)
    assert connection is not None and connection.parked_until is not None
    assert connection.parked_until > datetime.now(UTC)
    [event] = await _alert_events(committing, account_id)
    assert (event.kind, event.detail["connection_id"]) == ("day_limit", str(connection_id))
    assert event.detail["until"].endswith(" UTC")


async def test_a_payment_xero_refuses_after_its_invoice_went_in_says_so_and_is_sent_alone_again(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    """Issue 15, point 6: the invoice is in Xero but its payment was refused (account 200 takes no
    payments): the record says both, and once the payment is fixed only the payment goes out."""
    account_id, connection_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    invoice = invoice_body("OP-78", {"Name": "Ada Lovelace", "ContactNumber": "OP-10"})

    def payment(code: str) -> dict[str, object]:
        return {
            "Invoice": {"InvoiceNumber": "OP-78"},
            "Account": {"Code": code},
            "Date": "2026-11-01",
            "Amount": 110,
        }

    async with unit_of_work(committing) as session:
        record = source_record(account_id, connection_id, "78", status=RecordStatus.mapped)
        session.add(record)
        await session.flush()
        for kind, body in ((DocumentKind.invoice, invoice), (DocumentKind.payment, payment("200"))):
            session.add(
                Document(
                    account_id=account_id,
                    record_id=record.id,
                    xero_connection_id=connection_id,
                    kind=kind,
                    mapping_version="test",
                    request_body=body,
                    fingerprint=uuid.uuid4().hex * 2,
                    idempotency_key=f"lb:test:{uuid.uuid4()}",
                )
            )
    limiter = RateLimiter(redis, settings.queue.prefix)
    runs = PublishingRuns(committing, xero.client_for(committing, settings, limiter, tenant_id), gather=0)
    await runs.publish(connection_id, max_seconds=30)
    async with committing() as session:
        stored = await session.get(SourceRecord, record.id)
        failed = await session.scalar(select(Document).where(Document.kind == DocumentKind.payment))
    assert stored is not None and stored.status is RecordStatus.failed
    assert stored.reason is not None
    assert stored.reason.startswith("Xero rejected the payment:")
    assert stored.reason.endswith("already in Xero: invoice OP-78 (a retry sends only what failed)")

    # The gateway's payment account fixed, the mapper replaces the refused payment (the invoice is
    # published, so the core asks for the payment alone); the next run sends just that.
    async with unit_of_work(committing) as session:
        old = await session.get(Document, failed.id if failed else None)
        assert old is not None
        old.status = DocumentStatus.superseded
        session.add(
            Document(
                account_id=account_id,
                record_id=record.id,
                xero_connection_id=connection_id,
                kind=DocumentKind.payment,
                mapping_version="test",
                request_body=payment("615"),
                fingerprint=uuid.uuid4().hex * 2,
                idempotency_key=f"lb:test:{uuid.uuid4()}",
            )
        )
    counters = xero.app.state.sandbox.orgs[tenant_id].counters
    invoice_calls = sum(n for endpoint, n in counters.by_endpoint.items() if "Invoices" in endpoint)
    await runs.publish(connection_id, max_seconds=30)
    assert sum(n for endpoint, n in counters.by_endpoint.items() if "Invoices" in endpoint) == invoice_calls
    organisation = xero.app.state.sandbox.orgs[tenant_id]
    (sent,) = [i for i in organisation.invoices.values() if i["InvoiceNumber"] == "OP-78"]
    assert sent["Status"] == "PAID"
    async with committing() as session:
        final = await session.get(SourceRecord, record.id)
    assert final is not None and final.status is RecordStatus.synced


async def test_a_contact_told_apart_stays_told_apart_so_later_sales_send_no_update_xero_refuses(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    """Ours was named "Sam Smith (s@x.com)" because a stranger holds "Sam Smith": a later sale with the same
    details sends nothing, one with a new phone one update that keeps the name Xero has, and one with a
    new e-mail one update with its new told-apart name; none is refused for the name first."""
    account_id, connection_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    _xero_side_contact(xero, tenant_id, "Sam Smith")
    person = {"Name": "Sam Smith", "ContactNumber": "OP-1", "EmailAddress": "s@x.com"}
    first = await _contact_bodies(committing, account_id, connection_id, [person])
    await _publish(committing, xero, redis, settings, connection_id, tenant_id)
    linked = await _published(committing, first)
    organisation = xero.app.state.sandbox.orgs[tenant_id]
    assert organisation.contacts[linked["OP-1"]]["Name"] == "Sam Smith (s@x.com)"

    def calls_since(before: dict[str, int]) -> dict[str, int]:
        now = organisation.counters.by_endpoint
        return {
            endpoint: n - before.get(endpoint, 0)
            for endpoint, n in now.items()
            if n != before.get(endpoint, 0)
        }

    before = dict(organisation.counters.by_endpoint)
    same = await _contact_bodies(committing, account_id, connection_id, [person])
    await _publish(committing, xero, redis, settings, connection_id, tenant_id)
    assert await _published(committing, same) == linked
    assert calls_since(before) == {}  # the same person: no update, so no refused one either

    before = dict(organisation.counters.by_endpoint)
    phoned = {**person, "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "0400 000 000"}]}
    moved = await _contact_bodies(committing, account_id, connection_id, [phoned])
    await _publish(committing, xero, redis, settings, connection_id, tenant_id)
    assert await _published(committing, moved) == linked
    assert calls_since(before) == {"POST Contacts": 1}  # one update, not refused for the name first
    ours = organisation.contacts[linked["OP-1"]]
    assert ours["Name"] == "Sam Smith (s@x.com)"
    assert [p["PhoneNumber"] for p in ours["Phones"] if p["PhoneType"] == "MOBILE"] == ["0400 000 000"]

    before = dict(organisation.counters.by_endpoint)
    again = await _contact_bodies(committing, account_id, connection_id, [phoned])
    await _publish(committing, xero, redis, settings, connection_id, tenant_id)
    assert await _published(committing, again) == linked
    assert calls_since(before) == {}

    # A new e-mail address: its own told-apart name, foreseen, so again one update and no refusal.
    before = dict(organisation.counters.by_endpoint)
    emailed = await _contact_bodies(
        committing, account_id, connection_id, [{**phoned, "EmailAddress": "sam@y.com"}]
    )
    await _publish(committing, xero, redis, settings, connection_id, tenant_id)
    assert await _published(committing, emailed) == linked
    assert calls_since(before) == {"POST Contacts": 1}
    assert organisation.contacts[linked["OP-1"]]["Name"] == "Sam Smith (sam@y.com)"


async def test_a_run_over_many_records_settles_each_with_its_own_documents_and_claims_only_pending_kinds(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    """One batch's records are settled from one read of their documents: each record's state names only
    its own documents, and a refused payment fails its record alone."""
    account_id, connection_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    other_account_id, other_id, _ = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    await _contact_documents(committing, other_account_id, other_id, [("OP-900", "Someone Else", "")])
    numbers = [f"OP-{n}" for n in range(1, 6)]
    records: dict[str, uuid.UUID] = {}
    async with unit_of_work(committing) as session:
        for number in numbers:
            record = source_record(account_id, connection_id, number, status=RecordStatus.mapped)
            session.add(record)
            await session.flush()
            records[number] = record.id
            invoice = {
                "Type": "ACCREC",
                "InvoiceNumber": number,
                "Contact": {"Name": f"Buyer {number}", "ContactNumber": f"C-{number}"},
                "Status": "AUTHORISED",
                "Date": "2026-11-01",
                "DueDate": "2026-11-01",
                "LineAmountTypes": "Exclusive",
                "LineItems": [
                    {"Description": "Course", "Quantity": 1, "UnitAmount": 100, "AccountCode": "200"}
                ],
            }
            # Account 200 takes no payments: the third record's payment is refused.
            code = "200" if number == "OP-3" else "615"
            payment = {"Invoice": {"InvoiceNumber": number}, "Account": {"Code": code}, "Date": "2026-11-01"}
            for kind, body in ((DocumentKind.invoice, invoice), (DocumentKind.payment, payment)):
                session.add(
                    Document(
                        account_id=account_id,
                        record_id=record.id,
                        xero_connection_id=connection_id,
                        kind=kind,
                        mapping_version="test",
                        request_body={**body, "Amount": 110} if kind is DocumentKind.payment else body,
                        fingerprint=uuid.uuid4().hex * 2,
                        idempotency_key=f"lb:test:{uuid.uuid4()}",
                    )
                )
    # The other organisation's pending contact is not this one's to claim.
    assert await pending_kinds(committing, connection_id) == {DocumentKind.invoice, DocumentKind.payment}
    limiter = RateLimiter(redis, settings.queue.prefix)

    def client_for(connection: Connection) -> XeroClient:
        return XeroClient(
            xero.http, settings.xero, limiter, xero.tokens.provider(committing, connection.id), tenant_id
        )

    await PublishingRuns(committing, client_for, gather=0).publish(connection_id, max_seconds=30)

    counters = xero.app.state.sandbox.orgs[tenant_id].counters
    # One batch of each kind for all five records.
    assert (counters.by_endpoint.get("PUT Invoices"), counters.by_endpoint.get("PUT Payments")) == (1, 1)
    async with committing() as session:
        stored = {
            r.external_id: r
            for r in await session.scalars(select(SourceRecord).where(SourceRecord.id.in_(records.values())))
        }
    for number in numbers:
        record = stored[number]
        assert record.reason is not None
        if number == "OP-3":
            assert record.status is RecordStatus.failed
            assert record.reason.startswith("Xero rejected the payment:")
            assert record.reason.endswith(
                f"already in Xero: invoice {number} (a retry sends only what failed)"
            )
        else:
            assert record.status is RecordStatus.synced
            # Its own invoice and payment, nobody else's.
            assert record.reason.startswith("In Xero: ")
            parts = sorted(record.reason.removeprefix("In Xero: ").split(", "))
            assert parts[0] == f"invoice {number}" and parts[1].startswith("payment ") and len(parts) == 2
    assert await pending_kinds(committing, connection_id) == set()
    assert await pending_kinds(committing, other_id) == {DocumentKind.contact}


async def test_a_refresh_finding_another_under_way_comes_back_later_and_then_releases_its_records(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide
) -> None:
    """A refresh does not wait on the organisation's lock (holding a job slot and a connection), and is
    not dropped either: it is retried, finds the other's reference data fresh, and releases what waited."""
    account_id, connection_id, _ = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    async with unit_of_work(committing) as session:
        await xero_reference.store(session, connection_id, {"accounts": [], "tax_rates": []})
        source = await ontraport_source(session, account_id, connection_id)
        record = source_record(
            account_id,
            source.id,
            "waits",
            status=RecordStatus.waiting,
            reason_code=ReasonCode.xero_reference.value,
        )
        session.add(record)
    message = RefreshXeroReference(xero_connection_id=connection_id)
    async with committing() as other, other.begin():  # the other refresh, under way
        await other.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"xero-reference:{connection_id}"},
        )
        with pytest.raises(TransientError):
            async with unit_of_work(committing) as session:
                await reference.refresh(session, message, client_for=_no_xero)
    async with committing() as session:
        still = await session.get(SourceRecord, record.id)
        assert still is not None and still.status is RecordStatus.waiting
    async with unit_of_work(committing) as session:  # the retry: the data is fresh, nothing is read
        await reference.refresh(session, message, client_for=_no_xero)
    async with committing() as session:
        released = await session.get(SourceRecord, record.id)
    assert released is not None and released.status is RecordStatus.received


async def test_a_part_batch_goes_at_once_while_the_organisation_has_calls_to_spare(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    account_id, xero_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    async with unit_of_work(committing) as session:
        source = await ontraport_source(session, account_id, xero_id)
        session.add(source_record(account_id, source.id, "still-mapping", status=RecordStatus.received))
        connection = await session.get(Connection, xero_id)
        assert connection is not None
    await _contact_documents(committing, account_id, xero_id, [(f"OP-{n}", f"P {n}", "") for n in range(10)])
    await _made_ago(committing, xero_id, timedelta(minutes=1))  # a trickle, not a backlog pouring in
    spec = ContactSpec()
    assert not await fills_a_batch(committing, xero_id, spec)  # 10 ready and the mapper has more
    limiter = RateLimiter(redis, settings.queue.prefix)
    client = XeroClient(
        xero.http, settings.xero, limiter, xero.tokens.provider(committing, xero_id), tenant_id
    )
    runs = PublishingRuns(committing, lambda _: client, gather=0.05, hold_for_full_batch=0.3)
    destination = Destination(client, committing, xero_id)

    # A quiet organisation: the 10 go now, booked seconds after the sale instead of after the rest.
    assert await runs.wait_for_full_batch(destination, spec) == 0.0
    for _ in range(40):  # a burst of calls (by any replica): more now would outpace Xero's minute
        async with limiter.slot(tenant_id):
            pass
    # Calls running short: the part batch waits for the rest (here until the run's hold is used up).
    assert await runs.wait_for_full_batch(destination, spec) >= 0.3


async def _made_ago(sessions: async_sessionmaker[AsyncSession], xero_id: uuid.UUID, ago: timedelta) -> None:
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(Document)
            .where(Document.xero_connection_id == xero_id)
            .values(created_at=datetime.now(UTC) - ago)
        )


async def test_a_backlog_pouring_in_goes_in_whole_batches_even_with_calls_to_spare(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    """An import maps hundreds of records a second: its first pass waits the moment it takes for 50,
    instead of sending the 10 it found first and paying a call for each part batch (issue 12)."""
    account_id, xero_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    async with unit_of_work(committing) as session:
        source = await ontraport_source(session, account_id, xero_id)
        session.add(source_record(account_id, source.id, "still-mapping", status=RecordStatus.received))
    client = XeroClient(
        xero.http,
        settings.xero,
        RateLimiter(redis, settings.queue.prefix),
        xero.tokens.provider(committing, xero_id),
        tenant_id,
    )
    assert (await client.pace()).unhurried  # calls to spare: only the flow makes it wait
    # A gather of a second: 2 documents in the last one are a whole batch's pace over the 30 s hold.
    runs = PublishingRuns(committing, lambda _: client, gather=1.0, hold_for_full_batch=30)

    async def the_mapper_goes_on() -> None:
        for start in range(10, 50, 10):
            await asyncio.sleep(0.05)
            numbers = range(start, start + 10)
            await _contact_documents(
                committing, account_id, xero_id, [(f"OP-{n}", f"P {n}", "") for n in numbers]
            )

    await _contact_documents(committing, account_id, xero_id, [(f"OP-{n}", f"P {n}", "") for n in range(10)])
    mapping = asyncio.create_task(the_mapper_goes_on())
    held = await runs.wait_for_full_batch(Destination(client, committing, xero_id), ContactSpec())
    await mapping
    assert 0 < held < 30  # waited while they came, and no longer than it took
    assert len(await claim(committing, xero_id, ContactSpec())) == 50


async def test_a_part_batch_waits_for_documents_of_its_kind_that_wait_on_an_earlier_kind(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide
) -> None:
    """The mapper is done, but an invoice still waits on its contact, which the same pass sends first:
    the invoices ready now wait for it to go whole, rather than leaving a part batch and a call behind."""
    account_id, xero_id, _ = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    contacts = await _contact_documents(
        committing, account_id, xero_id, [("OP-1", "Ada", ""), ("OP-2", "Bo", "")]
    )
    async with unit_of_work(committing) as session:
        for number, contact_id in contacts.items():
            contact = await session.get_one(Document, contact_id)
            body = invoice_body(f"INV-{number}", {"ContactNumber": number})
            session.add(stored_document(account_id, contact.record_id, xero_id, DocumentKind.invoice, body))
        first = await session.get_one(Document, contacts["OP-1"])
        first.status = DocumentStatus.published
    spec = InvoiceSpec()
    assert not await fills_a_batch(committing, xero_id, spec)  # OP-1's invoice is ready, OP-2's waits

    async def second_contact(status: DocumentStatus) -> None:
        async with unit_of_work(committing) as session:
            (await session.get_one(Document, contacts["OP-2"])).status = status

    await second_contact(DocumentStatus.failed)
    # Refused by Xero, OP-2's contact is not on its way: OP-1's invoice is not held for it.
    assert await fills_a_batch(committing, xero_id, spec)
    await second_contact(DocumentStatus.sending)  # another run has it in flight: worth the wait again
    assert not await fills_a_batch(committing, xero_id, spec)
    await second_contact(DocumentStatus.published)
    assert await fills_a_batch(committing, xero_id, spec)  # both ready and nothing more to come


async def test_a_contact_batch_counts_people_not_documents(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide
) -> None:
    """Each sale carries its buyer's contact: a batch of 50 documents holding repeat buyers, or buyers an
    earlier batch made, would create fewer than 50. A claim takes 50 people to create (and up to 50
    already made, which cost no create), however many documents that is (issue 12: 50 calls, floor 46)."""
    account_id, xero_id, _ = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    made = await _contact_documents(
        committing, account_id, xero_id, [(f"OP-M{n}", f"Made {n}", "") for n in range(30)]
    )
    async with unit_of_work(committing) as session:
        for number, document_id in made.items():
            document = await session.get_one(Document, document_id)
            document.status = DocumentStatus.published
            document.xero_number = number
            document.xero_id = str(uuid.uuid4())
    again = [(f"OP-M{n}", f"Made {n}", "") for n in range(30)]  # their next sales
    new = [(f"OP-{n}", f"New {n}", "") for n in range(60)]
    twice = [(f"OP-{n}", f"New {n}", "") for n in range(0, 60, 3)]  # repeat buyers among them
    await _contact_documents(committing, account_id, xero_id, again + new + twice)

    documents_of = Counter(number for number, _, _ in again + new + twice)
    batch = await claim(committing, xero_id, ContactSpec())
    people = Counter(str(document.body["ContactNumber"]) for document in batch)
    assert len([n for n in people if n.startswith("OP-M")]) == 30  # every made one: no create for them
    assert len([n for n in people if not n.startswith("OP-M")]) == 50  # a whole create call
    assert all(people[n] == documents_of[n] for n in people)  # a person's every document, in one batch
    rest = Counter(str(d.body["ContactNumber"]) for d in await claim(committing, xero_id, ContactSpec()))
    assert len(rest) == 10 and not set(rest) & set(people)  # the other ten new people, and theirs
    assert all(rest[n] == documents_of[n] for n in rest)


async def test_a_busy_run_holds_once_a_pass_so_payments_follow_their_invoices_at_once(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    """50 invoices ready (a whole batch: no wait) and 40 payments behind them, the minute two-thirds
    spent and the mapper still busy: the payments go in the same pass, not after a hold of their own."""
    account_id, xero_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    async with unit_of_work(committing) as session:
        source = await ontraport_source(session, account_id, xero_id)
        session.add(source_record(account_id, source.id, "still-mapping", status=RecordStatus.received))
        for n in range(1, 51):
            record = source_record(account_id, source.id, str(n), status=RecordStatus.mapped)
            session.add(record)
            await session.flush()
            invoice = {
                "Type": "ACCREC",
                "InvoiceNumber": f"OP-{n}",
                "Contact": {"Name": "Ada Lovelace", "ContactNumber": "OP-10"},
                "Status": "AUTHORISED",
                "Date": "2026-11-01",
                "DueDate": "2026-11-01",
                "LineAmountTypes": "Exclusive",
                "LineItems": [
                    {"Description": "Course", "Quantity": 1, "UnitAmount": 100, "AccountCode": "200"}
                ],
            }
            payment = {
                "Invoice": {"InvoiceNumber": f"OP-{n}"},
                "Account": {"Code": "615"},
                "Date": "2026-11-01",
                "Amount": 110,
            }
            bodies = [(DocumentKind.invoice, invoice)] + (
                [(DocumentKind.payment, payment)] if n <= 40 else []
            )
            for kind, body in bodies:
                session.add(
                    Document(
                        account_id=account_id,
                        record_id=record.id,
                        xero_connection_id=xero_id,
                        kind=kind,
                        mapping_version="test",
                        request_body=body,
                        fingerprint=uuid.uuid4().hex * 2,
                        idempotency_key=f"lb:test:{uuid.uuid4()}",
                    )
                )
    limiter = RateLimiter(redis, settings.queue.prefix)
    for _ in range(40):
        async with limiter.slot(tenant_id):
            pass
    client = XeroClient(
        xero.http, settings.xero, limiter, xero.tokens.provider(committing, xero_id), tenant_id
    )
    # A hold would outlast the test: finishing at all says the payments were not held.
    runs = PublishingRuns(committing, lambda _: client, gather=0.05, hold_for_full_batch=3600)
    await asyncio.wait_for(runs.publish(xero_id, max_seconds=3600), timeout=60)

    organisation = xero.app.state.sandbox.orgs[tenant_id]
    assert sum(1 for i in organisation.invoices.values() if i["Status"] == "PAID") == 40
    assert organisation.counters.by_endpoint.get("PUT Payments") == 1


async def test_a_refresh_is_served_by_a_copy_read_after_it_was_asked_for_and_reads_again_otherwise(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    """Issue 12: a new organisation's records ask once per batch while the first read is under way; a
    read after their ask serves them all (one read, not one per ask that outlived a minute)."""
    _, connection_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    asked = datetime.now(UTC)
    async with unit_of_work(committing) as session:  # the first refresh's copy, read after that ask
        await xero_reference.store(session, connection_id, {"accounts": [], "tax_rates": []})
    served = RefreshXeroReference(xero_connection_id=connection_id, asked_at=asked)
    async with unit_of_work(committing) as session:
        await reference.refresh(session, served, client_for=_no_xero)  # nothing read from Xero
    counters = xero.app.state.sandbox.orgs[tenant_id].counters
    assert counters.by_endpoint.get("GET Accounts") is None

    # Asked after the copy was read (a document refused on an account Xero no longer has): read again.
    again = RefreshXeroReference(xero_connection_id=connection_id, asked_at=datetime.now(UTC))
    client_for = xero.client_for(committing, settings, RateLimiter(redis, settings.queue.prefix), tenant_id)
    async with unit_of_work(committing) as session:
        await reference.refresh(session, again, client_for=client_for)
    assert counters.by_endpoint.get("GET Accounts") == 1
    async with committing() as session:
        cached = await xero_reference.load(session, connection_id)
    assert cached is not None and cached.reference.account_codes  # the organisation's own chart now


async def test_while_a_backlog_flows_a_part_batch_after_a_full_one_waits_to_go_whole(
    committing: async_sessionmaker[AsyncSession], xero: XeroSide, redis: Redis, settings: Settings
) -> None:
    """60 contacts ready while the mapper is still at work, which adds 40 more moments after the first
    batch goes: the 10 left over wait for them, so 100 contacts take 2 calls, not 50 + 10 + 40."""
    account_id, xero_id, tenant_id = await xero_connection(committing, xero, last_refreshed_days_ago=0)
    async with unit_of_work(committing) as session:
        source = await ontraport_source(session, account_id, xero_id)
        mapping = source_record(account_id, source.id, "still-mapping", status=RecordStatus.received)
        session.add(mapping)
    await _contact_documents(committing, account_id, xero_id, [(f"OP-{n}", f"P {n}", "") for n in range(60)])
    limiter = RateLimiter(redis, settings.queue.prefix)
    for _ in range(40):  # calls running short: a pass waits for whole batches
        async with limiter.slot(tenant_id):
            pass

    async def mapper_finishes() -> None:
        await asyncio.sleep(0.2)
        more = [(f"OP-{n}", f"P {n}", "") for n in range(60, 100)]
        await _contact_documents(committing, account_id, xero_id, more)
        async with unit_of_work(committing) as session:
            record = await session.get(SourceRecord, mapping.id)
            assert record is not None
            record.status = RecordStatus.mapped

    later: list[asyncio.Task[None]] = []

    async def after_first_send(response: httpx.Response) -> None:
        if response.request.method == "PUT" and not later:
            later.append(asyncio.create_task(mapper_finishes()))

    xero.http.event_hooks["response"].append(after_first_send)
    client_for = xero.client_for(committing, settings, limiter, tenant_id)
    runs = PublishingRuns(committing, client_for, gather=0.05, hold_for_full_batch=30)
    await asyncio.wait_for(runs.publish(xero_id, max_seconds=60), timeout=60)
    await later[0]

    organisation = xero.app.state.sandbox.orgs[tenant_id]
    ours = [c for c in organisation.contacts.values() if str(c.get("ContactNumber", "")).startswith("OP-")]
    assert len(ours) == 100
    assert organisation.counters.by_endpoint.get("PUT Contacts") == 2
