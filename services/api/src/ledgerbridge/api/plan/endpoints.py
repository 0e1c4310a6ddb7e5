"""The account's plan."""

from __future__ import annotations

from fastapi import APIRouter

from ledgerbridge.api.audit.dependencies import AuditDep
from ledgerbridge.api.auth.dependencies import CurrentUser, OwnerUser
from ledgerbridge.api.dependencies import Session
from ledgerbridge.api.plan import service
from ledgerbridge.api.plan.schemas import PlanOut, UpgradeOut
from ledgerbridge.api.problems import problem_responses

router = APIRouter(prefix="/v1/plan", tags=["plan"])


@router.get(
    "",
    summary="The plan, the trial limit and how much of it is used",
    response_model=PlanOut,
    responses=problem_responses(401),
)
async def get_plan(user: CurrentUser, session: Session) -> PlanOut:
    return await service.read(session, user.account_id)


@router.post(
    "/upgrade",
    summary="Upgrade to pro; records held by the trial limit go on to sync (owners only)",
    response_model=UpgradeOut,
    responses=problem_responses(401, 403),
)
async def upgrade_plan(owner: OwnerUser, session: Session, audit: AuditDep) -> UpgradeOut:
    before = await service.read(session, owner.account_id)
    upgraded = await service.upgrade(session, owner.account_id)
    await audit("plan.upgrade", "plan", before={"plan": str(before.plan)}, after={"plan": "pro"})
    return upgraded
