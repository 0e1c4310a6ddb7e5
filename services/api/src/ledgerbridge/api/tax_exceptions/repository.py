"""Tax exception rules, always within one account."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import TaxExceptionRule


async def list_rules(session: AsyncSession, account_id: uuid.UUID) -> list[TaxExceptionRule]:
    rows = await session.scalars(
        select(TaxExceptionRule)
        .where(TaxExceptionRule.account_id == account_id)
        .order_by(TaxExceptionRule.priority, TaxExceptionRule.created_at, TaxExceptionRule.id)
    )
    return list(rows)


async def get_rule(
    session: AsyncSession, account_id: uuid.UUID, rule_id: uuid.UUID
) -> TaxExceptionRule | None:
    rule: TaxExceptionRule | None = await session.scalar(
        select(TaxExceptionRule).where(
            TaxExceptionRule.id == rule_id, TaxExceptionRule.account_id == account_id
        )
    )
    return rule
