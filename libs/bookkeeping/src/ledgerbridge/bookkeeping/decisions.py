"""What the core decided for one record: publish documents, skip, fail, wait, or nothing to do."""

from __future__ import annotations

from dataclasses import dataclass

from ledgerbridge.bookkeeping.documents import XeroDocument
from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode


@dataclass(frozen=True)
class Publish:
    """Send these documents to Xero, in this order (contact, invoice, payment, credit note…)."""

    documents: tuple[XeroDocument, ...]
    summary: str
    mapping_version: str


@dataclass(frozen=True)
class Skip:
    """Nothing goes to Xero, by rule (e.g. a declined transaction); final."""

    reason: str


@dataclass(frozen=True)
class Fail:
    """The record cannot be mapped as it stands (missing mapping, figures that do not add up…).

    Retryable once the tenant fixes what ``cause`` names or the source record changes.
    """

    reason: str
    code: ReasonCode = ReasonCode.mapping_inputs
    cause: Cause | None = None


@dataclass(frozen=True)
class Wait:
    """Held back until something outside the record changes (``code`` and ``cause`` say what)."""

    reason: str
    code: ReasonCode
    cause: Cause | None = None


@dataclass(frozen=True)
class NoChange:
    """Xero already reflects the record; nothing to send."""

    reason: str


Decision = Publish | Skip | Fail | Wait | NoChange


class MappingError(Exception):
    """The record cannot be mapped; the message is the reason shown to the bookkeeper."""

    def __init__(self, message: str, code: ReasonCode, cause: Cause | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.cause = cause

    def as_fail(self) -> Fail:
        return Fail(str(self), self.code, self.cause)
