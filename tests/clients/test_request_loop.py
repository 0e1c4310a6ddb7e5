"""The one request loop under each partner's policy: the same trouble from each partner (a 429 from its
sandbox, server errors) and what that partner's policy makes of it. Clients for the 429s are built by
the factory, as the workers and the API build them, on real Redis."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI, Response
from redis.asyncio import Redis

from ledgerbridge.common.clients.factory import onport_client, ontraport_client, xero_client
from ledgerbridge.common.clients.onport import OnportClient, onport_limiter
from ledgerbridge.common.clients.ontraport import OntraportClient, ontraport_limiter
from ledgerbridge.common.clients.partner import UnknownOutcomeError
from ledgerbridge.common.clients.xero import TokenService, XeroOAuth
from ledgerbridge.common.crypto import Cipher
from ledgerbridge.common.messaging.errors import TransientError
from ledgerbridge.common.settings import Settings
from ledgerbridge.sandbox import onport as onport_sandbox
from ledgerbridge.sandbox import ontraport as ontraport_sandbox
from ledgerbridge.sandbox.xero.app import create_app as create_xero_app
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from ledgerbridge.sandbox.xero.testing import SandboxClient
from tests.clients.xero.conftest import Sessions, connect_organisation, counters, xero_settings_for

ONTRAPORT_URL = "http://ontraport.test"
ONPORT_URL = "http://onport.test"
XERO_URL = "http://xero.test"
ONTRAPORT_CREDENTIALS = {"app_id": "sandbox-app", "api_key": "sandbox-key"}
ONPORT_CREDENTIALS = {"api_token": "sandbox-token"}


class Sleeps:
    """Records the loop's backoff instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@dataclass
class Scene:
    """One partner account as a test drives it."""

    replica: Callable[[], Any]  # a client of the account, as one more replica would build it
    call: Callable[[Any], Awaitable[object]]  # one cheap read
    provoke_429: Callable[[], Awaitable[None]]  # the next call of ours will be answered 429
    throttled: Callable[[], Awaitable[int]]  # 429s the sandbox has answered
    http: httpx.AsyncClient  # reaches the sandbox, control routes included


def _asgi(app: FastAPI, base_url: str = "") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@asynccontextmanager
async def ontraport_scene(settings: Settings, redis: Redis, _: Sessions) -> AsyncIterator[Scene]:
    # Three calls a second, all spent by another app of the customer's before ours.
    app = ontraport_sandbox.create_app(
        ontraport_sandbox.OntraportSandboxConfig(transactions=5, rate_limit=3, rate_window_seconds=1.0)
    )
    settings.ontraport.api_url = ONTRAPORT_URL
    async with _asgi(app) as http:
        headers = {"Api-Appid": "sandbox-app", "Api-Key": "sandbox-key"}

        async def provoke() -> None:
            for _ in range(3):
                await http.get(f"{ONTRAPORT_URL}/Transactions/getInfo", headers=headers)

        async def throttled() -> int:
            return int(app.state.sandbox.demo.counter.as_dict()["throttled"])

        yield Scene(
            lambda: ontraport_client(settings, http, redis, ONTRAPORT_CREDENTIALS),
            lambda client: client.count_transactions(),
            provoke,
            throttled,
            http,
        )


@asynccontextmanager
async def onport_scene(settings: Settings, redis: Redis, _: Sessions) -> AsyncIterator[Scene]:
    app = onport_sandbox.create_app(onport_sandbox.OnportSandboxConfig(purchases=3))
    settings.onport.api_url = ONPORT_URL
    async with _asgi(app) as http:

        async def provoke() -> None:
            # Someone else's write fills the account's bucket for a second.
            invoice_id = min(app.state.sandbox.demo.data.tables["purchase-invoices"])
            await http.put(
                f"{ONPORT_URL}/purchase-invoices/{invoice_id}.json",
                json={"externalId": "x"},
                headers={"Authorization": "Bearer sandbox-token"},
            )

        async def throttled() -> int:
            return int(app.state.sandbox.demo.counter.as_dict()["throttled"])

        yield Scene(
            lambda: onport_client(settings, http, redis, ONPORT_CREDENTIALS),
            lambda client: client.currencies(),
            provoke,
            throttled,
            http,
        )


