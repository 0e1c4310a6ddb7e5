"""The bill mapping entry point: one Onport purchase invoice (plus context) → a :data:`Decision` (SPEC §5).

Pure: no I/O, no clock. Onport's figures are recomputed the Onport way (line amount and line tax rounded
per line, shipping taxed at the purchase's combined rate when ``taxShipping``) and checked against what
the invoice says; the bill is then checked the Xero way (:func:`xero_totals`) against the amount owed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ledgerbridge.bookkeeping import templates
from ledgerbridge.bookkeeping.bills.adjustments import adjustment_bill, allocation, credit_note
from ledgerbridge.bookkeeping.bills.context import BillContext
from ledgerbridge.bookkeeping.bills.figures import BillLine, bill_figures, onport_tax
from ledgerbridge.bookkeeping.bills.inputs import BillMappings, BillOptions, BillSyncState
from ledgerbridge.bookkeeping.bills.record import (
    Payout,
    PurchaseInvoiceError,
    PurchaseInvoiceRecord,
    parse_purchase_invoice,
)
from ledgerbridge.bookkeeping.decisions import Decision, Fail, MappingError, NoChange, Publish, Wait
from ledgerbridge.bookkeeping.documents import DocumentKind, InvoiceStatus, XeroDocument, xero_totals
from ledgerbridge.bookkeeping.lock_dates import apply_lock_date
from ledgerbridge.bookkeeping.money import money_text
from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.bookkeeping.reference import XeroReference
from ledgerbridge.bookkeeping.templates import ONPORT_LINK_FIELDS

MAX_URL_LENGTH = 2000
"""A link is never allowed to grow a bill beyond a sane address length, whatever the reference holds."""

MAPPING_VERSION = "onport-xero/2"
"""Bumped whenever the same inputs would map to different documents."""
# Onport payment types that send money back from the vendor: each reverses part of the payouts.
REFUNDS = frozenset({"refund"})


def _coded(context: BillContext, lines: tuple[BillLine, ...]) -> tuple[BillLine, ...]:
    options = context.options
    purchases = context.purchase_account()
    coded = []
    for line in lines:
        what = f"line '{line.description}'"
        if line.kind == "adjustment":
            account = context.adjustment_account()
        elif line.kind == "commission":
            if not options.commission_account:
                raise MappingError(
                    "Commission lines are switched on but no commission account is set",
                    ReasonCode.setting_missing,
                    Cause("setting", "onport.commission_account"),
                )
            account = context.account(options.commission_account, "commission")
        elif line.kind == "shipping" and options.shipping_account:
            account = context.account(options.shipping_account, "shipping")
        else:
            account = purchases
        coded.append(replace(line, account_code=account, tax_type=context.tax_code(line.rate, what)))
    return tuple(coded)


def _line_items(
    context: BillContext, lines: tuple[BillLine, ...]
) -> tuple[list[dict[str, Any]], dict[str, Decimal]]:
    """Line bodies and the rate per TaxType for :func:`xero_totals`.

    Explicit TaxAmounts go on every line when Xero's own per-line rounding, at its rate for the code,
    would give a different tax from Onport's on any line (or one code would stand for two rates).
    """
    included = context.record.tax_included
    rates: dict[str, set[Decimal]] = {}
    for line in lines:
        rates.setdefault(line.tax_type, set()).add(context.xero_rate(line))
    explicit = any(len(found) > 1 for found in rates.values()) or any(
        onport_tax(line.amount, context.xero_rate(line) / 100, included) != line.tax for line in lines
    )
    return [line.body(explicit) for line in lines], {code: min(found) for code, found in rates.items()}


def _contact(context: BillContext, currency: str) -> tuple[dict[str, Any], XeroDocument | None] | Wait:
    record = context.record
    contact_id = context.mappings.vendors.get(record.vendor_id)
    if contact_id:
        return {"ContactID": contact_id}, None
    if not context.options.create_missing_suppliers:
        return Wait(
            f"Vendor '{record.vendor_name}' (id {record.vendor_id}) is not linked to a Xero contact",
            ReasonCode.vendor_unlinked,
            Cause("mapping", "vendor", str(record.vendor_id)),
        )
    number = f"ONPORT-{record.vendor_id}"
    body: dict[str, Any] = {"Name": record.vendor_name, "ContactNumber": number, "DefaultCurrency": currency}
    if record.vendor_email:
        body["EmailAddress"] = record.vendor_email
    days = (
        context.payment_terms_days if context.payment_terms_days is not None else record.vendor_payment_days
    )
    if days:
        body["PaymentTerms"] = {"Bills": {"Day": days, "Type": "DAYSAFTERBILLDATE"}}
    return {"ContactNumber": number, "Name": record.vendor_name}, XeroDocument(DocumentKind.contact, body)


def _bill(context: BillContext, contact: dict[str, Any], currency: str) -> tuple[XeroDocument, Decimal]:
    record, options = context.record, context.options
    figures = bill_figures(record, options)
    lines, rates = _line_items(context, _coded(context, figures.lines))
    days = (
        context.payment_terms_days if context.payment_terms_days is not None else record.vendor_payment_days
    )
    body: dict[str, Any] = {
        "Type": "ACCPAY",
        "Contact": contact,
        "Date": context.date.isoformat(),
        "DueDate": (context.date + timedelta(days=days or 0)).isoformat(),
        "InvoiceNumber": record.reference,
        "CurrencyCode": currency,
        "Status": options.bill_status.value,
        "LineAmountTypes": "Inclusive" if record.tax_included else "Exclusive",
        "LineItems": lines,
    }
    if options.url_template:
        values = {
            "invoice_id": str(record.id),
            "purchase_id": str(record.purchase_id),
            "reference": quote(record.reference, safe=""),
        }
        body["Url"] = templates.render(
            options.url_template, values, max_length=MAX_URL_LENGTH, fields=ONPORT_LINK_FIELDS
        )
    total = xero_totals(body, rates).total
    if total != figures.total:
        raise MappingError(
            f"Purchase invoice {record.reference} would reach Xero as {money_text(total)} instead of the "
            f"{money_text(figures.total)} owed; this is a mapper bug, please report it",
            ReasonCode.mapping_error,
        )
    return XeroDocument(DocumentKind.bill, body), figures.total


def payout_reference(payout: Payout, amount: Decimal | None = None) -> str:
    """The bill payment's ``Reference``: unique per Onport payout (and per what is left of it after
    refunds), so a published payment is recognised and one that no longer holds is found."""
    reference = f"Onport payout {payout.id}" + (f" {payout.reference}" if payout.reference else "")
    if amount is not None and amount != payout.amount:
        reference += f" less refunds: {money_text(amount)}"
    return reference


def payouts_standing(payouts: tuple[Payout, ...]) -> list[tuple[Payout, Decimal]]:
    """Each active payout with what is left of it once refunds are taken off, latest payout first
    (a refund reverses the most recent money out); payouts refunded in full are left out.

    A cancelled payout is no payout at all; overpayments and corrections are not bill payments."""
    paid = sorted(
        (p for p in payouts if p.active and p.kind == "payment" and p.amount > 0),
        key=lambda p: (p.paid_at.timestamp() if p.paid_at else 0.0, p.id),
    )
    refunded = sum((p.amount for p in payouts if p.active and p.kind in REFUNDS and p.amount > 0), Decimal(0))
    standing: list[tuple[Payout, Decimal]] = []
    for payout in reversed(paid):
        taken = min(refunded, payout.amount)
        refunded -= taken
        if payout.amount - taken > 0:
            standing.append((payout, payout.amount - taken))
    return list(reversed(standing))


def _reversals(context: BillContext, wanted: set[str]) -> tuple[list[XeroDocument], Decimal]:
    """Deletions of bill payments whose payout was cancelled or refunded (Xero payments cannot be
    edited: deleted, and re-made for what is left); returns them and the amount they free."""
    state = context.state
    documents = []
    freed = Decimal(0)
    for payment in state.payments:
        reference = str(payment.body.get("Reference"))
        if payment.xero_id in state.deleted_payments or reference in wanted:
            continue
        if not payment.xero_id:
            raise MappingError(
                f"The payment '{reference}' on bill {context.record.reference} no longer stands in Onport "
                "but its Xero id is not known, so it cannot be deleted",
                ReasonCode.mapping_error,
            )
        body = {"PaymentID": payment.xero_id, "Status": "DELETED"}
        documents.append(XeroDocument(DocumentKind.payment_delete, body, payment.xero_id))
        freed += payment.amount
    return documents, freed


def _payments(
    context: BillContext, invoice: dict[str, str], currency: str, bill_total: Decimal, draft: bool
) -> tuple[list[XeroDocument], str]:
    """Bill payments for Onport payouts not yet in Xero, deletions of those that no longer stand, and a
    note on what was held back."""
    state = context.state
    standing = [
        (payout, amount, payout_reference(payout, amount))
        for payout, amount in payouts_standing(context.record.payouts)
    ]
    deletes, freed = _reversals(context, {reference for _, _, reference in standing})
    live = [p for p in state.payments if p.xero_id not in state.deleted_payments]
    published = {payment.body.get("Reference") for payment in live}
    pending = [entry for entry in standing if entry[2] not in published]
    if not pending:
        return deletes, ""
    if draft:
        return deletes, "; the bill is a draft, so Xero takes no payment on it yet"
    account = context.options.payout_accounts.get(currency)
    if not account:
        raise MappingError(
            f"No payout account is mapped for {currency}; the vendor payout on bill "
            f"{context.record.reference} cannot be recorded",
            ReasonCode.payout_account_unmapped,
            Cause("setting", "onport.payout_accounts", currency),
        )
    account = context.account(account, f"payouts in {currency}")
    due = bill_total - sum((payment.amount for payment in live), Decimal(0)) + freed
    documents = list(deletes)
    note = ""
    for payout, owed, reference in pending:
        amount = min(owed, due)
        if amount < owed:
            # Xero refuses a payment above the amount due (e.g. an adjustment left off the bill).
            note = f"; payout {payout.id} of {money_text(owed)} exceeds what the bill still owes"
        if amount <= 0:
            continue
        day = context.local_date(payout.paid_at) if payout.paid_at else context.date
        body = {
            "Invoice": invoice,
            "Account": {"Code": account},
            "Date": day.isoformat(),
            "Amount": amount,
            "Reference": reference,
        }
        documents.append(XeroDocument(DocumentKind.bill_payment, body))
        due -= amount
    return documents, note


def _paid_text(payments: list[XeroDocument]) -> str:
    if not payments:
        return ""
    made = [document for document in payments if document.kind is DocumentKind.bill_payment]
    removed = len(payments) - len(made)
    paid = sum((document.body["Amount"] for document in made), Decimal(0))
    text = f" and {len(made)} payment{'s' if len(made) > 1 else ''} of {money_text(paid)}" if made else ""
    if removed:
        text += f" and {removed} payment{'s' if removed > 1 else ''} removed (payout cancelled or refunded)"
    return text


def _new_bill(context: BillContext) -> Decision:
    record = context.record
    if not record.finalized:
        return Wait(
            f"Purchase invoice {record.reference} is not finalized in Onport yet",
            ReasonCode.invoice_not_finalized,
        )
    currency = context.currency()
    contact = _contact(context, currency)
    if isinstance(contact, Wait):
        return contact
    reference, contact_document = contact
    bill, total = _bill(context, reference, currency)
    payments, note = _payments(
        context,
        {"InvoiceNumber": record.reference},
        currency,
        total,
        context.options.bill_status is InvoiceStatus.DRAFT,
    )
    documents = ([contact_document] if contact_document else []) + [bill, *payments]
    summary = f"Bill {record.reference} for {money_text(total)} {currency}{_paid_text(payments)}{note}"
    return Publish(tuple(documents), summary, mapping_version=MAPPING_VERSION)


def _updated_bill(context: BillContext, currency: str) -> tuple[XeroDocument, Decimal]:
    """The bill again, with its Xero id: Xero updates an approved bill while nothing is paid on it."""
    bill = context.state.bill
    assert bill is not None
    if not bill.xero_id:
        raise MappingError(
            f"Bill {bill.number} must be updated for an adjustment but its Xero id is not known",
            ReasonCode.mapping_error,
        )
    document, total = _bill(context, dict(bill.body.get("Contact") or {}), currency)
    body = {"InvoiceID": bill.xero_id, **document.body}
    return XeroDocument(DocumentKind.bill, body, bill.xero_id), total


def _adjusted(
    context: BillContext, total: Decimal, in_xero: Decimal, currency: str, number: str
) -> tuple[list[XeroDocument], str, Decimal | None]:
    """What an adjustment made after the bill was synced needs (SPEC §5.5; issue 15, point 12): the
    documents, their summary, and the bill's new total when the bill itself is updated."""
    record, state, options = context.record, context.state, context.options
    bill = state.bill
    assert bill is not None
    difference = abs(total - in_xero)
    if options.sync_adjustments and total < in_xero and record.adjustment < 0:
        note = credit_note(context, bill, currency, difference, number)
        if not bill.xero_id:
            return [note], f"Supplier credit note for {money_text(difference)} on bill {number}", None
        text = f"Supplier credit note for {money_text(difference)} allocated to bill {number}"
        return [note, allocation(bill, note)], text, None
    if options.sync_adjustments and total > in_xero and record.adjustment > 0:
        paid = any(p.xero_id not in state.deleted_payments for p in state.payments)
        if not paid and not state.adjustment_bills:
            update, new_total = _updated_bill(context, currency)
            return [update], f"Bill {number} updated to {money_text(new_total)} for an adjustment", new_total
        extra = adjustment_bill(context, bill, currency, difference, number)
        return [extra], f"Adjustment bill {extra.body['InvoiceNumber']} for {money_text(difference)}", None
    raise MappingError(
        f"Purchase invoice {record.reference} now comes to {money_text(total)} but bill {number} in Xero "
        f"is for {money_text(in_xero)}; check it by hand",
        ReasonCode.source_figures,
    )


