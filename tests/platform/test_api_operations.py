"""The API's operational surface: liveness, readiness, metrics, docs, problem details, request ids."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from ledgerbridge.api.app import create_app
from ledgerbridge.common.settings import Settings


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client,
    ):
        yield client


async def test_liveness_and_readiness_report_real_dependencies(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_readiness_fails_when_redis_is_unreachable(settings: Settings) -> None:
    settings.redis.url = "redis://127.0.0.1:1/0"
    app: FastAPI = create_app(settings)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client,
    ):
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "error: ConnectionError"}


async def test_unknown_route_is_a_problem_document_with_a_request_id(api: httpx.AsyncClient) -> None:
    # Under /v1 (other paths are the web app's client routes).
    response = await api.get("/v1/nope", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not found",
        "status": 404,
        "detail": "Not Found",
        "instance": "/v1/nope",
    }
    assert response.headers["X-Request-ID"] == "abc-123"


async def test_metrics_are_on_their_own_port_not_beside_the_api(settings: Settings) -> None:
    """Finding 8 of issue 10: /metrics is not public next to the API; API_METRICS_PORT serves it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.api.metrics_port = port
    app = create_app(settings)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client,
    ):
        await client.get("/healthz")
        assert (await client.get("/metrics")).status_code == 404
        schema = (await client.get("/openapi.json")).json()
        assert "/metrics" not in schema["paths"]
        assert {"/healthz", "/readyz"} <= set(schema["paths"])
        assert (await client.get("/docs")).status_code == 200
        async with httpx.AsyncClient() as scraper:
            for _ in range(50):
                try:
                    metrics = await scraper.get(f"http://127.0.0.1:{port}/metrics")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
        assert 'ledgerbridge_http_requests_total{method="GET",route="/healthz",status="200"}' in metrics.text
