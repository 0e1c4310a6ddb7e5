"""The mapper service on a real database: how the core's decisions become documents, states and messages."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.documents import XeroDocument
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common import xero_reference
from ledgerbridge.common.account_settings import AccountOptions, OntraportOptions
from ledgerbridge.common.messaging.errors import TransientError
from ledgerbridge.common.messaging.messages import MapRecord, MapRecords
from ledgerbridge.common.models import (
    Account,
    AccountSettings,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Document,
    DocumentKind,
    DocumentStatus,
    Mapping,
    MappingKind,
    OutboxMessage,
    Plan,
    RecordEvent,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.mapper.record_mapping import map_record, map_records
from ledgerbridge.sandbox.ontraport.app import create_app as create_ontraport
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig

REFERENCE = {
    "accounts": [{"Code": code} for code in ("200", "210", "220", "615")],
    "tax_rates": [
        {"TaxType": "OUTPUT", "EffectiveRate": 10},
        {"TaxType": "EXEMPTOUTPUT", "EffectiveRate": 0},
    ],
    "branding_themes": [{"BrandingThemeID": "theme-1"}],
    "currencies": [{"Code": "AUD"}],
}


def worked_example() -> dict[str, Any]:
    """SPEC.md §4's transaction 1001, as the ONTRAPORT sandbox serves it."""
    app = create_ontraport(OntraportSandboxConfig(transactions=0))
    transaction: dict[str, Any] = dict(app.state.sandbox.demo.transactions[1001])
    return transaction


async def tenant(
    db: AsyncSession, *, plan: Plan = Plan.pro, trial_used: int = 0, linked: bool = True, cached: bool = True
) -> tuple[Account, Connection]:
    account = Account(company="Mapper Co", plan=plan, trial_used=trial_used)
    db.add(account)
    await db.flush()
    options = AccountOptions(
        ontraport=OntraportOptions(default_sales_account="200", default_shipping_account="210")
    )
    db.add(AccountSettings(account_id=account.id, values=options.model_dump()))
    xero = Connection(
        account_id=account.id,
        kind=ConnectionKind.xero,
        status=ConnectionStatus.active,
        credentials=b"x",
        xero_tenant_id="t",
    )
    db.add(xero)
    await db.flush()
    source = Connection(
        account_id=account.id,
        kind=ConnectionKind.ontraport,
        status=ConnectionStatus.active,
        credentials=b"x",
        xero_connection_id=xero.id if linked else None,
    )
    db.add(source)
    mappings: list[tuple[MappingKind, str, dict[str, Any]]] = [
        (
            MappingKind.gateway,
            "3",
            {"currency_code": "AUD", "branding_theme_id": "theme-1", "payment_account_code": "615"},
        ),
        (MappingKind.tax, "1", {"tax_type": "OUTPUT"}),
        (MappingKind.coupon, "SPRING20", {"account_code": "220"}),
    ]
    db.add_all(Mapping(account_id=account.id, kind=k, source_id=s, target=t) for k, s, t in mappings)
    if cached:
        await xero_reference.store(db, xero.id, REFERENCE)
    await db.flush()
    return account, source


async def stored(db: AsyncSession, connection: Connection, transaction: dict[str, Any]) -> SourceRecord:
    record = SourceRecord(
        id=uuid.uuid4(),
        account_id=connection.account_id,
        connection_id=connection.id,
        source="ontraport",
        kind="transaction",
        external_id=str(transaction["id"]),
        payload={
            "transaction": transaction,
            "contact": {"id": transaction["contact_id"], "firstname": "Ada", "lastname": "Lovelace"},
        },
        payload_hash="h",
        status=RecordStatus.received,
    )
    db.add(record)
    await db.flush()
    return record


def status_of(record: SourceRecord) -> RecordStatus:
    """The record's status now (a function, so type checkers do not carry an earlier assert's narrowing)."""
    return record.status


async def documents(db: AsyncSession, record: SourceRecord) -> list[tuple[DocumentKind, DocumentStatus]]:
    rows = await db.scalars(
        select(Document).where(Document.record_id == record.id).order_by(Document.created_at, Document.kind)
    )
    return [(d.kind, d.status) for d in rows.all()]


async def outbox_types(db: AsyncSession) -> list[str]:
    return list((await db.scalars(select(OutboxMessage.message_type).order_by(OutboxMessage.id))).all())


