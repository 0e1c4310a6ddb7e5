"""Which records a rollback covers, and what it does (or would do) to each of their Xero documents."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ledgerbridge.bookkeeping.documents import DocumentKind
from ledgerbridge.bookkeeping.rollback import Action, Outcome

MAX_RECORD_IDS = 200


class RollbackSelection(BaseModel):
    """The records to roll back: an import, a date range, a list of records, narrowed by the rest.

    At least one of ``import_id``, ``since``/``until`` or ``record_ids`` is required, so a rollback never
    covers the whole account by accident.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"import_id": "5b0c3a4e-8d2f-4d7e-9a61-0c2b7f3e9d15"},
                {"since": "2026-11-01T00:00:00Z", "until": "2026-11-08T00:00:00Z", "source": "ontraport"},
            ]
        },
    )

    import_id: uuid.UUID | None = Field(
        default=None, description="The records a historical import brought in"
    )
    since: datetime | None = Field(default=None, description="Source date on or after this moment")
    until: datetime | None = Field(default=None, description="Source date before this moment")
    record_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=MAX_RECORD_IDS)
    source: Literal["ontraport", "onport"] | None = None

    @model_validator(mode="after")
    def _bounded(self) -> RollbackSelection:
        if self.import_id is None and self.since is None and self.until is None and not self.record_ids:
            raise ValueError("choose the records: give import_id, a date range (since, until) or record_ids")
        if (self.since is None) != (self.until is None) and self.import_id is None and not self.record_ids:
            raise ValueError("a date range needs both since and until")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be before until")
        return self


class PlannedDocumentOut(BaseModel):
    document_id: uuid.UUID
    kind: DocumentKind
    number: str | None = Field(examples=["OP-1001"])
    xero_id: str | None
    amount: Decimal | None
    action: Action = Field(
        description="delete_payment, void, delete; keep (stays in Xero); none (already undone)"
    )
    note: str = Field(examples=["Voided, renumbered OP-1001-RB-1a2b3c4d so a re-sync can use OP-1001"])


class RecordRollback(BaseModel):
    record_id: uuid.UUID
    source: Literal["ontraport", "onport"]
    external_id: str = Field(examples=["1001"])
    status: str = Field(description="The record's status before the rollback")
    outcome: Outcome | Literal["busy"] = Field(
        description="undo; left_alone (Xero holds it differently, or it cannot be undone); nothing (not in "
        "Xero); busy (being published or rolled back right now: try again shortly)"
    )
    reason: str
    documents: list[PlannedDocumentOut]


class RollbackPlan(BaseModel):
    """A dry run: nothing is changed, in Xero or here."""

    records: list[RecordRollback]
    matched: int = Field(description="Records the selection matched")
    remaining: int = Field(description="Matched records beyond this call's limit (200): roll them back next")
    undo: int = Field(description="Records that would be undone")
    left_alone: int = Field(description="Records left alone, each with the reason")
    xero_calls: int = Field(description="Xero calls spent reading the documents' current state")


class RollbackRun(RollbackPlan):
    """The rollback under way: its documents are queued for the publisher (exactly once, like a sync)."""

    rollback_id: uuid.UUID = Field(description="Named in each rolled-back record's history")
    queued_documents: int = Field(description="Voids, deletions and payment deletions queued for Xero")


class RollbackRequest(RollbackSelection):
    confirm: Literal[True] = Field(description="Must be true: the rollback changes the books in Xero")
