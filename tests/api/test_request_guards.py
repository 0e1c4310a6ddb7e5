"""What every route gets before it runs (issue 10, findings 3, 5 and 8): one body limit, text PostgreSQL
can store, and the browser-facing headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator

import httpx

from ledgerbridge.common import local_secrets
from ledgerbridge.common.models import ConnectionKind
from ledgerbridge.common.settings import Settings
from tests.api.conftest import PASSWORD, MakeTenant
from tests.api.seed import Sessions, add_connection

LIMIT = 1024 * 1024


def _problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    return body


async def test_a_body_over_the_limit_is_413_on_every_route_before_it_is_read(api: httpx.AsyncClient) -> None:
    """Finding 3: four 88 MB sign-ups took the API to 1.2 GB."""
    big = {"email": "a@example.com", "password": PASSWORD, "company": "x" * (LIMIT + 1)}
    signup = await api.post("/v1/auth/signup", json=big)
    assert _problem(signup, 413)["title"] == "Content too large"
    for path in ("/v1/settings", "/v1/mappings", "/v1/tax-exceptions", "/webhooks/xero", "/nope"):
        response = await api.request(
            "PATCH" if path == "/v1/settings" else "POST", path, content=b"{" + b" " * LIMIT + b"}"
        )
        _problem(response, 413)

    chunks_sent = 0

    async def chunked() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        for _ in range(100):  # 6.4 MiB if it were all read
            chunks_sent += 1
            yield b" " * 65536

    streamed = await api.post(
        "/v1/auth/signup", content=chunked(), headers={"content-type": "application/json"}
    )
    _problem(streamed, 413)
    assert chunks_sent <= LIMIT // 65536 + 2, "reading stopped at the limit"


async def test_the_limit_is_a_setting(settings: Settings, make_tenant: MakeTenant) -> None:
    from asgi_lifespan import LifespanManager

    from ledgerbridge.api.app import create_app

    settings.api.max_body_bytes = 2048
    app = create_app(settings)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client,
    ):
        small = await client.post("/v1/auth/signup", json={"email": "x", "password": "y", "company": "z"})
        assert small.status_code == 422
        _problem(await client.post("/v1/auth/signup", content=b"1" * 2049), 413)


async def test_nul_and_lone_surrogates_are_422_naming_the_field_everywhere(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions, settings: Settings
) -> None:
    """Finding 5: 34 answers of 500, PostgreSQL refuses \\u0000."""
    tenant = await make_tenant()
    for bad in ("a\x00b", "a\ud800b"):
        encoded = json.dumps({"email": "n@example.com", "password": PASSWORD, "company": bad}).encode()
        signup = await api.post(
            "/v1/auth/signup", content=encoded, headers={"content-type": "application/json"}
        )
        assert _problem(signup, 422)["errors"] == [
            {"loc": ["body", "company"], "msg": signup.json()["errors"][0]["msg"], "type": "value_error.text"}
        ]
    token = await api.post("/v1/auth/token", data={"username": "a\x00@example.com", "password": "x"})
    assert _problem(token, 422)["errors"][0]["loc"] == ["body", "username"]  # type: ignore[index]
    cases = [
        ("PUT", "/v1/mappings/product/17", {"account_code": "2\x0000"}, ["body", "account_code"]),
        (
            "PUT",
            "/v1/mappings",
            [{"kind": "product", "source_id": "1", "target": {"a": "\ud800"}}],
            ["body", 0, "target", "a"],
        ),
        (
            "PATCH",
            "/v1/settings",
            {"ontraport": {"time_zone": "UT\x00C"}},
            ["body", "ontraport", "time_zone"],
        ),
        ("PATCH", "/v1/settings", {"ontraport": {"k\x00": 1}}, ["body", "ontraport", "k\\u0000"]),
        (
            "POST",
            "/v1/tax-exceptions",
            {"name": "x\x00", "filters": {}, "tax_type": "OUTPUT"},
            ["body", "name"],
        ),
    ]
    for method, path, body, loc in cases:
        response = await api.request(
            method,
            path,
            content=json.dumps(body).encode(),
            headers={**tenant.headers, "content-type": "application/json"},
        )
        assert _problem(response, 422)["errors"][0]["loc"] == loc, (path, response.text)  # type: ignore[index]
    search = await api.get("/v1/records", params={"q": "a\x00"}, headers=tenant.headers)
    assert _problem(search, 422)["errors"][0]["loc"] == ["query", "q"]  # type: ignore[index]
    by_path = await api.get("/v1/records/a%00b", headers=tenant.headers)
    assert by_path.status_code in (404, 422)

    ontraport = "op-" + uuid.uuid4().hex
    onport = "on-" + uuid.uuid4().hex
    await add_connection(committing, tenant.account_id, ConnectionKind.ontraport, webhook_token=ontraport)
    await add_connection(committing, tenant.account_id, ConnectionKind.onport, webhook_token=onport)
    ping = await api.post(f"/webhooks/ontraport/{ontraport}", data={"id": "1\x00"})
    assert _problem(ping, 422)["errors"][0]["loc"] == ["body", "id"]  # type: ignore[index]
    as_text = await api.post(
        f"/webhooks/ontraport/{ontraport}",
        content=b'{"id": "\\u0000"}',
        headers={"content-type": "text/plain"},
    )
    assert _problem(as_text, 422)["errors"][0]["loc"] == ["body", "id"]  # type: ignore[index]
    push = await api.post(f"/webhooks/onport/{onport}/dropship", content=b'{"id": 1, "reference": "\\ud800"}')
    assert _problem(push, 422)["errors"][0]["loc"] == ["body", "reference"]  # type: ignore[index]
    token_path = await api.post("/webhooks/ontraport/a%00b", data={"id": "1"})
    assert _problem(token_path, 422)["errors"][0]["loc"] == ["path", "token"]  # type: ignore[index]
    xero = json.dumps({"events": [{"resourceId": "\x00"}]}).encode()
    key = local_secrets.xero_webhook_key(settings)
    signature = base64.b64encode(hmac.new(key.encode(), xero, hashlib.sha256).digest()).decode()
    signed = await api.post("/webhooks/xero", content=xero, headers={"x-xero-signature": signature})
    assert _problem(signed, 422)["errors"][0]["loc"] == ["body", "events", 0, "resourceId"]  # type: ignore[index]


async def test_a_body_that_is_only_a_bad_string_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/auth/refresh", content=b'"\\u0000"', headers={"content-type": "application/json"}
    )
    assert _problem(response, 422)["errors"][0]["loc"] == ["body"]  # type: ignore[index]


async def test_deep_json_is_refused_naming_where(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    deep = "[" * 1000 + "]" * 1000
    response = await api.patch(
        "/v1/settings", content=deep.encode(), headers={**tenant.headers, "content-type": "application/json"}
    )
    problem = _problem(response, 422)
    assert problem["errors"][0]["loc"][0] == "body"  # type: ignore[index]


async def test_security_headers_on_every_answer(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    """Finding 8."""
    tenant = await make_tenant()
    for path in ("/healthz", "/v1/me", "/nope"):
        response = await api.get(path, headers=tenant.headers)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert "strict-transport-security" not in response.headers  # plain HTTP here
    docs = await api.get("/docs")
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
    signed_in = await api.post("/v1/auth/token", data={"username": tenant.email, "password": PASSWORD})
    assert signed_in.headers["cache-control"] == "no-store"
    refreshed = await api.post("/v1/auth/refresh", json={"refresh_token": signed_in.json()["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.headers["cache-control"] == "no-store"
    https = httpx.AsyncClient(transport=api._transport, base_url="https://api")
    async with https:
        assert "max-age=" in (await https.get("/healthz")).headers["strict-transport-security"]
