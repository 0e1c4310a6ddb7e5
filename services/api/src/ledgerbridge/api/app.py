"""The API gateway: REST API for the SPA, OAuth callbacks, webhook receivers, operators' docs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from ledgerbridge.api import problems
from ledgerbridge.api.health.endpoints import router as health_router
from ledgerbridge.api.middleware import RequestContextMiddleware
from ledgerbridge.common.platform import Platform
from ledgerbridge.common.settings import Settings, get_settings

DESCRIPTION = """
ledgerbridge keeps Xero books in step with ONTRAPORT and Onport.

Every error is an RFC 9457 problem document (`application/problem+json`).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    configured = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.platform = await Platform.start(configured)
        try:
            yield
        finally:
            await app.state.platform.close()

    app = FastAPI(
        title="ledgerbridge API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[{"name": "operations", "description": "Health, readiness and metrics"}],
    )
    app.state.settings = configured
    problems.install(app)
    app.add_middleware(RequestContextMiddleware)
    origins = [origin.strip() for origin in configured.security.cors_origins.split(",") if origin.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["*"],
            allow_headers=["*"],
            allow_credentials=True,
        )
    app.include_router(health_router)
    return app
