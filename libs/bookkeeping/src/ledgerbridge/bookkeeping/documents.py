"""Xero request documents produced by the core (sales and bills), their fingerprints and Xero-way
totals.

Bodies are plain dicts with Xero's PascalCase keys (``xero_accounting.yaml``). Money and quantities are
kept as :class:`~decimal.Decimal` so nothing is lost between mapping and sending; call
:func:`to_json_ready` (or pass :func:`json_default` to ``json.dumps``) to get JSON numbers. Every
Decimal the mapper emits has at most 4 decimal places, so the float produced is the shortest float that
reads back as the same decimal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, cast

from ledgerbridge.bookkeeping.base import Frozen
from ledgerbridge.bookkeeping.money import round_cents

IDEMPOTENCY_KEY_MAX = 128


class DocumentKind(StrEnum):
    """Every kind of Xero document the core produces; the database stores the same values."""

    contact = "contact"
    """Body for ``PUT /Contacts`` (create if the publisher finds no match)."""
    invoice = "invoice"
    """Body for ``PUT /Invoices``."""
    payment = "payment"
    """Body for ``PUT /Payments`` against the invoice."""
    credit_note = "credit_note"
    """Body for ``PUT /CreditNotes``."""
    refund_payment = "refund_payment"
    """Body for ``PUT /Payments`` against a credit note (money paid back to the customer)."""
    payment_delete = "payment_delete"
    """Body for ``POST /Payments/{target_id}``."""
    invoice_void = "invoice_void"
    """Body for ``POST /Invoices/{target_id}`` (``target_id`` is the InvoiceID, else the number)."""
    bill = "bill"
    """Body for ``PUT /Invoices`` with Type ACCPAY (a supplier bill)."""
    bill_payment = "bill_payment"
    """Body for ``PUT /Payments`` against a bill (a vendor payout)."""
    supplier_credit_note = "supplier_credit_note"
    """Body for ``PUT /CreditNotes`` with Type ACCPAYCREDIT."""
    credit_allocation = "credit_allocation"
    """Body for ``PUT /CreditNotes/{CreditNoteID}/Allocations``; ``target_id`` is the credit note's
    number (its id is known once it is created, in the same run)."""
    rollback_payment = "rollback_payment"
    """A rollback deletes a payment we made: ``POST /Payments/{target_id}`` with Status DELETED."""
    rollback_document = "rollback_document"
    """A rollback undoes an invoice, bill or credit note we made (``target_id`` is its Xero id): a draft is
    deleted, an approved one voided; a sales document is renumbered first so a re-sync can use its number."""


def to_json_ready(value: Any) -> Any:
    """A copy of ``value`` with every Decimal turned into a float (ints stay ints)."""
    if isinstance(value, Decimal):
        return float(value) if value else 0.0
    if isinstance(value, dict | Mapping):  # dict first: the Mapping check alone is an ABC's, and slow
        return {key: to_json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_ready(item) for item in value]
    return value


def json_default(value: object) -> Any:
    """``default=`` hook for ``json.dumps`` over mapper documents."""
    if isinstance(value, Decimal):
        return to_json_ready(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical_json(value: Any) -> str:
    """The one JSON text of ``value`` that equal content always gives: keys sorted, no spaces,
    Decimals as JSON numbers. Fingerprints are taken of it and the mapper stores it as it is."""
    return json.dumps(value, default=json_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _fingerprint(kind: DocumentKind, body_text: str) -> str:
    """sha256 (hex) of the canonical JSON of ``{"kind": kind, "body": body}``, built from the body's own
    canonical text (sorted, "body" comes before "kind") rather than encoding the body a second time."""
    canonical = f'{{"body":{body_text},"kind":{json.dumps(kind.value, ensure_ascii=False)}}}'
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def idempotency_key(record_id: str, kind: DocumentKind, document_fingerprint: str) -> str:
    """A deterministic Xero ``Idempotency-Key`` (≤128 chars) for one document of one source record."""
    key = f"lb:{record_id}:{kind.value}:{document_fingerprint[:40]}"
    if len(key) <= IDEMPOTENCY_KEY_MAX:
        return key
    digest = hashlib.sha256(f"{record_id}\n{kind.value}\n{document_fingerprint}".encode()).hexdigest()
    return f"lb:{kind.value}:{digest}"


@dataclass(frozen=True)
class XeroDocument:
    """One request for Xero. ``body`` is the element that goes in the batch array (or the POST body)."""

    kind: DocumentKind
    body: dict[str, Any]
    target_id: str | None = None
    """For updates (payment delete, invoice void): the Xero id or number in the URL."""
    fingerprint: str = field(init=False)
    json_text: str = field(init=False, repr=False, compare=False)
    """The body's canonical JSON (:func:`canonical_json`), made once: the fingerprint is taken of it and
    the mapper stores it without encoding the body again."""

    def __post_init__(self) -> None:
        text = canonical_json(self.body)
        object.__setattr__(self, "json_text", text)
        # A target is part of what the document does, so it is part of its fingerprint.
        material = canonical_json({"target": self.target_id, **self.body}) if self.target_id else text
        object.__setattr__(self, "fingerprint", _fingerprint(self.kind, material))

    def idempotency_key(self, record_id: str) -> str:
        return idempotency_key(record_id, self.kind, self.fingerprint)

    def json_body(self) -> dict[str, Any]:
        """The body with Decimals as JSON numbers, its keys in the order the core wrote them."""
        return cast(dict[str, Any], to_json_ready(self.body))


@dataclass(frozen=True)
class XeroTotals:
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal


def xero_totals(document: Mapping[str, Any], tax_rates: Mapping[str, Decimal]) -> XeroTotals:
    """Totals of an invoice or credit note body as Xero computes them.

    Per line: amount = round(Quantity * UnitAmount - DiscountAmount, 2); tax = the line's explicit
    ``TaxAmount`` if set, else round(amount * rate, 2) for Exclusive and round(amount * rate / (1 + rate),
    2) for Inclusive (tax is inside the amount), 0 for NoTax. Rates are percents keyed by TaxType; a
    TaxType missing from ``tax_rates`` counts as 0 %.
    """
    mode = document.get("LineAmountTypes", "Exclusive")
    net = Decimal(0)
    tax = Decimal(0)
    for line in document.get("LineItems", []):
        quantity = Decimal(str(line.get("Quantity", 1)))
        amount = round_cents(
            quantity * Decimal(str(line.get("UnitAmount", 0))) - Decimal(str(line.get("DiscountAmount", 0)))
        )
        rate = tax_rates.get(line.get("TaxType", ""), Decimal(0)) / 100
        if mode == "NoTax":
            line_tax = Decimal(0)
        elif "TaxAmount" in line:
            line_tax = Decimal(str(line["TaxAmount"]))
        elif mode == "Inclusive":
            line_tax = round_cents(amount * rate / (1 + rate))
        else:
            line_tax = round_cents(amount * rate)
        tax += line_tax
        net += amount - line_tax if mode == "Inclusive" else amount
    return XeroTotals(sub_total=net, total_tax=tax, total=net + tax)


class InvoiceStatus(StrEnum):
    AUTHORISED = "AUTHORISED"
    DRAFT = "DRAFT"


def edited_in_xero(ours: Decimal | None, xero_total: Decimal | None) -> bool:
    """Whether Xero holds a document of ours for another total than ``ours`` (what it was for when we
    sent it): a person edited its amount there. A figure not known on either side shows no edit."""
    return ours is not None and xero_total is not None and xero_total != ours


class PublishedDocument(Frozen):
    """A document already accepted by Xero for this record."""

    xero_id: str | None = None
    number: str | None = None
    """InvoiceNumber / CreditNoteNumber, or for a payment the number of the document it pays."""
    amount: Decimal
    """Invoice or credit note total, or payment amount."""
    fingerprint: str | None = None
    body: dict[str, Any] = {}
    """The body as sent (an invoice's lines are needed to credit them)."""
