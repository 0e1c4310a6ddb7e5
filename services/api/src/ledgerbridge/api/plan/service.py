"""Reading the plan and upgrading it, which releases the records the trial limit held back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.plan import repository
from ledgerbridge.api.plan.schemas import PlanOut, TrialOut, UpgradeOut
from ledgerbridge.common.models import Account, Plan
from ledgerbridge.common.records.core_inputs import trial_ends_at
from ledgerbridge.common.records.lifecycle import release


def _trial(account: Account) -> TrialOut | None:
    if account.plan is not Plan.trial:
        return None
    ends_at = trial_ends_at(account)
    remaining = max(account.trial_limit - account.trial_used, 0)
    return TrialOut(
        limit=account.trial_limit,
        used=account.trial_used,
        remaining=remaining,
        ends_at=ends_at,
        ended=remaining == 0 or datetime.now(UTC) >= ends_at,
    )


async def read(session: AsyncSession, account_id: uuid.UUID) -> PlanOut:
    account = await repository.account(session, account_id)
    return PlanOut(
        plan=account.plan, trial=_trial(account), waiting=await repository.count_held(session, account_id)
    )


async def upgrade(session: AsyncSession, account_id: uuid.UUID) -> UpgradeOut:
    """Move to pro and hand every held record back to the mapper, in this one transaction."""
    # The account lock orders this against a mapper counting trial usage for the same account.
    account = await repository.account(session, account_id, for_update=True)
    account.plan = Plan.pro
    held = await repository.held_for_update(session, account_id)
    await release(session, held, "Plan upgraded to pro; the trial no longer holds anything back")
    return UpgradeOut(plan=account.plan, trial=None, waiting=0, released=len(held))
