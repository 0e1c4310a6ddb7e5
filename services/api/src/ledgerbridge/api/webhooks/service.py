"""Verifying webhook deliveries, storing each once, and queuing the work they call for."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.problems import ProblemError
from ledgerbridge.api.webhooks import repository
from ledgerbridge.api.webhooks.schemas import XeroDelivery
from ledgerbridge.common.crypto import webhook_token_hash
from ledgerbridge.common.messaging.messages import HandleWebhookEvent, PollConnection, RefreshOnportInvoice
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Connection, ConnectionKind, ConnectionStatus

MAX_BODY_BYTES = 256 * 1024
XERO_CONSUMER = "xero-webhook"
ONTRAPORT_CONSUMER = "ontraport-webhook"
ONPORT_CONSUMER = "onport-push"
# ONTRAPORT may fire several events for one change; pings about the same object within this window
# queue one poll, and the scheduled poll still catches whatever a dropped ping would have announced.
PING_BUCKET_SECONDS = 60


def _bad_request(detail: str, errors: list[dict[str, Any]] | None = None) -> ProblemError:
    """A 400 whose ``errors[].loc`` says where, like every other input error of the API."""
    return ProblemError(
        400,
        "Malformed webhook body",
        detail,
        type_="https://ledgerbridge.dev/problems/webhook-body",
        errors=errors or [{"loc": ["body"], "msg": detail, "type": "value_error"}],
    )


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused with 413 as soon as it exceeds ``limit`` (the header is not trusted alone)."""
    too_large = ProblemError(413, "Body too large", f"Webhook bodies are limited to {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def xero_signature_valid(key: str, body: bytes, signature: str | None) -> bool:
    if not signature:
        return False
    expected = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


async def receive_xero(session: AsyncSession, body: bytes) -> int:
    """Store each new event and queue its handling; duplicates (Xero delivers at least once) are no-ops.

    Returns how many events were new.
    """
    try:
        delivery = XeroDelivery.model_validate_json(body)
    except ValidationError as error:
        errors = [
            {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in error.errors()[:20]
        ]
        raise _bad_request(f"Not a Xero webhook delivery: {error.errors()[0]['msg']}", errors) from None
    tenants = await repository.accounts_by_tenant(session, {event.tenantId for event in delivery.events})
    new = 0
    for event in delivery.events:
        key = _key(event.tenantId, event.resourceId, event.eventType, event.eventDateUtc)
        accounts = tenants.get(event.tenantId, set())
        # With one account the row is that tenant's data; an organisation shared by several accounts
        # (or none yet) is resolved by the handler, which matches documents by tenant and resource.
        account_id = next(iter(accounts)) if len(accounts) == 1 else None
        if await repository.store(session, XERO_CONSUMER, key, account_id, event.model_dump(mode="json")):
            await add_message(
                session, HandleWebhookEvent(consumer=XERO_CONSUMER, message_key=key), account_id
            )
            new += 1
    return new


async def _connection(session: AsyncSession, kind: ConnectionKind, token: str) -> Connection:
    unknown = ProblemError(404, "Not found", "No webhook is registered at this address")
    connection = await repository.connection_by_token(session, kind, token)
    # The lookup used the unique index; the constant-time compare keeps the final check free of timing
    # differences, whatever the database's comparison does.
    if (
        connection is None
        or connection.webhook_token is None
        or not hmac.compare_digest(connection.webhook_token.encode(), webhook_token_hash(token).encode())
        or connection.status is ConnectionStatus.disconnected
    ):
        raise unknown
    return connection


def _form_or_json(body: bytes, content_type: str) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad_request("The body is not UTF-8 text") from None
    if "json" in content_type:
        try:
            parsed = json.loads(text) if text.strip() else {}
        except ValueError:
            raise _bad_request("The body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise _bad_request("The body is not a JSON object")
        return parsed
    try:
        return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=500))
    except ValueError:
        raise _bad_request("The body is not form-encoded") from None


async def receive_ontraport(
    session: AsyncSession, token: str, body: bytes, content_type: str, now: float | None = None
) -> bool:
    """A ping that something changed: queue a poll of the connection (it re-reads the records itself)."""
    connection = await _connection(session, ConnectionKind.ontraport, token)
    fields = _form_or_json(body, content_type)
    object_id = str(fields.get("id") or fields.get("object_id") or "")
    event = str(fields.get("event") or fields.get("type") or fields.get("object_type_id") or "")
    bucket = int((now if now is not None else time.time()) // PING_BUCKET_SECONDS)
    key = _key(token, object_id, event, str(bucket))
    payload = {"connection_id": str(connection.id), "fields": fields}
    stored = await repository.store(
        session, ONTRAPORT_CONSUMER, key, connection.account_id, payload, processed=True
    )
    if stored:
        await add_message(
            session, PollConnection(connection_id=connection.id, reason="webhook"), connection.account_id
        )
    return stored


async def receive_onport(
    session: AsyncSession, token: str, purchase_type: str, body: bytes, now: float | None = None
) -> bool:
    """A push is a ping, like an ONTRAPORT webhook: whoever holds the URL could forge its body, so the
    invoice is re-read from Onport by id (``RefreshOnportInvoice``, queued in the same transaction as
    the inbox row) and only what Onport returns is stored. Pushes of one invoice within a minute queue
    one re-read; polling stays the backstop."""
    connection = await _connection(session, ConnectionKind.onport, token)
    try:
        invoice = json.loads(body)
    except ValueError:
        raise _bad_request("The body is not valid JSON") from None
    if not isinstance(invoice, dict):
        raise _bad_request("The body is not a JSON object")
    raw_id = invoice.get("id")
    invoice_id = (
        int(raw_id)
        if isinstance(raw_id, int | str) and str(raw_id).isascii() and str(raw_id).isdigit()
        else None
    )
    if invoice_id is None or isinstance(raw_id, bool) or invoice_id > 2**53:
        raise _bad_request(
            "The purchase invoice has no id",
            [
                {
                    "loc": ["body", "id"],
                    "msg": "an Onport invoice id (a positive integer) is required",
                    "type": "missing",
                }
            ],
        )
    bucket = int((now if now is not None else time.time()) // PING_BUCKET_SECONDS)
    # The connection is part of the key: invoice ids are only unique within one Onport account. The
    # pushed updatedAt is not: a forged one must not buy extra re-reads.
    key = _key(str(connection.id), str(invoice_id), str(bucket))
    payload = {
        "connection_id": str(connection.id),
        "purchase_type": purchase_type,
        "invoice_id": invoice_id,
        "push": invoice,  # kept for the record; never read as the invoice's content
    }
    stored = await repository.store(
        session, ONPORT_CONSUMER, key, connection.account_id, payload, processed=True
    )
    if stored:
        await add_message(
            session,
            RefreshOnportInvoice(
                connection_id=connection.id, invoice_id=invoice_id, purchase_type=purchase_type
            ),
            connection.account_id,
        )
    return stored
