"""The reconciliation report, as JSON or as a CSV download."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.connections.partners import PartnersDep
from ledgerbridge.api.costly import spend
from ledgerbridge.api.dependencies import PlatformDep, Session
from ledgerbridge.api.problems import problem_responses
from ledgerbridge.api.reports import service
from ledgerbridge.api.reports.schemas import Reconciliation
from ledgerbridge.bookkeeping.reconciliation import GroupBy

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/reconciliation",
    summary="The source's totals beside what Xero holds now, per period, gateway and currency",
    description="Every difference is listed with its cause and links. Xero's copy of our documents is "
    "read in bulk and cached (a Xero webhook marks a changed document stale); `xero` says what the report "
    "spent. The period is at most `API_RECONCILIATION_MAX_DAYS` days (default 93), both ends included, "
    "by the source's own date in the account's time zone. CSV: `format=csv` (or `Accept: text/csv`) gives the summary rows, "
    "`format=csv&table=differences` the differences.",
    response_model=Reconciliation,
    responses={
        **problem_responses(401, 422, 429, 502, 503),
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    },
)
async def reconciliation(
    request: Request,
    user: CurrentUser,
    session: Session,
    platform: PlatformDep,
    partners: PartnersDep,
    date_from: Annotated[
        date, Query(alias="from", description="First day, included", examples=["2026-11-01"])
    ],
    date_to: Annotated[date, Query(alias="to", description="Last day, included", examples=["2026-11-30"])],
    group_by: Annotated[GroupBy, Query(description="Rows per day, week (from Monday) or month")] = "day",
    format_: Annotated[Literal["json", "csv"] | None, Query(alias="format")] = None,
    table: Annotated[
        Literal["summary", "differences"], Query(description="Which table a CSV holds")
    ] = "summary",
) -> Response | Reconciliation:
    service.check_period(date_from, date_to, platform.settings.api.reconciliation_max_days)
    await spend(platform, user.account_id, "reconciliation")
    report = await service.reconciliation(session, partners, user.account_id, date_from, date_to, group_by)
    wants_csv = format_ == "csv" or (format_ is None and "text/csv" in request.headers.get("accept", ""))
    if not wants_csv:
        return report
    name = f"reconciliation-{date_from}-{date_to}{'-differences' if table == 'differences' else ''}.csv"
    return Response(
        service.as_csv(report, table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
