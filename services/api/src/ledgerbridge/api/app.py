"""The API gateway: REST API for the SPA, OAuth callbacks, webhook receivers, operators' docs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ledgerbridge.api import problems
from ledgerbridge.api.alerts.endpoints import router as alerts_router
from ledgerbridge.api.audit.endpoints import router as audit_router
from ledgerbridge.api.auth.endpoints import router as auth_router
from ledgerbridge.api.connections.endpoints import router as connections_router
from ledgerbridge.api.day_plan.endpoints import router as day_plan_router
from ledgerbridge.api.guards import RequestGuard, SecurityHeaders
from ledgerbridge.api.health.endpoints import router as health_router
from ledgerbridge.api.imports.endpoints import router as imports_router
from ledgerbridge.api.mappings.endpoints import router as mappings_router
from ledgerbridge.api.middleware import RequestContextMiddleware
from ledgerbridge.api.onport.endpoints import router as onport_router
from ledgerbridge.api.plan.endpoints import router as plan_router
from ledgerbridge.api.records.endpoints import router as records_router
from ledgerbridge.api.reference.endpoints import router as reference_router
from ledgerbridge.api.reports.endpoints import router as reports_router
from ledgerbridge.api.rollbacks.endpoints import router as rollbacks_router
from ledgerbridge.api.settings.endpoints import router as settings_router
from ledgerbridge.api.setup.endpoints import router as setup_router
from ledgerbridge.api.sync.endpoints import router as sync_router
from ledgerbridge.api.tax_exceptions.endpoints import router as tax_exceptions_router
from ledgerbridge.api.web import install as install_web
from ledgerbridge.api.webhooks.endpoints import router as webhooks_router
from ledgerbridge.common.health_server import start_health_server
from ledgerbridge.common.platform import Platform
from ledgerbridge.common.settings import Settings, get_settings

DESCRIPTION = """
ledgerbridge keeps Xero books in step with ONTRAPORT and Onport.

Every error is an RFC 9457 problem document (`application/problem+json`).

Sign in at `POST /v1/auth/token` and send the access token as `Authorization: Bearer <token>`.
"""

OPENAPI_TAGS = [
    {"name": "operations", "description": "Health and readiness (metrics: API_METRICS_PORT)"},
    {
        "name": "auth",
        "description": "Sign-up, sign-in (15-minute access tokens, single-use refresh tokens), the signed-in "
        "user and the account's users. Owners invite bookkeepers.",
    },
    {
        "name": "mappings",
        "description": "Which Xero account, tax code, currency, branding theme or contact each ONTRAPORT "
        "product, coupon, tax, shipping method and gateway, and each Onport vendor and purchase type, "
        "goes to. Checked against the organisation's Xero data when it has been fetched.",
    },
    {"name": "settings", "description": "The account's sync options, with their defaults"},
    {
        "name": "tax exceptions",
        "description": "Rules that make matching transactions tax inclusive with a given tax code",
    },
    {"name": "plan", "description": "Trial limit, usage and upgrading"},
    {
        "name": "connections",
        "description": "Xero organisations (OAuth2 consent, then the organisation), ONTRAPORT and Onport "
        "accounts. Credentials are stored encrypted and never returned. Owners change, bookkeepers read.",
    },
    {
        "name": "reference data",
        "description": "The organisation's Xero accounts, tax rates, branding themes, currencies and "
        "contacts, and the ONTRAPORT catalogue, from a cache; refresh=true re-reads the partner",
    },
    {"name": "setup", "description": "The guided 10-step setup: what is done, what is missing"},
    {
        "name": "reports",
        "description": "The reconciliation report: the source's totals beside what Xero holds now, every "
        "difference with its cause; JSON or CSV",
    },
    {
        "name": "rollbacks",
        "description": "Undo what ledgerbridge made in Xero for a set of records (an import, a date range, "
        "a list): a dry run first, then the run; the records can then be synced again",
    },
    {
        "name": "records",
        "description": "Every ONTRAPORT transaction and Onport invoice read: its state, Xero documents, "
        "history; retry and preview",
    },
    {
        "name": "onport",
        "description": 'Onport purchase invoices and their Xero bills, "sync to Xero" one invoice, and '
        "vendors with the Xero contacts they are linked to",
    },
    {"name": "sync", "description": "Sync now, and each connection's polling and backlog"},
    {"name": "imports", "description": "Historical imports with progress"},
    {"name": "webhooks", "description": "Receivers for Xero, ONTRAPORT and Onport webhooks"},
    {
        "name": "alerts",
        "description": "E-mail (SMTP) and a signed outgoing webhook when records fail, Xero consent is lost, a "
        "day limit pauses an organisation, and a daily digest; owners choose per kind and channel",
    },
    {
        "name": "audit",
        "description": "Who changed connections, mappings, settings, rules and records, and when",
    },
]


def trusted_proxies(settings: Settings) -> list[str]:
    """Addresses whose X-Forwarded-For/-Proto are believed (``API_TRUSTED_PROXIES``); none by default."""
    return [item.strip() for item in settings.api.trusted_proxies.split(",") if item.strip()]


def create_app(settings: Settings | None = None) -> FastAPI:
    configured = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.platform = await Platform.start(configured)
        # Prometheus scrapes its own port, never the public API's (API_METRICS_PORT, off by default).
        metrics = (
            start_health_server(app.state.platform, "api", configured.api.metrics_port)
            if configured.api.metrics_port
            else None
        )
        try:
            yield
        finally:
            if metrics is not None:
                metrics.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await metrics
            await app.state.platform.close()

    app = FastAPI(
        title="ledgerbridge API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=OPENAPI_TAGS,
        docs_url=None,  # served offline by ledgerbridge.api.web
        redoc_url=None,
    )
    app.state.settings = configured
    problems.install(app)
    # Added innermost first: the proxy headers decide the client address and scheme for everything
    # inside; every answer, the guard's 413/422 included, gets the security headers and a request id.
    app.add_middleware(RequestGuard, max_body_bytes=configured.api.max_body_bytes)
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
    app.add_middleware(SecurityHeaders)
    proxies = trusted_proxies(configured)
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    app.include_router(health_router)
    for router in (auth_router, mappings_router, settings_router, tax_exceptions_router, plan_router):
        app.include_router(router)
    app.include_router(connections_router)
    app.include_router(day_plan_router)
    app.include_router(reference_router)
    for router in (setup_router, records_router, sync_router, imports_router, webhooks_router):
        app.include_router(router)
    app.include_router(onport_router)
    app.include_router(alerts_router)
    app.include_router(audit_router)
    app.include_router(reports_router)
    app.include_router(rollbacks_router)
    install_web(app)  # last: the web app's fallback route must come after every API route
    return app
