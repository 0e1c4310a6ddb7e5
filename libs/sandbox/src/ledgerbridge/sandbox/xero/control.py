"""Sandbox control endpoints under ``/_sandbox``: things a test or a demo needs that Xero has no API for."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from ledgerbridge.sandbox.xero import books
from ledgerbridge.sandbox.xero.accounting import webhook_events
from ledgerbridge.sandbox.xero.books import Batch, ValidationFailed, public
from ledgerbridge.sandbox.xero.dates import ms_date_of
from ledgerbridge.sandbox.xero.faults import FaultPlan, FaultSettingsIn
from ledgerbridge.sandbox.xero.oauth import issue_tokens
from ledgerbridge.sandbox.xero.seed import COUNTRIES, build_organisation
from ledgerbridge.sandbox.xero.state import Organisation, SandboxState

router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _org(state: SandboxState, tenant_id: str) -> Organisation:
    org = state.orgs.get(tenant_id.lower())
    if org is None:
        raise HTTPException(404, f"no organisation {tenant_id}")
    return org


def describe(org: Organisation) -> dict[str, Any]:
    return {
        "tenantId": org.tenant_id,
        "name": org.name,
        "country": org.country,
        "baseCurrency": org.base_currency,
        "isDemo": org.is_demo,
        "currencies": sorted(org.currencies),
    }


class NewOrganisation(BaseModel):
    country: str = Field(default="AU", description="AU, UK or US")
    name: str | None = None
    connect_client_id: str | None = Field(
        default=None, description="connect it at once to this client's existing consent (no OAuth round trip)"
    )
    include_in_next_consent: bool = False


class Consent(BaseModel):
    tenant_ids: list[str]


class MintTokens(BaseModel):
    client_id: str | None = None
    tenant_ids: list[str] | None = None
    scope: str = (
        "openid profile email offline_access accounting.invoices accounting.payments accounting.contacts "
        "accounting.settings.read"
    )


class LimitOverrides(BaseModel):
    tenant_id: str
    minute_limit: int | None = None
    day_limit: int | None = None
    concurrent_limit: int | None = None


class Latency(BaseModel):
    latency_ms: float = 0
    latency_jitter_ms: float = 0


class WebhookRegistration(BaseModel):
    url: str | None
    key: str | None
    categories: list[str] | None = None


class ClockAdvance(BaseModel):
    seconds: float


class LockDates(BaseModel):
    """What a bookkeeper sets in Xero's Advanced settings; null clears one."""

    period_lock_date: date | None = None
    end_of_year_lock_date: date | None = None


@router.get("/organisations")
async def list_organisations(request: Request) -> list[dict[str, Any]]:
    return [describe(org) for org in _state(request).orgs.values()]


@router.post("/organisations", status_code=201)
async def create_organisation(request: Request, body: NewOrganisation) -> dict[str, Any]:
    state = _state(request)
    country = body.country.upper()
    if country not in COUNTRIES:
        raise HTTPException(422, f"country must be one of {', '.join(COUNTRIES)}")
    tenant_id = str(uuid.uuid4())
    org = build_organisation(
        state, country, body.name or f"Test Company {tenant_id[:8]} ({country})", tenant_id, is_demo=False
    )
    state.orgs[tenant_id] = org
    if body.include_in_next_consent:
        state.next_consent_tenant_ids = [*(state.next_consent_tenant_ids or []), tenant_id]
    result = describe(org)
    if body.connect_client_id:
        connection = state.connect(body.connect_client_id, tenant_id, str(uuid.uuid4()))
        result["connectionId"] = connection.id
    return result


@router.delete("/organisations/{tenant_id}", status_code=204)
async def delete_organisation(request: Request, tenant_id: str) -> None:
    state = _state(request)
    _org(state, tenant_id)
    del state.orgs[tenant_id.lower()]


@router.put("/organisations/{tenant_id}/lock-dates")
async def set_lock_dates(request: Request, tenant_id: str, body: LockDates) -> dict[str, Any]:
    org = _org(_state(request), tenant_id)
    for name, value in (
        ("PeriodLockDate", body.period_lock_date),
        ("EndOfYearLockDate", body.end_of_year_lock_date),
    ):
        # Xero shows a lock date only when it is set.
        if value is None:
            org.organisation.pop(name, None)
        else:
            org.organisation[name] = ms_date_of(value)
    return {name: org.organisation.get(name) for name in ("PeriodLockDate", "EndOfYearLockDate")}


class ApproveDraft(BaseModel):
    """A bookkeeper approving a draft invoice in Xero's web app, optionally editing its lines first."""

    line_items: list[dict[str, Any]] | None = Field(
        default=None, description="the invoice's LineItems as edited before approving (Xero's shape)"
    )


