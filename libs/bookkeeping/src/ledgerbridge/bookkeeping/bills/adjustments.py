"""Documents for an adjustment Onport makes after the bill is in Xero (SPEC §5.5; issue 15, point 12):
a supplier credit note for a negative one; an adjustment bill ``<reference>-ADJ`` for a positive one
once the bill is paid (an unpaid bill is updated instead, by the mapping)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from ledgerbridge.bookkeeping.bills.context import BillContext
from ledgerbridge.bookkeeping.documents import DocumentKind, PublishedDocument, XeroDocument


def _adjustment_line(context: BillContext, amount: Decimal) -> dict[str, Any]:
    reason = context.record.adjustment_reason or "Adjustment"
    return {
        "Description": reason,
        "Quantity": Decimal(1),
        "UnitAmount": amount,
        "AccountCode": context.adjustment_account(),
        "TaxType": context.tax_free_code(f"Adjustment '{reason}'"),
        "TaxAmount": Decimal(0),
    }


def credit_note(
    context: BillContext, bill: PublishedDocument, currency: str, amount: Decimal, number: str
) -> XeroDocument:
    """A supplier credit note for a negative adjustment (:func:`allocation` allocates it to the bill)."""
    credits = len(context.state.credit_notes)
    day = (context.observed_on or context.date).isoformat()
    body: dict[str, Any] = {
        "Type": "ACCPAYCREDIT",
        "Contact": bill.body.get("Contact"),
        "Date": day,
        "CreditNoteNumber": f"CN-{number}" + (f"-{credits + 1}" if credits else ""),
        "Reference": f"Adjustment to {number}",
        "CurrencyCode": currency,
        "Status": context.options.bill_status.value,
        "LineAmountTypes": "Exclusive",
        "LineItems": [_adjustment_line(context, amount)],
    }
    return XeroDocument(DocumentKind.supplier_credit_note, body)


def adjustment_bill(
    context: BillContext, bill: PublishedDocument, currency: str, amount: Decimal, number: str
) -> XeroDocument:
    """A bill of its own for a positive adjustment on a bill already paid (Xero cannot edit it)."""
    extra = len(context.state.adjustment_bills)
    day = context.observed_on or context.date
    days = (
        context.payment_terms_days
        if context.payment_terms_days is not None
        else context.record.vendor_payment_days
    )
    body: dict[str, Any] = {
        "Type": "ACCPAY",
        "Contact": bill.body.get("Contact"),
        "Date": day.isoformat(),
        "DueDate": (day + timedelta(days=days or 0)).isoformat(),
        "InvoiceNumber": f"{number}-ADJ" + (f"-{extra + 1}" if extra else ""),
        "Reference": f"Adjustment to {number}",
        "CurrencyCode": currency,
        "Status": context.options.bill_status.value,
        "LineAmountTypes": "Exclusive",
        "LineItems": [_adjustment_line(context, amount)],
    }
    if bill.body.get("Url"):
        body["Url"] = bill.body["Url"]
    return XeroDocument(DocumentKind.bill, body)


def allocation(bill: PublishedDocument, note: XeroDocument | PublishedDocument) -> XeroDocument:
    """The credit note allocated in full to its bill (SPEC §5.5): without it the bill still shows the
    whole amount due and the credit sits unused on the supplier."""
    number = str(note.body["CreditNoteNumber"])
    amount = sum(
        (
            Decimal(str(line["UnitAmount"])) * Decimal(str(line.get("Quantity", 1)))
            for line in note.body["LineItems"]
        ),
        Decimal(0),
    )
    body = {"Invoice": {"InvoiceID": bill.xero_id}, "Amount": amount, "Date": note.body["Date"]}
    return XeroDocument(DocumentKind.credit_allocation, body, number)
