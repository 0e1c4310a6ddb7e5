"""Records: what was read from ONTRAPORT and Onport, what became of it in Xero, and why."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.dependencies import Session
from ledgerbridge.api.problems import problem_responses
from ledgerbridge.api.records import service
from ledgerbridge.api.records.schemas import RecordDetail, RecordPage, RecordPreview
from ledgerbridge.common.models import RecordStatus

router = APIRouter(prefix="/v1/records", tags=["records"])


@router.get(
    "",
    summary="The account's records, newest first",
    response_model=RecordPage,
    responses=problem_responses(401, 422),
)
async def list_records(
    user: CurrentUser,
    session: Session,
    source: Annotated[Literal["ontraport", "onport"] | None, Query()] = None,
    status_: Annotated[RecordStatus | None, Query(alias="status")] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Searches the source id and the reason", examples=["1001"]),
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RecordPage:
    return await service.list_records(
        session,
        user.account_id,
        source=source,
        status=status_,
        q=q.strip() if q else None,
        page=page,
        page_size=page_size,
    )


@router.get(
    "/{record_id}",
    summary="One record: its source data, Xero documents and history",
    response_model=RecordDetail,
    responses=problem_responses(401, 404, 422),
)
async def get_record(record_id: uuid.UUID, user: CurrentUser, session: Session) -> RecordDetail:
    return await service.get_record(session, user.account_id, record_id)


@router.post(
    "/{record_id}/retry",
    summary="Map and publish a failed or waiting record again",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RecordDetail,
    responses=problem_responses(401, 404, 409, 422),
)
async def retry_record(record_id: uuid.UUID, user: CurrentUser, session: Session) -> RecordDetail:
    return await service.retry(session, user, record_id)


@router.get(
    "/{record_id}/preview",
    summary="What would be sent to Xero for this record now (nothing is sent or stored)",
    response_model=RecordPreview,
    responses=problem_responses(401, 404, 422),
)
async def preview_record(record_id: uuid.UUID, user: CurrentUser, session: Session) -> RecordPreview:
    return await service.preview(session, user.account_id, record_id)
