"""Xero-shaped error bodies, raised as ``XeroError`` and rendered by one exception handler."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class XeroError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(json.dumps(body))
        self.status = status
        self.body = body
        self.headers = headers or {}


def validation_exception(elements: list[dict[str, Any]]) -> XeroError:
    return XeroError(
        400,
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": elements,
        },
    )


def post_data_invalid(problems: list[str]) -> XeroError:
    return XeroError(
        400,
        {
            "ErrorNumber": 14,
            "Type": "PostDataInvalidException",
            "Message": "JSON for post data was invalid: " + "; ".join(problems[:20]),
            "Elements": [],
            "SchemaErrors": problems,
        },
    )


def bad_request(message: str) -> XeroError:
    return XeroError(400, {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message})


def not_found() -> XeroError:
    return XeroError(
        404,
        {"Title": "Not Found", "Status": 404, "Detail": "The resource you're looking for cannot be found"},
    )


def problem(status: int, title: str, detail: str, instance: str = "") -> dict[str, Any]:
    """The problem-details shape Xero's gateway uses for 401, 403 and 429."""
    return {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": instance,
        "Extensions": {},
    }


async def xero_error_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, XeroError)
    return JSONResponse(error.body, status_code=error.status, headers=error.headers)
