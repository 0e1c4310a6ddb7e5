"""Money going back after a sale: refunds (full, partial, or before the sale was first synced) as
credit notes with their refund payments, and voids (the payment deleted, the invoice voided)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge.bookkeeping.decisions import Decision, MappingError, NoChange, Publish, Skip
from ledgerbridge.bookkeeping.documents import (
    DocumentKind,
    InvoiceStatus,
    PublishedDocument,
    XeroDocument,
)
from ledgerbridge.bookkeeping.money import apportion, money_text, round_cents
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.bookkeeping.sales.context import SaleContext
from ledgerbridge.bookkeeping.sales.inputs import (
    SyncState,
    TrialState,
)
from ledgerbridge.bookkeeping.sales.invoices import new_invoice, publish
from ledgerbridge.bookkeeping.sales.lines import LineAmountTypes
from ledgerbridge.bookkeeping.sales.rules import (
    STATUS_WORDS,
    contact_body,
)
from ledgerbridge.bookkeeping.sales.transaction import (
    TransactionStatus,
)

_LINE_KEYS = (
    "Description",
    "Quantity",
    "UnitAmount",
    "AccountCode",
    "TaxType",
    "ItemCode",
    "TaxAmount",
    "DiscountAmount",
    "Tracking",
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
    # Grouped by tracking too, so a partial refund reduces each tracking option's sales in proportion.
    groups: dict[tuple[str, str | None, str], Decimal] = {}
    for line in lines:
        net = _decimal(line.get("Quantity", 1)) * _decimal(line.get("UnitAmount", 0)) - _decimal(
            line.get("DiscountAmount", 0)
        )
        if net > 0:
            key = (str(line["AccountCode"]), line.get("TaxType"), json.dumps(line.get("Tracking") or []))
            groups[key] = groups.get(key, Decimal(0)) + net
    if not groups:
        raise MappingError(
            f"Invoice {invoice.number} has no positive line to credit", ReasonCode.source_figures
        )
    shares = apportion(amount, list(groups.values()))
    credit_lines = []
    for (account, tax_type, tracking), share in zip(groups, shares, strict=True):
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
        if tracking != "[]":
            credit["Tracking"] = json.loads(tracking)
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


def refund_of(context: SaleContext, refunded_total: Decimal | None, observed_on: date | None) -> Decision:
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
    return publish(tuple(documents), f"Credit note for {money_text(refunded)} refunded on invoice {number}")


def void_of(context: SaleContext) -> Decision:
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
    return publish(
        tuple(documents),
        f"Void invoice {number}" + (" after deleting its payment" if len(documents) > 1 else ""),
    )


def refunded_before_sync(context: SaleContext, trial: TrialState, observed_on: date | None) -> Decision:
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
    sale = new_invoice(replace(context, transaction=as_charged), trial)
    if not isinstance(sale, Publish):
        return sale
    invoice = next(doc for doc in sale.documents if doc.kind is DocumentKind.invoice)
    paid = any(doc.kind is DocumentKind.payment for doc in sale.documents)
    booked = SyncState(
        invoice=PublishedDocument(number=invoice.body["InvoiceNumber"], amount=charged, body=invoice.body),
        payment=PublishedDocument(amount=charged) if paid else None,
    )
    refund = refund_of(replace(context, state=booked), None, observed_on)
    assert isinstance(refund, Publish)  # nothing of it is in Xero yet
    return publish(
        sale.documents + refund.documents,
        f"{sale.summary}; then {refund.summary[0].lower()}{refund.summary[1:]}",
    )
