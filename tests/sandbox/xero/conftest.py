"""Fixtures for the Xero sandbox tests: an in-process sandbox with a client that proves every body it
successfully sends is valid under Xero's official schema."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from ledgerbridge.sandbox.xero.app import create_app
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from ledgerbridge.sandbox.xero.openapi import schema_errors
from ledgerbridge.sandbox.xero.testing import SandboxClient

BASE = "http://xero.test"

# Every accounting body a test sent and Xero accepted, with the schema it was checked against.
ACCEPTED_BODIES: list[tuple[str, dict[str, Any]]] = []


def schema_for(method: str, path: str) -> str | None:
    parts = path.split("/api.xro/2.0/", 1)[-1].strip("/").split("/")
    resource = parts[0]
    if resource == "CreditNotes" and parts[-1] == "Allocations":
        return "Allocations"
    if resource == "Payments" and len(parts) == 2:
        return "PaymentDelete"
    return {
        "Invoices": "Invoices",
        "Contacts": "Contacts",
        "Payments": "Payments",
        "CreditNotes": "CreditNotes",
        "Items": "Items",
    }.get(resource)


async def _check_accepted_body(response: httpx.Response) -> None:
    request = response.request
    if request.method not in ("PUT", "POST") or "/api.xro/2.0/" not in request.url.path:
        return
    if response.status_code != 200 or not request.content:
        return
    schema = schema_for(request.method, request.url.path)
    assert schema is not None, request.url.path
    body = json.loads(request.content)
    if schema == "PaymentDelete" and "Payments" in body:
        schema = "Payments"
    problems = schema_errors(schema, body)
    assert problems == [], f"the sandbox accepted a body that breaks Xero's {schema} schema: {problems}"
    ACCEPTED_BODIES.append((schema, body))


SandboxFactory = Callable[..., Awaitable[SandboxClient]]


@pytest.fixture
async def make_sandbox() -> AsyncIterator[SandboxFactory]:
    clients: list[httpx.AsyncClient] = []

    async def factory(**config: Any) -> SandboxClient:
        app = create_app(XeroSandboxConfig(**config))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=BASE,
            event_hooks={"response": [_check_accepted_body]},
        )
        clients.append(client)
        sandbox = SandboxClient(app, client)
        await sandbox.login()
        return sandbox

    yield factory
    for client in clients:
        await client.aclose()


@pytest.fixture
async def sandbox(make_sandbox: SandboxFactory) -> SandboxClient:
    return await make_sandbox()


@pytest.fixture
async def org(sandbox: SandboxClient) -> str:
    return await sandbox.new_org("AU")
