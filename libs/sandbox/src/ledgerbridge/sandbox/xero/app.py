"""The Xero sandbox as one ASGI app: identity, connections, accounting, control endpoints and a UI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ledgerbridge.sandbox.xero import accounting, control, oauth, ui
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from ledgerbridge.sandbox.xero.errors import XeroError, xero_error_handler
from ledgerbridge.sandbox.xero.gate import AccountingGate
from ledgerbridge.sandbox.xero.state import SandboxState


def create_app(config: XeroSandboxConfig | None = None) -> FastAPI:
    settings = config or XeroSandboxConfig()
    state = SandboxState(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await state.webhooks.drain()

    app = FastAPI(title="Xero sandbox (ledgerbridge)", lifespan=lifespan)
    app.state.sandbox = state
    app.add_exception_handler(XeroError, xero_error_handler)
    app.add_middleware(AccountingGate, state=state)
    app.include_router(oauth.router)
    app.include_router(accounting.router)
    app.include_router(control.router)
    app.include_router(ui.router)
    return app
