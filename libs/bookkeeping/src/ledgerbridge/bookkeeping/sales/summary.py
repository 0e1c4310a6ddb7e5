"""Summary mode (issue 13, point 1): one ACCREC invoice per local day and gateway instead of one per sale.

A paid sale in summary mode is not sent on its own: it becomes a :class:`SummaryEntry` (its invoice
lines folded into groups by account, tax code and tracking) and waits for its day to close. A day closes
at ``summary_close_hour`` of the next day in the tenant's time zone (:func:`day_closes_at`); then
:func:`plan_summaries` turns the day's entries into a frozen :class:`DailySummary` per gateway, and
:func:`summary_documents` into a contact, one invoice with one line per group, and one payment of the
day's charges. A sale that reaches us after its day's summary was made goes into an adjustment summary
for that day (``-ADJ1``, ``-ADJ2``…): a summary, once made, never changes.

A summarised sale refunded later waits for the day's refunds credit note (``CN-OP-DAY-…``, see
:mod:`~ledgerbridge.bookkeeping.sales.summary_refunds`); with summary mode off by then, it is credited on
its own (``CN-OP-…``), against the lines it had in the summary: :func:`map_summary_member`.

Pure: no I/O and no clock; ``now`` is an input.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Self
from zoneinfo import ZoneInfo

from ledgerbridge.bookkeeping.base import Frozen
from ledgerbridge.bookkeeping.decisions import Decision, Fail, MappingError, NoChange, Publish, Wait
from ledgerbridge.bookkeeping.documents import DocumentKind, PublishedDocument, XeroDocument, xero_totals
from ledgerbridge.bookkeeping.money import money_text
from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.bookkeeping.reference import XeroReference
from ledgerbridge.bookkeeping.sales.context import SaleContext
from ledgerbridge.bookkeeping.sales.inputs import Contact, Mappings, MappingSettings, SyncState, TrialState
from ledgerbridge.bookkeeping.sales.invoices import MAPPING_VERSION, invoice_documents
from ledgerbridge.bookkeeping.sales.lines import build_lines
from ledgerbridge.bookkeeping.sales.mapping import map_transaction
from ledgerbridge.bookkeeping.sales.offer_data import OfferDataError
from ledgerbridge.bookkeeping.sales.purchases import PurchaseError, with_purchases
from ledgerbridge.bookkeeping.sales.rules import render, template_values
from ledgerbridge.bookkeeping.sales.transaction import (
    Transaction,
    TransactionError,
    TransactionStatus,
    parse_transaction,
)

SUMMARY_CONTACT: dict[str, Any] = {"ContactNumber": "OP-DAILY-SALES", "Name": "ONTRAPORT daily sales"}
"""The one contact every summary invoice is for: the day's buyers are in the records it links to."""

UNTAXED = "__untaxed__"
"""Group key of lines the sale sent without a tax code (a NoTax invoice)."""


class SummaryGroup(Frozen):
    """The part of a sale (or of a day) that goes on one summary line."""

    account_code: str
    tax_type: str | None = None
    tracking: tuple[tuple[str, str], ...] = ()
    """(category name, option) pairs of the line; a seam for tracking categories (issue 13, point 2)."""
    gross: Decimal
    """The lines' total as Xero computes it, tax included."""
    tax: Decimal

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        return (self.account_code, self.tax_type or UNTAXED, self.tracking)


class SummaryEntry(Frozen):
    """One sale's part of a day document: a paid sale as its day's summary takes it, or the part of a
    summarised sale's refund that a day's refunds credit note takes
    (:func:`~ledgerbridge.bookkeeping.sales.summary_refunds.refund_entry`)."""

    record_id: str
    transaction_id: int
    gateway_id: int
    day: date
    """The sale's local day; in a refunds credit note, the local day the refund was seen on."""
    currency_code: str
    payment_account: str
    branding_theme_id: str | None = None
    total: Decimal
    groups: tuple[SummaryGroup, ...]


