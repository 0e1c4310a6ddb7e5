from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from ledgerbridge.sandbox.onport.app import create_app
from ledgerbridge.sandbox.onport.config import OnportSandboxConfig

DEMO_HEADERS = {"Authorization": "Bearer sandbox-token"}


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
    # Generous rates here; the leaky-bucket test builds its own app with the real ones.
    return create_app(OnportSandboxConfig(get_per_second=1000, write_per_second=1000), clock=clock)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://op.test", headers=DEMO_HEADERS
    ) as http:
        yield http
