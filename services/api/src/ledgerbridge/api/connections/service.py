"""Connecting and disconnecting Xero organisations and ONTRAPORT/Onport accounts.

Partner calls never run while this request's transaction holds a write lock on a connection row:
``TokenService`` refreshes and disconnects in sessions of its own under a row lock, and would wait for us.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.auth import repository as users
from ledgerbridge.api.connections import oauth_state, repository
from ledgerbridge.api.connections.partners import Partners, partner_errors
from ledgerbridge.api.connections.schemas import (
    AuthorizeUrl,
    ChooseOrganisation,
    ConnectionOut,
    ConsentReceived,
    OnportConnect,
    OntraportConnect,
    Organisation,
    SourceConnected,
)
from ledgerbridge.api.problems import VALIDATION_TYPE, ProblemError
from ledgerbridge.api.reference import cache
from ledgerbridge.api.reference.service import fetch_all_xero
from ledgerbridge.common import xero_reference
from ledgerbridge.common.clients.onport import OnportError
from ledgerbridge.common.clients.onport.stamps import CLOCK_SKEW, onport_stamp
from ledgerbridge.common.clients.ontraport import OntraportClient, OntraportError
from ledgerbridge.common.crypto import webhook_token_hash
from ledgerbridge.common.messaging.errors import PermanentError, TransientError
from ledgerbridge.common.models import (
    Connection,
    ConnectionKind,
    ConnectionStatus,
    PollCursor,
    PollStream,
    Role,
    User,
)
from ledgerbridge.common.platform import Platform
from ledgerbridge.common.records.healing import Change, heal

log = structlog.get_logger(__name__)

ORGANISATIONS_KEY = "organisations"
WEBHOOK_IDS_KEY = "webhook_ids"
STATE_PROBLEM = "https://ledgerbridge.dev/problems/oauth-state"


def not_found(connection_id: uuid.UUID) -> ProblemError:
    return ProblemError(404, "Not found", f"No connection {connection_id}")


def _field_problem(loc: list[str | int], message: str) -> ProblemError:
    return ProblemError(
        422,
        "Request validation failed",
        message,
        type_=VALIDATION_TYPE,
        errors=[{"loc": loc, "msg": message, "type": "value_error"}],
    )


async def _out(session: AsyncSession, connection: Connection) -> ConnectionOut:
    # Flushed and re-read: the timestamps are set by the database.
    await session.flush()
    await session.refresh(connection)
    return ConnectionOut.model_validate(connection)


async def _owned(
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
    connection = await _owned(session, account_id, connection_id, ConnectionKind.xero)
    data, _ = await cache.read(session, connection.id)
    return [_organisation(item, connection.xero_tenant_id) for item in data.get(ORGANISATIONS_KEY, [])]


async def choose_organisation(
    session: AsyncSession, partners: Partners, user: User, connection_id: uuid.UUID, body: ChooseOrganisation
) -> ConnectionOut:
    connection = await _owned(session, user.account_id, connection_id, ConnectionKind.xero)
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
        raise _field_problem(
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
    return await _out(session, connection)


# --- sources ----------------------------------------------------------------------------------------


async def _publish_target(
    session: AsyncSession, account_id: uuid.UUID, requested: uuid.UUID | None
) -> uuid.UUID | None:
    if requested is not None:
        target = await repository.get_connection(session, account_id, requested)
        if (
            target is None
            or target.kind != ConnectionKind.xero
            or target.status == ConnectionStatus.disconnected
        ):
            raise _field_problem(
                ["body", "xero_connection_id"], f"{requested} is not one of this account's Xero connections"
            )
        return target.id
    active = await repository.active_xero_connections(session, account_id)
    # With several organisations the tenant must choose; with one there is nothing to choose.
    return active[0].id if len(active) == 1 else None


def _webhook_base(partners: Partners) -> str:
    return partners.settings.security.public_base_url.rstrip("/")


async def _new_source(
    session: AsyncSession,
    partners: Partners,
    user: User,
    kind: ConnectionKind,
    name: str,
    credentials: dict[str, str],
    xero_connection_id: uuid.UUID | None,
    stream: PollStream,
    high_water_mark: str,
    webhook_token: str,
) -> Connection:
    now = datetime.now(UTC)
    connection = Connection(
        id=uuid.uuid4(),
        account_id=user.account_id,
        kind=kind,
        name=name[:200],
        status=ConnectionStatus.active,
        credentials=partners.platform.cipher.encrypt_json(credentials),
        xero_connection_id=xero_connection_id,
        webhook_token=webhook_token_hash(webhook_token),  # the token itself is shown once, in the answer
    )
    session.add(connection)
    await session.flush()
    # The connection starts at this moment (SPEC §4.11): a sale made a second from now is polled even
    # when the first poll runs late or fails; anything older comes in through a historical import.
    session.add(
        PollCursor(
            connection_id=connection.id, stream=stream, high_water_mark=high_water_mark, next_poll_at=now
        )
    )
    await session.flush()
    return connection


async def connect_ontraport(
    session: AsyncSession, partners: Partners, user: User, body: OntraportConnect
) -> SourceConnected:
    target = await _publish_target(session, user.account_id, body.xero_connection_id)
    client = partners.ontraport(body.app_id, body.api_key.get_secret_value())
    try:
        check = await client.check_credentials()
    except OntraportError as exc:
        if exc.status_code in (401, 403):
            raise _field_problem(["body", "api_key"], "ONTRAPORT rejected the App ID / API key") from exc
        raise ProblemError(502, "ONTRAPORT refused the request", str(exc)) from exc
    except TransientError as exc:
        raise ProblemError(503, "ONTRAPORT is not answering", f"{exc}; try again shortly") from exc
    with partner_errors("ONTRAPORT"):
        products = await client.products()
        latest = await client.transactions_page(0, 1, descending=True)
    webhook_token = secrets.token_urlsafe(32)
    connection = await _new_source(
        session,
        partners,
        user,
        ConnectionKind.ontraport,
        f"ONTRAPORT account {check.account_id}" if check.account_id else "ONTRAPORT",
        {"app_id": body.app_id, "api_key": body.api_key.get_secret_value()},
        target,
        PollStream.transactions,
        str(latest[0].id if latest else 0),
        webhook_token,
    )
    url = _ontraport_url(partners, webhook_token)
    subscribed = await _subscribe_ontraport(client, connection, url, [product.id for product in products])
    await cache.merge(
        session,
        connection.id,
        {"products": [product.model_dump(mode="json") for product in products], WEBHOOK_IDS_KEY: subscribed},
    )
    return SourceConnected(
        **(await _out(session, connection)).model_dump(),
        webhook_urls={"transactions": url},
        webhooks_subscribed=len(subscribed),
    )


def _ontraport_url(partners: Partners, token: str) -> str:
    return f"{_webhook_base(partners)}/webhooks/ontraport/{token}"


async def _subscribe_ontraport(
    client: OntraportClient, connection: Connection, url: str, product_ids: list[int]
) -> list[int]:
    subscribed: list[int] = []
    try:
        for product_id in product_ids:
            webhook = await client.subscribe_webhook(url, f"transaction_created_with_product({product_id})")
            subscribed.append(webhook.id)
    except (PermanentError, TransientError) as exc:
        # Webhooks only make syncing sooner; polling finds every transaction anyway.
        connection.last_error = f"Webhooks could not all be subscribed ({exc}); polling still syncs"[:2000]
    return subscribed


def _onport_urls(partners: Partners, token: str) -> dict[str, str]:
    base = f"{_webhook_base(partners)}/webhooks/onport/{token}"
    return {"dropship": f"{base}/dropship", "replenishment": f"{base}/replenishment"}


async def connect_onport(
    session: AsyncSession, partners: Partners, user: User, body: OnportConnect
) -> SourceConnected:
    target = await _publish_target(session, user.account_id, body.xero_connection_id)
    token = body.api_token.get_secret_value()
    try:
        await partners.onport(token).check_credentials()
    except OnportError as exc:
        if exc.status_code in (401, 403):
            raise _field_problem(["body", "api_token"], "Onport rejected the API token") from exc
        raise ProblemError(502, "Onport refused the request", str(exc)) from exc
    except TransientError as exc:
        raise ProblemError(503, "Onport is not answering", f"{exc}; try again shortly") from exc
    webhook_token = secrets.token_urlsafe(32)
    connection = await _new_source(
        session,
        partners,
        user,
        ConnectionKind.onport,
        "Onport",
        {"api_token": token},
        target,
        PollStream.purchase_invoices,
        onport_stamp(datetime.now(UTC) - CLOCK_SKEW),
        webhook_token,
    )
    urls = _onport_urls(partners, webhook_token)
    await _register_onport(partners, connection, token, urls)
    return SourceConnected(**(await _out(session, connection)).model_dump(), webhook_urls=urls)


async def _register_onport(
    partners: Partners, connection: Connection, api_token: str, urls: dict[str, str]
) -> None:
    try:
        await partners.onport(api_token).register_accounting_integration(
            "ledgerbridge", dropship_url=urls["dropship"], replenishment_url=urls["replenishment"]
        )
    except (PermanentError, TransientError) as exc:
        # Pushes only make syncing sooner; polling finds every invoice anyway.
        connection.last_error = f"Onport push URLs could not be registered ({exc}); polling still syncs"[
            :2000
        ]


async def rotate_webhook_token(
    session: AsyncSession, partners: Partners, user: User, connection_id: uuid.UUID
) -> SourceConnected:
    """A new webhook URL token; the old URL stops working at once. ONTRAPORT's subscriptions and Onport's
    accounting integration are pointed at the new URL (which, like the first, is shown only here)."""
    connection = await _owned(session, user.account_id, connection_id, *repository.SOURCE_KINDS)
    if connection.status is ConnectionStatus.disconnected:
        raise ProblemError(409, "Disconnected", "Connect this account again instead")
    token = secrets.token_urlsafe(32)
    connection.webhook_token = webhook_token_hash(token)
    connection.last_error = None
    if connection.kind is ConnectionKind.ontraport:
        await _unsubscribe_ontraport(session, partners, connection)
        data, _ = await cache.read(session, connection.id)
        product_ids = [int(p["id"]) for p in data.get("products", []) if str(p.get("id", "")).isdigit()]
        url = _ontraport_url(partners, token)
        subscribed = await _subscribe_ontraport(
            partners.ontraport_of(connection), connection, url, product_ids
        )
        await cache.merge(session, connection.id, {WEBHOOK_IDS_KEY: subscribed})
        return SourceConnected(
            **(await _out(session, connection)).model_dump(),
            webhook_urls={"transactions": url},
            webhooks_subscribed=len(subscribed),
        )
    urls = _onport_urls(partners, token)
    await _register_onport(partners, connection, str(partners.credentials(connection)["api_token"]), urls)
    return SourceConnected(**(await _out(session, connection)).model_dump(), webhook_urls=urls)


async def choose_xero_connection(
    session: AsyncSession, user: User, connection_id: uuid.UUID, xero_connection_id: uuid.UUID
) -> ConnectionOut:
    connection = await _owned(session, user.account_id, connection_id, *repository.SOURCE_KINDS)
    target = await _publish_target(session, user.account_id, xero_connection_id)
    connection.xero_connection_id = target
    await heal(session, user.account_id, [Change("connection", "xero")], connection_id=connection.id)
    return await _out(session, connection)


# --- disconnecting ----------------------------------------------------------------------------------


async def disconnect(session: AsyncSession, partners: Partners, user: User, connection_id: uuid.UUID) -> None:
    connection = await _owned(session, user.account_id, connection_id)
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
        await _unsubscribe_ontraport(session, partners, connection)
    connection.status = ConnectionStatus.disconnected
    connection.credentials = partners.platform.cipher.encrypt_json({})
    connection.webhook_token = None  # pushes to the old URL now find nothing
    connection.last_error = None
    await session.execute(delete(PollCursor).where(PollCursor.connection_id == connection.id))


async def _unsubscribe_ontraport(session: AsyncSession, partners: Partners, connection: Connection) -> None:
    data, _ = await cache.read(session, connection.id)
    ids = [int(webhook_id) for webhook_id in data.get(WEBHOOK_IDS_KEY, [])]
    if not ids:
        return
    client = partners.ontraport_of(connection)
    try:
        for webhook_id in ids:
            await client.unsubscribe_webhook(webhook_id)
    except (PermanentError, TransientError) as exc:
        # Left-over subscriptions point at a token that no longer exists: harmless, so not a failure.
        log.warning("ontraport.unsubscribe_failed", connection_id=str(connection.id), error=str(exc))
    await cache.merge(session, connection.id, {WEBHOOK_IDS_KEY: []})
