"""Historical imports: start one, follow its progress."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from ledgerbridge.api.audit.dependencies import AuditDep
from ledgerbridge.api.auth.dependencies import CurrentUser, OwnerUser
from ledgerbridge.api.costly import spend
from ledgerbridge.api.dependencies import PlatformDep, Session
from ledgerbridge.api.imports import service
from ledgerbridge.api.imports.schemas import ImportIn, ImportList, ImportOut
from ledgerbridge.api.problems import problem_responses

router = APIRouter(prefix="/v1/imports", tags=["imports"])


@router.post(
    "",
    summary="Start a historical import (owners only)",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportOut,
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
async def start_import(
    body: ImportIn, user: OwnerUser, session: Session, platform: PlatformDep, audit: AuditDep
) -> ImportOut:
    await spend(platform, user.account_id, "import")
    started = await service.start(session, user.account_id, body)
    await audit("import.start", f"import:{started.id}", after=body.model_dump(mode="json"))
    return started


@router.get(
    "",
    summary="The account's imports, newest first",
    response_model=ImportList,
    responses=problem_responses(401),
)
async def list_imports(user: CurrentUser, session: Session) -> ImportList:
    return ImportList(items=await service.list_imports(session, user.account_id))


@router.get(
    "/{import_id}",
    summary="One import's status and progress",
    response_model=ImportOut,
    responses=problem_responses(401, 404, 422),
)
async def get_import(import_id: uuid.UUID, user: CurrentUser, session: Session) -> ImportOut:
    return await service.get(session, user.account_id, import_id)
