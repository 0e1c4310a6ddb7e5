"""Rollback: undo what we made in Xero for a set of records, after a dry run."""

from __future__ import annotations

from fastapi import APIRouter, status

from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.connections.partners import PartnersDep
from ledgerbridge.api.costly import spend
from ledgerbridge.api.dependencies import PlatformDep, Session
from ledgerbridge.api.problems import problem_responses
from ledgerbridge.api.rollbacks import service
from ledgerbridge.api.rollbacks.schemas import RollbackPlan, RollbackRequest, RollbackRun, RollbackSelection

router = APIRouter(prefix="/v1/rollbacks", tags=["rollbacks"])


@router.post(
    "/dry-run",
    summary="What rolling back these records would do to each of their Xero documents (nothing changes)",
    response_model=RollbackPlan,
    responses=problem_responses(401, 404, 422, 429, 502, 503),
)
async def dry_run(
    wanted: RollbackSelection,
    user: CurrentUser,
    session: Session,
    platform: PlatformDep,
    partners: PartnersDep,
) -> RollbackPlan:
    await spend(platform, user.account_id, "rollback")
    return await service.dry_run(session, partners, user, wanted)


@router.post(
    "",
    summary="Roll back these records: void, delete and delete payments in Xero, then wait for a re-sync",
    description="Plans again against Xero as it is now, so a document changed there since the dry run is "
    "left alone. What is undone goes through the publisher exactly once; each record then waits with "
    "reason code `rolled_back` (retry it, or `POST /v1/records/retry` with that code, to sync it again).",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RollbackRun,
    responses=problem_responses(401, 404, 422, 429, 502, 503),
)
async def run(
    wanted: RollbackRequest, user: CurrentUser, session: Session, platform: PlatformDep, partners: PartnersDep
) -> RollbackRun:
    await spend(platform, user.account_id, "rollback")
    return await service.run(session, partners, user, wanted)
