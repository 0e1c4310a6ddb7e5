"""A read-only page for people watching a demo: each organisation's documents, refreshed every few seconds."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ledgerbridge.sandbox.xero.state import Organisation, SandboxState

router = APIRouter(include_in_schema=False)

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1d2b3a; }
h2 { margin-top: 2rem; border-bottom: 2px solid #13b5ea; }
table { border-collapse: collapse; margin: .5rem 0 1rem; min-width: 60%; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #dde; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.PAID { color: #1a7f37; } .VOIDED, .DELETED { color: #999; text-decoration: line-through; }
.muted { color: #778; }
"""


def _table(title: str, headings: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return f"<h3>{escape(title)}</h3><p class='muted'>none yet</p>"
    head = "".join(f"<th>{escape(heading)}</th>" for heading in headings)
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in row) + "</tr>" for row in rows)
    return f"<h3>{escape(title)} ({len(rows)})</h3><table><tr>{head}</tr>{body}</table>"


def _cell(value: Any, css: str = "") -> str:
    return f"<td class='{css}'>{escape(str(value))}</td>"


def _document_rows(documents: list[dict[str, Any]], number_field: str) -> list[list[str]]:
    return [
        [
            _cell(doc.get(number_field) or "(no number)"),
            _cell(doc["Contact"].get("Name", "")),
            _cell(doc.get("DateString", "")[:10]),
            _cell(doc["Status"], doc["Status"]),
            _cell(f"{doc['Total']:.2f}", "num"),
            _cell(doc["CurrencyCode"]),
        ]
        for doc in reversed(documents)
    ]


def render_organisation(org: Organisation) -> str:
    invoices = [doc for doc in org.invoices.values() if doc["Type"] == "ACCREC"]
    bills = [doc for doc in org.invoices.values() if doc["Type"] == "ACCPAY"]
    headings = ["Number", "Contact", "Date", "Status", "Total", "Currency"]
    payments = [
        [
            _cell(
                (payment.get("Invoice") or payment.get("CreditNote") or {}).get("InvoiceNumber")
                or (payment.get("CreditNote") or {}).get("CreditNoteNumber", "")
            ),
            _cell(
                ((payment.get("Invoice") or payment.get("CreditNote") or {}).get("Contact") or {}).get(
                    "Name", ""
                )
            ),
            _cell(payment.get("DateString", "")[:10]),
            _cell(payment["Status"], payment["Status"]),
            _cell(f"{payment['Amount']:.2f}", "num"),
            _cell(payment["Account"]["Code"]),
        ]
        for payment in reversed(list(org.payments.values()))
    ]
    return (
        f"<h2>{escape(org.name)} <span class='muted'>{escape(org.tenant_id)} · {escape(org.base_currency)}</span></h2>"
        + _table("Invoices", headings, _document_rows(invoices, "InvoiceNumber"))
        + _table("Bills", headings, _document_rows(bills, "InvoiceNumber"))
        + _table("Payments", ["Document", "Contact", "Date", "Status", "Amount", "Account"], payments)
        + _table(
            "Credit notes", headings, _document_rows(list(org.credit_notes.values()), "CreditNoteNumber")
        )
    )


@router.get("/", response_class=HTMLResponse)
@router.get("/_sandbox/ui", response_class=HTMLResponse)
async def page(request: Request) -> HTMLResponse:
    state: SandboxState = request.app.state.sandbox
    refresh = state.config.ui_refresh_seconds
    sections = "".join(render_organisation(org) for org in state.orgs.values())
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta http-equiv='refresh' content='{refresh}'><title>Xero sandbox</title>"
        f"<style>{_STYLE}</style></head><body><h1>Xero sandbox</h1>"
        f"<p class='muted'>Read-only view, refreshed every {refresh} s.</p>{sections}</body></html>"
    )


def render_document(org: Organisation, document: dict[str, Any]) -> str:
    """One invoice or bill as a person checking the books would want it: header, lines, payments."""
    kind = "Bill" if document.get("Type") == "ACCPAY" else "Invoice"
    number = document.get("InvoiceNumber") or "(no number)"
    lines = [
        [
            _cell(line.get("Description", "")),
            _cell(line.get("Quantity", ""), "num"),
            _cell(line.get("UnitAmount", ""), "num"),
            _cell(line.get("AccountCode", "")),
            _cell(line.get("TaxType", "")),
            _cell(line.get("LineAmount", ""), "num"),
        ]
        for line in document.get("LineItems") or []
    ]
    payments = [
        [
            _cell(p.get("DateString", "")[:10]),
            _cell(p["Status"], p["Status"]),
            _cell(f"{p['Amount']:.2f}", "num"),
        ]
        for p in org.payments.values()
        if (p.get("Invoice") or {}).get("InvoiceID") == document.get("InvoiceID")
    ]
    facts = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(str(value))}</dd>"
        for label, value in (
            ("Organisation", org.name),
            ("Contact", (document.get("Contact") or {}).get("Name", "")),
            ("Date", str(document.get("DateString", ""))[:10]),
            ("Status", document.get("Status", "")),
            ("Reference", document.get("Reference", "")),
            ("Currency", document.get("CurrencyCode", "")),
            ("Total", f"{document.get('Total', 0):.2f}"),
        )
    )
    return (
        f"<h1>{kind} {escape(str(number))}</h1><dl>{facts}</dl>"
        + _table("Lines", ["Description", "Qty", "Unit", "Account", "Tax", "Amount"], lines)
        + _table("Payments", ["Date", "Status", "Amount"], payments)
    )


@router.get("/_sandbox/ui/documents/{document_id}", response_class=HTMLResponse)
async def document_page(document_id: str, request: Request) -> HTMLResponse:
    state: SandboxState = request.app.state.sandbox
    for org in state.orgs.values():
        document = org.invoices.get(document_id)
        if document is not None:
            body = render_document(org, document)
            break
    else:
        return HTMLResponse(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Not found</title></head>"
            "<body><h1>No such document in the Xero sandbox</h1></body></html>",
            status_code=404,
        )
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Xero sandbox document</title>"
        f"<style>{_STYLE}</style></head><body>{body}<p><a href='/'>All documents</a></p></body></html>"
    )
