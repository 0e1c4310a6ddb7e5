"""The account row and the records the trial limit holds back."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.models import Account, RecordStatus, SourceRecord


def _held(account_id: uuid.UUID) -> tuple[ColumnElement[bool], ...]:
    return (
        SourceRecord.account_id == account_id,
        SourceRecord.status == RecordStatus.waiting,
        SourceRecord.reason_code.in_((ReasonCode.plan_limit, ReasonCode.trial_expired)),
    )


async def account(session: AsyncSession, account_id: uuid.UUID, *, for_update: bool = False) -> Account:
    query = select(Account).where(Account.id == account_id)
    found = await session.scalar(query.with_for_update(key_share=True) if for_update else query)
    assert found is not None  # the signed-in user's account; users cascade with it
    return found


async def count_held(session: AsyncSession, account_id: uuid.UUID) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(SourceRecord).where(*_held(account_id))) or 0
    )


async def held_for_update(session: AsyncSession, account_id: uuid.UUID) -> list[SourceRecord]:
    # Locked so a mapper deciding about the same record waits for the upgrade, then sees it released.
    rows = await session.scalars(
        select(SourceRecord)
        .where(*_held(account_id))
        .order_by(SourceRecord.created_at)
        .with_for_update(key_share=True)
    )
    return list(rows)
