"""Sending one alert: e-mail over SMTP (standard library, in a thread) and the signed outgoing webhook.

Every send carries the delivery's own id (``Message-ID``, ``X-Ledgerbridge-Delivery``): if a worker
dies after the server accepted but before the database recorded it, the one repeat can be recognised.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import smtplib
import ssl
import time
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit

import httpx

from ledgerbridge.common.alerts.targets import check_webhook_url, resolve_public

MAX_WEBHOOK_BODY_BYTES = 16 * 1024  # what we send; Slack takes 40,000 characters of text
MAX_TEXT_CHARS = 8000
SIGNATURE_HEADER = "X-Ledgerbridge-Signature"
TIMESTAMP_HEADER = "X-Ledgerbridge-Timestamp"
DELIVERY_HEADER = "X-Ledgerbridge-Delivery"


class SendError(RuntimeError):
    """The send did not go through; it is tried again later (the text is shown to owners)."""


@dataclass(frozen=True)
class Outgoing:
    """What one alert says, whatever the channel."""

    delivery_id: int
    alert_id: str
    kind: str
    title: str
    body: str
    count: int
    link: str
    created_at: str

    def text(self) -> str:
        return f"{self.title}\n\n{self.body}\n\nFix it: {self.link}"[:MAX_TEXT_CHARS]


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    tls: str  # starttls | tls | none
    username: str | None
    password: str | None
    from_address: str
    recipients: tuple[str, ...]


def email_message(outgoing: Outgoing, target: SmtpTarget) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[ledgerbridge] {outgoing.title}"
    message["From"] = target.from_address
    message["To"] = ", ".join(target.recipients)
    message["Date"] = format_datetime(datetime.fromisoformat(outgoing.created_at))
    # One id per delivery: a repeat after a crash has the same Message-ID, which mail clients fold.
    message["Message-ID"] = make_msgid(idstring=f"alert-{outgoing.delivery_id}", domain="ledgerbridge")
    message["X-Ledgerbridge-Alert"] = outgoing.kind
    message[DELIVERY_HEADER] = str(outgoing.delivery_id)
    message.set_content(outgoing.text())
    return message


def _send_smtp(message: EmailMessage, target: SmtpTarget, timeout: float) -> None:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if target.tls == "tls":
        client = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=timeout)
    with client:
        if target.tls == "starttls":
            client.starttls(context=context)
        if target.username:
            client.login(target.username, target.password or "")
        client.send_message(message, to_addrs=list(target.recipients))


async def send_email(
    outgoing: Outgoing, target: SmtpTarget, *, send_seconds: float, production: bool
) -> None:
    await resolve_public(target.host, target.port, production=production)
    message = email_message(outgoing, target)
    try:
        # smtplib blocks; a thread keeps the worker's loop free, the timeout bounds each socket call.
        await asyncio.wait_for(asyncio.to_thread(_send_smtp, message, target, send_seconds), send_seconds * 3)
    except (OSError, smtplib.SMTPException, TimeoutError) as exc:
        raise SendError(f"SMTP {target.host}:{target.port}: {exc.__class__.__name__}: {exc}"[:500]) from exc


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v1=`` + hex HMAC-SHA256 over ``<timestamp>.<body>``: the timestamp is signed too, so an old
    request cannot be replayed under a new one. Receivers compare in constant time and refuse
    timestamps older than five minutes."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def webhook_body(outgoing: Outgoing, fmt: str) -> bytes:
    if fmt == "slack":
        payload: dict[str, Any] = {"text": outgoing.text()}
    else:
        payload = {
            "id": outgoing.alert_id,
            "delivery": outgoing.delivery_id,
            "kind": outgoing.kind,
            "title": outgoing.title,
            "text": outgoing.body[:MAX_TEXT_CHARS],
            "count": outgoing.count,
            "link": outgoing.link,
            "created_at": outgoing.created_at,
        }
    body = json.dumps(payload, separators=(",", ":")).encode()
    if len(body) > MAX_WEBHOOK_BODY_BYTES:  # only a huge text can do this: cut the text, keep the JSON
        return webhook_body(replace(outgoing, body=outgoing.body[: MAX_TEXT_CHARS // 4]), fmt)
    return body


async def send_webhook(
    http: httpx.AsyncClient,
    outgoing: Outgoing,
    *,
    url: str,
    fmt: str,
    secret: str,
    send_seconds: float,
    production: bool,
) -> None:
    host = check_webhook_url(url, production=production)
    await resolve_public(host, urlsplit(url).port or 443, production=production)
    body = webhook_body(outgoing, fmt)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "ledgerbridge-alerts/1",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        DELIVERY_HEADER: str(outgoing.delivery_id),
    }
    try:
        # No redirects (a redirect could point inside the network) and the answer's body is not read.
        async with http.stream(
            "POST", url, content=body, headers=headers, timeout=send_seconds, follow_redirects=False
        ) as response:
            status = response.status_code
    except httpx.HTTPError as exc:
        raise SendError(f"webhook: {exc.__class__.__name__}: {exc}"[:500]) from exc
    if not 200 <= status < 300:
        raise SendError(f"webhook answered HTTP {status}")
