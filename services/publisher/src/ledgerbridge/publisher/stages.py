"""The order documents go to Xero in, and which documents each one waits for.

Contacts first, then invoices, then payments, then credit notes and their refunds, then payment
deletions and voids (SPEC.md §3.1: a payment needs an AUTHORISED invoice; an invoice with a payment
cannot be voided).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, not_, select
from sqlalchemy.orm import aliased

from ledgerbridge.common.models import Document, DocumentKind, DocumentStatus

UNFINISHED = (DocumentStatus.pending, DocumentStatus.sending, DocumentStatus.failed)


@dataclass(frozen=True)
class Stage:
    kind: DocumentKind
    resource: str  # Xero collection the batch goes to ("" for one-by-one actions)
    needs_published: tuple[DocumentKind, ...] = ()  # at least one of each, published, on the same record
    after: tuple[DocumentKind, ...] = ()  # none of these unfinished on the same record


STAGES = (
    Stage(DocumentKind.contact, "Contacts"),
    Stage(DocumentKind.invoice, "Invoices", after=(DocumentKind.contact,)),
    Stage(DocumentKind.payment, "Payments", needs_published=(DocumentKind.invoice,)),
    Stage(
        DocumentKind.credit_note,
        "CreditNotes",
        needs_published=(DocumentKind.invoice,),
        after=(DocumentKind.contact,),
    ),
    Stage(
        DocumentKind.refund_payment,
        "Payments",
        needs_published=(DocumentKind.credit_note,),
        after=(DocumentKind.credit_note,),
    ),
    Stage(DocumentKind.bill, "Invoices", after=(DocumentKind.contact,)),
    # A payment re-made after a refund waits for the deletion of the one it replaces, and a payment
    # for an updated bill for the update (Xero refuses a payment above the amount due).
    Stage(
        DocumentKind.bill_payment,
        "Payments",
        needs_published=(DocumentKind.bill,),
        after=(DocumentKind.payment_delete, DocumentKind.bill),
    ),
    Stage(
        DocumentKind.supplier_credit_note,
        "CreditNotes",
        needs_published=(DocumentKind.bill,),
        after=(DocumentKind.contact,),
    ),
    Stage(DocumentKind.credit_allocation, "", needs_published=(DocumentKind.supplier_credit_note,)),
    Stage(DocumentKind.payment_delete, ""),
    Stage(DocumentKind.invoice_void, "", after=(DocumentKind.payment_delete, DocumentKind.payment)),
)


def ready(stage: Stage) -> ColumnElement[bool]:
    """SQL condition: a document of this stage has everything it waits for."""
    other = aliased(Document)
    conditions: list[ColumnElement[bool]] = []
    for kind in stage.needs_published:
        conditions.append(
            exists(
                select(other.id).where(
                    other.record_id == Document.record_id,
                    other.kind == kind,
                    other.status == DocumentStatus.published,
                )
            )
        )
    if stage.after:
        conditions.append(
            not_(
                exists(
                    select(other.id).where(
                        other.record_id == Document.record_id,
                        other.kind.in_(stage.after),
                        other.status.in_(UNFINISHED),
                        other.id != Document.id,
                    )
                )
            )
        )
    return and_(Document.kind == stage.kind, *conditions)
