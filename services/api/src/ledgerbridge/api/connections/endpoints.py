"""Connecting Xero organisations and ONTRAPORT/Onport accounts. Owners change, bookkeepers read."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

import jwt
from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import RedirectResponse

from ledgerbridge.api.audit.dependencies import AuditDep
from ledgerbridge.api.auth.dependencies import CurrentUser, OwnerUser, bearer
from ledgerbridge.api.auth.service import unauthorized
from ledgerbridge.api.auth.tokens import read_access_token
from ledgerbridge.api.connections import repository, service, sources
from ledgerbridge.api.connections.partners import PartnersDep
from ledgerbridge.api.connections.schemas import (
    AuthorizeUrl,
    ChooseOrganisation,
    ChooseXeroConnection,
    ConnectionList,
    ConnectionOut,
    ConsentReceived,
    OnportConnect,
    OntraportConnect,
    OrganisationList,
    SourceConnected,
)
from ledgerbridge.api.dependencies import PlatformDep, Session
from ledgerbridge.api.problems import problem_responses

router = APIRouter(prefix="/v1/connections", tags=["connections"])


@router.get(
    "",
    summary="The account's connections (credentials are never returned)",
    response_model=ConnectionList,
    responses=problem_responses(401),
)
async def list_connections(user: CurrentUser, session: Session) -> ConnectionList:
    rows = await repository.list_connections(session, user.account_id)
    return ConnectionList(items=[ConnectionOut.model_validate(row) for row in rows])


@router.post(
    "/xero",
    summary="Start connecting a Xero organisation: send the browser to the answer's authorize_url",
    response_model=AuthorizeUrl,
    responses=problem_responses(401, 403, 503),
)
async def start_xero(user: OwnerUser, platform: PlatformDep, audit: AuditDep) -> AuthorizeUrl:
    started = await service.authorize_url(platform, user)
    # The callback makes the connection (and is recorded with it); this records who asked for consent.
    await audit("connection.xero_consent_start", "connection:xero")
    return started


async def _caller(token: Annotated[str | None, Depends(bearer)], platform: PlatformDep) -> uuid.UUID | None:
    """The signed-in user, when the SPA forwards the callback with its token; it must be the user who
    started the consent. A browser redirected by Xero sends none, and the state alone identifies them."""
    if not token:
        return None
    try:
        return read_access_token(platform.secret_key, token).user_id
    except jwt.InvalidTokenError as exc:
        raise unauthorized("The access token is invalid or has expired") from exc


@router.get(
    "/xero/callback",
    summary="Where Xero sends the browser after consent (XERO_REDIRECT_URI)",
    response_model=ConsentReceived,
    responses={
        302: {"description": "Redirect to SPA_URL with ?connection_id=… when SPA_URL is set"},
        **problem_responses(400, 401, 503),
    },
)
async def xero_callback(
    session: Session,
    partners: PartnersDep,
    caller: Annotated[uuid.UUID | None, Depends(_caller)],
    code: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=200)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> ConsentReceived | RedirectResponse:
    received = await service.receive_consent(
        session, partners, code=code, state=state, error=error, caller=caller
    )
    spa_url = partners.settings.security.spa_url
    if spa_url:
        separator = "&" if "?" in spa_url else "?"
        query = urlencode({"connection_id": str(received.connection_id)})
        return RedirectResponse(f"{spa_url}{separator}{query}", status_code=status.HTTP_302_FOUND)
    return received


@router.get(
    "/{connection_id}/organisations",
    summary="The organisations a Xero consent covers",
    response_model=OrganisationList,
    responses=problem_responses(401, 404),
)
async def list_organisations(
    connection_id: uuid.UUID, user: CurrentUser, session: Session
) -> OrganisationList:
    return OrganisationList(items=await service.organisations(session, user.account_id, connection_id))


@router.put(
    "/{connection_id}/organisation",
    summary="Choose the organisation; activates the connection and caches its reference data",
    response_model=ConnectionOut,
    responses=problem_responses(401, 403, 404, 409, 422, 502, 503),
)
async def choose_organisation(
    connection_id: uuid.UUID,
    body: ChooseOrganisation,
    user: OwnerUser,
    session: Session,
    partners: PartnersDep,
    audit: AuditDep,
) -> ConnectionOut:
    before = _state(await service.out(session, await service.owned(session, user.account_id, connection_id)))
    chosen = await service.choose_organisation(session, partners, user, connection_id, body)
    await audit(
        "connection.choose_organisation", f"connection:{connection_id}", before=before, after=_state(chosen)
    )
    return chosen


@router.post(
    "/ontraport",
    summary="Connect an ONTRAPORT account (App ID and API key, checked first)",
    status_code=status.HTTP_201_CREATED,
    response_model=SourceConnected,
    responses=problem_responses(401, 403, 422, 502, 503),
)
async def connect_ontraport(
    body: OntraportConnect, user: OwnerUser, session: Session, partners: PartnersDep, audit: AuditDep
) -> SourceConnected:
    connected = await sources.connect_ontraport(session, partners, user, body)
    await audit("connection.connect", f"connection:{connected.id}", after=_state(connected))
    return connected


@router.post(
    "/onport",
    summary="Connect an Onport account (API token, checked first)",
    status_code=status.HTTP_201_CREATED,
    response_model=SourceConnected,
    responses=problem_responses(401, 403, 422, 502, 503),
)
async def connect_onport(
    body: OnportConnect, user: OwnerUser, session: Session, partners: PartnersDep, audit: AuditDep
) -> SourceConnected:
    connected = await sources.connect_onport(session, partners, user, body)
    await audit("connection.connect", f"connection:{connected.id}", after=_state(connected))
    return connected


@router.put(
    "/{connection_id}/xero-connection",
    summary="Choose which Xero organisation an ONTRAPORT or Onport connection posts to",
    response_model=ConnectionOut,
    responses=problem_responses(401, 403, 404, 422),
)
async def choose_xero_connection(
    connection_id: uuid.UUID, body: ChooseXeroConnection, user: OwnerUser, session: Session, audit: AuditDep
) -> ConnectionOut:
    before = _state(await service.out(session, await service.owned(session, user.account_id, connection_id)))
    chosen = await sources.choose_xero_connection(session, user, connection_id, body.xero_connection_id)
    await audit(
        "connection.choose_xero_connection",
        f"connection:{connection_id}",
        before=before,
        after=_state(chosen),
    )
    return chosen


@router.post(
    "/{connection_id}/webhook-token",
    summary="Rotate an ONTRAPORT or Onport connection's webhook URL; owners only",
    description="The old URL stops working at once. ONTRAPORT webhooks and Onport's accounting integration "
    "are pointed at the new URL, which is shown here only (tokens are stored hashed).",
    response_model=SourceConnected,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def rotate_webhook_token(
    connection_id: uuid.UUID, user: OwnerUser, session: Session, partners: PartnersDep, audit: AuditDep
) -> SourceConnected:
    rotated = await sources.rotate_webhook_token(session, partners, user, connection_id)
    # The URLs carry the token: the entry says it changed, never what it is.
    await audit(
        "connection.rotate_webhook_token", f"connection:{connection_id}", after={"webhook_urls": "rotated"}
    )
    return rotated


@router.delete(
    "/{connection_id}",
    summary="Disconnect (Xero: disconnect and revoke at Xero; sources: forget the credentials)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 502, 503),
)
async def disconnect(
    connection_id: uuid.UUID, user: OwnerUser, session: Session, partners: PartnersDep, audit: AuditDep
) -> None:
    before = _state(await service.out(session, await service.owned(session, user.account_id, connection_id)))
    await service.disconnect(session, partners, user, connection_id)
    await audit(
        "connection.disconnect",
        f"connection:{connection_id}",
        before=before,
        after={"status": "disconnected"},
    )


def _state(connection: ConnectionOut) -> dict[str, Any]:
    """What an audit entry keeps of a connection: never its credentials or webhook URLs."""
    return connection.model_dump(
        mode="json", include={"kind", "name", "status", "xero_tenant_id", "xero_connection_id"}
    )
