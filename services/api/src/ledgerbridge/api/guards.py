"""What every request passes before any route sees it, and what every answer carries.

``RequestGuard`` (pure ASGI, so it sees the body before anything reads it):

1. **Body limit**: a body larger than ``API_MAX_BODY_BYTES`` is answered 413 before it is read when its
   ``Content-Length`` says so, and as soon as the streamed bytes pass the limit otherwise (chunked).
2. **Text that PostgreSQL cannot store**: NUL characters and lone surrogates in the query string, the
   path parameters and the body (JSON, form-encoded or multipart, whatever the declared content type,
   since webhook senders are not careful about it) are answered 422 with a problem document whose
   ``errors[].loc`` names the field, like FastAPI's own validation errors. JSON nested deeper than
   :data:`MAX_JSON_DEPTH` is refused the same way. One mechanism for every route, webhooks included.

The body is then replayed to the route byte for byte (the Xero webhook signs the raw body).

``SecurityHeaders`` adds the browser-facing headers to every answer (finding 8 of issue 10).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledgerbridge.api.problems import PROBLEM_JSON, VALIDATION_TYPE, Problem

MAX_JSON_DEPTH = 32
"""No body of ours nests deeper than a few levels; a deep one only costs recursion."""

Loc = list[str | int]


def text_problem(value: str) -> str | None:
    """Why PostgreSQL (and Xero) cannot take this text, or None when it is fine."""
    if "\x00" in value:
        return "Text may not contain NUL characters (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Text may not contain lone surrogates (not valid Unicode)"
    return None


def _printable(part: str | int) -> str | int:
    """A location part that can itself be put in the answer (a bad key is part of its own location)."""
    if isinstance(part, int):
        return part
    return part.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


def _json_problem(value: Any, loc: Loc) -> tuple[Loc, str] | None:
    """The first string (key or value) that cannot be stored, or a nesting too deep; iterative, and
    a location is only built for what is reported (a body may hold a hundred thousand items)."""
    # Each entry: (value, depth, parent entry index, key in parent); locations are rebuilt from parents.
    entries: list[tuple[Any, int, int, str | int]] = [(value, 0, -1, "")]

    def where(index: int) -> Loc:
        parts: list[str | int] = []
        while index > 0:
            _, _, parent, key = entries[index]
            parts.append(key)
            index = parent
        return [*loc, *reversed(parts)]

    if isinstance(value, str):
        problem = text_problem(value)
        return (loc, problem) if problem else None
    pending = [0]
    while pending:
        current = pending.pop()
        item, depth, _, _ = entries[current]
        if depth > MAX_JSON_DEPTH:
            return where(current), f"JSON may nest at most {MAX_JSON_DEPTH} levels deep"
        children: Iterable[tuple[str | int, Any]]
        if isinstance(item, dict):
            children = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        for key, child in children:
            if isinstance(key, str) and (problem := text_problem(key)):
                entries.append((child, depth + 1, current, key))
                return where(len(entries) - 1), problem
            if isinstance(child, str):
                if problem := text_problem(child):
                    entries.append((child, depth + 1, current, key))
                    return where(len(entries) - 1), problem
            elif isinstance(child, dict | list):
                entries.append((child, depth + 1, current, key))
                pending.append(len(entries) - 1)
    return None


def _pairs_problem(pairs: Iterable[tuple[str, Any]], prefix: str) -> tuple[Loc, str] | None:
    for key, value in pairs:
        for text in (key, (value.filename or "") if isinstance(value, UploadFile) else str(value)):
            problem = text_problem(text)
            if problem:
                return [prefix, key], problem
    return None


def _read_json(body: bytes) -> tuple[bool, Any, str | None]:
    """(parsed, value, error): error is set when the body is JSON-like but cannot be read safely."""
    try:
        return True, json.loads(body), None
    except json.JSONDecodeError:
        return False, None, None
    except (ValueError, RecursionError) as exc:  # digits beyond Python's limit, nesting beyond the stack
        return False, None, f"The JSON body cannot be read: {exc.__class__.__name__}"


def _problem(
    status: int, title: str, detail: str, errors: list[dict[str, Any]] | None, path: str
) -> JSONResponse:
    problem = Problem(
        type=VALIDATION_TYPE if status == 422 else "https://ledgerbridge.dev/problems/body-too-large",
        title=title,
        status=status,
        detail=detail,
        instance=str(_printable(path)),
        errors=errors,
    )
    return JSONResponse(problem.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON)


def _validation(loc: Loc, message: str, path: str) -> JSONResponse:
    printable = [_printable(part) for part in loc]
    detail = f"{'.'.join(str(part) for part in printable)}: {message}"
    errors = [{"loc": printable, "msg": message, "type": "value_error.text"}]
    return _problem(422, "Request validation failed", detail, errors, path)


def _path_patterns(app: Any) -> list[re.Pattern[str]]:
    """The app's published path templates as patterns, built once per app."""
    state = getattr(app, "state", None)
    if state is None or not hasattr(app, "openapi"):
        return []
    patterns: list[re.Pattern[str]] | None = getattr(state, "guard_path_patterns", None)
    if patterns is None:
        patterns = [
            re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)), re.DOTALL)
            for template in app.openapi().get("paths", {})
        ]
        state.guard_path_patterns = patterns
    return patterns


