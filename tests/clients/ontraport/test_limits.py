"""ONTRAPORT limits, retries and envelope errors: the sandbox with a shrunk window, and a tiny stand-in for
the failures the sandbox cannot produce (5xx, broken envelopes, timeouts)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fastapi import FastAPI, Response
from redis.asyncio import Redis

from ledgerbridge.common.clients.ontraport import OntraportClient, OntraportError, ontraport_limiter
from ledgerbridge.common.clients.ratelimit import RollingWindowLimiter
from ledgerbridge.common.messaging.errors import TransientError
from ledgerbridge.sandbox.ontraport import OntraportSandboxConfig, create_app
from tests.clients.ontraport.conftest import (
    API_KEY,
    APP_ID,
    BASE_URL,
    FakeClock,
    Recorder,
    Sleeps,
    calls,
    http_for,
)


async def test_a_429_waits_for_the_reset_and_retries(redis: Redis, queue_prefix: str) -> None:
    # A one-second window of 3 calls, two of them spent by "another app" of the customer's.
    app = create_app(OntraportSandboxConfig(transactions=5, rate_limit=3, rate_window_seconds=1.0))
    limiter = ontraport_limiter(redis, APP_ID, prefix=queue_prefix)
    async with http_for(app) as http:
        headers = {"Api-Appid": APP_ID, "Api-Key": API_KEY}
        for _ in range(3):
            assert (await http.get(f"{BASE_URL}/Transactions/getInfo", headers=headers)).status_code == 200
        client = OntraportClient(http, BASE_URL, APP_ID, API_KEY, limiter)

        started = time.monotonic()
        page = await client.transactions_after(0)

    assert len(page) == 7
    assert calls(app)["throttled"] == 1
    assert time.monotonic() - started >= 0.9


async def test_a_429_with_a_long_reset_is_a_transient_error_and_pauses_every_replica(
    redis: Redis, queue_prefix: str, clock: FakeClock
) -> None:
    app = create_app(
        OntraportSandboxConfig(transactions=5, rate_limit=2, rate_window_seconds=60), clock=clock
    )
    async with http_for(app) as http:
        headers = {"Api-Appid": APP_ID, "Api-Key": API_KEY}
        for _ in range(2):
            await http.get(f"{BASE_URL}/Transactions/getInfo", headers=headers)
        first = OntraportClient(
            http,
            BASE_URL,
            APP_ID,
            API_KEY,
            ontraport_limiter(redis, APP_ID, prefix=queue_prefix, max_wait_seconds=5),
            max_rate_limit_wait_seconds=10,
        )
        second = OntraportClient(
            http,
            BASE_URL,
            APP_ID,
            API_KEY,
            ontraport_limiter(redis, APP_ID, prefix=queue_prefix, max_wait_seconds=5),
        )

        with pytest.raises(TransientError) as raised:
            await first.transactions_after(0)
        assert raised.value.retry_after == 60
        assert calls(app)["calls"] == 3

        # The other replica does not even try: the shared limiter knows the account must wait.
        with pytest.raises(TransientError) as paused:
            await second.transactions_after(0)
        assert paused.value.retry_after is not None and paused.value.retry_after > 50
        assert calls(app)["calls"] == 3


async def test_remaining_zero_pauses_the_account_before_any_429(
    redis: Redis, queue_prefix: str, clock: FakeClock
) -> None:
    app = create_app(
        OntraportSandboxConfig(transactions=5, rate_limit=3, rate_window_seconds=60), clock=clock
    )
    limiter = ontraport_limiter(redis, APP_ID, prefix=queue_prefix, max_wait_seconds=5)
    async with http_for(app) as http:
        client = OntraportClient(http, BASE_URL, APP_ID, API_KEY, limiter)
        for _ in range(3):
            await client.count_transactions()
        with pytest.raises(TransientError):
            await client.count_transactions()

    assert calls(app) == {"calls": 3, "throttled": 0, "by_endpoint": {"GET /Transactions/getInfo": 3}}


async def test_two_clients_sharing_the_limiter_never_exceed_the_budget(
    redis: Redis, queue_prefix: str
) -> None:
    # Budget 10 per second for the account, shared through Redis by two "replicas".
    app = create_app(OntraportSandboxConfig(transactions=5, rate_limit=12, rate_window_seconds=1.0))
    recorder = Recorder()
    sent: list[float] = []

    async def stamp(_: httpx.Request) -> None:
        sent.append(time.monotonic())

    async with http_for(app, recorder) as http:
        http.event_hooks["request"].append(stamp)
        clients = [
            OntraportClient(
                http,
                BASE_URL,
                APP_ID,
                API_KEY,
                ontraport_limiter(
                    redis,
                    APP_ID,
                    prefix=queue_prefix,
                    calls_per_minute=10,
                    window_seconds=1.0,
                    max_wait_seconds=10,
                ),
            )
            for _ in range(2)
        ]
        started = time.monotonic()
        await asyncio.gather(*(clients[i % 2].count_transactions() for i in range(30)))
        elapsed = time.monotonic() - started

    assert calls(app)["calls"] == 30
    assert calls(app)["throttled"] == 0
    assert elapsed >= 1.9
    # In any window a little shorter than a second (send lags the Redis grant a hair), at most 10 calls.
    for index, moment in enumerate(sent):
        assert sum(1 for other in sent[index:] if other - moment < 0.95) <= 10


def _stand_in(responses: list[Response]) -> FastAPI:
    """Answers each request with the next of ``responses`` (the last one repeats)."""
    app = FastAPI()
    app.state.hits = 0

    @app.get("/Transactions")
    def transactions() -> Response:
        app.state.hits += 1
        answer: Response = responses[min(app.state.hits, len(responses)) - 1]
        return answer

    return app


def _envelope(data: str) -> Response:
    return Response(data, media_type="application/json", headers={"X-Rate-Limit-Remaining": "170"})


@pytest.fixture
def limiter_for_stand_in(redis: Redis, queue_prefix: str) -> RollingWindowLimiter:
    return ontraport_limiter(redis, APP_ID, prefix=queue_prefix)


async def test_5xx_is_retried_with_backoff_then_succeeds(limiter_for_stand_in: RollingWindowLimiter) -> None:
    app = _stand_in(
        [
            Response("oops", status_code=502),
            Response("oops", status_code=503),
            _envelope('{"code":0,"data":[{"id":"7","status":"1","total":"10.00"}],"account_id":"9"}'),
        ]
    )
    sleeps = Sleeps()
    async with http_for(app) as http:
        client = OntraportClient(http, BASE_URL, APP_ID, API_KEY, limiter_for_stand_in, sleep=sleeps)
        found = await client.transactions_after(0)

    assert [t.id for t in found] == [7]
    assert app.state.hits == 3
    assert len(sleeps.calls) == 2
    assert client.account_id == "9"


async def test_persistent_5xx_becomes_a_transient_error(limiter_for_stand_in: RollingWindowLimiter) -> None:
    app = _stand_in([Response("down", status_code=500)])
    async with http_for(app) as http:
        client = OntraportClient(
            http, BASE_URL, APP_ID, API_KEY, limiter_for_stand_in, max_attempts=3, sleep=Sleeps()
        )
        with pytest.raises(TransientError, match="500"):
            await client.transactions_after(0)

    assert app.state.hits == 3


async def test_timeouts_are_retried_then_transient(limiter_for_stand_in: RollingWindowLimiter) -> None:
    attempts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ReadTimeout("took too long", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = OntraportClient(
            http, BASE_URL, APP_ID, API_KEY, limiter_for_stand_in, max_attempts=2, sleep=Sleeps()
        )
        with pytest.raises(TransientError, match="ReadTimeout"):
            await client.transactions_after(0)

    assert len(attempts) == 2


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ('{"code":1,"data":"Invalid condition"}', "code 1 instead of 0"),
        ('{"data":[]}', "without the code/data envelope"),
        ('{"code":0}', "without data"),
        ("<html>maintenance</html>", "not JSON"),
        ('{"code":0,"data":"nope"}', "not a list of records"),
    ],
)
async def test_envelope_problems_are_named(
    limiter_for_stand_in: RollingWindowLimiter, body: str, complaint: str
) -> None:
    app = _stand_in([_envelope(body)])
    async with http_for(app) as http:
        client = OntraportClient(http, BASE_URL, APP_ID, API_KEY, limiter_for_stand_in, sleep=Sleeps())
        with pytest.raises(OntraportError, match=complaint):
            await client.transactions_after(0)
