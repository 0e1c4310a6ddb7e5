"""What Xero needs for one record now: the one function the mapper applies and the API's preview shows.

It reads the record's inputs (its connection, the Xero organisation's cached reference data, the
tenant's mappings and options, what Xero already holds for it) and asks the pure core. Reading is all it
does: storing documents, moving the record and counting the trial are the mapper's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.bills import BillMappings, map_purchase_invoice
from ledgerbridge.bookkeeping.decisions import Decision, Fail, MappingError, Wait
from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.bookkeeping.reference import XeroReference
from ledgerbridge.bookkeeping.sales import Mappings, MappingSettings, TrialState, map_transaction
from ledgerbridge.bookkeeping.sales.offer_data import OfferDataError
from ledgerbridge.bookkeeping.sales.summary import (
    DailySummary,
    RefundCredit,
    SummaryEntry,
    map_daily_summary,
    map_summary_member,
    refunded_amount,
    summary_entry,
)
from ledgerbridge.bookkeeping.sales.summary_refunds import (
    map_daily_refund_summary,
    refund_entry,
)
from ledgerbridge.bookkeeping.sales.transaction import TransactionError, parse_transaction
from ledgerbridge.common import xero_reference
from ledgerbridge.common.account_settings import AccountOptions
from ledgerbridge.common.models import (
    Account,
    Connection,
    Document,
    Plan,
    RecordStatus,
    SourceRecord,
    XeroDocumentState,
)
from ledgerbridge.common.models.records import REFUND_SUMMARY_KIND, SUMMARY_KIND
from ledgerbridge.common.records import core_inputs as inputs

SOURCE_NAMES = {"ontraport": "ONTRAPORT", "onport": "Onport"}

XERO_NOT_LINKED = Cause("connection", "xero")
XERO_REFERENCE = Cause("connection", "xero_reference")


@dataclass
class Reads:
    """What deciding reads besides the record: each connection's, organisation's and account's inputs,
    read once per unit of work, so a mapper batch of many records of one tenant reads them once.

    The account is the session's own object: a trial slot one record takes is seen by the next.
    """

    session: AsyncSession
    _connections: dict[uuid.UUID, Connection | None] = field(default_factory=dict)
    _references: dict[uuid.UUID, XeroReference | None] = field(default_factory=dict)
    _options: dict[uuid.UUID, AccountOptions] = field(default_factory=dict)
    _sales_mappings: dict[uuid.UUID, Mappings] = field(default_factory=dict)
    _bill_mappings: dict[uuid.UUID, BillMappings] = field(default_factory=dict)
    _settings: dict[uuid.UUID, MappingSettings] = field(default_factory=dict)
    _accounts: dict[uuid.UUID, Account] = field(default_factory=dict)  # held: the identity map is weak
    _locked_accounts: set[uuid.UUID] = field(default_factory=set)
    # Read ahead by ``prefetch`` for a batch's records; what it did not read is read when asked for.
    _summaries: dict[uuid.UUID, SourceRecord | None] = field(default_factory=dict)
    _refund_summaries: dict[uuid.UUID, list[SourceRecord]] = field(default_factory=dict)
    _held: dict[inputs.HeldKey, XeroDocumentState | None] = field(default_factory=dict)

    async def prefetch(
        self, records: Sequence[SourceRecord], documents: Mapping[uuid.UUID, list[Document]]
    ) -> None:
        """Read what deciding ``records`` (with their ``documents``) reads per record, a query per kind
        for all of them: the daily summaries that took sales, the refunds credit notes that credit
        them, Xero's copies of draft invoices."""
        summary_ids = {r.summary_record_id for r in records if r.summary_record_id is not None}
        if summary_ids:
            found = await self.session.scalars(select(SourceRecord).where(SourceRecord.id.in_(summary_ids)))
            self._summaries.update({summary.id: summary for summary in found})
            self._summaries.update({i: None for i in summary_ids - self._summaries.keys()})
        members: dict[uuid.UUID, list[uuid.UUID]] = {}
        for record in records:
            if record.summary_record_id is not None:  # only a sale a summary took has refunds credited
                members.setdefault(record.account_id, []).append(record.id)
        for account_id, ids in members.items():
            self._refund_summaries.update(await _refund_summaries(self.session, account_id, ids))
        keys = {key for docs in documents.values() if (key := inputs.held_draft_key(docs)) is not None}
        if keys:
            held = await inputs.held_drafts(self.session, keys)
            self._held.update({key: held.get(key) for key in keys})

    async def connection(self, connection_id: uuid.UUID) -> Connection | None:
        if connection_id not in self._connections:
            self._connections[connection_id] = await self.session.get(Connection, connection_id)
        return self._connections[connection_id]

    async def reference(self, xero_connection_id: uuid.UUID) -> XeroReference | None:
        if xero_connection_id not in self._references:
            cached = await xero_reference.load(self.session, xero_connection_id)
            self._references[xero_connection_id] = cached.reference if cached else None
        return self._references[xero_connection_id]

    async def options(self, account_id: uuid.UUID) -> AccountOptions:
        if account_id not in self._options:
            self._options[account_id] = await inputs.account_options(self.session, account_id)
        return self._options[account_id]

    async def settings(self, account_id: uuid.UUID) -> MappingSettings:
        if account_id not in self._settings:
            self._settings[account_id] = inputs.mapping_settings(await self.options(account_id))
        return self._settings[account_id]

    async def sales_mappings(self, account_id: uuid.UUID) -> Mappings:
        if account_id not in self._sales_mappings:
            self._sales_mappings[account_id] = await inputs.ontraport_mappings(self.session, account_id)
        return self._sales_mappings[account_id]

    async def bill_mappings(self, account_id: uuid.UUID, options: AccountOptions) -> BillMappings:
        if account_id not in self._bill_mappings:
            self._bill_mappings[account_id] = await inputs.bill_mappings(self.session, account_id, options)
        return self._bill_mappings[account_id]

    async def account(self, account_id: uuid.UUID, *, lock_trial: bool = False) -> Account:
        account = self._accounts.get(account_id) or await self.session.get(Account, account_id)
        assert account is not None  # the record belongs to it
        self._accounts[account_id] = account
        if lock_trial and account.plan is Plan.trial and account_id not in self._locked_accounts:
            # NO KEY UPDATE: this transaction's own inbox and outbox rows hold KEY SHARE on the account
            # (foreign keys), and a plain FOR UPDATE from two such transactions deadlocks. Once per unit
            # of work: a second refresh would throw away the trial slots taken since.
            await self.session.refresh(account, with_for_update={"key_share": True})
            self._locked_accounts.add(account_id)
        return account

    async def summary(self, record: SourceRecord) -> SourceRecord | None:
        """The daily summary that took the sale, if one did."""
        if record.summary_record_id is None:
            return None
        if record.summary_record_id not in self._summaries:
            self._summaries[record.summary_record_id] = await self.session.get(
                SourceRecord, record.summary_record_id
            )
        return self._summaries[record.summary_record_id]

    async def refund_credits(self, record: SourceRecord) -> tuple[RefundCredit, ...]:
        """The parts of the sale's refund already in refunds credit notes (:func:`refund_credits`)."""
        if record.id not in self._refund_summaries:
            found = await _refund_summaries(self.session, record.account_id, [record.id])
            self._refund_summaries[record.id] = found[record.id]
        return _credits(record, self._refund_summaries[record.id])

    async def held_draft(self, documents: list[Document]) -> XeroDocumentState | None:
        """Xero's copy of the record's draft invoice as last read (``core_inputs.held_draft``)."""
        key = inputs.held_draft_key(documents)
        if key is None:
            return None
        if key not in self._held:
            self._held[key] = await self.session.get(XeroDocumentState, key)
        return self._held[key]