async def test_a_paid_transaction_becomes_pending_documents_and_a_publish_message(db: AsyncSession) -> None:
    _, source = await tenant(db)
    record = await stored(db, source, worked_example())

    await map_record(db, MapRecord(record_id=record.id))

    assert record.status is RecordStatus.mapped
    assert record.reason == "Invoice OP-1001 and its payment of 242.00"
    assert sorted(await documents(db, record)) == sorted(
        [
            (DocumentKind.contact, DocumentStatus.pending),
            (DocumentKind.invoice, DocumentStatus.pending),
            (DocumentKind.payment, DocumentStatus.pending),
        ]
    )
    assert await outbox_types(db) == ["documents.publish"]
    history = (
        await db.scalars(select(RecordEvent.to_status).where(RecordEvent.record_id == record.id))
    ).all()
    assert list(history) == ["mapped"]


async def test_mapping_again_unchanged_adds_nothing(db: AsyncSession) -> None:
    _, source = await tenant(db)
    record = await stored(db, source, worked_example())
    await map_record(db, MapRecord(record_id=record.id))
    first = await documents(db, record)
    await map_record(db, MapRecord(record_id=record.id))
    assert await documents(db, record) == first


async def test_a_source_without_a_xero_organisation_waits_and_says_so(db: AsyncSession) -> None:
    _, source = await tenant(db, linked=False)
    record = await stored(db, source, worked_example())
    await map_record(db, MapRecord(record_id=record.id))
    assert (record.status, record.reason_code) == (RecordStatus.waiting, "xero_not_linked")
    assert await documents(db, record) == []


async def test_missing_reference_data_waits_and_asks_for_it(db: AsyncSession) -> None:
    _, source = await tenant(db, cached=False)
    record = await stored(db, source, worked_example())
    await map_record(db, MapRecord(record_id=record.id))
    assert (record.status, record.reason_code) == (RecordStatus.waiting, ReasonCode.xero_reference)
    assert await outbox_types(db) == ["xero.reference.refresh"]


async def test_the_trial_counts_invoices_and_holds_the_21st(db: AsyncSession) -> None:
    account, source = await tenant(db, plan=Plan.trial, trial_used=19)
    transaction = worked_example()
    last_free = await stored(db, source, transaction)
    await map_record(db, MapRecord(record_id=last_free.id))
    assert last_free.status is RecordStatus.mapped
    assert account.trial_used == 20

    held = await stored(db, source, {**transaction, "id": "1999"})
    await map_record(db, MapRecord(record_id=held.id))
    assert (held.status, held.reason_code) == (RecordStatus.waiting, "plan_limit")
    assert account.trial_used == 20


async def test_a_fixed_mapping_rebuilds_a_failed_record(db: AsyncSession) -> None:
    account, source = await tenant(db)
    mapping = await db.scalar(
        select(Mapping).where(Mapping.account_id == account.id, Mapping.kind == MappingKind.gateway)
    )
    assert mapping is not None
    await db.delete(mapping)
    await db.flush()
    record = await stored(db, source, worked_example())
    await map_record(db, MapRecord(record_id=record.id))
    assert record.status is RecordStatus.failed
    assert record.reason is not None
    assert "Gateway 3" in record.reason

    db.add(
        Mapping(
            account_id=account.id,
            kind=MappingKind.gateway,
            source_id="3",
            target={"currency_code": "AUD", "payment_account_code": "615"},
        )
    )
    await db.flush()
    await map_record(db, MapRecord(record_id=record.id))
    assert status_of(record) is RecordStatus.mapped
    assert len(await documents(db, record)) == 3


async def test_a_void_before_sync_withdraws_the_unsent_documents(db: AsyncSession) -> None:
    _, source = await tenant(db)
    transaction = worked_example()
    record = await stored(db, source, transaction)
    await map_record(db, MapRecord(record_id=record.id))
    record.payload = {**record.payload, "transaction": {**transaction, "status": "4"}}
    await map_record(db, MapRecord(record_id=record.id))
    assert record.status is RecordStatus.skipped
    assert {status for _, status in await documents(db, record)} == {DocumentStatus.superseded}


async def test_a_refund_before_sync_keeps_the_unsent_sale_and_adds_its_refund(db: AsyncSession) -> None:
    _, source = await tenant(db)
    transaction = worked_example()
    record = await stored(db, source, transaction)
    await map_record(db, MapRecord(record_id=record.id))
    sale = await documents(db, record)
    record.payload = {**record.payload, "transaction": {**transaction, "status": "2"}}
    await map_record(db, MapRecord(record_id=record.id))
    assert record.status is RecordStatus.mapped
    after = await documents(db, record)
    assert set(sale) <= set(after)  # the same invoice, payment and contact, still pending
    assert sorted(kind for kind, status in after if status is DocumentStatus.pending) == sorted(
        [
            DocumentKind.contact,
            DocumentKind.invoice,
            DocumentKind.payment,
            DocumentKind.credit_note,
            DocumentKind.refund_payment,
        ]
    )


