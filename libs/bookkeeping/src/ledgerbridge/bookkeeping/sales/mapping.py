"""The mapping entry point: one ONTRAPORT transaction (plus context) → a :data:`Decision`.

Pure: no I/O, no clock. The caller supplies everything, including what was already published for the
record (:class:`SyncState`) and when a refund was observed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge.bookkeeping.decisions import Decision, Fail, MappingError, NoChange, Publish, Skip, Wait
from ledgerbridge.bookkeeping.documents import (
    DocumentKind,
    InvoiceStatus,
    PublishedDocument,
    XeroDocument,
    xero_totals,
)
from ledgerbridge.bookkeeping.money import apportion, money_text, round_cents
from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.bookkeeping.reference import XeroReference
from ledgerbridge.bookkeeping.sales.context import SaleContext
from ledgerbridge.bookkeeping.sales.inputs import (
    Contact,
    Mappings,
    MappingSettings,
    SyncState,
    TrialState,
)
from ledgerbridge.bookkeeping.sales.lines import LineAmountTypes, build_lines
from ledgerbridge.bookkeeping.sales.offer_data import OfferDataError
from ledgerbridge.bookkeeping.sales.rules import (
    NEVER_SYNCED,
    STATUS_WORDS,
    contact_body,
    render,
    template_values,
)
from ledgerbridge.bookkeeping.sales.transaction import (
    Transaction,
    TransactionError,
    TransactionStatus,
    parse_transaction,
)

MAPPING_VERSION = "ontraport-xero/1"
"""Bumped whenever the same inputs would map to different documents."""


def _publish(documents: tuple[XeroDocument, ...], summary: str) -> Publish:
    return Publish(documents, summary, MAPPING_VERSION)


_LINE_KEYS = (
    "Description",
    "Quantity",
    "UnitAmount",
    "AccountCode",
    "TaxType",
    "ItemCode",
    "TaxAmount",
    "DiscountAmount",
)


def _invoice(context: SaleContext) -> tuple[XeroDocument, XeroDocument]:
    """Contact and invoice documents; the invoice's Xero total is checked against the charge."""
    transaction, settings = context.transaction, context.settings
    gateway = context.gateway()
    built = build_lines(transaction, context.contact, context.mappings, settings, context.reference)
    values = template_values(transaction, context.contact)
    contact = contact_body(transaction, context.contact)
    body: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": contact,
        "Date": context.date,
        "DueDate": context.date,
        "InvoiceNumber": context.invoice_number(),
        "CurrencyCode": gateway.currency_code,
        "Status": settings.invoice_status.value,
        "LineAmountTypes": built.line_amount_types.value,
        "LineItems": [line.body() for line in built.lines],
    }
    reference = render(settings.reference_template, values).strip("- ")
    if reference:
        body["Reference"] = reference
    if gateway.branding_theme_id:
        body["BrandingThemeID"] = gateway.branding_theme_id
    if settings.url_template:
        body["Url"] = render(settings.url_template, values)
    total = xero_totals(body, built.tax_rates).total
    if total != transaction.total:
        raise MappingError(
            f"Transaction {transaction.id} would reach Xero as {money_text(total)} instead of the "
            f"{money_text(transaction.total)} charged; this is a mapper bug, please report it",
            ReasonCode.mapping_error,
        )
    return XeroDocument(DocumentKind.contact, contact), XeroDocument(DocumentKind.invoice, body)


def _payment(context: SaleContext, invoice_number: str, amount: Decimal) -> XeroDocument:
    body = {
        "Invoice": {"InvoiceNumber": invoice_number},
        "Account": {"Code": context.payment_account()},
        "Date": context.date,
        "Amount": amount,
        "Reference": context.payment_reference(),
    }
    return XeroDocument(DocumentKind.payment, body)