def _synced(context: BillContext) -> Decision:
    record, state = context.record, context.state
    bill = state.bill
    assert bill is not None
    number = bill.number or record.reference
    currency = str(bill.body.get("CurrencyCode") or context.currency())
    total = bill_figures(record, context.options).total
    in_xero = (
        bill.amount
        + sum((extra.amount for extra in state.adjustment_bills), Decimal(0))
        - sum((note.amount for note in state.credit_notes), Decimal(0))
    )
    # A credit note published before its allocation was (a crash, a refusal) is allocated now.
    documents: list[XeroDocument] = [
        allocation(bill, note)
        for note in state.credit_notes
        if bill.xero_id and note.number not in state.allocated and note.body.get("CreditNoteNumber")
    ]
    texts = [f"Credit note {d.target_id} allocated to bill {number}" for d in documents]
    bill_total = bill.amount - sum((note.amount for note in state.credit_notes), Decimal(0))
    if total != in_xero:
        adjusted, text, updated_total = _adjusted(context, total, in_xero, currency, number)
        documents += adjusted
        texts.append(text)
        bill_total = updated_total if updated_total is not None else bill_total
        # What a new credit note takes off the bill is not due either.
        bill_total -= sum(
            (d.body["Amount"] for d in adjusted if d.kind is DocumentKind.credit_allocation), Decimal(0)
        )
    invoice = {"InvoiceID": bill.xero_id} if bill.xero_id else {"InvoiceNumber": number}
    draft = bill.body.get("Status") == InvoiceStatus.DRAFT.value
    payments, note = _payments(context, invoice, currency, bill_total, draft)
    documents += payments
    if payments:
        texts.append(f"Bill {number}: {_paid_text(payments).removeprefix(' and ')}")
    if not documents:
        return NoChange(f"Bill {number} and its payouts are already in Xero{note}")
    return Publish(tuple(documents), "; ".join(texts) + note, mapping_version=MAPPING_VERSION)


