"""Onport vendor bills: purchase invoices and their Xero bills, "sync to Xero", vendors and their links."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from ledgerbridge.api.audit.dependencies import AuditDep
from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.connections.partners import PartnersDep
from ledgerbridge.api.costly import spend
from ledgerbridge.api.dependencies import Session
from ledgerbridge.api.onport import service
from ledgerbridge.api.onport.schemas import OnportInvoice, OnportInvoicePage, OnportVendorList
from ledgerbridge.api.problems import problem_responses
from ledgerbridge.common.models import RecordStatus

router = APIRouter(prefix="/v1/onport", tags=["onport"])


@router.get(
    "/invoices",
    summary="The account's Onport purchase invoices with their sync state and Xero bill, newest first",
    response_model=OnportInvoicePage,
    responses=problem_responses(401, 422),
)
async def list_invoices(
    user: CurrentUser,
    session: Session,
    status_: Annotated[RecordStatus | None, Query(alias="status")] = None,
    type_: Annotated[
        Literal["dropship", "replenishment"] | None,
        Query(alias="type", description="Purchase kind; automated_* purchases count as their plain kind"),
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OnportInvoicePage:
    return await service.list_invoices(
        session, user.account_id, status=status_, kind=type_, page=page, page_size=page_size
    )


@router.post(
    "/invoices/{record_id}/sync",
    summary="Sync to Xero: send one waiting or failed invoice to be made a bill",
    description="Answers 202 with the invoice when it was queued, 200 when it is synced already (with its "
    "Xero link) or already on its way.",
    response_model=OnportInvoice,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        200: {"model": OnportInvoice, "description": "Synced or under way already"},
        **problem_responses(401, 404, 409, 422),
    },
)
async def sync_invoice(
    record_id: uuid.UUID, user: CurrentUser, session: Session, response: Response, audit: AuditDep
) -> OnportInvoice:
    invoice, queued = await service.sync_invoice(session, user, record_id)
    await audit(
        "record.sync_to_xero", f"record:{record_id}", after={"status": str(invoice.status), "queued": queued}
    )
    if not queued:
        response.status_code = status.HTTP_200_OK
    return invoice


@router.get(
    "/vendors",
    summary="The account's Onport vendors and the Xero contacts they are linked to",
    response_model=OnportVendorList,
    responses=problem_responses(401, 422, 429, 502, 503),
)
async def list_vendors(
    user: CurrentUser,
    session: Session,
    partners: PartnersDep,
    live: Annotated[
        bool | None,
        Query(
            description="By default the vendors are read from the connected Onport account, with the "
            "stored invoices' vendors as the fallback when Onport cannot be read; true insists on Onport "
            "(an error when it cannot be read), false answers from the stored invoices only"
        ),
    ] = None,
) -> OnportVendorList:
    if live:
        await spend(partners.platform, user.account_id, "live-vendors")
    return await service.list_vendors(
        session, user.account_id, None if live is False else partners, required=live is True
    )