def _new_invoice(context: SaleContext, trial: TrialState) -> Decision:
    transaction = context.transaction
    if trial.plan_is_trial and trial.expired:
        return Wait(
            f"The trial has ended; transaction {transaction.id} goes to Xero once the plan is upgraded",
            ReasonCode.trial_expired,
        )
    if trial.plan_is_trial and trial.synced_count >= trial.limit:
        return Wait(
            f"The trial plan syncs {trial.limit} transactions; transaction {transaction.id} goes to Xero "
            "once the plan is upgraded",
            ReasonCode.plan_limit,
        )
    contact, invoice = _invoice(context)
    number = invoice.body["InvoiceNumber"]
    if transaction.status is TransactionStatus.UNPAID:
        return _publish((contact, invoice), f"Invoice {number} awaiting payment")
    if context.settings.invoice_status is InvoiceStatus.DRAFT:
        return _publish((contact, invoice), f"Draft invoice {number}; Xero takes no payment on drafts")
    if not transaction.total:
        return _publish((contact, invoice), f"Invoice {number} for 0.00; nothing to pay")
    payment = _payment(context, number, transaction.total)
    return _publish(
        (contact, invoice, payment), f"Invoice {number} and its payment of {money_text(transaction.total)}"
    )


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _credit_lines(invoice: PublishedDocument, amount: Decimal) -> tuple[str, list[dict[str, Any]]]:
    """Line amount type and lines crediting ``amount`` (tax included) of the published invoice.

    The whole invoice is credited with its own lines. A part is spread over the invoice's positive lines
    grouped by account and tax code, in proportion to their amounts, as tax-inclusive lines.
    """
    body = invoice.body
    lines = body.get("LineItems") or []
    if not lines:
        raise MappingError(
            f"The lines of invoice {invoice.number} are not known, so they cannot be credited",
            ReasonCode.mapping_error,
        )
    mode = body.get("LineAmountTypes", LineAmountTypes.EXCLUSIVE.value)
    if amount == invoice.amount:
        return mode, [{key: line[key] for key in _LINE_KEYS if key in line} for line in lines]
    groups: dict[tuple[str, str | None], Decimal] = {}
    for line in lines:
        net = _decimal(line.get("Quantity", 1)) * _decimal(line.get("UnitAmount", 0)) - _decimal(
            line.get("DiscountAmount", 0)
        )
        if net > 0:
            key = (str(line["AccountCode"]), line.get("TaxType"))
            groups[key] = groups.get(key, Decimal(0)) + net
    if not groups:
        raise MappingError(
            f"Invoice {invoice.number} has no positive line to credit", ReasonCode.source_figures
        )
    shares = apportion(amount, list(groups.values()))
    credit_lines = []
    for (account, tax_type), share in zip(groups, shares, strict=True):
        if not share:
            continue
        credit: dict[str, Any] = {
            "Description": f"Partial refund of {invoice.number}",
            "Quantity": Decimal(1),
            "UnitAmount": share,
            "AccountCode": account,
        }
        if tax_type:
            credit["TaxType"] = tax_type
        credit_lines.append(credit)
    no_tax = mode == LineAmountTypes.NO_TAX.value
    return (LineAmountTypes.NO_TAX if no_tax else LineAmountTypes.INCLUSIVE).value, credit_lines


def _refund_payment(context: SaleContext, credit_note_number: str, amount: Decimal, day: str) -> XeroDocument:
    body = {
        "CreditNote": {"CreditNoteNumber": credit_note_number},
        "Account": {"Code": context.payment_account()},
        "Date": day,
        "Amount": amount,
        "Reference": f"Refund: {context.payment_reference()}",
    }
    return XeroDocument(DocumentKind.refund_payment, body)


