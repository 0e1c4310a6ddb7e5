"""Sync now, and how far each connection's sync has got."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status

from ledgerbridge.api.audit.dependencies import AuditDep
from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.costly import spend
from ledgerbridge.api.dependencies import PlatformDep, Session
from ledgerbridge.api.problems import problem_responses
from ledgerbridge.api.sync import service
from ledgerbridge.api.sync.schemas import SyncRunIn, SyncRunQueued, SyncStatus

router = APIRouter(prefix="/v1/sync", tags=["sync"])


@router.post(
    "/run",
    summary="Poll the account's source connections now (or one of them)",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SyncRunQueued,
    responses=problem_responses(401, 404, 409, 422, 429),
)
async def run_sync(
    user: CurrentUser,
    session: Session,
    platform: PlatformDep,
    audit: AuditDep,
    body: Annotated[SyncRunIn | None, Body()] = None,
) -> SyncRunQueued:
    await spend(platform, user.account_id, "sync-run")
    connection_id = body.connection_id if body else None
    queued = await service.run(session, user.account_id, connection_id)
    subject = f"connection:{connection_id}" if connection_id else "sync"
    await audit("sync.run", subject, after=queued.model_dump(mode="json"))
    return queued


@router.get(
    "/status",
    summary="Per connection: last and next poll, errors, backlog and counts by status",
    response_model=SyncStatus,
    responses=problem_responses(401),
)
async def sync_status(user: CurrentUser, session: Session) -> SyncStatus:
    return await service.status(session, user.account_id)