@router.post("/organisations/{tenant_id}/invoices/{invoice_id}/approve")
async def approve_draft(
    request: Request, tenant_id: str, invoice_id: str, body: ApproveDraft
) -> dict[str, Any]:
    """Approve a DRAFT or SUBMITTED invoice the way Xero's web app does: the same validation as the API,
    and the INVOICE UPDATE webhook Xero sends."""
    state = _state(request)
    org = _org(state, tenant_id)
    existing = books.find_document(org, "invoices", invoice_id)
    if existing is None:
        raise HTTPException(404, f"no invoice {invoice_id}")
    if existing["Status"] not in ("DRAFT", "SUBMITTED"):
        raise HTTPException(409, f"invoice {invoice_id} is {existing['Status']}; only drafts are approved")
    element: dict[str, Any] = {"InvoiceID": existing["InvoiceID"], "Status": "AUTHORISED"}
    if body.line_items is not None:
        element["LineItems"] = body.line_items
    batch = Batch(org, state.now())
    try:
        approved = books.upsert_document(batch, element, "invoice", path_id=existing["InvoiceID"])
    except ValidationFailed as error:
        batch.rollback()
        raise HTTPException(422, "; ".join(error.messages)) from error
    state.webhooks.emit(webhook_events(request, batch))
    return public(approved)


@router.post("/consent")
async def choose_consent(request: Request, body: Consent) -> dict[str, Any]:
    state = _state(request)
    for tenant_id in body.tenant_ids:
        _org(state, tenant_id)
    state.next_consent_tenant_ids = [tenant_id.lower() for tenant_id in body.tenant_ids]
    return {"next_consent_tenant_ids": state.next_consent_tenant_ids}


@router.post("/tokens")
async def mint_tokens(request: Request, body: MintTokens) -> dict[str, Any]:
    """A token set without the browser round trip, connected to the given (or demo) organisations."""
    state = _state(request)
    client_id = body.client_id or state.config.client_id
    if client_id not in state.config.clients():
        raise HTTPException(404, f"unknown client {client_id}")
    tenant_ids = (
        [t.lower() for t in body.tenant_ids] if body.tenant_ids is not None else state.demo_tenant_ids
    )
    auth_event = str(uuid.uuid4())
    for tenant_id in tenant_ids:
        _org(state, tenant_id)
        state.connect(client_id, tenant_id, auth_event)
    return {**issue_tokens(state, client_id, " ".join(body.scope.split())), "tenant_ids": tenant_ids}


@router.post("/tokens/expire")
async def expire_access_tokens(request: Request) -> dict[str, int]:
    state = _state(request)
    now = state.now()
    expired = 0
    for record in state.access_tokens.values():
        if record.expires_at > now:
            record.expires_at = now
            expired += 1
    return {"expired": expired}


@router.get("/faults")
async def read_faults(request: Request) -> dict[str, Any]:
    return {tenant_id: org.faults.describe() for tenant_id, org in _state(request).orgs.items()}


@router.post("/faults")
async def set_faults(request: Request, body: FaultSettingsIn) -> dict[str, Any]:
    state = _state(request)
    targets = [_org(state, body.tenant_id)] if body.tenant_id else list(state.orgs.values())
    for org in targets:
        org.faults = FaultPlan.from_settings(body)
    return {org.tenant_id: org.faults.describe() for org in targets}


@router.delete("/faults")
async def clear_faults(request: Request, tenant_id: str | None = None) -> dict[str, str]:
    state = _state(request)
    targets = [_org(state, tenant_id)] if tenant_id else list(state.orgs.values())
    for org in targets:
        org.faults = FaultPlan()
    return {"status": "cleared"}


@router.post("/limits")
async def set_limits(request: Request, body: LimitOverrides) -> dict[str, Any]:
    org = _org(_state(request), body.tenant_id)
    if body.minute_limit is not None:
        org.limits.minute.limit = body.minute_limit
    if body.day_limit is not None:
        org.limits.day.limit = body.day_limit
    if body.concurrent_limit is not None:
        org.limits.concurrent_limit = body.concurrent_limit
    return {
        "minute_limit": org.limits.minute.limit,
        "day_limit": org.limits.day.limit,
        "concurrent_limit": org.limits.concurrent_limit,
    }


@router.post("/latency")
async def set_latency(request: Request, body: Latency) -> dict[str, float]:
    state = _state(request)
    state.latency_ms = body.latency_ms
    state.latency_jitter_ms = body.latency_jitter_ms
    return {"latency_ms": state.latency_ms, "latency_jitter_ms": state.latency_jitter_ms}


@router.get("/counters")
async def counters(request: Request) -> dict[str, Any]:
    state = _state(request)
    return {**state.counters(), "idempotent_replays": state.idempotency.replays}


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    state = _state(request)
    state.reset()
    return {"status": "reset", "organisations": [describe(org) for org in state.orgs.values()]}


@router.post("/clock/advance")
async def advance_clock(request: Request, body: ClockAdvance) -> dict[str, float]:
    """Move the sandbox's clock forward: token expiry, grace windows, limit windows, idempotency."""
    state = _state(request)
    state.clock_offset += body.seconds
    return {"offset_seconds": state.clock_offset}


@router.post("/webhooks")
async def register_webhook(request: Request, body: WebhookRegistration) -> dict[str, Any]:
    state = _state(request)
    state.webhooks.configure(body.url, body.key, body.categories)
    return {"url": state.webhooks.url, "categories": sorted(state.webhooks.categories)}


@router.get("/webhooks/deliveries")
async def webhook_deliveries(request: Request) -> list[dict[str, Any]]:
    state = _state(request)
    await state.webhooks.drain()
    return [delivery.describe() for delivery in state.webhooks.deliveries]


@router.post("/webhooks/intent-to-receive")
async def intent_to_receive(request: Request) -> dict[str, Any]:
    return await _state(request).webhooks.intent_to_receive()
