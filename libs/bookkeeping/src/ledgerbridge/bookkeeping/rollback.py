"""Rollback: what undoing one record's documents in Xero takes, by Xero's rules (SPEC.md §3.1).

A payment cannot be edited, only deleted, and a document with a payment cannot be voided: payments go
first. An approved (AUTHORISED or PAID) invoice, bill or credit note is voided; a draft is deleted.
Xero keeps a voided sales document's number taken, so a voided document is renumbered first
(``<number>-RB-<id>``): a re-sync can then make it again under its own number. Contacts stay: they are
shared with other documents and Xero cannot delete them.

A record is undone whole or not at all: when Xero holds any of its documents differently from how we
made it (voided or deleted by hand, an amount edited, a payment reconciled or made outside us), nothing
of it is touched and every document is listed with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import StrEnum

from ledgerbridge.bookkeeping.base import Frozen
from ledgerbridge.bookkeeping.documents import DocumentKind, XeroDocument
from ledgerbridge.bookkeeping.money import money_text

PAYMENT_KINDS = frozenset({DocumentKind.payment, DocumentKind.refund_payment, DocumentKind.bill_payment})
DOCUMENT_KINDS = frozenset(
    {DocumentKind.invoice, DocumentKind.bill, DocumentKind.credit_note, DocumentKind.supplier_credit_note}
)
CREDIT_NOTE_KINDS = frozenset({DocumentKind.credit_note, DocumentKind.supplier_credit_note})
ROLLBACK_KINDS = frozenset({DocumentKind.rollback_payment, DocumentKind.rollback_document})
UNDONE_BY_SYNC = frozenset({DocumentKind.payment_delete, DocumentKind.invoice_void})
APPROVED = frozenset({"AUTHORISED", "PAID"})
DRAFTS = frozenset({"DRAFT", "SUBMITTED"})


class Action(StrEnum):
    delete_payment = "delete_payment"
    void = "void"
    delete = "delete"
    keep = "keep"
    """Stays in Xero (a contact), whatever happens to the record."""
    none = "none"
    """Already undone (the sync deleted or voided it when the sale was voided at the source)."""


class Outcome(StrEnum):
    undo = "undo"
    left_alone = "left_alone"
    nothing = "nothing"


class OurDocument(Frozen):
    """A document we published for the record."""

    id: str
    kind: DocumentKind
    xero_id: str | None
    number: str | None
    amount: Decimal | None
    target_id: str | None = None
    """For the sync's own reversals (a payment deletion, an invoice void): the Xero id it acted on."""


class XeroHeld(Frozen):
    """One document or payment as Xero holds it now (from the bulk read)."""

    found: bool
    status: str | None = None
    total: Decimal | None = None
    payment_ids: tuple[str, ...] = ()
    """Payments Xero lists on a document (lower case ids)."""
    credited: Decimal = Decimal(0)
    """Credit notes or prepayments allocated to a document."""
    reconciled: bool = False
    """A payment matched to a bank statement line."""


class PlannedDocument(Frozen):
    document_id: str
    kind: DocumentKind
    number: str | None
    xero_id: str | None
    amount: Decimal | None
    action: Action
    note: str


class RecordPlan(Frozen):
    outcome: Outcome
    reason: str
    documents: tuple[PlannedDocument, ...]
    undo: tuple[XeroDocument, ...] = ()
    """The rollback documents to publish, payments first (empty unless ``outcome`` is undo)."""


def renumbered(number: str, document_id: str) -> str:
    """The number a voided document is given, unique to the document we made."""
    return f"{number}-RB-{document_id.replace('-', '')[:8]}"


def _changed(document: OurDocument, held: XeroHeld | None, ours: set[str]) -> str | None:
    """Why Xero's copy is not ours any more, or None when it is as we made it."""
    label = document.number or document.xero_id or document.kind.value
    if held is None:
        return f"{label} was not read from Xero"
    if not held.found or held.status == "DELETED":
        return f"{label} was deleted in Xero"
    if held.status == "VOIDED":
        return f"{label} was voided in Xero by hand"
    if document.amount is not None and held.total is not None and held.total != document.amount:
        return (
            f"{label}'s amount was edited in Xero: {money_text(document.amount)} → {money_text(held.total)}"
        )
    if document.kind in PAYMENT_KINDS and held.reconciled:
        return f"payment {label} is reconciled with a bank line in Xero"
    if document.kind in DOCUMENT_KINDS:
        others = [payment for payment in held.payment_ids if payment not in ours]
        if others:
            return f"{label} has a payment made in Xero outside ledgerbridge"
        if held.credited > 0:
            return f"{label} has a credit allocated in Xero"
    return None