class DayDocument(Frozen):
    """A day's document for one gateway, frozen when it is made: its documents depend on nothing else.

    Its kind (the day's sales summary, the day's refunds credit note) is its subclass, which names the
    kind's number prefix: the stored payload of either is these fields alone.
    """

    prefix: ClassVar[str]
    """What the kind's numbers put before :func:`summary_number`."""
    gateway_id: int
    day: date
    sequence: int = 0
    """0 for the day's document, n for its n-th adjustment (late arrivals)."""
    currency_code: str
    payment_account: str
    branding_theme_id: str | None = None
    records_url: str | None = None
    """Our records list for the day: a summary invoice's ``Url``, so Xero links to the sales it covers
    (Xero's credit notes have no ``Url``: a refunds credit note shows it in its record only)."""
    entries: tuple[SummaryEntry, ...]

    @property
    def number(self) -> str:
        return self.prefix + summary_number(self.gateway_id, self.day, self.sequence)

    @property
    def total(self) -> Decimal:
        return sum((entry.total for entry in self.entries), Decimal(0))

    @classmethod
    def plan(
        cls,
        entries: Iterable[SummaryEntry],
        *,
        made: Mapping[tuple[int, date], int],
        now: datetime,
        time_zone: str,
        close_hour: int,
        records_url: str | None = None,
    ) -> list[Self]:
        """The day documents of this kind to make now from the entries not in one yet.

        Only closed days are made. ``made`` counts the documents of this kind each (gateway, day)
        already has: the first one made for a day is the day's, later ones are its adjustments.
        ``records_url`` is a ``str.format`` template over ``gateway``, ``since`` and ``until`` (ISO
        instants): our records list for the day.
        """
        by_key: dict[tuple[int, date], list[SummaryEntry]] = defaultdict(list)
        for entry in entries:
            if is_closed(entry.day, now, time_zone, close_hour):
                by_key[(entry.gateway_id, entry.day)].append(entry)
        documents = []
        for (gateway_id, day), members in sorted(by_key.items()):
            members.sort(key=lambda entry: (entry.transaction_id, entry.record_id))
            first = members[0]
            documents.append(
                cls(
                    gateway_id=gateway_id,
                    day=day,
                    sequence=made.get((gateway_id, day), 0),
                    # The gateway's mapping as it is when the day closes: one currency and payment account.
                    currency_code=first.currency_code,
                    payment_account=first.payment_account,
                    branding_theme_id=first.branding_theme_id,
                    records_url=day_records_url(records_url, gateway_id, day, time_zone),
                    entries=tuple(members),
                )
            )
        return documents


class DailySummary(DayDocument):
    """A day's summary of one gateway's paid sales: one invoice and its payment (:func:`summary_documents`)."""

    prefix: ClassVar[str] = ""


plan_summaries = DailySummary.plan


class RefundCredit(Frozen):
    """A part of a sale's refund already in a refunds credit note."""

    number: str
    amount: Decimal
    published: bool = False


def refunded_amount(transaction: Transaction, entry: SummaryEntry) -> Decimal | None:
    """How much of what the summary took from the sale is refunded now; None if it is not refunded."""
    status = transaction.status
    if status is TransactionStatus.REFUNDED:
        return entry.total
    if status is TransactionStatus.PARTIALLY_REFUNDED or (
        status is TransactionStatus.PAID and transaction.total < entry.total
    ):
        return entry.total - transaction.total
    return None


def summary_number(gateway_id: int, day: date, sequence: int) -> str:
    """``OP-DAY-<gateway>-<yyyymmdd>``, with ``-ADJ<n>`` for the n-th adjustment of that day."""
    base = f"OP-DAY-{gateway_id}-{day:%Y%m%d}"
    return f"{base}-ADJ{sequence}" if sequence else base


def parse_summary_number(number: str) -> tuple[int, date, int]:
    """Gateway, day and sequence of a :func:`summary_number`."""
    parts = number.split("-")
    sequence = int(parts[4].removeprefix("ADJ")) if len(parts) > 4 else 0
    return int(parts[2]), datetime.strptime(parts[3], "%Y%m%d").date(), sequence


def day_bounds(day: date, time_zone: str) -> tuple[datetime, datetime]:
    """The UTC instants a local day starts and ends at (the end excluded)."""
    zone = ZoneInfo(time_zone)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def day_closes_at(day: date, time_zone: str, close_hour: int) -> datetime:
    """When ``day``'s summary is made: ``close_hour`` o'clock on the next day, local time (UTC-aware)."""
    zone = ZoneInfo(time_zone)
    return datetime.combine(day + timedelta(days=1), time(close_hour), zone).astimezone(UTC)


