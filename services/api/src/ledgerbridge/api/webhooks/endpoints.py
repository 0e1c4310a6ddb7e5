"""Webhook receivers: Xero events, ONTRAPORT pings and Onport purchase invoice pushes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Request, Response, status

from ledgerbridge.api.dependencies import PlatformDep, Session
from ledgerbridge.api.problems import problem_responses
from ledgerbridge.api.webhooks import service
from ledgerbridge.api.webhooks.schemas import PingAccepted, PushAccepted

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

Token = Annotated[str, Path(min_length=1, max_length=128)]


@router.post(
    "/xero",
    summary="Xero webhook events (also the intent-to-receive handshake)",
    description="Signed with `x-xero-signature` = base64(HMAC-SHA256(webhook key, raw body)). A valid "
    "delivery is answered 200 with an empty body, an invalid signature 401 with an empty body, as Xero "
    "requires. Each event is stored once and handled by the publisher.",
    status_code=status.HTTP_200_OK,
    response_class=Response,
    responses={401: {"description": "Invalid signature (empty body)"}, **problem_responses(400, 413)},
)
async def xero_webhook(
    request: Request,
    session: Session,
    platform: PlatformDep,
    x_xero_signature: Annotated[str | None, Header()] = None,
) -> Response:
    body = await service.read_body(request)
    key = platform.xero_webhook_key
    if not service.xero_signature_valid(key, body, x_xero_signature):
        return Response(status_code=status.HTTP_401_UNAUTHORIZED)
    await service.receive_xero(session, body)
    return Response(status_code=status.HTTP_200_OK)


@router.post(
    "/ontraport/{token}",
    summary="ONTRAPORT webhook ping: polls the connection now",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PingAccepted,
    responses=problem_responses(400, 404, 413, 422),
)
async def ontraport_webhook(token: Token, request: Request, session: Session) -> PingAccepted:
    body = await service.read_body(request)
    queued = await service.receive_ontraport(session, token, body, request.headers.get("content-type", ""))
    return PingAccepted(queued=queued)


@router.post(
    "/onport/{token}/{purchase_type}",
    summary="Onport purchase invoice push (dropship or replenishment)",
    description="A ping: the push is kept in the inbox and the invoice is re-read from Onport by its id; "
    "only what Onport returns is stored, never the pushed body. Polling stays the backstop.",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PushAccepted,
    responses=problem_responses(400, 404, 413, 422),
)
async def onport_push(
    token: Token,
    purchase_type: Literal["dropship", "replenishment"],
    request: Request,
    session: Session,
) -> PushAccepted:
    body = await service.read_body(request)
    return PushAccepted(stored=await service.receive_onport(session, token, purchase_type, body))
