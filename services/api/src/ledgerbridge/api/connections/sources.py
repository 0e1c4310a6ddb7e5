"""Source connections: ONTRAPORT and Onport credentials checked and stored, their webhook and push URLs
registered (and rotated), the high-water mark taken while connecting, the Xero organisation they post to."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.connections import ontraport_webhooks, repository
from ledgerbridge.api.connections.partners import Partners, partner_errors
from ledgerbridge.api.connections.schemas import (
    ConnectionOut,
    OnportConnect,
    OntraportConnect,
    SourceConnected,
)
from ledgerbridge.api.connections.service import field_problem, out, owned
from ledgerbridge.api.problems import ProblemError
from ledgerbridge.api.reference import cache
from ledgerbridge.common.clients.onport import OnportError
from ledgerbridge.common.clients.onport.stamps import CLOCK_SKEW, onport_stamp
from ledgerbridge.common.clients.ontraport import OntraportError
from ledgerbridge.common.crypto import webhook_token_hash
from ledgerbridge.common.messaging.errors import PermanentError, TransientError
from ledgerbridge.common.models import (
    Connection,
    ConnectionKind,
    ConnectionStatus,
    PollCursor,
    PollStream,
    User,
)
from ledgerbridge.common.records.healing import Change, heal

log = structlog.get_logger(__name__)


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
            raise field_problem(
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
            raise field_problem(["body", "api_key"], "ONTRAPORT rejected the App ID / API key") from exc
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
    subscribed = await ontraport_webhooks.subscribe(
        client, connection, url, [product.id for product in products]
    )
    await cache.merge(
        session,
        connection.id,
        {
            "products": [product.model_dump(mode="json") for product in products],
            ontraport_webhooks.WEBHOOK_IDS_KEY: subscribed,
        },
    )
    return SourceConnected(
        **(await out(session, connection)).model_dump(),
        webhook_urls={"transactions": url},
        webhooks_subscribed=len(subscribed),
    )


def _ontraport_url(partners: Partners, token: str) -> str:
    return f"{_webhook_base(partners)}/webhooks/ontraport/{token}"


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
            raise field_problem(["body", "api_token"], "Onport rejected the API token") from exc
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
    return SourceConnected(**(await out(session, connection)).model_dump(), webhook_urls=urls)


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
    connection = await owned(session, user.account_id, connection_id, *repository.SOURCE_KINDS)
    if connection.status is ConnectionStatus.disconnected:
        raise ProblemError(409, "Disconnected", "Connect this account again instead")
    token = secrets.token_urlsafe(32)
    connection.webhook_token = webhook_token_hash(token)
    connection.last_error = None
    if connection.kind is ConnectionKind.ontraport:
        await ontraport_webhooks.unsubscribe(session, partners, connection)
        data, _ = await cache.read(session, connection.id)
        product_ids = [int(p["id"]) for p in data.get("products", []) if str(p.get("id", "")).isdigit()]
        url = _ontraport_url(partners, token)
        subscribed = await ontraport_webhooks.subscribe(
            partners.ontraport_of(connection), connection, url, product_ids
        )
        await cache.merge(session, connection.id, {ontraport_webhooks.WEBHOOK_IDS_KEY: subscribed})
        return SourceConnected(
            **(await out(session, connection)).model_dump(),
            webhook_urls={"transactions": url},
            webhooks_subscribed=len(subscribed),
        )
    urls = _onport_urls(partners, token)
    await _register_onport(partners, connection, str(partners.credentials(connection)["api_token"]), urls)
    return SourceConnected(**(await out(session, connection)).model_dump(), webhook_urls=urls)


async def choose_xero_connection(
    session: AsyncSession, user: User, connection_id: uuid.UUID, xero_connection_id: uuid.UUID
) -> ConnectionOut:
    connection = await owned(session, user.account_id, connection_id, *repository.SOURCE_KINDS)
    target = await _publish_target(session, user.account_id, xero_connection_id)
    connection.xero_connection_id = target
    await heal(session, user.account_id, [Change("connection", "xero")], connection_id=connection.id)
    return await out(session, connection)