async def test_a_published_invoice_is_never_rebuilt(db: AsyncSession) -> None:
    account, source = await tenant(db)
    record = await stored(db, source, worked_example())
    await map_record(db, MapRecord(record_id=record.id))
    for document in (await db.scalars(select(Document).where(Document.record_id == record.id))).all():
        document.status = DocumentStatus.published
        document.xero_id = str(uuid.uuid4())
        document.amount = document.request_body.get("Amount", 242)
    await db.flush()
    # The tenant now maps the coupon elsewhere: what is already in Xero stays as it is.
    coupon = await db.scalar(
        select(Mapping).where(Mapping.account_id == account.id, Mapping.kind == MappingKind.coupon)
    )
    assert coupon is not None
    coupon.target = {"account_code": "200"}
    await db.flush()
    await map_record(db, MapRecord(record_id=record.id))
    assert record.status is RecordStatus.synced
    assert len(await documents(db, record)) == 3


async def test_a_record_being_sent_is_mapped_again_later(db: AsyncSession) -> None:
    _, source = await tenant(db)
    record = await stored(db, source, worked_example())
    await map_record(db, MapRecord(record_id=record.id))
    invoice = await db.scalar(
        select(Document).where(Document.record_id == record.id, Document.kind == DocumentKind.invoice)
    )
    assert invoice is not None
    invoice.status = DocumentStatus.sending
    await db.flush()
    with pytest.raises(TransientError, match="being published"):
        await map_record(db, MapRecord(record_id=record.id))


async def test_documents_are_stored_as_json_objects_that_fingerprint_to_their_stored_fingerprint(
    db: AsyncSession,
) -> None:
    # The mapper stores the core's own JSON text of each body: it must land as an object with numbers
    # (not as a JSON string), and be the very content its fingerprint and idempotency key were made of.
    _, source = await tenant(db)
    record = await stored(db, source, worked_example())
    await map_record(db, MapRecord(record_id=record.id))
    documents = (await db.scalars(select(Document).where(Document.record_id == record.id))).all()
    assert {document.kind for document in documents} == {
        DocumentKind.contact,
        DocumentKind.invoice,
        DocumentKind.payment,
    }
    for document in documents:
        assert isinstance(document.request_body, dict)
        again = XeroDocument(DocumentKind(document.kind.value), document.request_body, document.target_id)
        assert again.fingerprint == document.fingerprint
        assert again.idempotency_key(str(record.id)) == document.idempotency_key
    invoice = next(document for document in documents if document.kind is DocumentKind.invoice)
    assert invoice.request_body["LineItems"][0]["UnitAmount"] == 200.0
    payment = next(document for document in documents if document.kind is DocumentKind.payment)
    assert payment.request_body["Amount"] == 242.0


async def test_the_coupon_of_a_stored_record_comes_from_its_stored_purchases(db: AsyncSession) -> None:
    # SPEC §4 item 12: the poller stores the purchases when offer_data names no coupon.
    _, source = await tenant(db)
    app = create_ontraport(OntraportSandboxConfig(transactions=0))
    demo = app.state.sandbox.demo
    demo.specs[1001].coupon_in_offer = False
    transaction = dict(demo.put_spec(demo.specs[1001]))
    record = await stored(db, source, transaction)
    await map_record(db, MapRecord(record_id=record.id))
    assert record.status is RecordStatus.failed  # no purchases stored: the 40.00 is unexplained
    assert record.reason is not None and "282.00" in record.reason and "242.00" in record.reason

    record.payload = {
        **record.payload,
        "purchases": [p for p in demo.objects(17) if p["invoice_id"] == "1001"],
    }
    await map_record(db, MapRecord(record_id=record.id))
    assert status_of(record) is RecordStatus.mapped, record.reason
    invoice = await db.scalar(
        select(Document).where(Document.record_id == record.id, Document.kind == DocumentKind.invoice)
    )
    assert invoice is not None
    lines = [(line["Description"], line["AccountCode"]) for line in invoice.request_body["LineItems"]]
    assert ("Coupon SPRING20", "220") in lines  # the coupon mapping by the purchases' code


