"""Alerts (issue 14, point 3) end to end: settings through the API, events written where records fail,
the alerts worker coalescing and sending to a real SMTP server (aiosmtpd, started here) and a real HTTP
webhook receiver, the signature checked as a receiver would; retries while SMTP is down; one send only.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from ledgerbridge.common import local_secrets
from ledgerbridge.common.alerts import dispatch
from ledgerbridge.common.alerts.targets import TargetError, resolve_public
from ledgerbridge.common.crypto import Cipher
from ledgerbridge.common.models import (
    AlertDelivery,
    AlertEvent,
    AlertSettings,
    ConnectionKind,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.records.lifecycle import move
from ledgerbridge.common.settings import Settings
from tests.api.conftest import MakeTenant, Tenant
from tests.api.seed import Sessions, add_connection, add_record

APP_URL = "https://app.example.com"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Inbox:
    """aiosmtpd's handler: every message the server accepted."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


class Smtp:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp(free_port())
    server.start()
    yield server
    server.stop()


class Receiver:
    """A real HTTP server taking webhook posts, as a customer's endpoint would."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ledgerbridge"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    hook.thread.start()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.security.public_base_url = APP_URL
    settings.alerts.coalesce_seconds = 60
    settings.alerts.send_timeout_seconds = 5
    return settings


@pytest.fixture
async def sender(settings: Settings) -> AsyncIterator[dispatch.Sender]:
    # The worker reads the same keys as the API (the test's data dir), as replicas do in production.
    cipher = Cipher(local_secrets.encryption_keys(settings))
    async with httpx.AsyncClient() as http:
        yield dispatch.Sender(cipher, http, settings)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: recompute over '<timestamp>.<body>', compare in constant time, refuse old."""
    timestamp = headers["x-ledgerbridge-timestamp"]
    expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(timestamp)) < 300
    return fresh and hmac.compare_digest(expected, headers["x-ledgerbridge-signature"])


async def configure(
    api: httpx.AsyncClient, tenant: Tenant, smtp: Smtp | None, hook: Receiver | None, **extra: Any
) -> dict[str, Any]:
    # No digest unless a test asks for one: it would join whatever a test sends after 07:00 UTC.
    body: dict[str, Any] = {"recipients": ["books@example.com"], "preferences": {"daily_digest": []}, **extra}
    if smtp is not None:
        body["smtp"] = {
            "host": "127.0.0.1",
            "port": smtp.port,
            "tls": "none",
            "from_address": "alerts@example.com",
        }
    if hook is not None:
        body["webhook"] = {"url": hook.url, "format": body.pop("format", "json")}
    saved = await api.put("/v1/alerts", json=body, headers=tenant.headers)
    assert saved.status_code == 200, saved.text
    answer: dict[str, Any] = saved.json()
    return answer


async def fail_records(committing: Sessions, tenant: Tenant, count: int, reason: str) -> None:
    """Records failing as the mapper and publisher fail them: through the lifecycle, one transaction each."""
    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero, xero_tenant_id="org")
    source = await add_connection(
        committing, tenant.account_id, ConnectionKind.ontraport, xero_connection_id=xero
    )
    ids = [await add_record(committing, tenant.account_id, source, str(2000 + n)) for n in range(count)]
    for record_id in ids:
        async with committing() as session, session.begin():
            record = await session.get(SourceRecord, record_id)
            assert record is not None
            move(session, record, RecordStatus.failed, reason)


async def test_a_burst_of_failures_is_one_alert_by_email_and_by_signed_webhook(
    api: httpx.AsyncClient,
    make_tenant: MakeTenant,
    committing: Sessions,
    smtp: Smtp,
    receiver: Receiver,
    sender: dispatch.Sender,
) -> None:
    tenant = await make_tenant()
    saved = await configure(api, tenant, smtp, receiver)
    secret = saved["webhook_secret"]
    assert secret.startswith("whsec_")
    assert (await api.get("/v1/alerts", headers=tenant.headers)).json()[
        "webhook_secret"
    ] is None  # shown once

    await fail_records(committing, tenant, 100, "Product 12 has no Xero account")
    now = datetime.now(UTC)
    assert await dispatch.run_once(committing, sender, now) == 0  # the window is still open: coalescing
    assert smtp.inbox.messages == [] and receiver.requests == []

    assert await dispatch.run_once(committing, sender, now + timedelta(seconds=61)) == 2
    assert len(smtp.inbox.messages) == 1
    mail = smtp.inbox.messages[0]
    assert mail["Subject"] == "[ledgerbridge] 100 records failed to sync to Xero"
    assert mail["To"] == "books@example.com"
    text = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Product 12 has no Xero account (100)" in text
    assert f"{APP_URL}/records?status=failed" in text

    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert verify(secret, headers, body)
    assert not verify("whsec_wrong", headers, body)
    assert not verify(secret, headers, body.replace(b"100", b"101"))
    payload = json.loads(body)
    assert (payload["kind"], payload["count"], payload["link"]) == (
        "records_failed",
        100,
        f"{APP_URL}/records?status=failed",
    )

    # Another tick, and a redelivery of nothing: no second send.
    assert await dispatch.run_once(committing, sender, now + timedelta(hours=2)) == 0
    assert (len(smtp.inbox.messages), len(receiver.requests)) == (1, 1)
    recent = (await api.get("/v1/alerts", headers=tenant.headers)).json()["recent"]
    assert [(a["kind"], a["count"], sorted(d["status"] for d in a["deliveries"])) for a in recent] == [
        ("records_failed", 100, ["sent", "sent"])
    ]