def _refund(context: SaleContext, refunded_total: Decimal | None, observed_on: date | None) -> Decision:
    transaction, state = context.transaction, context.state
    invoice = state.invoice
    assert invoice is not None
    number = context.invoice_number()
    if transaction.status is TransactionStatus.REFUNDED:
        refunded = invoice.amount
    elif refunded_total is not None:
        refunded = refunded_total
    else:
        refunded = invoice.amount - transaction.total
    if refunded <= 0 or refunded > invoice.amount:
        raise MappingError(
            f"Transaction {transaction.id} is {STATUS_WORDS[transaction.status]} but the refunded amount "
            f"({money_text(refunded)}) does not fit invoice {number} ({money_text(invoice.amount)})",
            ReasonCode.source_figures,
        )
    day = observed_on.isoformat() if observed_on is not None else context.date
    paid = state.payment is not None and not state.payment_deleted
    documents: list[XeroDocument] = []
    refunded_notes = {payment.number for payment in state.refund_payments}
    if paid:
        documents += [
            _refund_payment(context, note.number, note.amount, day)
            for note in state.credit_notes
            if note.number and note.number not in refunded_notes
        ]
    to_credit = refunded - sum((note.amount for note in state.credit_notes), Decimal(0))
    if to_credit > 0:
        credit_number = f"CN-{number}" + (f"-{len(state.credit_notes) + 1}" if state.credit_notes else "")
        mode, lines = _credit_lines(invoice, round_cents(to_credit))
        body: dict[str, Any] = {
            "Type": "ACCRECCREDIT",
            "Contact": invoice.body.get("Contact") or contact_body(transaction, context.contact),
            "Date": day,
            "CreditNoteNumber": credit_number,
            "Reference": f"Refund of {number}",
            "Status": context.settings.invoice_status.value,
            "LineAmountTypes": mode,
            "LineItems": lines,
        }
        for key in ("CurrencyCode", "BrandingThemeID"):
            if key in invoice.body:
                body[key] = invoice.body[key]
        documents.append(XeroDocument(DocumentKind.credit_note, body))
        if paid and context.settings.invoice_status is InvoiceStatus.AUTHORISED:
            documents.append(_refund_payment(context, credit_number, round_cents(to_credit), day))
    if not documents:
        return NoChange(f"The refund of {money_text(refunded)} on invoice {number} is already in Xero")
    return _publish(tuple(documents), f"Credit note for {money_text(refunded)} refunded on invoice {number}")


def _void(context: SaleContext) -> Decision:
    state = context.state
    invoice = state.invoice
    assert invoice is not None
    number = context.invoice_number()
    documents = []
    if state.payment is not None and not state.payment_deleted:
        payment_id = state.payment.xero_id
        if not payment_id:
            raise MappingError(
                f"The payment on invoice {number} has no known Xero id, so it cannot be deleted",
                ReasonCode.mapping_error,
            )
        documents.append(
            XeroDocument(
                DocumentKind.payment_delete, {"PaymentID": payment_id, "Status": "DELETED"}, payment_id
            )
        )
    # Xero voids approved invoices but only deletes drafts.
    status = "DELETED" if invoice.body.get("Status") == InvoiceStatus.DRAFT.value else "VOIDED"
    body: dict[str, Any] = {"InvoiceNumber": number, "Status": status}
    if invoice.xero_id:
        body["InvoiceID"] = invoice.xero_id
    documents.append(XeroDocument(DocumentKind.invoice_void, body, invoice.xero_id or number))
    return _publish(
        tuple(documents),
        f"Void invoice {number}" + (" after deleting its payment" if len(documents) > 1 else ""),
    )


def _synced(context: SaleContext, refunded_total: Decimal | None, observed_on: date | None) -> Decision:
    """A record whose invoice is already in Xero."""
    transaction, state = context.transaction, context.state
    invoice = state.invoice
    assert invoice is not None
    number = context.invoice_number()
    status = transaction.status
    if state.invoice_voided:
        return NoChange(f"Invoice {number} is void in Xero")
    if status is TransactionStatus.VOID:
        return _void(context)
    if status in NEVER_SYNCED:
        raise MappingError(
            f"Transaction {transaction.id} is now {STATUS_WORDS[status]} but invoice {number} is already in "
            "Xero; check it by hand",
            ReasonCode.source_figures,
        )
    if status in (TransactionStatus.REFUNDED, TransactionStatus.PARTIALLY_REFUNDED) or (
        # ONTRAPORT's "void and re-charge a smaller amount" leaves a paid record with a lower total.
        status is TransactionStatus.PAID and transaction.total < invoice.amount
    ):
        return _refund(context, refunded_total, observed_on)
    if status is TransactionStatus.UNPAID:
        return NoChange(f"Invoice {number} is in Xero awaiting payment")
    if transaction.total > invoice.amount:
        raise MappingError(
            f"Transaction {transaction.id} now charges {money_text(transaction.total)} but invoice {number} "
            f"in Xero is for {money_text(invoice.amount)}; check it by hand",
            ReasonCode.source_figures,
        )
    if state.payment is not None and not state.payment_deleted:
        return NoChange(f"Invoice {number} and its payment are already in Xero")
    if invoice.body.get("Status") == InvoiceStatus.DRAFT.value:
        return NoChange(f"Invoice {number} is a draft in Xero; approve it there to record the payment")
    if not transaction.total:
        return NoChange(f"Invoice {number} is for 0.00; nothing to pay")
    return _publish(
        (_payment(context, number, transaction.total),),
        f"Payment of {money_text(transaction.total)} on invoice {number}",
    )