def is_closed(day: date, now: datetime, time_zone: str, close_hour: int) -> bool:
    return now >= day_closes_at(day, time_zone, close_hour)


def _groups(
    lines: Sequence[Mapping[str, Any]], mode: str, rates: Mapping[str, Decimal]
) -> list[SummaryGroup]:
    """The invoice's lines folded by (account, tax code, tracking), with Xero's own line arithmetic."""
    groups = []
    for line in lines:
        figures = xero_totals({"LineAmountTypes": mode, "LineItems": [line]}, rates)
        tracking = tuple((str(item["Name"]), str(item["Option"])) for item in line.get("Tracking") or ())
        groups.append(
            SummaryGroup(
                account_code=str(line["AccountCode"]),
                tax_type=line.get("TaxType"),
                tracking=tracking,
                gross=figures.total,
                tax=figures.total_tax,
            )
        )
    return _fold(groups)


def _entry(context: SaleContext, record_id: str) -> tuple[SummaryEntry, dict[str, Any]]:
    """The sale's entry and the invoice body it would have had on its own (for crediting it later)."""
    _, invoice = invoice_documents(context)  # checks every mapping and that the total is the charge
    gateway = context.gateway()
    body = invoice.body
    lines = body["LineItems"]
    # The rates the lines were built with (the sale's own, or a tax exception's): with them, Xero's
    # arithmetic on each line gives the tax the sale's own invoice would have had.
    rates = build_lines(
        context.transaction, context.contact, context.mappings, context.settings, context.reference
    ).tax_rates
    entry = SummaryEntry(
        record_id=record_id,
        transaction_id=context.transaction.id,
        gateway_id=int(context.transaction.gateway_id or 0),
        day=date.fromisoformat(context.date),
        currency_code=gateway.currency_code,
        payment_account=context.payment_account(),
        branding_theme_id=gateway.branding_theme_id,
        total=context.transaction.total,
        groups=tuple(_groups(lines, body["LineAmountTypes"], rates)),
    )
    if sum((group.gross for group in entry.groups), Decimal(0)) != entry.total:
        raise MappingError(
            f"Transaction {context.transaction.id}'s summary lines add up to another total than the "
            f"{money_text(entry.total)} charged; this is a mapper bug, please report it",
            ReasonCode.mapping_error,
        )
    return entry, body


def _context(
    record: Transaction | Mapping[str, Any],
    contact: Contact | None,
    mappings: Mappings,
    settings: MappingSettings,
    reference: XeroReference | None,
    state: SyncState | None,
    purchases: Sequence[Mapping[str, Any]] | None = None,
) -> SaleContext:
    transaction = record if isinstance(record, Transaction) else parse_transaction(record)
    # The coupon a sale's purchases name (SPEC §4 item 12) is part of its summary entry as of its invoice.
    transaction = with_purchases(transaction, purchases)
    return SaleContext(
        transaction, contact, mappings, settings, reference or XeroReference(), state or SyncState()
    )


def summary_entry(
    record: Transaction | Mapping[str, Any],
    *,
    record_id: str,
    contact: Contact | None,
    mappings: Mappings,
    settings: MappingSettings,
    reference: XeroReference | None = None,
    purchases: Sequence[Mapping[str, Any]] | None = None,
) -> SummaryEntry | Fail:
    """The sale's entry for its day's summary, or why it cannot have one (a missing mapping…)."""
    try:
        context = _context(record, contact, mappings, settings, reference, None, purchases)
        return _entry(context, record_id)[0]
    except (TransactionError, OfferDataError) as error:
        return Fail(str(error), ReasonCode.source_unreadable, Cause("source", "transaction"))
    except PurchaseError as error:
        return Fail(str(error), ReasonCode.source_unreadable, Cause("source", "purchase"))
    except MappingError as error:
        return error.as_fail()


def goes_into_summary(transaction: Transaction, settings: MappingSettings, state: SyncState) -> bool:
    """Whether the sale is summarised: summary mode is on, it is paid, and it has no invoice of its own."""
    return settings.summary_mode and state.invoice is None and transaction.status is TransactionStatus.PAID


