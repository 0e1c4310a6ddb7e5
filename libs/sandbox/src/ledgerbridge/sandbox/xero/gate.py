"""Everything that happens to an accounting call before and after the route: bearer token, tenant header,
scopes, limits, latency, faults, idempotency replay, counters and the limit headers.

It is plain ASGI rather than an HTTP middleware because a "response lost" fault must send the response
head and then break the connection, which needs control of ``send``.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledgerbridge.sandbox.xero.accounting import PREFIX
from ledgerbridge.sandbox.xero.errors import problem
from ledgerbridge.sandbox.xero.faults import ResponseLostError
from ledgerbridge.sandbox.xero.idempotency import fingerprint
from ledgerbridge.sandbox.xero.limits import check_and_enter, leave, limit_headers
from ledgerbridge.sandbox.xero.state import AccessTokenRecord, SandboxState

WRITE_METHODS = ("PUT", "POST")

# Which granular scopes (or the broad legacy ones) let a token use a resource; reads also accept .read.
SCOPES_BY_RESOURCE = {
    "invoices": ("accounting.invoices", "accounting.transactions"),
    "creditnotes": ("accounting.invoices", "accounting.transactions"),
    "payments": ("accounting.payments", "accounting.transactions"),
    "contacts": ("accounting.contacts",),
    "organisation": ("accounting.settings",),
    "accounts": ("accounting.settings",),
    "taxrates": ("accounting.settings",),
    "brandingthemes": ("accounting.settings",),
    "currencies": ("accounting.settings",),
    "items": ("accounting.settings",),
}


def _scope_allows(token: AccessTokenRecord, path: str, method: str) -> bool:
    resource = path[len(PREFIX) :].strip("/").split("/")[0].lower()
    needed = SCOPES_BY_RESOURCE.get(resource)
    if needed is None:
        return True
    granted = token.scopes
    return any(scope in granted or (method == "GET" and f"{scope}.read" in granted) for scope in needed)


def _json_body(
    status: int, body: Any, headers: dict[str, str]
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json; charset=utf-8")]
    raw_headers += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return status, raw_headers, payload


class AccountingGate:
    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        status, headers, body = await self._handle(scope, receive, send)
        await _send(send, status, headers, body)

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        state = self.state
        now = state.now()
        headers = Headers(scope=scope)
        method: str = scope["method"]
        path: str = scope["path"]

        authorization = headers.get("authorization", "")
        token_text = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
        token = state.access_tokens.get(token_text)
        if token is None or token.revoked or token.expires_at <= now:
            detail = (
                "TokenExpired: token expired at"
                if token and not token.revoked
                else "AuthenticationUnsuccessful"
            )
            return _json_body(
                401,
                problem(401, "Unauthorized", detail, path),
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        tenant_id = (headers.get("xero-tenant-id") or "").strip().lower()
        connected = {connection.tenant_id for connection in state.active_connections(token.client_id)}
        if not tenant_id or tenant_id not in connected:
            return _json_body(403, problem(403, "Forbidden", "AuthenticationUnsuccessful", path), {})
        if state.config.enforce_scopes and not _scope_allows(token, path, method):
            return _json_body(401, problem(401, "Unauthorized", "AuthorizationUnsuccessful", path), {})
        org = state.orgs[tenant_id]

        verdict = check_and_enter(org.limits, state.app_minute, now)
        if verdict.problem is not None:
            org.counters.rate_limited += 1
            state.rate_limited_total += 1
            limited = limit_headers(org.limits, state.app_minute, now)
            limited.update({"Retry-After": str(verdict.retry_after), "X-Rate-Limit-Problem": verdict.problem})
            return _json_body(
                429, problem(429, "Too Many Requests", f"Rate limit exceeded: {verdict.problem}"), limited
            )
        try:
            return await self._admitted(scope, receive, send, tenant_id, method, path, headers, token)
        finally:
            leave(org.limits)

    async def _admitted(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        tenant_id: str,
        method: str,
        path: str,
        headers: Headers,
        token: AccessTokenRecord,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        state = self.state
        org = state.orgs[tenant_id]
        org.counters.calls += 1
        endpoint = path[len(PREFIX) :].strip("/").split("/")[0]
        org.counters.by_endpoint[f"{method} {endpoint}"] += 1

        delay = state.latency_ms + (
            random.random() * state.latency_jitter_ms if state.latency_jitter_ms else 0
        )
        if delay > 0:
            await asyncio.sleep(delay / 1000)

        body = await _read_body(receive)
        key = headers.get("idempotency-key") if method in WRITE_METHODS else None
        print_ = fingerprint(method, path + "?" + scope.get("query_string", b"").decode(), body)
        if key is not None:
            if len(key) > state.config.idempotency_key_max_length or not key:
                return self._with_limits(
                    tenant_id,
                    *_json_body(
                        400,
                        {
                            "ErrorNumber": 10,
                            "Type": "ValidationException",
                            "Message": f"Idempotency-Key must be 1 to "
                            f"{state.config.idempotency_key_max_length} characters long",
                            "Elements": [],
                        },
                        {},
                    ),
                )
            stored = state.idempotency.lookup(tenant_id, key, state.now())
            if stored is not None:
                if stored.fingerprint != print_:
                    return self._with_limits(
                        tenant_id,
                        *_json_body(
                            400,
                            {
                                "ErrorNumber": 10,
                                "Type": "ValidationException",
                                "Message": "This Idempotency-Key was already used for a different request",
                                "Elements": [],
                            },
                            {},
                        ),
                    )
                state.idempotency.replays += 1
                replay_headers = [*stored.headers, (b"idempotent-replayed", b"true")]
                return self._with_limits(tenant_id, stored.status, replay_headers, stored.body)

        fault = org.faults.draw(method)
        if fault is not None:
            org.counters.faults += 1
        if fault == "429":
            org.counters.rate_limited += 1
            state.rate_limited_total += 1
            return self._with_limits(
                tenant_id,
                *_json_body(
                    429,
                    problem(429, "Too Many Requests", "Rate limit exceeded: minute"),
                    {"Retry-After": "1", "X-Rate-Limit-Problem": "minute"},
                ),
            )
        if fault in ("500", "503"):
            status = int(fault)
            title = "Internal Server Error" if status == 500 else "Service Unavailable"
            return self._with_limits(
                tenant_id, *_json_body(status, problem(status, title, "Injected fault"), {})
            )
        if fault == "slow":
            await asyncio.sleep(org.faults.slow_seconds)

        scope["xero_tenant_id"] = tenant_id
        scope["xero_token"] = token
        status, response_headers, response_body = await _call(self.app, scope, body)
        if key is not None and status < 500:
            state.idempotency.store(
                tenant_id, key, state.now(), print_, status, response_headers, response_body
            )
        status, response_headers, response_body = self._with_limits(
            tenant_id, status, response_headers, response_body
        )
        if fault == "lost_response":
            # The work is committed; now break the connection after the head, as a dropped link would.
            length = str(len(response_body)).encode()
            head = [(name, value) for name, value in response_headers if name != b"content-length"]
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [*head, (b"content-length", length)],
                }
            )
            raise ResponseLostError("sandbox fault: the response was lost after the request was committed")
        if fault == "hang":
            await asyncio.sleep(org.faults.hang_seconds)
        return status, response_headers, response_body

    def _with_limits(
        self, tenant_id: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        org = self.state.orgs[tenant_id]
        extra = limit_headers(org.limits, self.state.app_minute, self.state.now())
        names = {name.lower().encode() for name in extra}
        kept = [(name, value) for name, value in headers if name not in names]
        return status, kept + [(name.lower().encode(), value.encode()) for name, value in extra.items()], body


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _call(app: ASGIApp, scope: Scope, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run the inner app on an already-read body and capture its whole response."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # a client that stays connected
        return {"type": "http.disconnect"}

    captured: dict[str, Any] = {"status": 500, "headers": [], "body": []}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            captured["status"] = message["status"]
            captured["headers"] = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            captured["body"].append(message.get("body", b""))

    await app(scope, receive, send)
    return captured["status"], captured["headers"], b"".join(captured["body"])


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    head = [(name, value) for name, value in headers if name.lower() != b"content-length"]
    head.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})
