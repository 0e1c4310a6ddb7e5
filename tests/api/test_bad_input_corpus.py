"""A corpus of bad input against every write endpoint and every webhook, taken from the app's own OpenAPI
so a new endpoint is covered the day it is added (issue 10).

NUL characters, lone surrogates, 1 MB strings, 1,000-deep JSON, huge arrays, negative and huge numbers and
wrong types, in every documented field and as whole bodies: never a 5xx, every error is a problem document,
and an error about input says where (``errors[].loc``), naming the field for text PostgreSQL cannot store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr

from ledgerbridge.api.app import create_app
from ledgerbridge.common import local_secrets
from ledgerbridge.common.models import ConnectionKind
from ledgerbridge.common.settings import Settings
from tests.api.conftest import MakeTenant
from tests.api.seed import Sessions, add_connection

FORM = "application/x-www-form-urlencoded"
WRITE_METHODS = {"post", "put", "patch", "delete"}
TEXT_POISON = ["bad\x00text", "bad\ud800text"]
DEEP = json.loads("[" * 900 + "]" * 900)  # as deep as Python's json builds; deeper bodies are sent raw
OTHER_VALUES: list[Any] = [
    "x" * 1_000_000,
    DEEP,
    [0] * 100_000,
    -1,
    -(10**18),
    10**40,
    1e308,
    True,
    None,
    {},
    [],
    {"nested": {"deeper": ["\x00"]}},
]
WHOLE_BODIES: list[bytes] = [
    b"[" * 1000 + b"]" * 1000,
    b'{"a":' * 1000 + b"1" + b"}" * 1000,
    b"[" + b"0," * 200_000 + b"0]",
    b"1" * 5000,
    b"-1e999999",
    b"null",
    b'"\\u0000"',
    b"\x00\x00",
    b"\xff\xfe\xfd",
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Whatever got through validation must not reach a real partner; nothing should, bad input stops first.
    for group in (settings.xero, settings.ontraport, settings.onport):
        for name in type(group).model_fields:
            if name.endswith("_url"):
                setattr(group, name, "http://127.0.0.1:9/unreachable")
    settings.xero.client_id = "corpus-client"
    settings.xero.client_secret = SecretStr("corpus-secret")
    settings.xero.redirect_uri = "http://127.0.0.1:8000/v1/connections/xero/callback"
    return settings


def _schema() -> dict[str, Any]:
    return create_app(Settings()).openapi()


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


def _fields(schema: dict[str, Any], operation: dict[str, Any]) -> tuple[str | None, list[str], bool]:
    """(content type, top-level field names, whether the body is an array of such objects)."""
    content = operation.get("requestBody", {}).get("content", {})
    for media, spec in content.items():
        body = _resolve(schema, spec.get("schema", {}))
        is_array = body.get("type") == "array"
        if is_array:
            body = _resolve(schema, body.get("items", {}))
        properties = list(body.get("properties", {}))
        for option in body.get("oneOf", []) + body.get("anyOf", []):
            properties += [p for p in _resolve(schema, option).get("properties", {}) if p not in properties]
        return media, properties or ["id"], is_array
    return None, ["id", "event", "reference"], False  # webhooks read their raw body


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = _schema()
    return [
        (method, path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in WRITE_METHODS or path.startswith("/webhooks/")
    ]


def _check(response: httpx.Response, case: str, field: str | None, text_poison: bool) -> None:
    assert response.status_code < 500, (case, response.status_code, response.text[:500])
    if response.status_code < 400:
        return
    if response.status_code == 401 and not response.content:
        return  # the Xero webhook's empty 401 for a bad signature, as Xero requires
    assert response.headers["content-type"] == "application/problem+json", (case, response.text[:300])
    problem = response.json()
    assert problem["status"] == response.status_code, case
    if response.status_code in (400, 422):
        errors = problem.get("errors")
        assert errors, (case, problem)
        assert all(error["loc"] and error["loc"][0] in ("body", "query", "path") for error in errors), case
    if text_poison and field is not None:
        assert response.status_code == 422, (case, response.text[:300])
        assert field in problem["errors"][0]["loc"], (case, problem["errors"])


async def test_no_bad_input_gets_a_5xx_and_every_error_names_where(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions, settings: Settings
) -> None:
    schema = _schema()
    tenant = await make_tenant()
    tokens = {"ontraport": "op-" + uuid.uuid4().hex, "onport": "on-" + uuid.uuid4().hex}
    for kind, token in tokens.items():
        await add_connection(committing, tenant.account_id, ConnectionKind(kind), webhook_token=token)
    xero_key = local_secrets.xero_webhook_key(settings)
    operations = _operations()
    assert len(operations) >= 25, "the corpus covers the whole API"
    sent = 0

    def concrete(path: str, operation: dict[str, Any]) -> str:
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "path":
                continue
            name = parameter["name"]
            spec = _resolve(schema, parameter.get("schema", {}))
            if name == "token":
                value = tokens["ontraport" if "ontraport" in path else "onport"]
            elif "enum" in spec:
                value = str(spec["enum"][0])
            elif spec.get("format") == "uuid":
                value = str(uuid.uuid4())
            else:
                value = "1"
            path = path.replace("{" + name + "}", value)
        return path

    async def send(
        method: str, path: str, media: str | None, body: Any, raw: bytes | None = None
    ) -> httpx.Response:
        nonlocal sent
        sent += 1
        headers = dict(tenant.headers)
        if raw is not None:
            content = raw
            headers["content-type"] = media or "application/json"
        elif media == "application/x-www-form-urlencoded":
            assert isinstance(body, dict)
            content = urlencode(
                {
                    k: (v if isinstance(v, str) else json.dumps(v)).encode("utf-8", "surrogatepass")
                    for k, v in body.items()
                }
            ).encode()
            headers["content-type"] = media
        else:
            content = json.dumps(body).encode("utf-8", "surrogatepass")
            headers["content-type"] = "application/json"
        if path == "/webhooks/xero":
            signature = hmac.new(xero_key.encode(), content, hashlib.sha256).digest()
            headers["x-xero-signature"] = base64.b64encode(signature).decode()
        return await api.request(method, path, content=content, headers=headers)

    for method, template, operation in operations:
        path = concrete(template, operation)
        media, fields, is_array = _fields(schema, operation)
        for field in fields:
            for value in [*TEXT_POISON, *OTHER_VALUES]:
                body: Any = {field: value}
                response = await send(method, path, media, [body] if is_array else body)
                # Percent-encoding cannot carry a lone surrogate (it decodes to U+FFFD): NUL is the poison there.
                poison = value == TEXT_POISON[0] or (value in TEXT_POISON and media != FORM)
                _check(response, f"{method} {template} {field}={str(value)[:20]!r}", field, poison)
        for raw in WHOLE_BODIES:
            response = await send(method, path, media, None, raw)
            _check(response, f"{method} {template} raw {raw[:20]!r}", None, False)
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                for poison in TEXT_POISON[:1]:
                    response = await api.request(
                        method, path, params={parameter["name"]: poison}, headers=tenant.headers
                    )
                    _check(response, f"{method} {template}?{parameter['name']}", parameter["name"], True)
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                poisoned = template.replace("{" + parameter["name"] + "}", "bad%00text")
                response = await api.request(method, concrete(poisoned, operation), headers=tenant.headers)
                _check(response, f"{method} {template} path {parameter['name']}", parameter["name"], True)
    assert sent > 500
