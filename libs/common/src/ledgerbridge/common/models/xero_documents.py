"""Our documents as Xero holds them now: the reconciliation report's and the rollback's view of Xero.

Read in bulk (``GET /Invoices?IDs=``, ``GET /CreditNotes`` and ``GET /Payments`` filtered by id, paged)
and kept here, so a report costs Xero calls only for what is missing, old, or marked stale by a Xero
webhook (an invoice or credit note changed there; a payment's change shows on its invoice).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ledgerbridge.common.models.base import Base


class XeroDocumentState(Base):
    __tablename__ = "xero_document_states"

    xero_connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    resource: Mapped[str] = mapped_column(String(20), primary_key=True)  # invoice | credit_note | payment
    xero_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # lower case: Xero's GUIDs ignore case
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    found: Mapped[bool]  # False: Xero no longer has it (a payment deleted for good, a document gone)
    status: Mapped[str | None] = mapped_column(String(20))
    number: Mapped[str | None] = mapped_column(String(255))
    total: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # What Xero counts as settled on a document; a payment's own facts (reconciled) for a payment.
    facts: Mapped[dict[str, Any]]
    fetched_at: Mapped[datetime]
    stale: Mapped[bool] = mapped_column(default=False)  # a webhook said it changed since fetched_at
