"""Xero's identity service: authorize (auto-consent), token, revocation, and the connections API.

Refresh tokens rotate on every use. The token a refresh replaced is accepted again only within the grace
window and only while the token it produced has never been used, which is how a client recovers from a
lost response; anything else is ``invalid_grant``, the error two racing workers get.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from typing import Any
from urllib.parse import urlencode, urlparse

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from ledgerbridge.sandbox.xero.dates import utc_string
from ledgerbridge.sandbox.xero.errors import problem
from ledgerbridge.sandbox.xero.state import (
    AccessTokenRecord,
    AuthorizationCode,
    RefreshTokenRecord,
    SandboxState,
)

router = APIRouter()


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def mint_access_token(state: SandboxState, client_id: str, scope: str, family: str) -> AccessTokenRecord:
    """A JWT-looking bearer token; it is opaque to clients and only looked up here."""
    now = state.now()
    expires = now + state.config.access_token_ttl_seconds
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "sandbox"}).encode())
    claims = {
        "iss": "https://identity.xero.com",
        "nbf": int(now),
        "exp": int(expires),
        "client_id": client_id,
        "scope": scope.split(),
        "jti": secrets.token_hex(16),
    }
    token = f"{header}.{_b64url(json.dumps(claims).encode())}.{_b64url(secrets.token_bytes(32))}"
    record = AccessTokenRecord(token, client_id, scope, family, expires)
    state.access_tokens[token] = record
    return record


def mint_refresh_token(state: SandboxState, client_id: str, scope: str, family: str) -> RefreshTokenRecord:
    now = state.now()
    record = RefreshTokenRecord(
        token=secrets.token_hex(32),
        client_id=client_id,
        scope=scope,
        family=family,
        issued_at=now,
        expires_at=now + state.config.refresh_token_ttl_seconds,
    )
    state.refresh_tokens[record.token] = record
    return record


def token_response(
    state: SandboxState, access: AccessTokenRecord, refresh: RefreshTokenRecord | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": access.token,
        "expires_in": state.config.access_token_ttl_seconds,
        "token_type": "Bearer",
        "scope": access.scope,
    }
    if refresh is not None:
        body["refresh_token"] = refresh.token
    if "openid" in access.scope.split():
        body["id_token"] = access.token
    state.tokens_issued[access.client_id] += 1
    return body


def issue_tokens(state: SandboxState, client_id: str, scope: str) -> dict[str, Any]:
    family = str(uuid.uuid4())
    access = mint_access_token(state, client_id, scope, family)
    refresh = (
        mint_refresh_token(state, client_id, scope, family) if "offline_access" in scope.split() else None
    )
    return token_response(state, access, refresh)


def _redirect_allowed(state: SandboxState, redirect_uri: str) -> bool:
    parsed = urlparse(redirect_uri)
    return parsed.scheme in ("http", "https") and (parsed.hostname or "") in state.config.redirect_hosts


def consent_tenants(state: SandboxState) -> list[str]:
    if state.next_consent_tenant_ids is not None:
        chosen = state.next_consent_tenant_ids
        state.next_consent_tenant_ids = None
        return [tenant for tenant in chosen if tenant in state.orgs]
    return list(state.demo_tenant_ids)


@router.get("/identity/connect/authorize", response_model=None)
async def authorize(request: Request) -> Response:
    state = _state(request)
    params = request.query_params
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    if client_id not in state.config.clients():
        return HTMLResponse("<h1>unauthorized_client</h1><p>Unknown client_id</p>", status_code=400)
    if not _redirect_allowed(state, redirect_uri):
        return HTMLResponse("<h1>invalid_request</h1><p>Invalid redirect_uri</p>", status_code=400)
    if params.get("response_type") != "code":
        return _redirect_error(redirect_uri, "unsupported_response_type", params.get("state"))
    scope = " ".join(params.get("scope", "").split())
    if not scope:
        return _redirect_error(redirect_uri, "invalid_scope", params.get("state"))
    method = params.get("code_challenge_method")
    challenge = params.get("code_challenge")
    if challenge and (method or "plain") not in ("S256", "plain"):
        return _redirect_error(redirect_uri, "invalid_request", params.get("state"))
    code = AuthorizationCode(
        code=secrets.token_urlsafe(32),
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        code_challenge=challenge,
        code_challenge_method=(method or "plain") if challenge else None,
        tenant_ids=consent_tenants(state),
        auth_event_id=str(uuid.uuid4()),
        expires_at=state.now() + state.config.authorization_code_ttl_seconds,
    )
    state.codes[code.code] = code
    query: dict[str, str] = {"code": code.code, "scope": scope}
    if params.get("state") is not None:
        query["state"] = params["state"]
    return RedirectResponse(_with_query(redirect_uri, query), status_code=302)


def _with_query(url: str, query: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(query)


def _redirect_error(redirect_uri: str, error: str, state_value: str | None) -> RedirectResponse:
    query = {"error": error}
    if state_value is not None:
        query["state"] = state_value
    return RedirectResponse(_with_query(redirect_uri, query), status_code=302)


def _client(request: Request, form: dict[str, str], state: SandboxState) -> str | None:
    """The authenticated client id (HTTP Basic or form fields), or None."""
    client_id = form.get("client_id")
    secret = form.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        client_id, _, secret = decoded.partition(":")
    clients = state.config.clients()
    if client_id and secret is not None and clients.get(client_id) == secret:
        return client_id
    return None


def _pkce_ok(code: AuthorizationCode, verifier: str | None) -> bool:
    if code.code_challenge is None:
        return True
    if not verifier:
        return False
    if code.code_challenge_method == "S256":
        return secrets.compare_digest(
            _b64url(hashlib.sha256(verifier.encode()).digest()), code.code_challenge
        )
    return secrets.compare_digest(verifier, code.code_challenge)


@router.post("/identity/connect/token")
async def token(request: Request) -> JSONResponse:
    state = _state(request)
    form = {key: str(value) for key, value in (await request.form()).items()}
    client_id = _client(request, form, state)
    if client_id is None:
        return oauth_error("invalid_client", "Client authentication failed")
    grant_type = form.get("grant_type")
    now = state.now()
    if grant_type == "authorization_code":
        code = state.codes.get(form.get("code", ""))
        if code is None or code.used or code.expires_at <= now or code.client_id != client_id:
            return oauth_error("invalid_grant", "The authorization code is invalid, used or expired")
        if form.get("redirect_uri") != code.redirect_uri:
            return oauth_error("invalid_grant", "redirect_uri does not match the one used to authorize")
        if not _pkce_ok(code, form.get("code_verifier")):
            return oauth_error("invalid_grant", "PKCE verification failed")
        code.used = True
        for tenant_id in code.tenant_ids:
            state.connect(client_id, tenant_id, code.auth_event_id)
        return JSONResponse(issue_tokens(state, client_id, code.scope))
    if grant_type == "refresh_token":
        record = state.refresh_tokens.get(form.get("refresh_token", ""))
        if record is None or record.client_id != client_id or record.revoked or record.expires_at <= now:
            return oauth_error("invalid_grant", "The refresh token is invalid, revoked or expired")
        if record.used_at is None:
            child = mint_refresh_token(state, client_id, record.scope, record.family)
            record.used_at = now
            record.child = child.token
        else:
            child_record = state.refresh_tokens.get(record.child or "")
            lost_response = (
                child_record is not None
                and child_record.used_at is None
                and not child_record.revoked
                and now - record.used_at <= state.config.refresh_grace_seconds
            )
            if not lost_response:
                return oauth_error("invalid_grant", "The refresh token has already been used")
            assert child_record is not None
            child = child_record
        state.refresh_counts[client_id] += 1
        access = mint_access_token(state, client_id, record.scope, record.family)
        return JSONResponse(token_response(state, access, child))
    return oauth_error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")


@router.post("/identity/connect/revocation")
async def revocation(request: Request) -> Response:
    state = _state(request)
    form = {key: str(value) for key, value in (await request.form()).items()}
    client_id = _client(request, form, state)
    if client_id is None:
        return oauth_error("invalid_client", "Client authentication failed")
    record = state.refresh_tokens.get(form.get("token", ""))
    if record is not None and record.client_id == client_id:
        for refresh in state.refresh_tokens.values():
            if refresh.family == record.family:
                refresh.revoked = True
        for access in state.access_tokens.values():
            if access.family == record.family:
                access.revoked = True
    access_record = state.access_tokens.get(form.get("token", ""))
    if access_record is not None and access_record.client_id == client_id:
        access_record.revoked = True
    return Response(status_code=200)


def _bearer(request: Request, state: SandboxState) -> AccessTokenRecord | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    record = state.access_tokens.get(header[7:].strip())
    if record is None or record.revoked or record.expires_at <= state.now():
        return None
    return record


def _unauthorized(request: Request) -> JSONResponse:
    return JSONResponse(
        problem(401, "Unauthorized", "AuthenticationUnsuccessful", request.url.path), status_code=401
    )


@router.get("/connections")
@router.get("/Connections", include_in_schema=False)
async def connections(request: Request) -> JSONResponse:
    state = _state(request)
    record = _bearer(request, state)
    if record is None:
        return _unauthorized(request)
    wanted_event = request.query_params.get("authEventId")
    listed = [
        {
            "id": connection.id,
            "authEventId": connection.auth_event_id,
            "tenantId": connection.tenant_id,
            "tenantType": "ORGANISATION",
            "tenantName": state.orgs[connection.tenant_id].name,
            "createdDateUtc": utc_string(connection.created),
            "updatedDateUtc": utc_string(connection.updated),
        }
        for connection in state.active_connections(record.client_id)
        if wanted_event is None or connection.auth_event_id == wanted_event
    ]
    return JSONResponse(listed)


@router.delete("/connections/{connection_id}", response_model=None)
@router.delete("/Connections/{connection_id}", include_in_schema=False, response_model=None)
async def disconnect(request: Request, connection_id: str) -> Response:
    state = _state(request)
    record = _bearer(request, state)
    if record is None:
        return _unauthorized(request)
    connection = state.connections.get(connection_id.lower())
    if connection is None or connection.client_id != record.client_id:
        return JSONResponse(problem(404, "Not Found", "Connection not found"), status_code=404)
    del state.connections[connection.id]
    return Response(status_code=204)
