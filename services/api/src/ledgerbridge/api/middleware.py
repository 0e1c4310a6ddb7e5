"""Request ids in every log line and response, and request counts for Prometheus."""

from __future__ import annotations

import uuid

import structlog
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from ledgerbridge.common import metrics

REQUEST_ID_HEADER = "X-Request-ID"


class RequestContextMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        # A caller-supplied id is echoed only when it is short and plain, so it cannot inject into logs.
        request_id = (
            incoming
            if 0 < len(incoming) <= 64 and incoming.isascii() and incoming.isprintable()
            else uuid.uuid4().hex
        )
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            response = await call_next(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        route = request.scope.get("route")
        metrics.HTTP_REQUESTS.labels(
            request.method, getattr(route, "path", "unmatched"), str(response.status_code)
        ).inc()
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
