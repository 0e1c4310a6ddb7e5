"""Records: what was read from ONTRAPORT and Onport, what became of it in Xero, and why."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.dependencies import Session
from ledgerbridge.api.problems import problem_responses
from ledgerbridge.api.records import service
from ledgerbridge.api.records.repository import RecordFilter
from ledgerbridge.api.records.schemas import RecordDetail, RecordPage, RecordPreview, RetryFilter, RetryQueued
from ledgerbridge.common.models import RecordStatus

router = APIRouter(prefix="/v1/records", tags=["records"])


@router.get(
    "",
    summary="The account's records, newest sale or invoice first",
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
    reason_code: Annotated[str | None, Query(max_length=50, examples=["product_unmapped"])] = None,
    since: Annotated[datetime | None, Query(description="Source date on or after this moment")] = None,
    until: Annotated[datetime | None, Query(description="Source date before this moment")] = None,
    gateway: Annotated[
        int | None,
        Query(
            ge=0,
            le=2**31 - 1,
            description="ONTRAPORT gateway id: its sales and their summaries (a summary's Url names it)",
            examples=[3],
        ),
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RecordPage:
    where = RecordFilter(
        source=source,
        statuses=(status_,) if status_ is not None else (),
        reason_code=reason_code,
        since=since,
        until=until,
        gateway=gateway,
        q=q.strip() if q else None,
    )
    return await service.list_records(session, user.account_id, where, page=page, page_size=page_size)


@router.post(
    "/retry",
    summary="Retry every failed or waiting record a filter matches",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RetryQueued,
    responses=problem_responses(401, 422),
)
async def retry_records(wanted: RetryFilter, user: CurrentUser, session: Session) -> RetryQueued:
    return await service.retry_matching(session, user, wanted)


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
