"""What the mapper decided for one record."""

from __future__ import annotations

from dataclasses import dataclass

from ledgerbridge.mapper.documents import XeroDocument
from ledgerbridge.mapper.ontraport.documents import MAPPING_VERSION


@dataclass(frozen=True)
class Publish:
    """Send these documents to Xero, in this order (contact, invoice, payment, credit note…)."""

    documents: tuple[XeroDocument, ...]
    summary: str
    mapping_version: str = MAPPING_VERSION


@dataclass(frozen=True)
class Skip:
    """Nothing goes to Xero, by rule (e.g. a declined transaction); final."""

    reason: str


@dataclass(frozen=True)
class Fail:
    """The record cannot be mapped as it stands (missing mapping, figures that do not add up…).

    Retryable once the tenant fixes the mapping or the source record changes.
    """

    reason: str


@dataclass(frozen=True)
class Wait:
    """Held back until something outside the record changes (``code`` says what, e.g. ``plan_limit``)."""

    reason: str
    code: str


@dataclass(frozen=True)
class NoChange:
    """Xero already reflects the record; nothing to send."""

    reason: str


Decision = Publish | Skip | Fail | Wait | NoChange
