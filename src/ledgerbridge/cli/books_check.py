"""The demo's report: whether the Xero sandbox's books say what SPEC.md §4 and §5 say for the demo's sales and bills."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _refund_problems(
    number: str, charged: Decimal, left: Decimal, refunded: bool, organisation: Any
) -> list[str]:
    """A sale refunded before its first sync: the charge and the refund are both booked (SPEC §4.8)."""
    notes = [
        n for n in organisation.credit_notes.values() if str(n.get("CreditNoteNumber")) == f"CN-{number}"
    ]
    expected = charged if refunded else charged - left
    if len(notes) != 1:
        return [f"CN-{number}: {len(notes)} credit notes in Xero, expected 1"]
    note = notes[0]
    problems = []
    if _money(note["Total"]) != expected:
        problems.append(f"CN-{number}: credits {note['Total']}, expected {expected}")
    if note.get("Status") != "PAID":
        problems.append(f"CN-{number}: {note.get('Status')} in Xero, expected PAID (its refund applied)")
    return problems


def expected_problems(transactions: dict[int, dict[str, str]], organisation: Any) -> list[str]:
    """Where the Xero sandbox's books differ from SPEC.md §4 for these ONTRAPORT transactions."""
    invoices = {
        str(i["InvoiceNumber"]): i for i in organisation.invoices.values() if i.get("Type") == "ACCREC"
    }
    problems = [] if refunded_before_sync(transactions) else ["the demo has no sale refunded before its sync"]
    for transaction_id, transaction in sorted(transactions.items()):
        number = f"OP-{transaction_id}"
        status = transaction["status"]
        moved = status in ("1", "3") or (status == "2" and Decimal(transaction["total"]) != 0)
        if not moved:
            if number in invoices:
                problems.append(f"{number}: status {status} should not be in Xero")
            continue
        invoice = invoices.get(number)
        if invoice is None:
            problems.append(f"{number}: charged in ONTRAPORT (status {status}) but missing in Xero")
            continue
        left = Decimal(transaction["total"])
        charged = _money(invoice["Total"])
        if status != "3" and charged != left:
            problems.append(f"{number}: Xero total {invoice['Total']} but ONTRAPORT charged {left}")
        if invoice["Status"] != "PAID":
            problems.append(f"{number}: {invoice['Status']} in Xero, expected PAID")
        if status != "1":
            problems += _refund_problems(number, charged, left, status == "2", organisation)
    return problems


def refunded_before_sync(transactions: dict[int, dict[str, str]]) -> list[int]:
    """The demo's sales refunded (fully or in part) before their first sync: each must show as an invoice
    with its payment and a credit note with its refund (SPEC §4 item 8)."""
    return [
        tid for tid, t in sorted(transactions.items()) if t["status"] in ("2", "3") and _money(t["total"])
    ]


def bill_payments(organisation: Any, reference: str) -> tuple[int, int]:
    """(standing, deleted) payments in Xero on the bill numbered ``reference``."""
    bill_ids = {
        b["InvoiceID"]
        for b in organisation.invoices.values()
        if b.get("Type") == "ACCPAY" and b.get("InvoiceNumber") == reference
    }
    on_bill = [p for p in organisation.payments.values() if p.get("Invoice", {}).get("InvoiceID") in bill_ids]
    deleted = sum(1 for p in on_bill if p.get("Status") == "DELETED")
    return len(on_bill) - deleted, deleted


def payout_reversal_problems(organisation: Any, reference: str) -> list[str]:
    """A cancelled Onport payout: its bill payment deleted in Xero, the bill owed in full again (SPEC §5
    item 6; Xero payments cannot be edited, only deleted)."""
    bills = [
        b
        for b in organisation.invoices.values()
        if b.get("Type") == "ACCPAY" and b.get("InvoiceNumber") == reference
    ]
    if len(bills) != 1:
        return [f"bill {reference}: {len(bills)} bills in Xero, expected 1"]
    problems = []
    if bill_payments(organisation, reference) != (0, 1):
        standing, deleted = bill_payments(organisation, reference)
        problems.append(
            f"bill {reference}: {standing} standing and {deleted} deleted payments after its payout was "
            "cancelled, expected 0 and 1"
        )
    bill = bills[0]
    if _money(bill.get("AmountDue", 0)) != _money(bill["Total"]):
        problems.append(f"bill {reference}: {bill.get('AmountDue')} due in Xero, expected {bill['Total']}")
    return problems


def bill_problems(data: Any, organisation: Any, invoice_ids: list[str]) -> list[str]:
    """Each dropship invoice the demo added must be one bill of the same total; others wait for a person.

    ``data`` is the sandbox account's ``OnportData``: Onport serves no invoice total, so the sandbox's
    own figure (``data.amounts``) is the one to compare with."""
    tables = data.tables
    bills = [b for b in organisation.invoices.values() if b.get("Type") == "ACCPAY"]
    purchases = tables["purchases"]
    problems = []
    for invoice_id in invoice_ids:
        invoice = tables["purchase-invoices"][int(invoice_id)]
        matching = [b for b in bills if b["InvoiceNumber"] == invoice["reference"]]
        if "dropship" not in str(purchases[invoice["purchaseId"]]["purchaseType"]):
            if matching:
                problems.append(
                    f"bill {invoice['reference']}: replenishment invoices wait for 'sync to Xero'"
                )
            continue
        if len(matching) != 1:
            problems.append(f"bill {invoice['reference']}: {len(matching)} bills in Xero, expected 1")
        elif Decimal(str(matching[0]["Total"])).quantize(Decimal("0.01")) != (
            owed := data.amounts[int(invoice_id)].total
        ):
            problems.append(f"bill {invoice['reference']}: Xero total {matching[0]['Total']}, Onport {owed}")
    return problems


def summary(status: dict[str, Any], organisation: Any, seconds: float) -> str:
    records = Counter[str](status.get("records") or {})
    documents = {
        "invoices": sum(1 for i in organisation.invoices.values() if i.get("Type") == "ACCREC"),
        "payments": sum(1 for p in organisation.payments.values() if p.get("Status") != "DELETED"),
        "credit notes": len(organisation.credit_notes),
        "contacts": len(organisation.contacts),
    }
    lines = [
        "ledgerbridge demo",
        f"  records by status: {dict(sorted(records.items()))}",
        f"  Xero documents: {documents}",
        f"  Xero calls used: {organisation.counters.calls} ({dict(organisation.counters.by_endpoint)})",
        f"  429s received: {organisation.counters.rate_limited}",
        f"  time taken: {seconds:.1f}s",
    ]
    return "\n".join(lines)
