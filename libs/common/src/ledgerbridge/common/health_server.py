"""A tiny HTTP port for a worker: /healthz, /readyz and /metrics, for Kubernetes probes and Prometheus."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ledgerbridge.common.platform import Platform


def health_app(platform: Platform, service: str) -> Starlette:
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok", "service": service})

    async def readyz(_: Request) -> Response:
        checks = await platform.readiness()
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503
        )

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]
    )


class _NoSignalServer(uvicorn.Server):
    """The worker owns SIGTERM/SIGINT; uvicorn must not take them over."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def start_health_server(platform: Platform, service: str, port: int) -> asyncio.Task[None]:
    server = _NoSignalServer(
        uvicorn.Config(
            health_app(platform, service), host="0.0.0.0", port=port, log_level="warning", lifespan="off"
        )
    )
    return asyncio.create_task(server.serve(), name=f"{service}-health")
