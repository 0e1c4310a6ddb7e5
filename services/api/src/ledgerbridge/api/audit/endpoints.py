"""``GET /v1/audit``: the account's changes, for a subject or all of them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ledgerbridge.api.audit import service
from ledgerbridge.api.audit.schemas import AuditPage
from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.dependencies import Session
from ledgerbridge.api.problems import problem_responses

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get(
    "",
    summary="Who changed what and when, newest first",
    description="subject=record:<id> gives one record's entries; a prefix such as subject=mapping gives "
    "every mapping's (mapping:product:12, …). Pages go back in time with before=next_before.",
    response_model=AuditPage,
    responses=problem_responses(401, 422),
)
async def list_audit(
    user: CurrentUser,
    session: Session,
    subject: Annotated[str | None, Query(max_length=300, examples=["settings"])] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    return await service.list_entries(session, user.account_id, subject, before, limit)
