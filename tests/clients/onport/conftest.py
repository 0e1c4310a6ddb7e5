from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from ledgerbridge.common.clients.onport import OnportClient, onport_limiter
from ledgerbridge.common.clients.ratelimit import LeakyBucketLimiter
from ledgerbridge.sandbox.onport import OnportSandboxConfig, create_app

BASE_URL = "http://onport.test"
TOKEN = "sandbox-token"


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)


def http_for(app: FastAPI, recorder: Recorder | None = None) -> httpx.AsyncClient:
    hooks: dict[str, list[Callable[..., Any]]] = {"request": [recorder]} if recorder else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), event_hooks=hooks)


@pytest.fixture
def sandbox() -> FastAPI:
    # Generous rates: the limiter tests build their own sandbox with tight ones.
    return create_app(OnportSandboxConfig(get_per_second=1000, write_per_second=1000))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def http(sandbox: FastAPI, recorder: Recorder) -> AsyncIterator[httpx.AsyncClient]:
    async with http_for(sandbox, recorder) as client:
        yield client


@pytest.fixture
def limiter(redis: Redis, queue_prefix: str) -> LeakyBucketLimiter:
    return onport_limiter(redis, TOKEN, prefix=queue_prefix, get_per_second=1000, write_per_second=1000)


@pytest.fixture
def client(http: httpx.AsyncClient, limiter: LeakyBucketLimiter) -> OnportClient:
    return OnportClient(http, BASE_URL, TOKEN, limiter, sleep=Sleeps())


def table(app: FastAPI, resource: str) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = app.state.sandbox.demo.data.tables[resource]
    return found


def calls(app: FastAPI) -> dict[str, Any]:
    counted: dict[str, Any] = app.state.sandbox.demo.counter.as_dict()
    return counted