def plan_record(documents: Sequence[OurDocument], held: Mapping[str, XeroHeld]) -> RecordPlan:
    """What undoing one record takes, from the documents we published and Xero's copy of each.

    ``held`` is keyed by lower-case Xero id.
    """
    undone = {str(d.target_id).lower() for d in documents if d.kind in UNDONE_BY_SYNC and d.target_id}
    live = [d for d in documents if d.kind not in ROLLBACK_KINDS and d.kind not in UNDONE_BY_SYNC]
    ours = {str(d.xero_id).lower() for d in live if d.kind in PAYMENT_KINDS and d.xero_id}
    planned: list[PlannedDocument] = []
    undo_payments: list[XeroDocument] = []
    undo_documents: list[XeroDocument] = []
    blocked: list[str] = []

    def add(document: OurDocument, action: Action, note: str) -> None:
        planned.append(
            PlannedDocument(
                document_id=document.id,
                kind=document.kind,
                number=document.number,
                xero_id=document.xero_id,
                amount=document.amount,
                action=action,
                note=note,
            )
        )

    for document in sorted(live, key=lambda d: (d.kind not in PAYMENT_KINDS, d.kind.value, d.id)):
        xero_id = (document.xero_id or "").lower()
        if document.kind is DocumentKind.contact:
            add(
                document,
                Action.keep,
                "Contacts stay: other documents may use them, and Xero cannot delete them",
            )
            continue
        if document.kind is DocumentKind.credit_allocation:
            blocked.append("a supplier credit note is allocated to its bill")
            add(document, Action.keep, "Remove the allocation in Xero first, then run the rollback again")
            continue
        if xero_id in undone:
            add(document, Action.none, "Already undone by the sync (the sale was voided at the source)")
            continue
        changed = _changed(document, held.get(xero_id), ours)
        if changed is not None:
            blocked.append(changed)
            add(document, Action.keep, f"Left alone: {changed}")
            continue
        copy = held[xero_id]
        if document.kind in PAYMENT_KINDS:
            add(document, Action.delete_payment, "The payment is deleted (payments go first)")
            undo_payments.append(
                XeroDocument(
                    DocumentKind.rollback_payment,
                    {"PaymentID": document.xero_id, "Status": "DELETED", "DocumentID": document.id},
                    document.xero_id,
                )
            )
            continue
        resource = "CreditNotes" if document.kind in CREDIT_NOTE_KINDS else "Invoices"
        if copy.status in DRAFTS:
            add(document, Action.delete, "The draft is deleted")
            body = {"Resource": resource, "Status": "DELETED", "DocumentID": document.id}
        elif copy.status in APPROVED:
            number = document.number or ""
            new_number = renumbered(number, document.id) if number else None
            add(
                document,
                Action.void,
                f"Voided, renumbered {new_number} so a re-sync can use {number}" if new_number else "Voided",
            )
            body = {"Resource": resource, "Status": "VOIDED", "DocumentID": document.id}
            if new_number:
                body["Number"] = new_number
        else:
            blocked.append(f"{document.number} is {copy.status} in Xero")
            add(document, Action.keep, f"Left alone: Xero has it as {copy.status}")
            continue
        undo_documents.append(XeroDocument(DocumentKind.rollback_document, body, document.xero_id))
    documents_out = tuple(planned)
    if blocked:
        return RecordPlan(
            outcome=Outcome.left_alone,
            reason="Left alone, nothing of it is undone: " + "; ".join(blocked),
            documents=documents_out,
        )
    undo = tuple(undo_payments + undo_documents)
    if not undo:
        return RecordPlan(
            outcome=Outcome.nothing, reason="Nothing of it is in Xero to undo", documents=documents_out
        )
    return RecordPlan(
        outcome=Outcome.undo,
        reason=f"{len(undo_payments)} payment(s) deleted, {len(undo_documents)} document(s) undone",
        documents=documents_out,
        undo=undo,
    )