def map_summary_member(
    record: Transaction | Mapping[str, Any],
    *,
    record_id: str,
    contact: Contact | None,
    mappings: Mappings,
    settings: MappingSettings,
    reference: XeroReference | None = None,
    state: SyncState | None = None,
    trial: TrialState | None = None,
    observed_on: date | None = None,
    summarised: SummaryEntry | None = None,
    summary: str | None = None,
    summary_published: bool = False,
    refunds: Sequence[RefundCredit] = (),
    observed_at: datetime | None = None,
    purchases: Sequence[Mapping[str, Any]] | None = None,
) -> Decision:
    """What one sale needs in summary mode (or once summarised, whatever the mode is now).

    ``summarised`` is the sale's entry in the summary ``summary`` it went into, if it did; a sale that
    did not and is not summarised now (summary mode off, not paid, already invoiced) is mapped on its
    own by :func:`~ledgerbridge.bookkeeping.sales.mapping.map_transaction`. ``refunds`` are the parts of
    its refund already in refunds credit notes; ``observed_at`` (now) dates a refund seen now.
    """
    try:
        context = _context(record, contact, mappings, settings, reference, state, purchases)
    except (TransactionError, OfferDataError) as error:
        return Fail(str(error), ReasonCode.source_unreadable, Cause("source", "transaction"))
    except PurchaseError as error:
        return Fail(str(error), ReasonCode.source_unreadable, Cause("source", "purchase"))
    transaction = context.transaction
    if summarised is None:
        # On the trial plan sales go one by one, so each is counted against its limit as usual.
        on_trial = trial is not None and trial.plan_is_trial
        if on_trial or not goes_into_summary(transaction, settings, context.state):
            return map_transaction(
                transaction,
                contact=contact,
                mappings=mappings,
                settings=settings,
                reference=reference,
                state=state,
                trial=trial,
                observed_on=observed_on,
            )
        entry = summary_entry(
            transaction,
            record_id=record_id,
            contact=contact,
            mappings=mappings,
            settings=settings,
            reference=reference,
        )
        if isinstance(entry, Fail):
            return entry
        closes = day_closes_at(entry.day, settings.time_zone, settings.summary_close_hour)
        local_close = closes.astimezone(ZoneInfo(settings.time_zone))
        return Wait(
            f"Goes into the summary of {entry.day.isoformat()} for gateway {entry.gateway_id} "
            f"({money_text(entry.total)}), made at {local_close:%Y-%m-%d %H:%M} {settings.time_zone}",
            ReasonCode.summary_pending,
        )
    refunded = refunded_amount(context.transaction, summarised)
    if refunded is not None:
        return _refunded(context, summarised, refunded, refunds, observed_on, observed_at)
    return _summarised(context, summarised, summary or "the daily summary", summary_published)


def _summarised(context: SaleContext, entry: SummaryEntry, summary: str, published: bool) -> Decision:
    transaction = context.transaction
    if transaction.status is TransactionStatus.PAID and transaction.total > entry.total:
        return Fail(
            f"Transaction {transaction.id} now charges {money_text(transaction.total)} but summary "
            f"{summary} took {money_text(entry.total)}; check it by hand",
            ReasonCode.source_figures,
        )
    if transaction.status is TransactionStatus.VOID:
        return Fail(
            f"Transaction {transaction.id} was voided after summary {summary} took it; credit it in "
            "Xero by hand",
            ReasonCode.source_figures,
        )
    if not published:
        return Wait(f"In summary {summary}, which is being sent to Xero", ReasonCode.summary_pending)
    return NoChange(f"In Xero through summary {summary}")


