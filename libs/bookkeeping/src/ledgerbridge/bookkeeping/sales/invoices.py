"""A sale's invoice and its payment, as ONTRAPORT charged it (SPEC §4 items 2 to 7 and 9)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerbridge.bookkeeping.decisions import Decision, MappingError, Publish, Wait
from ledgerbridge.bookkeeping.documents import (
    DocumentKind,
    InvoiceStatus,
    XeroDocument,
    xero_totals,
)
from ledgerbridge.bookkeeping.money import money_text
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.bookkeeping.sales.context import SaleContext
from ledgerbridge.bookkeeping.sales.inputs import (
    TrialState,
)
from ledgerbridge.bookkeeping.sales.lines import build_lines
from ledgerbridge.bookkeeping.sales.rules import (
    contact_body,
    render,
    template_values,
)
from ledgerbridge.bookkeeping.sales.transaction import (
    TransactionStatus,
)

MAPPING_VERSION = "ontraport-xero/2"
"""Bumped whenever the same inputs would map to different documents."""


def publish(documents: tuple[XeroDocument, ...], summary: str) -> Publish:
    return Publish(documents, summary, MAPPING_VERSION)


def invoice_documents(context: SaleContext) -> tuple[XeroDocument, XeroDocument]:
    """Contact and invoice documents; the invoice's Xero total is checked against the charge."""
    transaction, settings = context.transaction, context.settings
    gateway = context.gateway()
    built = build_lines(
        transaction, context.contact, context.mappings, settings, context.reference, gateway.tracking
    )
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


def payment_of(context: SaleContext, invoice_number: str, amount: Decimal) -> XeroDocument:
    body = {
        "Invoice": {"InvoiceNumber": invoice_number},
        "Account": {"Code": context.payment_account()},
        "Date": context.date,
        "Amount": amount,
        "Reference": context.payment_reference(),
    }
    return XeroDocument(DocumentKind.payment, body)


def new_invoice(context: SaleContext, trial: TrialState) -> Decision:
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
    contact, invoice = invoice_documents(context)
    number = invoice.body["InvoiceNumber"]
    if transaction.status is TransactionStatus.UNPAID:
        return publish((contact, invoice), f"Invoice {number} awaiting payment")
    if context.settings.invoice_status is InvoiceStatus.DRAFT:
        return publish((contact, invoice), f"Draft invoice {number}; Xero takes no payment on drafts")
    if not transaction.total:
        return publish((contact, invoice), f"Invoice {number} for 0.00; nothing to pay")
    payment = payment_of(context, number, transaction.total)
    return publish(
        (contact, invoice, payment), f"Invoice {number} and its payment of {money_text(transaction.total)}"
    )
