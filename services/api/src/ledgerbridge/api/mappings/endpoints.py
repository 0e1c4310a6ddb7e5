"""Reading and changing the account's mappings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response, status

from ledgerbridge.api.audit.dependencies import AuditDep
from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.dependencies import Session
from ledgerbridge.api.mappings import repository, service
from ledgerbridge.api.mappings.dependencies import ReferenceDataDep
from ledgerbridge.api.mappings.schemas import (
    TARGET_SCHEMA,
    MappingIn,
    MappingList,
    MappingOut,
    MappingSaved,
    MappingsSaved,
)
from ledgerbridge.api.problems import ProblemError, problem_responses
from ledgerbridge.common.models import MappingKind

router = APIRouter(prefix="/v1/mappings", tags=["mappings"])

SourceIdPath = Annotated[
    str, Path(min_length=1, max_length=100, description="The ONTRAPORT/Onport id", examples=["17"])
]


@router.get(
    "",
    summary="The account's mappings, optionally of one kind",
    response_model=MappingList,
    responses=problem_responses(401, 422),
)
async def list_mappings(
    user: CurrentUser, session: Session, kind: Annotated[MappingKind | None, Query()] = None
) -> MappingList:
    rows = await repository.list_mappings(session, user.account_id, kind)
    return MappingList(items=[MappingOut.model_validate(row) for row in rows])


@router.put(
    "",
    summary="Create or replace many mappings at once (all or nothing)",
    response_model=MappingsSaved,
    responses=problem_responses(401, 422),
)
async def put_mappings(
    items: Annotated[list[MappingIn], Body(max_length=service.MAX_BULK_MAPPINGS)],
    user: CurrentUser,
    session: Session,
    reference: ReferenceDataDep,
    audit: AuditDep,
) -> MappingsSaved:
    stored = await repository.list_mappings(session, user.account_id, None)
    before = {(row.kind, row.source_id): dict(row.target) for row in stored}
    saved = await service.put_mappings(session, reference, user.account_id, items)
    for item in saved.items:
        await audit(
            "mapping.save",
            f"mapping:{item.kind}:{item.source_id}",
            before=_target(before.get((item.kind, item.source_id))),
            after=_target(item.target),
        )
    return saved


@router.put(
    "/{kind}/{source_id}",
    summary="Create or replace one mapping",
    response_model=MappingSaved,
    responses=problem_responses(401, 422),
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": TARGET_SCHEMA}}}},
)
async def put_mapping(
    kind: MappingKind,
    source_id: SourceIdPath,
    target: Annotated[dict[str, Any], Body()],
    user: CurrentUser,
    session: Session,
    reference: ReferenceDataDep,
    audit: AuditDep,
) -> MappingSaved:
    stored = await repository.get_mapping(session, user.account_id, kind, source_id)
    before = dict(stored.target) if stored else None  # the upsert refreshes the loaded row in place
    saved = await service.put_mapping(session, reference, user.account_id, kind, source_id, target)
    await audit(
        "mapping.save",
        f"mapping:{kind}:{source_id}",
        before=_target(before),
        after=_target(saved.target),
    )
    return saved


@router.delete(
    "/{kind}/{source_id}",
    summary="Remove one mapping",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 404),
)
async def delete_mapping(
    kind: MappingKind, source_id: SourceIdPath, user: CurrentUser, session: Session, audit: AuditDep
) -> None:
    before = await repository.get_mapping(session, user.account_id, kind, source_id)
    if before is None or not await repository.delete_mapping(session, user.account_id, kind, source_id):
        raise ProblemError(404, "Not found", f"No {kind} mapping for '{source_id}'")
    await audit("mapping.delete", f"mapping:{kind}:{source_id}", before=_target(before.target))


def _target(target: dict[str, Any] | None) -> dict[str, Any] | None:
    return {"target": target} if target is not None else None