def map_purchase_invoice(
    record: PurchaseInvoiceRecord | Mapping[str, Any],
    *,
    mappings: BillMappings,
    options: BillOptions,
    reference: XeroReference | None = None,
    state: BillSyncState | None = None,
    payment_terms_days: int | None = None,
    observed_on: date | None = None,
) -> Decision:
    """Decide what Xero needs for one Onport purchase invoice (SPEC §5).

    ``record`` is the stored payload (shape in :mod:`ledgerbridge.bookkeeping.bills.record`) or a parsed
    :class:`PurchaseInvoiceRecord`. ``payment_terms_days`` overrides the vendor's ``paymentDays`` for the
    DueDate. ``state`` is what Xero already has for the invoice. ``observed_on`` dates a supplier credit
    note (default: the invoice date). Never raises for bad data: unreadable records and missing
    mappings come back as :class:`Fail`, an unlinked vendor as :class:`Wait`.
    """
    try:
        parsed = record if isinstance(record, PurchaseInvoiceRecord) else parse_purchase_invoice(record)
        context = BillContext(
            parsed,
            mappings,
            options,
            reference or XeroReference(),
            state or BillSyncState(),
            payment_terms_days,
            observed_on,
        )
        if not parsed.charges_known:
            # A pushed invoice carries no shipping rates or landed costs: billing it now would leave
            # them off, so it waits for the poll that reads them (the poller fetches them for it).
            return Wait(
                f"Purchase invoice {parsed.reference}: its shipping and landed costs are read from Onport "
                "on the next poll",
                ReasonCode.source_incomplete,
                Cause("source", "onport.charges", str(parsed.id)),
            )
        decision = _new_bill(context) if context.state.bill is None else _synced(context)
        return apply_lock_date(
            decision, context.reference.lock_date, options.locked_period, "ontraport.locked_period"
        )
    except PurchaseInvoiceError as error:
        return Fail(str(error), ReasonCode.source_unreadable, Cause("source", "purchase_invoice"))
    except MappingError as error:
        return error.as_fail()
