"""Test helpers for driving the Xero sandbox with httpx, in-process or over a real port.

Shared by this package's tests and by other parts' tests that need a logged-in client quickly.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from fastapi import FastAPI

from ledgerbridge.sandbox.xero.state import SandboxState

REDIRECT = "http://localhost:8000/xero/callback"
SCOPE = "openid offline_access accounting.invoices accounting.payments accounting.contacts accounting.settings.read"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class SandboxClient:
    """A sandbox app (when in-process) and an httpx client, with shortcuts for the common calls."""

    def __init__(self, app: FastAPI | None, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        self.access_token = ""

    @property
    def state(self) -> SandboxState:
        assert self.app is not None, "state is only inspectable in-process"
        state: SandboxState = self.app.state.sandbox
        return state

    async def authorize(
        self, scope: str = SCOPE, *, challenge: str | None = None, state: str = "st-1"
    ) -> str:
        params = {
            "response_type": "code",
            "client_id": "sandbox-client",
            "redirect_uri": REDIRECT,
            "scope": scope,
            "state": state,
        }
        if challenge:
            params.update({"code_challenge": challenge, "code_challenge_method": "S256"})
        response = await self.client.get("/identity/connect/authorize", params=params)
        assert response.status_code == 302, response.text
        query = parse_qs(urlparse(response.headers["location"]).query)
        assert query["state"] == [state]
        return query["code"][0]

    async def token(self, **form: str) -> httpx.Response:
        return await self.client.post(
            "/identity/connect/token", data=form, auth=("sandbox-client", "sandbox-secret")
        )

    async def login(self, scope: str = SCOPE) -> dict[str, Any]:
        verifier, challenge = pkce_pair()
        code = await self.authorize(scope, challenge=challenge)
        response = await self.token(
            grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        self.access_token = tokens["access_token"]
        return tokens

    async def new_org(self, country: str = "AU") -> str:
        response = await self.client.post(
            "/_sandbox/organisations", json={"country": country, "connect_client_id": "sandbox-client"}
        )
        assert response.status_code == 201, response.text
        tenant_id: str = response.json()["tenantId"]
        return tenant_id

    def headers(self, tenant_id: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}", "xero-tenant-id": tenant_id, **extra}

    async def call(
        self,
        method: str,
        path: str,
        tenant_id: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.client.request(
            method,
            f"/api.xro/2.0/{path}",
            json=body,
            params=params,
            headers=self.headers(tenant_id, **(headers or {})),
        )
