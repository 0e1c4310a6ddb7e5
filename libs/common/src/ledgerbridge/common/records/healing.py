"""Fixes heal: when the tenant changes a mapping, a setting, a tax exception or a connection, every
record that failed or waits *because of that* goes back to the mapper by itself.

Each waiting or failed record stores its reason's code and the cause it names (``reason_cause``); a
change frees the records whose cause it matches. A record freed in vain fails again with the same
reason, so matching errs on the side of freeing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.models import Connection, RecordStatus, SourceRecord
from ledgerbridge.common.records.lifecycle import release

HEAL_BATCH = 5_000
"""Records freed by one change in one transaction; a larger backlog is freed by the next change or a
bulk retry (the API says how many remain)."""

_DEFAULTS = {
    "ontraport.default_sales_account": "product",
    "ontraport.default_coupon_account": "coupon",
    "ontraport.default_shipping_account": "shipping",
    "onport.default_purchases_account": "purchase_type",
    "onport.create_missing_suppliers": "vendor",
}
"""A default setting covers every item of one mapping kind that has no mapping of its own."""

_ANY_INPUT = (ReasonCode.mapping_inputs, ReasonCode.xero_code_unknown)
"""Reasons any change of the tenant's inputs may fix: unreadable inputs, a code Xero does not know."""


@dataclass(frozen=True)
class Change:
    """What the tenant changed: a mapping (``name`` its kind, ``key`` its source id), a setting (its
    dotted path), the tax exceptions, or a connection (``name`` ``xero`` when a source got its
    organisation)."""

    kind: Literal["mapping", "setting", "tax_exceptions", "connection"]
    name: str = ""
    key: str | None = None


def _cause_is(kind: str, name: str, key: str | None = None) -> ColumnElement[bool]:
    cause = SourceRecord.reason_cause
    matches = and_(cause["kind"].astext == kind, cause["name"].astext == name)
    if key is None:
        return matches
    return and_(matches, or_(cause["key"].astext == key, ~cause.has_key("key")))


def _freed_by(change: Change) -> ColumnElement[bool]:
    any_input = SourceRecord.reason_code.in_([code.value for code in _ANY_INPUT])
    if change.kind == "mapping":
        return or_(_cause_is("mapping", change.name, change.key), any_input)
    if change.kind == "setting":
        covered = _DEFAULTS.get(change.name)
        parent, _, leaf = change.name.rpartition(".")
        return or_(
            _cause_is("setting", change.name),
            # One entry of a keyed setting: onport.payout_accounts.AUD frees a cause naming AUD.
            _cause_is("setting", parent, leaf) if parent.count(".") else false(),
            _cause_is("mapping", covered) if covered else false(),
            any_input,
        )
    if change.kind == "tax_exceptions":
        return or_(SourceRecord.reason_code == ReasonCode.tax_unmapped.value, any_input)
    return _cause_is("connection", change.name)


async def heal(
    session: AsyncSession,
    account_id: uuid.UUID,
    changes: Iterable[Change],
    *,
    connection_id: uuid.UUID | None = None,
) -> int:
    """Release the account's failed and waiting records that ``changes`` may fix; returns how many.

    ``connection_id`` narrows the release to one source connection's records (a connection change).
    """
    conditions = [_freed_by(change) for change in changes]
    if not conditions:
        return 0
    query = select(SourceRecord).where(
        SourceRecord.account_id == account_id,
        SourceRecord.status.in_((RecordStatus.failed, RecordStatus.waiting)),
        or_(*conditions),
    )
    if connection_id is not None:
        query = query.where(SourceRecord.connection_id == connection_id)
    # Locked like every record change, so a mapper run on the same record orders against this.
    records = (
        await session.scalars(
            query.order_by(SourceRecord.created_at).limit(HEAL_BATCH).with_for_update(key_share=True)
        )
    ).all()
    reason = "; ".join(sorted({_describe(change) for change in changes}))
    return await release(session, records, f"Fixed: {reason}"[:2000], detail={"healed": True})


def _describe(change: Change) -> str:
    what = change.name.replace("_", " ")
    if change.kind == "mapping":
        return f"the {what} {change.key} mapping was saved" if change.key else f"{what} mappings were saved"
    if change.kind == "setting":
        return f"the setting {change.name} changed"
    if change.kind == "tax_exceptions":
        return "the tax exceptions changed"
    return "the connection was linked to a Xero organisation"


def setting_changes(before: dict[str, object], after: dict[str, object], prefix: str = "") -> list[Change]:
    """One :class:`Change` per leaf that differs between two settings dumps (dotted paths)."""
    found: list[Change] = []
    for name in sorted(set(before) | set(after)):
        path = f"{prefix}{name}"
        old, new = before.get(name), after.get(name)
        if isinstance(old, dict) and isinstance(new, dict):
            found += setting_changes(old, new, f"{path}.")
        elif old != new:
            found.append(Change("setting", path))
    return found


async def release_reference_waits(session: AsyncSession, xero_connection_id: uuid.UUID) -> int:
    """Once the organisation's reference data is read again: release the records that waited for it, and
    those its lock date held (a lock date that moved frees them; one that did not holds them again)."""
    records = (
        await session.scalars(
            select(SourceRecord)
            .join(Connection, Connection.id == SourceRecord.connection_id)
            .where(
                Connection.xero_connection_id == xero_connection_id,
                SourceRecord.status == RecordStatus.waiting,
                SourceRecord.reason_code.in_((ReasonCode.xero_reference, ReasonCode.period_locked)),
            )
            .with_for_update(of=SourceRecord, key_share=True)
        )
    ).all()
    return await release(session, records, "Xero reference data is ready")