async def test_smtp_down_then_up_delivers_once_and_two_workers_never_send_twice(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions, sender: dispatch.Sender
) -> None:
    tenant = await make_tenant()
    down = Smtp(free_port())  # nothing listens on its port yet
    await configure(api, tenant, down, None)
    queued = await api.post("/v1/alerts/test", headers=tenant.headers)
    assert queued.status_code == 202, queued.text
    assert queued.json()["channels"] == ["email"]

    now = datetime.now(UTC)
    assert await dispatch.run_once(committing, sender, now) == 0
    delivery = (await api.get("/v1/alerts", headers=tenant.headers)).json()["recent"][0]["deliveries"][0]
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert "SMTP 127.0.0.1" in delivery["last_error"]

    down.start()
    try:
        # Backing off: not due again yet, so nothing is tried.
        assert await dispatch.run_once(committing, sender, now + timedelta(seconds=5)) == 0
        assert down.inbox.messages == []
        # Due: two workers at once (replicas, or a redelivered tick) send it once between them.
        later = now + timedelta(minutes=5)
        results = await asyncio.gather(*(dispatch.run_once(committing, sender, later) for _ in range(2)))
        assert sorted(results) == [0, 1]
        assert await dispatch.run_once(committing, sender, later + timedelta(hours=1)) == 0
    finally:
        down.stop()
    assert len(down.inbox.messages) == 1
    assert down.inbox.messages[0]["Subject"] == "[ledgerbridge] Test alert"
    delivery = (await api.get("/v1/alerts", headers=tenant.headers)).json()["recent"][0]["deliveries"][0]
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("sent", 2, None)


async def test_a_delivery_gives_up_after_max_attempts_and_says_why(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions, sender: dispatch.Sender
) -> None:
    tenant = await make_tenant()
    await configure(api, tenant, Smtp(free_port()), None)
    await api.post("/v1/alerts/test", headers=tenant.headers)
    sender.settings.alerts.max_attempts = 3
    moment = datetime.now(UTC)
    for _ in range(4):
        await dispatch.run_once(committing, sender, moment)
        moment += timedelta(hours=2)
    delivery = (await api.get("/v1/alerts", headers=tenant.headers)).json()["recent"][0]["deliveries"][0]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 3)
    assert "SMTP" in delivery["last_error"]


async def test_slack_format_and_owners_choices_per_kind_and_channel(
    api: httpx.AsyncClient,
    make_tenant: MakeTenant,
    committing: Sessions,
    smtp: Smtp,
    receiver: Receiver,
    sender: dispatch.Sender,
) -> None:
    tenant = await make_tenant()
    await configure(
        api,
        tenant,
        smtp,
        receiver,
        format="slack",
        preferences={"records_failed": ["webhook"], "daily_digest": []},
    )
    shown = (await api.get("/v1/alerts", headers=tenant.headers)).json()
    assert shown["preferences"] == {
        "records_failed": ["webhook"],
        "xero_consent": ["email", "webhook"],
        "day_limit": ["email", "webhook"],
        "daily_digest": [],
    }
    await fail_records(committing, tenant, 3, "Tax code OUTPUT3 is not in Xero")
    assert await dispatch.run_once(committing, sender, datetime.now(UTC) + timedelta(minutes=2)) == 1
    assert smtp.inbox.messages == []  # the owners chose the webhook only for failures
    headers, body = receiver.requests[0]
    assert headers["content-type"] == "application/json"
    slack = json.loads(body)
    assert list(slack) == ["text"]
    assert slack["text"].startswith("3 records failed to sync to Xero")
    assert f"Fix it: {APP_URL}/records?status=failed" in slack["text"]


async def test_the_daily_digest_goes_once_a_day_after_its_hour(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions, smtp: Smtp, sender: dispatch.Sender
) -> None:
    tenant = await make_tenant()
    await configure(api, tenant, smtp, None, preferences={"records_failed": [], "daily_digest": ["email"]})
    await fail_records(committing, tenant, 2, "No account")
    day = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=30)  # tomorrow, hour by hour
    assert (
        await dispatch.run_once(committing, sender, day.replace(hour=6)) == 0
    )  # before ALERTS_DIGEST_HOUR_UTC
    assert await dispatch.run_once(committing, sender, day.replace(hour=8)) == 1
    assert await dispatch.run_once(committing, sender, day.replace(hour=20)) == 0
    assert len(smtp.inbox.messages) == 1
    digest = smtp.inbox.messages[0]
    assert digest["Subject"] == "[ledgerbridge] Daily digest: 0 synced, 2 need attention"
    assert f"{APP_URL}/" in digest.get_payload(decode=True).decode()  # type: ignore[union-attr]