async def decide(
    session: AsyncSession,
    record: SourceRecord,
    documents: list[Document],
    *,
    lock_trial: bool = False,
    as_upgraded: bool = False,
    reads: Reads | None = None,
) -> Decision:
    """The core's decision for ``record`` with ``documents`` (all of its stored documents).

    ``lock_trial`` takes the account row's lock first, so two records mapped at once cannot both take
    the last free trial slot; the mapper asks for it, a preview does not. ``as_upgraded`` decides as if
    the plan were paid: what a record the trial holds will send once it is upgraded. ``reads`` shares
    the inputs read for earlier records of the same unit of work.
    """
    reads = reads or Reads(session)
    if record.source not in SOURCE_NAMES:
        return Fail(
            f"records from {record.source} cannot be mapped",
            ReasonCode.source_unreadable,
            Cause("source", record.source),
        )
    connection = await reads.connection(record.connection_id)
    if connection is None or connection.xero_connection_id is None:
        return Wait(
            f"The {SOURCE_NAMES[record.source]} connection is not linked to a Xero organisation yet",
            ReasonCode.xero_not_linked,
            XERO_NOT_LINKED,
        )
    reference = await reads.reference(connection.xero_connection_id)
    if reference is None:
        return Wait(
            "Reading the Xero organisation's accounts and tax rates first",
            ReasonCode.xero_reference,
            XERO_REFERENCE,
        )
    try:
        return await _core(
            reads, record, documents, reference, lock_trial=lock_trial, as_upgraded=as_upgraded
        )
    except ValidationError as error:
        return Fail(
            f"The account's settings or mappings cannot be read by the mapping: {error}",
            ReasonCode.mapping_inputs,
        )