def _refunded(
    context: SaleContext,
    entry: SummaryEntry,
    refunded: Decimal,
    refunds: Sequence[RefundCredit],
    observed_on: date | None,
    observed_at: datetime | None,
) -> Decision:
    """A summarised sale refunded: into the day's refunds credit note, or (summary mode off) its own."""
    transaction, settings = context.transaction, context.settings
    if not settings.summary_mode:
        return _credited_alone(context, entry, refunds, observed_on)
    credited = sum((credit.amount for credit in refunds), Decimal(0)) + sum(
        (note.amount for note in context.state.credit_notes), Decimal(0)
    )
    if refunded > credited:
        when = ""
        if observed_at is not None:
            day = observed_at.astimezone(ZoneInfo(settings.time_zone)).date()
            closes = day_closes_at(day, settings.time_zone, settings.summary_close_hour)
            local_close = closes.astimezone(ZoneInfo(settings.time_zone))
            when = f" of {day.isoformat()}, made at {local_close:%Y-%m-%d %H:%M} {settings.time_zone}"
        return Wait(
            f"The refund of {money_text(refunded - credited)} on transaction {transaction.id} goes into the "
            f"refunds credit note{when} for gateway {entry.gateway_id}",
            ReasonCode.refund_summary_pending,
        )
    if refunded < credited:
        return Fail(
            f"Transaction {transaction.id} now shows {money_text(refunded)} refunded but "
            f"{money_text(credited)} is already credited in Xero; check it by hand",
            ReasonCode.source_figures,
        )
    numbers = ", ".join(credit.number for credit in refunds) or "its credit notes"
    if not all(credit.published for credit in refunds):
        return Wait(f"Refunded in {numbers}, being sent to Xero", ReasonCode.summary_pending)
    return NoChange(f"Refund of {money_text(refunded)} in Xero through {numbers}")


def _credited_alone(
    context: SaleContext, entry: SummaryEntry, refunds: Sequence[RefundCredit], observed_on: date | None
) -> Decision:
    """Summary mode is off: the refund is credited on its own, against the lines the summary took from
    the sale, as if those were its own invoice in Xero (a partial refund is spread over them in
    proportion); what refunds credit notes already hold counts as credited and refunded."""
    transaction = context.transaction
    number = render(context.settings.invoice_number_template, template_values(transaction, context.contact))
    invoice = PublishedDocument(number=number, amount=entry.total, body=_entry_invoice_body(entry))
    paid = PublishedDocument(number=number, amount=entry.total, body={})
    earlier = tuple(
        PublishedDocument(number=credit.number, amount=credit.amount, body={}) for credit in refunds
    )
    state = context.state.model_copy(
        update={
            "invoice": invoice,
            "payment": paid,
            "credit_notes": earlier + context.state.credit_notes,
            "refund_payments": earlier + context.state.refund_payments,
        }
    )
    return map_transaction(
        transaction,
        contact=context.contact,
        mappings=context.mappings,
        settings=context.settings,
        reference=context.reference,
        state=state,
        observed_on=observed_on,
    )


def _entry_invoice_body(entry: SummaryEntry) -> dict[str, Any]:
    """The sale's part of its summary as invoice lines: tax inclusive with their tax (NoTax if untaxed)."""
    untaxed = all(group.tax_type is None for group in entry.groups)
    lines = []
    for group in entry.groups:
        line: dict[str, Any] = {
            "Description": f"ONTRAPORT transaction {entry.transaction_id} (account {group.account_code})",
            "Quantity": Decimal(1),
            "UnitAmount": group.gross,
            "AccountCode": group.account_code,
        }
        if group.tax_type:
            line["TaxType"] = group.tax_type
            line["TaxAmount"] = group.tax
        lines.append(line)
    return {"LineAmountTypes": "NoTax" if untaxed else "Inclusive", "LineItems": lines}


def day_records_url(template: str | None, gateway_id: int, day: date, time_zone: str) -> str | None:
    """Our records list for the gateway's local ``day``: ``template`` formatted with ``gateway``, and the
    day's ``since`` and ``until``."""
    if not template:
        return None
    since, until = day_bounds(day, time_zone)
    return template.format(
        gateway=gateway_id,
        since=since.isoformat().replace("+00:00", "Z"),
        until=until.isoformat().replace("+00:00", "Z"),
    )


def _fold(groups: Iterable[SummaryGroup]) -> list[SummaryGroup]:
    """Groups added up by (account, tax code, tracking), in key order."""
    totals: dict[tuple[str, str, tuple[tuple[str, str], ...]], SummaryGroup] = {}
    for group in groups:
        found = totals.get(group.key)
        totals[group.key] = (
            group
            if found is None
            else found.model_copy(update={"gross": found.gross + group.gross, "tax": found.tax + group.tax})
        )
    return [totals[key] for key in sorted(totals)]


