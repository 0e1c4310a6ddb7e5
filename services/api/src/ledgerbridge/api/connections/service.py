"""Connecting and disconnecting Xero organisations and ONTRAPORT/Onport accounts.

Partner calls never run while this request's transaction holds a write lock on a connection row:
``TokenService`` refreshes and disconnects in sessions of its own under a row lock, and would wait for us.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.auth import repository as users
from ledgerbridge.api.connections import oauth_state, ontraport_webhooks, repository
from ledgerbridge.api.connections.partners import Partners, partner_errors
from ledgerbridge.api.connections.schemas import (
    AuthorizeUrl,
    ChooseOrganisation,
    ConnectionOut,
    ConsentReceived,
    Organisation,
)
from ledgerbridge.api.problems import VALIDATION_TYPE, ProblemError
from ledgerbridge.api.reference import cache
from ledgerbridge.api.reference.service import fetch_all_xero
from ledgerbridge.common import xero_reference
from ledgerbridge.common.audit import record_change
from ledgerbridge.common.messaging.errors import PermanentError, TransientError
from ledgerbridge.common.models import (
    Connection,
    ConnectionKind,
    ConnectionStatus,
    PollCursor,
    Role,
    User,
)
from ledgerbridge.common.platform import Platform

log = structlog.get_logger(__name__)

ORGANISATIONS_KEY = "organisations"
STATE_PROBLEM = "https://ledgerbridge.dev/problems/oauth-state"


def not_found(connection_id: uuid.UUID) -> ProblemError:
    return ProblemError(404, "Not found", f"No connection {connection_id}")


def field_problem(loc: list[str | int], message: str) -> ProblemError:
    return ProblemError(
        422,
        "Request validation failed",
        message,
        type_=VALIDATION_TYPE,
        errors=[{"loc": loc, "msg": message, "type": "value_error"}],
    )


async def out(session: AsyncSession, connection: Connection) -> ConnectionOut:
    # Flushed and re-read: the timestamps are set by the database.
    await session.flush()
    await session.refresh(connection)
    return ConnectionOut.model_validate(connection)


async def owned(
    session: AsyncSession, account_id: uuid.UUID, connection_id: uuid.UUID, *kinds: ConnectionKind
) -> Connection:
    connection = await repository.get_connection(session, account_id, connection_id)
    if connection is None or (kinds and connection.kind not in kinds):
        raise not_found(connection_id)
    return connection


# --- Xero: consent ---------------------------------------------------------------------------------


async def authorize_url(platform: Platform, user: User) -> AuthorizeUrl:
    xero = platform.settings.xero
    if not xero.client_id or xero.client_secret is None or not xero.redirect_uri:
        raise ProblemError(
            503,
            "Xero is not configured",
            "XERO_CLIENT_ID, XERO_CLIENT_SECRET and XERO_REDIRECT_URI must be set to connect Xero",
        )
    consent = oauth_state.PendingConsent(user.id, user.account_id, oauth_state.new_code_verifier())
    state = await oauth_state.begin(platform.transport.redis, platform.settings.queue.prefix, consent)
    url = oauth_state.authorization_url(
        xero.authorize_url,
        client_id=xero.client_id,
        redirect_uri=xero.redirect_uri,
        scope=xero.scopes,
        state=state,
        code_verifier=consent.code_verifier,
    )
    return AuthorizeUrl(authorize_url=url)


def _state_problem(detail: str) -> ProblemError:
    return ProblemError(400, "Invalid OAuth state", detail, type_=STATE_PROBLEM)


async def receive_consent(
    session: AsyncSession,
    partners: Partners,
    *,
    code: str | None,
    state: str | None,
    error: str | None,
    caller: uuid.UUID | None,
) -> ConsentReceived:
    """The callback: ``state`` names the user who started the consent and is used up here, whatever
    happens next, so a replayed callback cannot create a second connection."""
    platform = partners.platform
    consent = await oauth_state.take(platform.transport.redis, platform.settings.queue.prefix, state or "")
    if consent is None:
        raise _state_problem("The state is unknown, already used or expired: start connecting Xero again")
    if caller is not None and caller != consent.user_id:
        raise _state_problem("This consent was started by another user")
    user = await users.user_in_account(session, consent.account_id, consent.user_id)
    if user is None or user.role != Role.owner:
        raise _state_problem("The user who started this consent can no longer connect Xero")
    if error:
        raise ProblemError(400, "Xero consent not given", f"Xero answered: {error[:200]}")
    if not code:
        raise ProblemError(400, "Xero consent not given", "The callback carries no authorization code")
    try:
        tokens = await partners.oauth.exchange_code(code, consent.code_verifier)
        organisations = await partners.oauth.fetch_connections(tokens.access_token)
    except TransientError as exc:
        raise ProblemError(503, "Xero is not answering", f"{exc}; connect Xero again") from exc
    except PermanentError as exc:
        raise ProblemError(400, "Xero refused the consent", f"{exc}; connect Xero again") from exc
    listed = [
        {"tenant_id": org.tenant_id, "name": org.tenant_name, "type": org.tenant_type, "xero_id": org.id}
        for org in organisations
    ]
    connection = Connection(
        id=uuid.uuid4(),
        account_id=consent.account_id,
        kind=ConnectionKind.xero,
        name="Xero",
        status=ConnectionStatus.pending,
        credentials=partners.tokens.seal(tokens),
        token_expires_at=tokens.expires_at_datetime,
    )
    session.add(connection)
    await session.flush()
    await record_change(
        session,
        user,
        "connection.xero_consent",
        f"connection:{connection.id}",
        after={"kind": "xero", "status": str(connection.status), "organisations": len(listed)},
    )
    await cache.merge(session, connection.id, {ORGANISATIONS_KEY: listed})
    log.info("xero.consent_received", connection_id=str(connection.id), organisations=len(listed))
    return ConsentReceived(
        connection_id=connection.id,
        status=connection.status,
        organisations=[_organisation(item, None) for item in listed],
    )


def _organisation(item: dict[str, Any], selected: str | None) -> Organisation:
    tenant_id = str(item["tenant_id"])
    return Organisation(
        tenant_id=tenant_id,
        name=str(item.get("name") or ""),
        type=str(item.get("type") or ""),
        selected=selected is not None and tenant_id.lower() == selected.lower(),
    )


async def organisations(
    session: AsyncSession, account_id: uuid.UUID, connection_id: uuid.UUID
) -> list[Organisation]:
    connection = await owned(session, account_id, connection_id, ConnectionKind.xero)
    data, _ = await cache.read(session, connection.id)
    return [_organisation(item, connection.xero_tenant_id) for item in data.get(ORGANISATIONS_KEY, [])]


async def choose_organisation(
    session: AsyncSession, partners: Partners, user: User, connection_id: uuid.UUID, body: ChooseOrganisation
) -> ConnectionOut:
    connection = await owned(session, user.account_id, connection_id, ConnectionKind.xero)
    if connection.status in (ConnectionStatus.disconnected, ConnectionStatus.error):
        raise ProblemError(
            409, "Reconnect Xero", f"This connection is {connection.status}: connect Xero again"
        )
    data, _ = await cache.read(session, connection.id)
    chosen = next(
        (
            item
            for item in data.get(ORGANISATIONS_KEY, [])
            if str(item["tenant_id"]).lower() == body.tenant_id.lower()
        ),
        None,
    )
    if chosen is None:
        raise field_problem(
            ["body", "tenant_id"], f"'{body.tenant_id}' is not one of the organisations this consent covers"
        )
    tenant_id = str(chosen["tenant_id"])
    for other in await repository.active_xero_connections(session, user.account_id):
        if other.id != connection.id and (other.xero_tenant_id or "").lower() == tenant_id.lower():
            raise ProblemError(
                409, "Already connected", f"Connection {other.id} already posts to this organisation"
            )
    # Fetched before the row changes: a token refresh on the way locks the row in its own session.
    reference = await fetch_all_xero(partners.xero(connection.id, tenant_id))
    await session.refresh(connection)
    connection.xero_tenant_id = tenant_id
    connection.status = ConnectionStatus.active
    connection.name = str(chosen.get("name") or "Xero")[:200]
    connection.last_error = None
    await xero_reference.store(session, connection.id, reference)
    await repository.link_unlinked_sources(session, user.account_id, connection.id)
    return await out(session, connection)


# --- disconnecting ----------------------------------------------------------------------------------


async def disconnect(session: AsyncSession, partners: Partners, user: User, connection_id: uuid.UUID) -> None:
    connection = await owned(session, user.account_id, connection_id)
    if connection.status == ConnectionStatus.disconnected:
        return
    if connection.kind == ConnectionKind.xero:
        # Xero keeps one connection per user, app and organisation: when another live row (another
        # account connected by the same Xero user) holds it too, only our row goes; deleting the
        # connection or revoking the grant at Xero would cut that account off as well.
        shared = await repository.shares_xero_connection(session, connection)
        with partner_errors("Xero"):
            await partners.tokens.disconnect(
                partners.platform.sessions, connection.id, revoke=not shared, at_xero=not shared
            )
        await session.refresh(connection)
        await repository.unlink_sources(session, user.account_id, connection.id)
        return
    if connection.kind == ConnectionKind.ontraport:
        await ontraport_webhooks.unsubscribe(session, partners, connection)
    connection.status = ConnectionStatus.disconnected
    connection.credentials = partners.platform.cipher.encrypt_json({})
    connection.webhook_token = None  # pushes to the old URL now find nothing
    connection.last_error = None
    await session.execute(delete(PollCursor).where(PollCursor.connection_id == connection.id))
