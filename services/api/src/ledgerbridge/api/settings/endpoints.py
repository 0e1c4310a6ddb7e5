"""The tenant's options."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from ledgerbridge.api.audit.dependencies import AuditDep
from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.dependencies import Session
from ledgerbridge.api.mappings.dependencies import ReferenceDataDep
from ledgerbridge.api.problems import problem_responses
from ledgerbridge.api.settings import service
from ledgerbridge.api.settings.schemas import PATCH_BODY, SettingsUpdated
from ledgerbridge.common.account_settings import AccountOptions
from ledgerbridge.common.audit import changed

router = APIRouter(prefix="/v1/settings", tags=["settings"])


@router.get(
    "",
    summary="The account's options, defaults filled in",
    response_model=AccountOptions,
    responses=problem_responses(401),
)
async def get_settings(user: CurrentUser, session: Session) -> AccountOptions:
    return await service.read(session, user.account_id)


@router.patch(
    "",
    summary="Change some options; fields not sent keep their value",
    response_model=SettingsUpdated,
    responses=problem_responses(401, 422),
    openapi_extra={"requestBody": PATCH_BODY},
)
async def patch_settings(
    body: Annotated[dict[str, Any], Body()],
    user: CurrentUser,
    session: Session,
    reference: ReferenceDataDep,
    audit: AuditDep,
) -> SettingsUpdated:
    before = await service.read(session, user.account_id)
    updated = await service.update(session, reference, user.account_id, body)
    after = AccountOptions.model_validate(updated.model_dump(exclude={"warnings"}))
    await audit(
        "settings.update",
        "settings",
        **changed(before.model_dump(mode="json"), after.model_dump(mode="json")),
    )
    return updated
