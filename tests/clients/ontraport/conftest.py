from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from ledgerbridge.common.clients.ontraport import OntraportClient, ontraport_limiter
from ledgerbridge.common.clients.ratelimit import RollingWindowLimiter
from ledgerbridge.sandbox.ontraport import OntraportSandboxConfig, create_app

BASE_URL = "http://ontraport.test"
APP_ID = "sandbox-app"
API_KEY = "sandbox-key"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """Records the client's waits instead of sleeping; optionally moves a sandbox clock along."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.calls: list[float] = []
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.clock is not None:
            self.clock.now += seconds


class Recorder:
    """Every request the client sends, as the wire sees it."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)

    def params(self, name: str) -> list[str]:
        return [r.url.params[name] for r in self.requests if name in r.url.params]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> FastAPI:
    return create_app(OntraportSandboxConfig(transactions=120), clock=clock)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def http_for(app: FastAPI, recorder: Recorder | None = None) -> httpx.AsyncClient:
    hooks: dict[str, list[Callable[..., Any]]] = {"request": [recorder]} if recorder else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), event_hooks=hooks)


@pytest.fixture
async def http(sandbox: FastAPI, recorder: Recorder) -> AsyncIterator[httpx.AsyncClient]:
    async with http_for(sandbox, recorder) as client:
        yield client


@pytest.fixture
def limiter(redis: Redis, queue_prefix: str) -> RollingWindowLimiter:
    return ontraport_limiter(redis, APP_ID, prefix=queue_prefix)


@pytest.fixture
def client(http: httpx.AsyncClient, limiter: RollingWindowLimiter) -> OntraportClient:
    return OntraportClient(http, BASE_URL, APP_ID, API_KEY, limiter, sleep=Sleeps())


def calls(app: FastAPI) -> dict[str, Any]:
    counted: dict[str, Any] = app.state.sandbox.demo.counter.as_dict()
    return counted