def day_groups(groups: Iterable[SummaryGroup], number: str, settings: MappingSettings) -> list[SummaryGroup]:
    """A summary document's lines: the groups folded by key. A document of only untaxed lines stays
    untaxed (NoTax); one mixing both needs ``tax_free_code`` for its untaxed lines."""
    folded = _fold(groups)
    untaxed = [group for group in folded if group.tax_type is None]
    if not untaxed or len(untaxed) == len(folded):
        return folded
    if not settings.tax_free_code:
        raise MappingError(
            f"Summary {number} mixes taxed and untaxed sales; set a tax free code so the untaxed "
            "lines can go on a tax-inclusive document",
            ReasonCode.setting_missing,
            Cause("setting", "ontraport.tax_free_code"),
        )
    code = settings.tax_free_code
    return _fold(group if group.tax_type else group.model_copy(update={"tax_type": code}) for group in folded)


def summary_line(description: str, group: SummaryGroup) -> dict[str, Any]:
    """One summary line: tax inclusive, with the group's tax as Xero's ``TaxAmount``."""
    tax_type = group.tax_type
    label = f"account {group.account_code}" + (f", {tax_type}" if tax_type else ", untaxed")
    line: dict[str, Any] = {
        "Description": f"{description} ({label})",
        "Quantity": Decimal(1),
        "UnitAmount": group.gross,
        "AccountCode": group.account_code,
    }
    if tax_type:
        line["TaxType"] = tax_type
        line["TaxAmount"] = group.tax
    if group.tracking:
        line["Tracking"] = [{"Name": name, "Option": option} for name, option in group.tracking]
    return line


def summary_documents(summary: DailySummary, settings: MappingSettings) -> Publish:
    """Contact, the day's invoice (one line per group) and its one payment of the day's charges.

    Lines are tax inclusive with the tax each sale's invoice would have had (explicit ``TaxAmount``), so
    the invoice totals the day's charges to the cent. A day of only untaxed sales is a NoTax invoice; a
    day mixing both needs ``tax_free_code`` for the untaxed lines.
    """
    groups = day_groups((g for entry in summary.entries for g in entry.groups), summary.number, settings)
    all_untaxed = all(group.tax_type is None for group in groups)
    number = summary.number
    day = summary.day.isoformat()
    body: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": dict(SUMMARY_CONTACT),
        "Date": day,
        "DueDate": day,
        "InvoiceNumber": number,
        "Reference": f"{len(summary.entries)} ONTRAPORT sales of {day}, gateway {summary.gateway_id}",
        "CurrencyCode": summary.currency_code,
        # A summary is always approved: its payment needs an AUTHORISED invoice.
        "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax" if all_untaxed else "Inclusive",
        "LineItems": [summary_line(f"ONTRAPORT sales {day}", group) for group in groups],
    }
    if summary.branding_theme_id:
        body["BrandingThemeID"] = summary.branding_theme_id
    if summary.records_url:
        body["Url"] = summary.records_url
    # Every taxed line carries its TaxAmount, so no rate enters Xero's arithmetic.
    total = xero_totals(body, {}).total
    if total != summary.total:
        raise MappingError(
            f"Summary {number} would reach Xero as {money_text(total)} instead of "
            f"the day's {money_text(summary.total)}; this is a mapper bug, please report it",
            ReasonCode.mapping_error,
        )
    documents = [
        XeroDocument(DocumentKind.contact, dict(SUMMARY_CONTACT)),
        XeroDocument(DocumentKind.invoice, body),
    ]
    if summary.total:
        payment = {
            "Invoice": {"InvoiceNumber": number},
            "Account": {"Code": summary.payment_account},
            "Date": day,
            "Amount": summary.total,
            "Reference": f"ONTRAPORT sales of {day}",
        }
        documents.append(XeroDocument(DocumentKind.payment, payment))
    return Publish(
        tuple(documents),
        f"Summary {number}: {len(summary.entries)} sales, {money_text(summary.total)}",
        MAPPING_VERSION,
    )


def map_daily_summary(payload: Mapping[str, Any], settings: MappingSettings) -> Decision:
    """The documents of a stored summary (its frozen payload)."""
    try:
        return summary_documents(DailySummary.model_validate(payload), settings)
    except MappingError as error:
        return error.as_fail()