@asynccontextmanager
async def xero_scene(settings: Settings, redis: Redis, sessions: Sessions) -> AsyncIterator[Scene]:
    app = create_xero_app(XeroSandboxConfig(seed_demo_organisations=False))
    settings.xero = xero_settings_for(XERO_URL)
    async with _asgi(app, XERO_URL) as http:
        sandbox = SandboxClient(app, http)
        tenant_id = await sandbox.new_org("AU")
        tokens = TokenService(XeroOAuth(http, settings.xero), Cipher([Fernet.generate_key().decode()]))
        connection_id = await connect_organisation(sessions, sandbox, tokens, tenant_id)

        async def provoke() -> None:
            answer = await http.post("/_sandbox/faults", json={"tenant_id": tenant_id, "script": ["429"]})
            assert answer.status_code == 200, answer.text

        async def throttled() -> int:
            return int((await counters(sandbox))["organisations"][tenant_id]["rate_limited"])

        yield Scene(
            lambda: xero_client(settings, http, redis, tokens.provider(sessions, connection_id), tenant_id),
            lambda client: client.get_currencies(),
            provoke,
            throttled,
            http,
        )


SCENES = {"ONTRAPORT": ontraport_scene, "Onport": onport_scene, "Xero": xero_scene}


@pytest.mark.parametrize(
    ("partner", "waits_out"),
    [
        ("ONTRAPORT", True),  # waits for X-Rate-Limit-Reset, then retries
        ("Onport", True),  # waits for Retry-After (its bucket drains), then retries
        ("Xero", False),  # cools the organisation down for Retry-After; the queue retries
    ],
)
async def test_a_429_pauses_the_account_then_the_policy_decides(
    partner: str, waits_out: bool, settings: Settings, redis: Redis, committing: Sessions
) -> None:
    async with SCENES[partner](settings, redis, committing) as scene:
        await scene.provoke_429()
        started = time.monotonic()
        if waits_out:
            await scene.call(scene.replica())
        else:
            with pytest.raises(TransientError) as raised:
                await scene.call(scene.replica())
            assert raised.value.retry_after == 1
            assert not isinstance(raised.value, UnknownOutcomeError)  # a 429 is answered before any work
            # The pause is the account's, in Redis: another replica waits it out before calling.
            await scene.call(scene.replica())
        assert time.monotonic() - started >= 0.9
        assert await scene.throttled() == 1


def _always_503() -> FastAPI:
    app = FastAPI()
    app.state.hits = 0

    @app.api_route("/{path:path}", methods=["GET", "PUT", "POST"])
    def busy(path: str) -> Response:
        app.state.hits += 1
        return Response("busy", status_code=503)

    return app


@pytest.mark.parametrize("partner", ["ONTRAPORT", "Onport"])
async def test_server_errors_are_retried_with_backoff_then_handed_to_the_queue(
    partner: str, redis: Redis, queue_prefix: str
) -> None:
    # Neither sandbox answers 5xx, so a stand-in does; the limiters are the real shared ones.
    app = _always_503()
    sleeps = Sleeps()
    async with _asgi(app) as http:
        client: OntraportClient | OnportClient
        if partner == "ONTRAPORT":
            limiter = ontraport_limiter(redis, "app", prefix=queue_prefix)
            client = OntraportClient(http, ONTRAPORT_URL, "app", "key", limiter, max_attempts=3, sleep=sleeps)
        else:
            bucket = onport_limiter(redis, "token", prefix=queue_prefix)
            client = OnportClient(http, ONPORT_URL, "token", bucket, max_attempts=3, sleep=sleeps)
        with pytest.raises(TransientError, match="answered 503 3 times") as raised:
            await client.check_credentials()

    assert not isinstance(raised.value, UnknownOutcomeError)
    assert app.state.hits == 3
    assert len(sleeps.calls) == 2 and sleeps.calls[0] <= sleeps.calls[1]  # backed off, longer each time


async def test_xero_server_errors_are_tried_once_and_a_create_is_left_in_doubt(
    settings: Settings, redis: Redis, committing: Sessions
) -> None:
    async with xero_scene(settings, redis, committing) as scene:
        client = scene.replica()
        tenant_id = client.tenant_id
        http = scene.http
        plan = {"tenant_id": tenant_id, "script": ["503", "503"]}
        assert (await http.post("/_sandbox/faults", json=plan)).status_code == 200

        with pytest.raises(TransientError, match=r"answered 503$") as raised:
            await client.get_currencies()
        assert not isinstance(raised.value, UnknownOutcomeError)  # a read has no outcome to doubt
        with pytest.raises(UnknownOutcomeError):
            await client.put_contacts([{"Name": "Ada"}], idempotency_key="loop-test-1")
        faults = (await http.get("/_sandbox/counters")).json()["organisations"][tenant_id]["faults"]
    assert faults == 2  # one call each: the publisher looks a doubtful create up before trying again
