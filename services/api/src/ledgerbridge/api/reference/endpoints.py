"""Reference data for the setup screens, served from caches; ``refresh=true`` re-reads the partner."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.connections import repository
from ledgerbridge.api.connections.partners import PartnersDep
from ledgerbridge.api.costly import spend
from ledgerbridge.api.dependencies import Session
from ledgerbridge.api.problems import ProblemError, problem_responses
from ledgerbridge.api.reference import service
from ledgerbridge.api.reference.service import OntraportKind, XeroKind
from ledgerbridge.common.models import Connection, ConnectionKind, ConnectionStatus

router = APIRouter(tags=["reference data"])

Refresh = Annotated[bool, Query(description="Re-read from the partner and update the cache")]


class ReferenceItems(BaseModel):
    items: list[dict[str, Any]] = Field(description="As the partner describes them")
    fetched_at: datetime = Field(description="When this data was read from the partner")


async def _connection(
    session: AsyncSession, user_account: uuid.UUID, connection_id: uuid.UUID, kind: ConnectionKind
) -> Connection:
    connection = await repository.get_connection(session, user_account, connection_id)
    if connection is None or connection.kind != kind:
        raise ProblemError(404, "Not found", f"No {kind} connection {connection_id}")
    if connection.status == ConnectionStatus.disconnected:
        raise ProblemError(409, "Disconnected", "This connection was disconnected: connect it again")
    return connection


@router.get(
    "/v1/xero/{connection_id}/{kind}",
    summary="The organisation's accounts, tax rates, branding themes, currencies, tracking categories, details (lock dates) or contacts",
    response_model=ReferenceItems,
    responses=problem_responses(401, 404, 409, 429, 502, 503),
)
async def xero_reference(
    connection_id: uuid.UUID,
    kind: XeroKind,
    user: CurrentUser,
    session: Session,
    partners: PartnersDep,
    refresh: Refresh = False,
    search: Annotated[
        str | None, Query(max_length=100, description="Contacts: part of the name, number or email")
    ] = None,
    is_supplier: Annotated[bool | None, Query(description="Contacts: only suppliers, or only others")] = None,
) -> ReferenceItems:
    connection = await _connection(session, user.account_id, connection_id, ConnectionKind.xero)
    if refresh:
        await spend(partners.platform, user.account_id, f"reference-refresh-{kind}")
    if connection.xero_tenant_id is None:
        raise ProblemError(409, "No organisation chosen", "Choose the organisation for this connection first")
    items, fetched_at = await service.xero_items(session, partners, connection, kind, refresh)
    if kind == XeroKind.contacts:
        items = _filter_contacts(items, search, is_supplier)
    return ReferenceItems(items=items, fetched_at=fetched_at)


def _filter_contacts(
    contacts: list[dict[str, Any]], search: str | None, is_supplier: bool | None
) -> list[dict[str, Any]]:
    needle = (search or "").strip().casefold()
    return [
        contact
        for contact in contacts
        if (is_supplier is None or bool(contact.get("IsSupplier")) == is_supplier)
        and (
            not needle
            or any(
                needle in str(contact.get(name) or "").casefold()
                for name in ("Name", "ContactNumber", "EmailAddress")
            )
        )
    ]


@router.get(
    "/v1/ontraport/{connection_id}/{kind}",
    summary="The ONTRAPORT account's products, taxes, coupons, shipping methods or gateways",
    response_model=ReferenceItems,
    responses=problem_responses(401, 404, 409, 429, 502, 503),
)
async def ontraport_reference(
    connection_id: uuid.UUID,
    kind: OntraportKind,
    user: CurrentUser,
    session: Session,
    partners: PartnersDep,
    refresh: Refresh = False,
) -> ReferenceItems:
    connection = await _connection(session, user.account_id, connection_id, ConnectionKind.ontraport)
    if refresh:
        await spend(partners.platform, user.account_id, f"reference-refresh-{kind}")
    items, fetched_at = await service.ontraport_items(session, partners, connection, kind, refresh)
    return ReferenceItems(items=items, fetched_at=fetched_at)
