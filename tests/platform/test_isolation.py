"""Each test's writes vanish with its transaction, even the ones it committed."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import Account

MARKER = "isolation-check-company"


async def _count(db: AsyncSession) -> int:
    return int(
        await db.scalar(select(func.count()).select_from(Account).where(Account.company == MARKER)) or 0
    )


async def test_first_writes_and_commits(db: AsyncSession) -> None:
    db.add(Account(company=MARKER))
    await db.commit()
    assert await _count(db) == 1


async def test_second_sees_nothing_of_the_first(db: AsyncSession) -> None:
    assert await _count(db) == 0