async def _core(
    reads: Reads,
    record: SourceRecord,
    documents: list[Document],
    reference: XeroReference,
    *,
    lock_trial: bool,
    as_upgraded: bool,
) -> Decision:
    """The pure core's decision on the record's inputs; raises ValidationError on unreadable ones."""
    options = await reads.options(record.account_id)
    if record.source == "onport":
        return map_purchase_invoice(
            record.payload,
            mappings=await reads.bill_mappings(record.account_id, options),
            options=inputs.bill_options(options),
            reference=reference,
            state=inputs.bill_sync_state(documents),
            observed_on=datetime.now(UTC).date(),
        )
    settings = await reads.settings(record.account_id)
    if record.kind == SUMMARY_KIND:
        return map_daily_summary(record.payload, settings)
    if record.kind == REFUND_SUMMARY_KIND:
        return map_daily_refund_summary(record.payload, settings)
    mappings = await reads.sales_mappings(record.account_id)
    account = await reads.account(record.account_id, lock_trial=lock_trial)
    now = datetime.now(UTC)
    trial = TrialState() if as_upgraded else inputs.trial_state(account, now)
    if settings.summary_mode or record.summary_record_id is not None:
        return await _summary_member(reads, record, documents, reference, settings, mappings, trial, now)
    return map_transaction(
        record.payload.get("transaction", {}),
        contact=inputs.ontraport_contact(record.payload.get("contact")),
        mappings=mappings,
        settings=settings,
        reference=reference,
        state=inputs.sync_state(documents, await reads.held_draft(documents)),
        trial=trial,
        observed_on=now.date(),
        purchases=record.payload.get("purchases"),
    )


async def _summary_member(
    reads: Reads,
    record: SourceRecord,
    documents: list[Document],
    reference: XeroReference,
    settings: MappingSettings,
    mappings: Mappings,
    trial: TrialState,
    now: datetime,
) -> Decision:
    """A sale in summary mode, or one a daily summary already took (whatever the mode is now)."""
    summary = await reads.summary(record)
    entry = _summarised_entry(record, summary)
    return map_summary_member(
        record.payload.get("transaction", {}),
        record_id=str(record.id),
        contact=inputs.ontraport_contact(record.payload.get("contact")),
        mappings=mappings,
        settings=settings,
        reference=reference,
        state=inputs.sync_state(documents),
        trial=trial,
        observed_on=now.date(),
        summarised=entry,
        summary=summary.external_id if summary is not None else None,
        summary_published=summary is not None and summary.status is RecordStatus.synced,
        refunds=await reads.refund_credits(record) if entry is not None else (),
        observed_at=now,
        purchases=record.payload.get("purchases"),
    )


def _summarised_entry(record: SourceRecord, summary: SourceRecord | None) -> SummaryEntry | None:
    """The sale's entry in the daily summary that took it."""
    if summary is None:
        return None
    day = DailySummary.model_validate(summary.payload)
    return next((e for e in day.entries if e.record_id == str(record.id)), None)


