"""Which documents are ready to send: the SQL form of a kind's waits (``needs_published``, ``after``)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, not_, select
from sqlalchemy.orm import aliased

from ledgerbridge.common.models import Document, DocumentStatus
from ledgerbridge.publisher.kinds import KindSpec

UNFINISHED = (DocumentStatus.pending, DocumentStatus.sending, DocumentStatus.failed)


def ready(spec: KindSpec) -> ColumnElement[bool]:
    """SQL condition: a document of this kind has everything it waits for."""
    other = aliased(Document)
    conditions: list[ColumnElement[bool]] = []
    for kind in spec.needs_published:
        conditions.append(
            exists(
                select(other.id).where(
                    other.record_id == Document.record_id,
                    other.kind == kind,
                    other.status == DocumentStatus.published,
                )
            )
        )
    if spec.after:
        conditions.append(
            not_(
                exists(
                    select(other.id).where(
                        other.record_id == Document.record_id,
                        other.kind.in_(spec.after),
                        other.status.in_(UNFINISHED),
                        other.id != Document.id,
                    )
                )
            )
        )
    return and_(Document.kind == spec.kind, *conditions)
