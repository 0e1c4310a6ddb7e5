"""A Xero connection's day limit (owners change it) and the plan of its calls (everyone reads it)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from ledgerbridge.api.auth.dependencies import CurrentUser, OwnerUser
from ledgerbridge.api.day_plan import service
from ledgerbridge.api.day_plan.schemas import DayLimitIn, DayPlanOut
from ledgerbridge.api.dependencies import PlatformDep, Session
from ledgerbridge.api.problems import problem_responses

router = APIRouter(prefix="/v1/connections", tags=["connections"])


@router.get(
    "/{connection_id}/day-plan",
    summary="A Xero connection's day limit, the calls used and left, and when the waiting documents are done",
    response_model=DayPlanOut,
    responses=problem_responses(401, 404),
)
async def read_day_plan(
    connection_id: uuid.UUID, user: CurrentUser, session: Session, platform: PlatformDep
) -> DayPlanOut:
    return await service.read(session, platform, user.account_id, connection_id)


@router.put(
    "/{connection_id}/day-limit",
    summary="Set a Xero connection's calls a day: 5,000 by default, 1,000 on Xero's Starter tier (owners only)",
    response_model=DayPlanOut,
    responses=problem_responses(401, 403, 404, 422),
)
async def set_day_limit(
    connection_id: uuid.UUID, body: DayLimitIn, user: OwnerUser, session: Session, platform: PlatformDep
) -> DayPlanOut:
    return await service.set_day_limit(session, platform, user, connection_id, body)
