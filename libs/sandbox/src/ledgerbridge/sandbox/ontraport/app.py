"""The ONTRAPORT sandbox as a FastAPI app; its root stands for ``https://api.ontraport.com/1``.

API routes need ``Api-Appid`` and ``Api-Key``, answer ``{"code":0,"data":…,"account_id":…}`` and carry
``X-Rate-Limit-*`` headers. Errors are short plain-text bodies with the status code, as ONTRAPORT sends.
Routes under ``/_sandbox`` control the sandbox and need no credentials.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.ontraport.criteria import ConditionError, matches, parse_condition
from ledgerbridge.sandbox.ontraport.generator import NameVariety
from ledgerbridge.sandbox.ontraport.state import (
    OBJECT_NAMES,
    Account,
    OntraportState,
    UnknownTransactionError,
)
from ledgerbridge.sandbox.ontraport.webhooks import fire
from ledgerbridge.sandbox.ratelimit import Clock


class OntraportError(Exception):
    def __init__(self, status_code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = headers or {}


def _state(request: Request) -> OntraportState:
    state: OntraportState = request.app.state.sandbox
    return state


def _account(request: Request, response: Response) -> Account:
    state = _state(request)
    account = state.authenticate(request.headers.get("Api-Appid"), request.headers.get("Api-Key"))
    if account is None:
        raise OntraportError(401, "Your App ID and API Key do not authenticate.")
    route = request.scope.get("route")
    endpoint = f"{request.method} {getattr(route, 'path', request.url.path)}"
    account.counter.calls += 1
    account.counter.by_endpoint[endpoint] += 1
    decision = account.limiter.hit()
    if not decision.allowed:
        account.counter.throttled += 1
        raise OntraportError(
            429,
            "Rate limit exceeded. Please try again later.",
            {"X-Rate-Limit-Reset": str(decision.reset_seconds)},
        )
    response.headers["X-Rate-Limit-Limit"] = str(decision.limit)
    response.headers["X-Rate-Limit-Remaining"] = str(decision.remaining)
    response.headers["X-Rate-Limit-Reset"] = str(decision.reset_seconds)
    return account


AccountDep = Annotated[Account, Depends(_account)]


def _envelope(account: Account, data: Any) -> dict[str, Any]:
    return {"code": 0, "data": data, "account_id": str(account.account_id)}


def _int_param(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise OntraportError(400, f"Invalid {name}: {value}") from None


def _select(
    records: list[dict[str, str]],
    condition: str | None,
) -> list[dict[str, str]]:
    try:
        parsed = parse_condition(condition)
    except ConditionError as error:
        raise OntraportError(400, str(error)) from None
    return [record for record in records if matches(parsed, record)]


def _sort_key(field: str) -> Any:
    def key(record: dict[str, str]) -> tuple[int, Decimal, str]:
        value = record.get(field, "")
        try:
            return (0, Decimal(value), "")
        except (InvalidOperation, ValueError):
            return (1, Decimal(0), value)

    return key


def _list_fields(listfields: str | None) -> list[str] | None:
    if not listfields:
        return None
    return [name.strip() for name in listfields.split(",") if name.strip()]


def _page(
    config: OntraportSandboxConfig,
    records: list[dict[str, str]],
    params: dict[str, str],
) -> list[dict[str, str]]:
    selected = _select(records, params.get("condition"))
    sort = params.get("sort")
    if sort:
        descending = params.get("sortDir", "asc").lower() == "desc"
        selected = sorted(selected, key=_sort_key(sort), reverse=descending)
    start = max(0, _int_param(params.get("start"), "start", 0))
    # ONTRAPORT silently serves at most 50 records however many were asked for.
    size = min(max(0, _int_param(params.get("range"), "range", config.max_range)), config.max_range)
    page = selected[start : start + size]
    fields = _list_fields(params.get("listFields"))
    if fields is not None:
        page = [{name: record[name] for name in fields if name in record} for record in page]
    return page


def _info(records: list[dict[str, str]], params: dict[str, str]) -> dict[str, Any]:
    selected = _select(records, params.get("condition"))
    fields = _list_fields(params.get("listFields")) or (list(records[0]) if records else [])
    return {"listFields": fields, "listFieldSettings": [], "count": str(len(selected))}


def _object_records(account: Account, params: dict[str, str]) -> tuple[int, list[dict[str, str]]]:
    object_id = _int_param(params.get("objectID"), "objectID", -1)
    try:
        return object_id, account.objects(object_id)
    except KeyError:
        raise OntraportError(400, f"Invalid objectID: {params.get('objectID')}") from None


def _find(records: list[dict[str, str]], record_id: str | None) -> dict[str, str]:
    if not record_id:
        raise OntraportError(400, "Invalid ID")
    for record in records:
        if record.get("id") == record_id:
            return record
    raise OntraportError(404, "Object not found")


def _meta(object_id: int, records: list[dict[str, str]]) -> dict[str, Any]:
    names = list(records[0]) if records else ["id"]
    fields = {
        name: {"alias": name.replace("_", " ").title(), "type": "text", "required": "0", "unique": "0"}
        for name in names
        if name != "id"
    }
    return {str(object_id): {"name": OBJECT_NAMES[object_id], "fields": fields}}


async def _form_or_json(request: Request) -> dict[str, str]:
    values: dict[str, str] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        body = await request.json()
        if isinstance(body, dict):
            values.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
    elif content_type:
        form = await request.form()
        values.update({k: v for k, v in form.items() if isinstance(v, str)})
    return values


def _api_router(config: OntraportSandboxConfig) -> APIRouter:
    router = APIRouter()

    @router.get("/Transactions")
    def list_transactions(request: Request, account: AccountDep) -> dict[str, Any]:
        return _envelope(account, _page(config, account.objects(46), dict(request.query_params)))

    @router.get("/Transactions/getInfo")
    def transactions_info(request: Request, account: AccountDep) -> dict[str, Any]:
        return _envelope(account, _info(account.objects(46), dict(request.query_params)))

    @router.get("/Transaction")
    def get_transaction(request: Request, account: AccountDep) -> dict[str, Any]:
        return _envelope(account, _find(account.objects(46), request.query_params.get("id")))

    @router.get("/Transaction/Order")
    def get_order(request: Request, account: AccountDep) -> dict[str, Any]:
        record = _find(account.objects(46), request.query_params.get("id"))
        try:
            offer = json.loads(record.get("offer_data") or "{}")
        except json.JSONDecodeError:
            raise OntraportError(400, "Transaction has no readable order") from None
        order = {
            "transaction_id": record["id"],
            "contact_id": record.get("contact_id", ""),
            "gateway_id": record.get("gateway_id", ""),
            "status": record.get("status", ""),
            "offer": offer,
        }
        return _envelope(account, order)

    @router.get("/objects")
    def list_objects(request: Request, account: AccountDep) -> dict[str, Any]:
        params = dict(request.query_params)
        _, records = _object_records(account, params)
        return _envelope(account, _page(config, records, params))

    @router.get("/objects/getInfo")
    def objects_info(request: Request, account: AccountDep) -> dict[str, Any]:
        params = dict(request.query_params)
        _, records = _object_records(account, params)
        return _envelope(account, _info(records, params))

    @router.get("/objects/meta")
    def objects_meta(request: Request, account: AccountDep) -> dict[str, Any]:
        object_id, records = _object_records(account, dict(request.query_params))
        return _envelope(account, _meta(object_id, records))

    @router.get("/object")
    def get_object(request: Request, account: AccountDep) -> dict[str, Any]:
        params = dict(request.query_params)
        _, records = _object_records(account, params)
        return _envelope(account, _find(records, params.get("id")))

    @router.post("/Webhook/subscribe")
    async def subscribe(request: Request, account: AccountDep) -> dict[str, Any]:
        values = await _form_or_json(request)
        url, event = values.get("url", ""), values.get("event", "")
        if not url.startswith(("http://", "https://")) or not event:
            raise OntraportError(400, "Invalid webhook: url and event are required")
        subscription = account.subscribe(url, event, values.get("data", ""))
        return _envelope(account, subscription.as_dict(account.account_id))

    @router.delete("/Webhook/unsubscribe")
    async def unsubscribe(request: Request, account: AccountDep) -> dict[str, Any]:
        values = await _form_or_json(request)
        webhook_id = _int_param(values.get("id"), "id", -1)
        if account.webhooks.pop(webhook_id, None) is None:
            raise OntraportError(404, "Object not found")
        return _envelope(account, [])

    @router.get("/Webhooks")
    def list_webhooks(request: Request, account: AccountDep) -> dict[str, Any]:
        records = [s.as_dict(account.account_id) for s in account.webhooks.values()]
        return _envelope(account, _page(config, records, dict(request.query_params)))

    return router


class NewAccount(BaseModel):
    seed: int = 1
    transactions: int = Field(default=20, ge=0)
    contacts: int = Field(default=10, ge=1)
    names: NameVariety = "varied"
    """``few``: the contacts share 90 name pairs, so many are namesakes (a run full of Xero name clashes)."""


class AddTransactions(BaseModel):
    count: int = Field(default=0, ge=0)
    records: list[dict[str, Any]] = []
    """Explicit transactions: products [{product_id, quantity} | {name, price, quantity, taxable}],
    tax_id, shipping_id, coupon_code, coupon_in ("offer_data" or "purchases": where the coupon shows),
    status, contact_id, gateway_id, date, refunded, variant."""
    raw: list[dict[str, Any]] = []
    """Records stored exactly as given, e.g. with an ``offer_data`` no parser can read."""
    fire_event: str | None = None
    """When set, fire this webhook event for every added transaction."""


class StatusChange(BaseModel):
    status: int = Field(ge=0, le=7)
    refunded: str | None = None
    """For a partial refund (3): the amount refunded now; a generated amount when omitted."""
    fire_event: str | None = None


class ContactChange(BaseModel):
    """A contact edited in ONTRAPORT: only the fields the sandbox serves for contacts."""

    model_config = ConfigDict(extra="forbid")

    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None


class FireWebhook(BaseModel):
    transaction_id: int
    event: str = "transaction_created"


def _control_router() -> APIRouter:
    router = APIRouter(prefix="/_sandbox")

    def account_of(request: Request, account_id: int) -> Account:
        account = _state(request).accounts.get(account_id)
        if account is None:
            raise OntraportError(404, f"No sandbox account {account_id}")
        return account

    @router.post("/accounts")
    def create_account(request: Request, body: Annotated[NewAccount | None, Body()] = None) -> dict[str, Any]:
        body = body or NewAccount()
        account = _state(request).create_account(
            seed=body.seed, transactions=body.transactions, contacts=body.contacts, names=body.names
        )
        return account.summary()

    @router.get("/accounts")
    def list_accounts(request: Request) -> list[dict[str, Any]]:
        return [account.summary() for account in _state(request).accounts.values()]

    @router.get("/accounts/{account_id}")
    def get_account(request: Request, account_id: int) -> dict[str, Any]:
        return account_of(request, account_id).summary()

    @router.post("/accounts/{account_id}/transactions")
    async def add_transactions(request: Request, account_id: int, body: AddTransactions) -> dict[str, Any]:
        account = account_of(request, account_id)
        ids = account.generate(body.count)
        for spec_body in body.records:
            try:
                spec = account.factory.spec_from_request(spec_body)
            except (KeyError, ValueError, InvalidOperation) as error:
                raise OntraportError(400, f"Bad transaction record: {error!r}") from None
            ids.append(int(account.put_spec(spec)["id"]))
        ids.extend(int(account.put_raw(record)["id"]) for record in body.raw)
        deliveries: list[dict[str, Any]] = []
        if body.fire_event:
            for transaction_id in ids:
                sent = await fire(
                    account, transaction_id, body.fire_event, _state(request).config.webhook_timeout_seconds
                )
                deliveries.extend(d.as_dict() for d in sent)
        return {"ids": ids, "deliveries": deliveries}

    @router.patch("/accounts/{account_id}/contacts/{contact_id}")
    def change_contact(
        request: Request, account_id: int, contact_id: int, body: ContactChange
    ) -> dict[str, str]:
        account = account_of(request, account_id)
        contact = next((c for c in account.contacts if c["id"] == str(contact_id)), None)
        if contact is None:
            raise OntraportError(404, f"No contact {contact_id}")
        contact.update(body.model_dump(exclude_unset=True, exclude_none=True))
        return contact

    @router.post("/accounts/{account_id}/transactions/{transaction_id}/status")
    async def change_status(
        request: Request, account_id: int, transaction_id: int, body: StatusChange
    ) -> dict[str, Any]:
        account = account_of(request, account_id)
        try:
            refunded = Decimal(body.refunded) if body.refunded is not None else None
            record = account.set_status(transaction_id, body.status, refunded)
        except UnknownTransactionError:
            raise OntraportError(404, f"No transaction {transaction_id}") from None
        except (ValueError, InvalidOperation) as error:
            raise OntraportError(400, str(error)) from None
        deliveries: list[dict[str, Any]] = []
        if body.fire_event:
            sent = await fire(
                account, transaction_id, body.fire_event, _state(request).config.webhook_timeout_seconds
            )
            deliveries = [d.as_dict() for d in sent]
        return {"transaction": record, "deliveries": deliveries}

    @router.post("/accounts/{account_id}/webhooks/fire")
    async def fire_webhook(request: Request, account_id: int, body: FireWebhook) -> dict[str, Any]:
        account = account_of(request, account_id)
        if body.transaction_id not in account.transactions:
            raise OntraportError(404, f"No transaction {body.transaction_id}")
        sent = await fire(
            account, body.transaction_id, body.event, _state(request).config.webhook_timeout_seconds
        )
        return {"deliveries": [d.as_dict() for d in sent]}

    @router.get("/accounts/{account_id}/webhooks/deliveries")
    def deliveries(request: Request, account_id: int) -> list[dict[str, Any]]:
        return [d.as_dict() for d in account_of(request, account_id).deliveries]

    @router.get("/accounts/{account_id}/calls")
    def calls(request: Request, account_id: int) -> dict[str, Any]:
        return account_of(request, account_id).counter.as_dict()

    @router.post("/accounts/{account_id}/calls/reset")
    def reset_calls(request: Request, account_id: int) -> dict[str, Any]:
        account = account_of(request, account_id)
        account.counter = type(account.counter)()
        account.limiter.reset()
        return account.counter.as_dict()

    @router.post("/reset")
    def reset(request: Request) -> dict[str, Any]:
        state = _state(request)
        state.reset()
        return state.demo.summary()

    return router


def create_app(config: OntraportSandboxConfig | None = None, clock: Clock = time.monotonic) -> FastAPI:
    """The sandbox app; ``app.state.sandbox`` is its :class:`OntraportState`. ``clock`` drives the rate
    limiter, so tests can move time instead of sleeping."""
    config = config or OntraportSandboxConfig()
    app = FastAPI(title="ONTRAPORT sandbox", docs_url="/_sandbox/docs", openapi_url="/_sandbox/openapi.json")
    app.state.sandbox = OntraportState(config, clock)
    app.state.config = config

    @app.exception_handler(OntraportError)
    async def ontraport_error(request: Request, error: OntraportError) -> Response:
        return PlainTextResponse(error.message, status_code=error.status_code, headers=error.headers)

    @app.get("/_sandbox/health")
    def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app.include_router(_api_router(config))
    app.include_router(_control_router())
    return app