class _TooLarge(Exception):
    pass


class RequestGuard:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _too_large(self, path: str) -> JSONResponse:
        return _problem(
            413,
            "Content too large",
            f"Request bodies are limited to {self.max_body_bytes} bytes",
            None,
            path,
        )

    async def _read(self, receive: Receive) -> tuple[bytes, bool]:
        """The whole body, and False when the client went away while sending it."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", False
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        headers = {key.decode("latin-1").lower(): value for key, value in scope.get("headers", [])}
        declared = headers.get("content-length", b"").decode("latin-1").strip()
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(path)(scope, receive, send)
            return
        try:
            body, connected = await self._read(receive)
        except _TooLarge:
            await self._too_large(path)(scope, receive, send)
            return
        if not connected:
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        found = self._query_or_path_problem(scope) or await self._body_problem(
            scope, body, headers.get("content-type", b"").decode("latin-1").lower()
        )
        if found is not None:
            loc, message = found
            await _validation(loc, message, path)(scope, replay, send)
            return
        await self.app(scope, replay, send)

    @staticmethod
    def _query_or_path_problem(scope: Scope) -> tuple[Loc, str] | None:
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        found = _pairs_problem(parse_qsl(query, keep_blank_values=True), "query")
        if found:
            return found
        path = str(scope.get("path", ""))
        problem = text_problem(path)
        if not problem:
            return None
        # Name the parameter from the published path templates (``/webhooks/ontraport/{token}``).
        for pattern in _path_patterns(scope.get("app")):
            match = pattern.fullmatch(path)
            if match:
                found = _pairs_problem(match.groupdict().items(), "path")
                if found:
                    return found
        return ["path"], problem

    @staticmethod
    async def _body_problem(scope: Scope, body: bytes, content_type: str) -> tuple[Loc, str] | None:
        if not body:
            return None
        if content_type.startswith("multipart/form-data"):
            return await _multipart_problem(scope, body)
        parsed, value, error = _read_json(body)
        if parsed:
            return _json_problem(value, ["body"])
        if error is not None and "json" in content_type:
            return ["body"], error
        # Form-encoded, or whatever a webhook sender declared: its fields as a form parser reads them.
        text = body.decode("utf-8", "replace")
        found = _pairs_problem(parse_qsl(text, keep_blank_values=True), "body")
        if found:
            return found
        return (["body"], "Text may not contain NUL characters (\\u0000)") if b"\x00" in body else None


async def _multipart_problem(scope: Scope, body: bytes) -> tuple[Loc, str] | None:
    sent = False

    async def once() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request(scope, once)
    try:
        form: FormData = await request.form(max_files=10, max_fields=500)
    except Exception:
        return None  # the route's own parser answers for a body that is not multipart at all
    try:
        return _pairs_problem(form.multi_items(), "body")
    finally:
        await form.close()


APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
"""The web app: same-origin hashed JS/CSS assets only, no inline code, never framed."""

DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
"""Swagger UI / ReDoc from our own assets (``/docs-assets``, no CDN, no inline script): Swagger UI sets
inline styles and data: images, ReDoc runs a worker from a blob."""

DOCS_PATHS = ("/docs", "/redoc")
NO_STORE_PATHS = ("/v1/", "/webhooks/")
"""API answers (token pairs above all) are never kept by a browser or a proxy cache."""


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}

                def add(name: str, value: str) -> None:
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))

                add("x-content-type-options", "nosniff")
                add("referrer-policy", "no-referrer")
                add("x-frame-options", "DENY")
                add("cross-origin-opener-policy", "same-origin")
                add("content-security-policy", DOCS_CSP if path.startswith(DOCS_PATHS) else APP_CSP)
                if https:
                    add("strict-transport-security", "max-age=31536000; includeSubDomains")
                if path.startswith(NO_STORE_PATHS):
                    add("cache-control", "no-store")
                    add("pragma", "no-cache")
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