async def test_taxes_charged_together_take_the_code_mapped_for_their_combination(db: AsyncSession) -> None:
    account, source = await tenant(db)
    assert source.xero_connection_id is not None
    rates = [{"TaxType": "OUTPUT", "EffectiveRate": 10}, {"TaxType": "GSTLEVY", "EffectiveRate": 15}]
    await xero_reference.store(db, source.xero_connection_id, {**REFERENCE, "tax_rates": rates})
    transaction = worked_example()
    offer = json.loads(transaction["offer_data"])
    offer["taxes"].append({"id": "2", "name": "Levy", "rate": "5", "taxShipping": False, "taxTotal": "10.50"})
    transaction.update(offer_data=json.dumps(offer), tax="32.50", total="252.50")
    db.add(Mapping(account_id=account.id, kind=MappingKind.tax, source_id="2", target={"tax_type": "LEVY"}))
    record = await stored(db, source, transaction)
    await map_record(db, MapRecord(record_id=record.id))
    assert record.status is RecordStatus.failed and record.reason_code == ReasonCode.tax_unmapped
    assert record.reason is not None and "'1+2'" in record.reason

    db.add(
        Mapping(account_id=account.id, kind=MappingKind.tax, source_id="1+2", target={"tax_type": "GSTLEVY"})
    )
    await db.flush()
    await map_record(db, MapRecord(record_id=record.id))
    assert status_of(record) is RecordStatus.mapped, record.reason
    invoice = await db.scalar(
        select(Document).where(
            Document.record_id == record.id,
            Document.kind == DocumentKind.invoice,
            Document.status == DocumentStatus.pending,
        )
    )
    assert invoice is not None
    codes = {line["Description"]: line["TaxType"] for line in invoice.request_body["LineItems"]}
    assert codes == {
        "Pro Course": "GSTLEVY",
        "Workbook": "GSTLEVY",
        "Coupon SPRING20": "GSTLEVY",
        "Shipping: Standard": "OUTPUT",
    }


# --- many records per message: one transaction, the core per record -------------------------------------


async def test_a_batch_maps_every_record_and_asks_for_one_publish_run(db: AsyncSession) -> None:
    _, source = await tenant(db)
    transaction = worked_example()
    records = [await stored(db, source, {**transaction, "id": str(2000 + n)}) for n in range(30)]

    await map_records(db, MapRecords(record_ids=[r.id for r in reversed(records)]))

    assert {status_of(r) for r in records} == {RecordStatus.mapped}
    for record in records:
        assert sorted(await documents(db, record)) == sorted(
            [
                (DocumentKind.contact, DocumentStatus.pending),
                (DocumentKind.invoice, DocumentStatus.pending),
                (DocumentKind.payment, DocumentStatus.pending),
            ]
        )
    assert await outbox_types(db) == ["documents.publish"]  # one for the organisation, not 30
    events = (await db.scalars(select(RecordEvent).where(RecordEvent.to_status == "mapped"))).all()
    assert sorted(e.record_id for e in events) == sorted(r.id for r in records)


async def test_a_record_being_published_is_retried_on_its_own_and_the_batch_goes_on(db: AsyncSession) -> None:
    _, source = await tenant(db)
    transaction = worked_example()
    busy = await stored(db, source, {**transaction, "id": "3001"})
    calm = await stored(db, source, {**transaction, "id": "3002"})
    await map_record(db, MapRecord(record_id=busy.id))
    for document in await db.scalars(select(Document).where(Document.record_id == busy.id)):
        document.status = DocumentStatus.sending
    await db.execute(delete(OutboxMessage))

    await map_records(db, MapRecords(record_ids=[busy.id, calm.id]))

    assert calm.status is RecordStatus.mapped
    assert busy.status is RecordStatus.mapped  # untouched: its send decides what comes next
    messages = (await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [(m.message_type, m.body["body"]) for m in messages] == [
        ("record.map", {"record_id": str(busy.id)}),
        ("documents.publish", {"xero_connection_id": str(source.xero_connection_id)}),
    ]
    with pytest.raises(TransientError):  # alone, the consumer retries it with backoff
        await map_records(db, MapRecords(record_ids=[busy.id]))


async def test_a_record_the_core_raises_on_fails_alone(db: AsyncSession) -> None:
    _, source = await tenant(db)
    transaction = worked_example()
    good = await stored(db, source, {**transaction, "id": "4001"})
    broken = await stored(db, source, {**transaction, "id": "4002"})
    broken.payload = {**broken.payload, "transaction": {**transaction, "id": "4002", "offer_data": 7}}

    await map_records(db, MapRecords(record_ids=[good.id, broken.id]))

    assert good.status is RecordStatus.mapped
    assert status_of(broken) is RecordStatus.failed
    # The core raised on it: the record fails with the error named, the batch commits the rest.
    assert (broken.reason_code, good.reason_code) == (ReasonCode.mapping_error, None)


async def test_the_trial_counts_each_record_of_a_batch_and_holds_those_past_its_limit(
    db: AsyncSession,
) -> None:
    account, source = await tenant(db, plan=Plan.trial, trial_used=18)
    transaction = worked_example()
    records = [await stored(db, source, {**transaction, "id": str(5000 + n)}) for n in range(4)]

    await map_records(db, MapRecords(record_ids=[r.id for r in records]))

    assert account.trial_used == 20
    assert sorted(str(status_of(r)) for r in records) == ["mapped", "mapped", "waiting", "waiting"]
    assert {r.reason_code for r in records if r.status is RecordStatus.waiting} == {"plan_limit"}
