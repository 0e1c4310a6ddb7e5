"""What a batch is made of: documents as claimed for one send, and what became of each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerbridge.common.clients.xero import ElementResult
from ledgerbridge.common.models import DocumentKind


@dataclass(frozen=True)
class Claimed:
    """A document as claimed for one send, detached from its session."""

    id: uuid.UUID
    record_id: uuid.UUID
    kind: DocumentKind
    body: dict[str, Any]
    idempotency_key: str
    target_id: str | None


@dataclass(frozen=True)
class Outcome:
    """What became of one document: published, failed (``error``), or neither (not found: send again)."""

    published: bool
    xero_id: str | None = None
    number: str | None = None
    amount: Decimal | None = None
    error: str | None = None


Decided = dict[uuid.UUID, Outcome]


def money(value: Any) -> Decimal | None:
    # Through str, so a float Xero sent (e.g. 10.1) keeps the digits it was written with.
    return Decimal(str(value)) if value is not None else None


def refused(result: ElementResult) -> Outcome:
    """The failed outcome of an element Xero refused, with every reason it gave."""
    return Outcome(False, error="; ".join(result.errors))


class PartialSend(Exception):
    """A one-by-one send stopped part-way by ``error``: what it decided before stands, the rest is
    handled as the error says (looked up, or given back)."""

    def __init__(self, decided: Decided, error: Exception) -> None:
        super().__init__(str(error))
        self.decided = decided
        self.error = error
