"""Reading the plan and upgrading it, which releases the records the trial limit held back."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.plan import repository
from ledgerbridge.api.plan.schemas import PlanOut, UpgradeOut
from ledgerbridge.common.models import Plan
from ledgerbridge.common.records.lifecycle import release


async def read(session: AsyncSession, account_id: uuid.UUID) -> PlanOut:
    account = await repository.account(session, account_id)
    return PlanOut(
        plan=account.plan,
        trial_limit=account.trial_limit,
        trial_used=account.trial_used,
        waiting=await repository.count_held(session, account_id),
    )


async def upgrade(session: AsyncSession, account_id: uuid.UUID) -> UpgradeOut:
    """Move to pro and hand every held record back to the mapper, in this one transaction."""
    # The account lock orders this against a mapper counting trial usage for the same account.
    account = await repository.account(session, account_id, for_update=True)
    account.plan = Plan.pro
    held = await repository.held_for_update(session, account_id)
    await release(session, held, "Plan upgraded to pro; the trial limit no longer applies")
    return UpgradeOut(
        plan=account.plan,
        trial_limit=account.trial_limit,
        trial_used=account.trial_used,
        waiting=0,
        released=len(held),
    )
