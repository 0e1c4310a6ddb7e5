"""Setup progress for the SPA's guided setup."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.connections.partners import PartnersDep
from ledgerbridge.api.dependencies import Session
from ledgerbridge.api.problems import problem_responses
from ledgerbridge.api.setup import service
from ledgerbridge.api.setup.schemas import SetupProgress

router = APIRouter(prefix="/v1/setup", tags=["setup"])


@router.get(
    "",
    summary="The 10 setup steps: which are done, and what each still lacks",
    response_model=SetupProgress,
    responses=problem_responses(401),
)
async def setup_progress(
    user: CurrentUser,
    session: Session,
    partners: PartnersDep,
    refresh: Annotated[bool, Query(description="Re-read ONTRAPORT's catalogue before answering")] = False,
) -> SetupProgress:
    return await service.progress(session, partners, user.account_id, refresh=refresh)
