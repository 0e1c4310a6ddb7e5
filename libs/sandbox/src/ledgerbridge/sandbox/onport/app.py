"""The Onport sandbox as a FastAPI app; its root stands for ``https://api.jetti.io/api``.

API routes need ``Authorization: Bearer <token>`` and pass a per-account leaky bucket (429 with
``Retry-After`` when it would overflow). Collections answer a JSON array; single records an object.
Routes under ``/_sandbox`` control the sandbox and need no token.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from ledgerbridge.sandbox.onport.config import OnportSandboxConfig
from ledgerbridge.sandbox.onport.filters import FilterError, parse_query
from ledgerbridge.sandbox.onport.generator import RESOURCES
from ledgerbridge.sandbox.onport.push import NoIntegrationUrlError, push_invoice
from ledgerbridge.sandbox.onport.state import Account, OnportState
from ledgerbridge.sandbox.ratelimit import Clock

# The fields an accounting integration may write back on an invoice.
WRITABLE_INVOICE_FIELDS = {"xeroId", "accountingError", "accountingIntegrationExternalId", "externalId"}


class OnportError(Exception):
    def __init__(self, status_code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = headers or {}


def _state(request: Request) -> OnportState:
    state: OnportState = request.app.state.sandbox
    return state


def _account(request: Request) -> Account:
    account = _state(request).authenticate(request.headers.get("Authorization"))
    if account is None:
        raise OnportError(401, "Unauthorized: a valid bearer token is required")
    route = request.scope.get("route")
    account.counter.calls += 1
    account.counter.by_endpoint[f"{request.method} {getattr(route, 'path', request.url.path)}"] += 1
    decision = account.bucket.hit(write=request.method != "GET")
    if not decision.allowed:
        account.counter.throttled += 1
        raise OnportError(
            429,
            "Too many requests: slow down",
            {"Retry-After": str(max(1, math.ceil(decision.retry_after_seconds)))},
        )
    return account


AccountDep = Annotated[Account, Depends(_account)]


def _record(account: Account, resource: str, record_id: int) -> dict[str, Any]:
    record = account.data.tables[resource].get(record_id)
    if record is None:
        raise OnportError(404, f"{resource} {record_id} not found")
    return record


def _api_router(config: OnportSandboxConfig) -> APIRouter:
    router = APIRouter()

    def collection(resource: str) -> Callable[[Request, Account], list[dict[str, Any]]]:
        def list_records(request: Request, account: AccountDep) -> list[dict[str, Any]]:
            table = account.data.tables[resource]
            known = set(next(iter(table.values()))) if table else None
            try:
                query = parse_query(dict(request.query_params), known, config.default_limit, config.max_limit)
            except FilterError as error:
                raise OnportError(400, str(error)) from None
            return query.apply(table.values())

        return list_records

    def instance(resource: str) -> Callable[[int, Account], dict[str, Any]]:
        def get_record(record_id: int, account: AccountDep) -> dict[str, Any]:
            return _record(account, resource, record_id)

        return get_record

    for resource in RESOURCES:
        router.add_api_route(
            f"/{resource}.json", collection(resource), methods=["GET"], name=f"list {resource}"
        )
        router.add_api_route(
            f"/{resource}/{{record_id}}.json", instance(resource), methods=["GET"], name=f"get {resource}"
        )

    @router.put("/purchase-invoices/{record_id}.json")
    def update_invoice(
        record_id: int, account: AccountDep, body: Annotated[dict[str, Any], Body()]
    ) -> dict[str, Any]:
        invoice = _record(account, "purchase-invoices", record_id)
        unknown = set(body) - WRITABLE_INVOICE_FIELDS
        if unknown:
            raise OnportError(400, f"fields not writable: {', '.join(sorted(unknown))}")
        invoice.update(body)
        account.data.touch(invoice)
        return invoice

    @router.get("/accounting-integrations.json")
    def list_integrations(account: AccountDep) -> list[dict[str, Any]]:
        integration = account.integration
        return [integration.as_api()] if integration.name or integration.dropship_url else []

    @router.post("/accounting-integrations.json")
    @router.put("/accounting-integrations/{integration_id}.json")
    def register_integration(account: AccountDep, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        # What the "custom accounting integration" screen saves: where to push each kind of invoice.
        integration = account.integration
        integration.name = str(body.get("name") or "custom")
        integration.dropship_url = body.get("dropshipEndpoint")
        integration.replenishment_url = body.get("replenishmentEndpoint")
        return integration.as_api()

    return router


class NewAccount(BaseModel):
    seed: int = 1
    purchases: int = Field(default=10, ge=0)


class IntegrationUrls(BaseModel):
    dropship_url: str | None = None
    replenishment_url: str | None = None


class AddInvoices(BaseModel):
    count: int = Field(default=0, ge=0)
    """New random purchases, each invoiced whole or in parts (never left uninvoiced)."""
    purchase_id: int | None = None
    """Invoice what is left of this purchase (or ``items`` of it)."""
    items: list[tuple[int, int | None]] | None = None
    """(purchase item id, quantity or null for the rest) when invoicing ``purchase_id`` in parts."""
    vendor_id: int | None = None
    """With ``count``: make the new purchases for this vendor."""
    push: bool = False
    """Push each new invoice to the registered integration URL."""


class Payment(BaseModel):
    amount: str | None = None
    """Payout amount; by default what is still owed."""


class Adjustment(BaseModel):
    amount: str
    reason: str


def _control_router() -> APIRouter:
    router = APIRouter(prefix="/_sandbox")

    def account_of(request: Request, account_id: int) -> Account:
        account = _state(request).accounts.get(account_id)
        if account is None:
            raise OnportError(404, f"no sandbox account {account_id}")
        return account

    def invoice_of(account: Account, invoice_id: int) -> dict[str, Any]:
        return _record(account, "purchase-invoices", invoice_id)

    def amount(text: str) -> Decimal:
        try:
            return Decimal(text)
        except InvalidOperation:
            raise OnportError(400, f"not an amount: {text!r}") from None

    @router.post("/accounts")
    def create_account(request: Request, body: Annotated[NewAccount | None, Body()] = None) -> dict[str, Any]:
        body = body or NewAccount()
        return _state(request).create_account(seed=body.seed, purchases=body.purchases).summary()

    @router.get("/accounts")
    def list_accounts(request: Request) -> list[dict[str, Any]]:
        return [account.summary() for account in _state(request).accounts.values()]

    @router.get("/accounts/{account_id}")
    def get_account(request: Request, account_id: int) -> dict[str, Any]:
        return account_of(request, account_id).summary()

    @router.put("/accounts/{account_id}/accounting-integration")
    def set_integration(request: Request, account_id: int, body: IntegrationUrls) -> dict[str, Any]:
        account = account_of(request, account_id)
        account.integration.dropship_url = body.dropship_url
        account.integration.replenishment_url = body.replenishment_url
        return body.model_dump()

    @router.post("/accounts/{account_id}/purchase-invoices")
    async def add_invoices(request: Request, account_id: int, body: AddInvoices) -> dict[str, Any]:
        account = account_of(request, account_id)
        data = account.data
        before = set(data.tables["purchase-invoices"])
        purchase_ids: list[int] = []
        try:
            if body.purchase_id is not None:
                _record(account, "purchases", body.purchase_id)
                data.invoice(body.purchase_id, body.items)
                purchase_ids.append(body.purchase_id)
            for _ in range(body.count):
                vendor_id = body.vendor_id or data.rng.randint(1, len(data.tables["dropship-providers"]))
                _record(account, "dropship-providers", vendor_id)
                invoicing = data.rng.choice(["single", "single", "parts", "quantity"])
                purchase_ids.append(data.add_purchase(vendor_id=vendor_id, invoicing=invoicing))
        except ValueError as error:
            raise OnportError(400, str(error)) from None
        invoice_ids = sorted(set(data.tables["purchase-invoices"]) - before)
        pushes = []
        if body.push:
            timeout = _state(request).config.push_timeout_seconds
            for invoice_id in invoice_ids:
                try:
                    pushes.append((await push_invoice(account, invoice_id, timeout)).as_dict())
                except NoIntegrationUrlError as error:
                    raise OnportError(409, str(error)) from None
        return {"purchase_ids": purchase_ids, "invoice_ids": invoice_ids, "pushes": pushes}

    @router.post("/accounts/{account_id}/purchase-invoices/{invoice_id}/payments")
    def pay(
        request: Request, account_id: int, invoice_id: int, body: Annotated[Payment | None, Body()] = None
    ) -> dict[str, Any]:
        account = account_of(request, account_id)
        invoice_of(account, invoice_id)
        value = amount(body.amount) if body and body.amount is not None else None
        try:
            payment = account.data.pay(invoice_id, value)
        except ValueError as error:
            raise OnportError(400, str(error)) from None
        return {"payment": payment, "invoice": invoice_of(account, invoice_id)}

    @router.post("/accounts/{account_id}/purchase-invoices/{invoice_id}/adjustments")
    def adjust(request: Request, account_id: int, invoice_id: int, body: Adjustment) -> dict[str, Any]:
        account = account_of(request, account_id)
        invoice_of(account, invoice_id)
        return account.data.adjust(invoice_id, amount(body.amount), body.reason)

    @router.post("/accounts/{account_id}/purchase-invoices/{invoice_id}/refunds")
    def refund(request: Request, account_id: int, invoice_id: int, body: Payment) -> dict[str, Any]:
        """The vendor pays back part or all of a payout (a ``refund``-type payment)."""
        account = account_of(request, account_id)
        invoice_of(account, invoice_id)
        try:
            payment = account.data.refund(invoice_id, amount(body.amount or "0"))
        except ValueError as error:
            raise OnportError(400, str(error)) from None
        return {"payment": payment, "invoice": invoice_of(account, invoice_id)}

    @router.post("/accounts/{account_id}/purchase-invoice-payments/{payment_id}/cancel")
    def cancel_payment(request: Request, account_id: int, payment_id: int) -> dict[str, Any]:
        try:
            return account_of(request, account_id).data.cancel_payment(payment_id)
        except ValueError as error:
            raise OnportError(400, str(error)) from None

    @router.post("/accounts/{account_id}/purchase-invoices/{invoice_id}/landed-costs")
    def add_landed_cost(request: Request, account_id: int, invoice_id: int) -> dict[str, Any]:
        account = account_of(request, account_id)
        invoice_of(account, invoice_id)
        return account.data.add_landed_cost(invoice_id)

    @router.post("/accounts/{account_id}/purchase-invoices/{invoice_id}/push")
    async def push(request: Request, account_id: int, invoice_id: int) -> dict[str, Any]:
        account = account_of(request, account_id)
        invoice_of(account, invoice_id)
        try:
            result = await push_invoice(account, invoice_id, _state(request).config.push_timeout_seconds)
        except NoIntegrationUrlError as error:
            raise OnportError(409, str(error)) from None
        return result.as_dict()

    @router.get("/accounts/{account_id}/pushes")
    def pushes(request: Request, account_id: int) -> list[dict[str, Any]]:
        return [p.as_dict() for p in account_of(request, account_id).pushes]

    @router.get("/accounts/{account_id}/calls")
    def calls(request: Request, account_id: int) -> dict[str, Any]:
        return account_of(request, account_id).counter.as_dict()

    @router.post("/accounts/{account_id}/calls/reset")
    def reset_calls(request: Request, account_id: int) -> dict[str, Any]:
        account = account_of(request, account_id)
        account.counter = type(account.counter)()
        account.bucket.reset()
        return account.counter.as_dict()

    @router.post("/reset")
    def reset(request: Request) -> dict[str, Any]:
        state = _state(request)
        state.reset()
        return state.demo.summary()

    return router


def create_app(config: OnportSandboxConfig | None = None, clock: Clock = time.monotonic) -> FastAPI:
    """The sandbox app; ``app.state.sandbox`` is its :class:`OnportState`. ``clock`` drives the leaky
    bucket, so tests can move time instead of sleeping."""
    config = config or OnportSandboxConfig()
    app = FastAPI(title="Onport sandbox", docs_url="/_sandbox/docs", openapi_url="/_sandbox/openapi.json")
    app.state.sandbox = OnportState(config, clock)
    app.state.config = config

    @app.exception_handler(OnportError)
    async def onport_error(request: Request, error: OnportError) -> Response:
        return JSONResponse(
            {"statusCode": error.status_code, "error": error.message},
            status_code=error.status_code,
            headers=error.headers,
        )

    @app.get("/_sandbox/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(_api_router(config))
    app.include_router(_control_router())
    return app