async def test_settings_validate_targets_keep_secrets_and_stay_in_their_account(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions, settings: Settings
) -> None:
    tenant = await make_tenant()
    for url, fix in (
        ("http://hooks.example.com/x", "Use https://"),
        ("ftp://hooks.example.com/x", "full https:// URL"),
        ("https://user:pw@hooks.example.com/x", "no user name or password"),
    ):
        refused = await api.put("/v1/alerts", json={"webhook": {"url": url}}, headers=tenant.headers)
        assert refused.status_code == 422, url
        assert refused.json()["errors"][0]["loc"] == ["body", "webhook", "url"]
        assert fix in refused.json()["detail"]
    assert (await api.post("/v1/alerts/test", headers=tenant.headers)).status_code == 409  # nothing set up

    smtp = {
        "host": "smtp.example.com",
        "port": 587,
        "username": "u",
        "password": "pw-9f3",
        "from_address": "a@b.co",
    }
    saved = await api.put("/v1/alerts", json={"smtp": smtp}, headers=tenant.headers)
    assert saved.status_code == 200
    assert saved.json()["smtp"]["password_set"] is True
    assert "pw-9f3" not in saved.text
    async with committing() as session:
        row = await session.get(AlertSettings, tenant.account_id)
        assert row is not None and row.smtp_password is not None
        assert b"pw-9f3" not in row.smtp_password  # encrypted at rest
    # Saved again without the password: it is kept; another server: it is dropped.
    kept = await api.put("/v1/alerts", json={"smtp": {**smtp, "password": None}}, headers=tenant.headers)
    assert kept.json()["smtp"]["password_set"] is True
    moved = await api.put(
        "/v1/alerts",
        json={"smtp": {**smtp, "host": "mail.other.com", "password": None}},
        headers=tenant.headers,
    )
    assert moved.json()["smtp"]["password_set"] is False

    stranger = await make_tenant()
    theirs = (await api.get("/v1/alerts", headers=stranger.headers)).json()
    assert (theirs["smtp"], theirs["recent"]) == (None, [])

    bookkeeper_email = f"bk-{uuid.uuid4().hex[:6]}@example.com"
    await api.post(
        "/v1/users",
        json={"email": bookkeeper_email, "password": "correct horse battery", "role": "bookkeeper"},
        headers=tenant.headers,
    )
    token = (
        await api.post(
            "/v1/auth/token", data={"username": bookkeeper_email, "password": "correct horse battery"}
        )
    ).json()
    bookkeeper = {"Authorization": f"Bearer {token['access_token']}"}
    assert (await api.put("/v1/alerts", json={}, headers=bookkeeper)).status_code == 403


async def test_production_refuses_private_and_local_targets(
    api: httpx.AsyncClient, make_tenant: MakeTenant, settings: Settings
) -> None:
    tenant = await make_tenant()
    settings.runtime.env = "production"
    try:
        for url in (
            "http://localhost:8080/hook",
            "https://10.0.0.7/hook",
            "https://169.254.169.254/latest",
            "https://[::1]/x",
        ):
            refused = await api.put("/v1/alerts", json={"webhook": {"url": url}}, headers=tenant.headers)
            assert refused.status_code == 422, url
        refused = await api.put(
            "/v1/alerts",
            json={"smtp": {"host": "192.168.1.5", "from_address": "a@example.com"}},
            headers=tenant.headers,
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["loc"] == ["body", "smtp", "host"]
    finally:
        settings.runtime.env = "development"
    # After DNS too: a public-looking name that resolves to this machine is refused before the send.
    with pytest.raises(TargetError, match="private or reserved"):
        await resolve_public("localhost", 443, production=True)


async def test_failures_are_noted_in_the_records_transaction_only(
    make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero, xero_tenant_id="org")
    source = await add_connection(
        committing, tenant.account_id, ConnectionKind.ontraport, xero_connection_id=xero
    )
    record_id = await add_record(committing, tenant.account_id, source, "3001")
    with pytest.raises(RuntimeError, match="rolled back"):
        async with committing() as session, session.begin():
            record = await session.get(SourceRecord, record_id)
            assert record is not None
            move(session, record, RecordStatus.failed, "No account")
            raise RuntimeError("rolled back")
    async with committing() as session:
        events = await session.scalar(select(func.count()).where(AlertEvent.account_id == tenant.account_id))
        deliveries = await session.scalar(
            select(func.count()).where(AlertDelivery.account_id == tenant.account_id)
        )
    assert (events, deliveries) == (0, 0)
