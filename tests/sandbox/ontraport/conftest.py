from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from ledgerbridge.sandbox.ontraport.app import create_app
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig

DEMO_HEADERS = {"Api-Appid": "sandbox-app", "Api-Key": "sandbox-key"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock: FakeClock) -> FastAPI:
    return create_app(OntraportSandboxConfig(transactions=120), clock=clock)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://op.test", headers=DEMO_HEADERS
    ) as http:
        yield http