def _refunded_before_sync(context: SaleContext, trial: TrialState, observed_on: date | None) -> Decision:
    """Charged, then refunded, before we first saw it: the bank feed has both lines, so both are booked:
    the invoice with its payment as charged, then the credit note with its refund (SPEC §4 item 8)."""
    transaction = context.transaction
    if transaction.status is TransactionStatus.REFUNDED and context.settings.skip_refunded_before_sync:
        return Skip(
            f"Transaction {transaction.id} was refunded before it was synced; the setting to skip such "
            "transactions is on"
        )
    discount = transaction.offer.coupon.discount if transaction.offer.coupon is not None else Decimal(0)
    # A partial refund lowers the total only; the other amounts still describe the charge.
    charged = transaction.subtotal - discount + transaction.shipping + transaction.tax
    if not charged:
        return Skip(
            f"Transaction {transaction.id} was for 0.00 and refunded before it was synced: no money moved"
        )
    as_charged = replace(transaction, status=TransactionStatus.PAID, total=charged)
    sale = _new_invoice(replace(context, transaction=as_charged), trial)
    if not isinstance(sale, Publish):
        return sale
    invoice = next(doc for doc in sale.documents if doc.kind is DocumentKind.invoice)
    paid = any(doc.kind is DocumentKind.payment for doc in sale.documents)
    booked = SyncState(
        invoice=PublishedDocument(number=invoice.body["InvoiceNumber"], amount=charged, body=invoice.body),
        payment=PublishedDocument(amount=charged) if paid else None,
    )
    refund = _refund(replace(context, state=booked), None, observed_on)
    assert isinstance(refund, Publish)  # nothing of it is in Xero yet
    return _publish(
        sale.documents + refund.documents,
        f"{sale.summary}; then {refund.summary[0].lower()}{refund.summary[1:]}",
    )


def _decide(
    context: SaleContext, trial: TrialState, refunded_total: Decimal | None, observed_on: date | None
) -> Decision:
    transaction = context.transaction
    status = transaction.status
    word = STATUS_WORDS[status]
    if context.state.invoice is not None:
        return _synced(context, refunded_total, observed_on)
    if status in NEVER_SYNCED:
        return Skip(f"Transaction {transaction.id} is {word}; only paid transactions go to Xero")
    if status is TransactionStatus.VOID:
        return Skip(
            f"Transaction {transaction.id} was {word} before it was synced: the charge never settled, "
            "so nothing was created in Xero"
        )
    if status in (TransactionStatus.REFUNDED, TransactionStatus.PARTIALLY_REFUNDED):
        return _refunded_before_sync(context, trial, observed_on)
    if status is TransactionStatus.UNPAID and not context.settings.sync_unpaid:
        return Skip(f"Transaction {transaction.id} is unpaid; the setting to sync unpaid transactions is off")
    return _new_invoice(context, trial)


def map_transaction(
    record: Transaction | Mapping[str, Any],
    *,
    contact: Contact | None,
    mappings: Mappings,
    settings: MappingSettings,
    reference: XeroReference | None = None,
    state: SyncState | None = None,
    trial: TrialState | None = None,
    refunded_total: Decimal | None = None,
    observed_on: date | None = None,
) -> Decision:
    """Decide what Xero needs for one ONTRAPORT transaction (SPEC §4).

    ``record`` is the raw ONTRAPORT dict or a parsed :class:`Transaction`. ``state`` is what Xero
    already has for the record. ``refunded_total`` is the total refunded so far, when the caller knows
    it (for status 3; otherwise it is the drop in the transaction's total since it was invoiced).
    ``observed_on`` dates credit notes and refunds (default: the transaction date). Never raises for
    bad data: unreadable records and missing mappings come back as :class:`Fail`.
    """
    try:
        transaction = record if isinstance(record, Transaction) else parse_transaction(record)
        context = SaleContext(
            transaction, contact, mappings, settings, reference or XeroReference(), state or SyncState()
        )
        return _decide(context, trial or TrialState(), refunded_total, observed_on)
    except (TransactionError, OfferDataError) as error:
        return Fail(str(error), ReasonCode.source_unreadable, Cause("source", "transaction"))
    except MappingError as error:
        return error.as_fail()