async def refund_credits(session: AsyncSession, record: SourceRecord) -> tuple[RefundCredit, ...]:
    """The parts of the sale's refund already in refunds credit notes (each with whether it is in Xero)."""
    return _credits(record, (await _refund_summaries(session, record.account_id, [record.id]))[record.id])


async def _refund_summaries(
    session: AsyncSession, account_id: uuid.UUID, record_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[SourceRecord]]:
    """Each sale's refunds credit notes (the days' refund summaries listing it), by number, in one query."""
    wanted = {str(record_id): record_id for record_id in record_ids}
    summaries = await session.scalars(
        select(SourceRecord)
        .where(
            SourceRecord.account_id == account_id,
            SourceRecord.kind == REFUND_SUMMARY_KIND,
            or_(*(SourceRecord.payload["entries"].contains([{"record_id": key}]) for key in wanted)),
        )
        .order_by(SourceRecord.external_id)
    )
    found: dict[uuid.UUID, list[SourceRecord]] = {record_id: [] for record_id in record_ids}
    for summary in summaries.all():
        for key in {e["record_id"] for e in summary.payload["entries"]} & wanted.keys():
            found[wanted[key]].append(summary)
    return found


def _credits(record: SourceRecord, summaries: list[SourceRecord]) -> tuple[RefundCredit, ...]:
    """What each of the sale's refunds credit notes credits it, and whether that note is in Xero yet."""
    credits = []
    for summary in summaries:
        amount = sum(
            (
                Decimal(str(e["total"]))
                for e in summary.payload["entries"]
                if e["record_id"] == str(record.id)
            ),
            Decimal(0),
        )
        credits.append(
            RefundCredit(
                number=summary.external_id, amount=amount, published=summary.status is RecordStatus.synced
            )
        )
    return tuple(credits)


async def summary_entries(
    session: AsyncSession, account_id: uuid.UUID, xero_connection_id: uuid.UUID, records: list[SourceRecord]
) -> tuple[MappingSettings, dict[uuid.UUID, SummaryEntry | Fail]] | None:
    """The account's settings and each waiting sale's entry for its day's summary, read as ``decide``
    reads them; None while the organisation's reference data is not cached."""
    cached = await xero_reference.load(session, xero_connection_id)
    if cached is None:
        return None
    settings = inputs.mapping_settings(await inputs.account_options(session, account_id))
    mappings = await inputs.ontraport_mappings(session, account_id)
    return settings, {
        record.id: summary_entry(
            record.payload.get("transaction", {}),
            record_id=str(record.id),
            contact=inputs.ontraport_contact(record.payload.get("contact")),
            mappings=mappings,
            settings=settings,
            reference=cached.reference,
            purchases=record.payload.get("purchases"),
        )
        for record in records
    }


async def refund_entries(
    session: AsyncSession, settings: MappingSettings, records: list[SourceRecord]
) -> dict[uuid.UUID, SummaryEntry | None]:
    """Each waiting refund's entry for the refunds credit note of the day it was seen on (when it was
    last mapped), read as ``decide`` reads it; None if it has nothing left to credit or cannot be read
    (it is mapped again, on its own)."""
    found: dict[uuid.UUID, SummaryEntry | None] = {}
    for record in records:
        summary = (
            await session.get(SourceRecord, record.summary_record_id)
            if record.summary_record_id is not None
            else None
        )
        entry = _summarised_entry(record, summary)
        found[record.id] = None
        if entry is None or not settings.summary_mode:
            continue
        try:
            refunded = refunded_amount(parse_transaction(record.payload.get("transaction", {})), entry)
        except (TransactionError, OfferDataError):
            continue
        documents = (await session.scalars(select(Document).where(Document.record_id == record.id))).all()
        credited = sum((credit.amount for credit in await refund_credits(session, record)), Decimal(0))
        credited += sum((note.amount for note in inputs.sync_state(list(documents)).credit_notes), Decimal(0))
        if refunded is None or refunded <= credited:
            continue
        try:
            found[record.id] = refund_entry(
                entry,
                record_id=str(record.id),
                amount=refunded - credited,
                observed_at=record.updated_at,
                time_zone=settings.time_zone,
            )
        except MappingError:
            continue  # mapped again, it fails with the reason
    return found
