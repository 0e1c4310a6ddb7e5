"""RFC 9457 problem details for every error the API returns, validation errors included."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """The body of every error response (RFC 9457)."""

    type: str = Field(default="about:blank", examples=["https://ledgerbridge.dev/problems/validation"])
    title: str = Field(examples=["Request validation failed"])
    status: int = Field(examples=[422])
    detail: str | None = Field(
        default=None, examples=["account_code '999' is not in the organisation's chart"]
    )
    instance: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Field-level errors, when there are any"
    )


class ProblemError(Exception):
    """Raise from any layer to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str = "about:blank",
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.problem = Problem(type=type_, title=title, status=status, detail=detail, errors=errors)
        # Some answers are only actionable with a header (Retry-After on 429, WWW-Authenticate on 401).
        self.headers = headers or {}


VALIDATION_TYPE = "https://ledgerbridge.dev/problems/validation"


def _validation_problem(errors: list[dict[str, Any]]) -> Problem:
    detail = "; ".join(f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in errors)
    return Problem(
        type=VALIDATION_TYPE,
        title="Request validation failed",
        status=422,
        detail=detail[:2000],
        errors=errors,
    )


def validation_problem(error: ValidationError, loc_prefix: tuple[str | int, ...] = ("body",)) -> ProblemError:
    """A 422 for input validated after the request was parsed, shaped like FastAPI's own validation errors."""
    errors = [{"loc": [*loc_prefix, *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in error.errors()]
    problem = _validation_problem(errors)
    return ProblemError(422, problem.title, problem.detail, type_=VALIDATION_TYPE, errors=errors)


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    body = problem.model_copy(update={"instance": request.url.path}).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting the problem bodies a route can answer with."""
    return {status: {"model": Problem, "content": {PROBLEM_JSON: {}}} for status in statuses}


def install(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        response = problem_response(exc.problem, request)
        response.headers.update(exc.headers)
        return response

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "Not found", 405: "Method not allowed", 401: "Not authenticated"}.get(
            exc.status_code, "Error"
        )
        response = problem_response(
            Problem(title=title, status=exc.status_code, detail=str(exc.detail)), request
        )
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "loc": list(error.get("loc", ())),
                "msg": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
            for error in exc.errors()
        ]
        return problem_response(_validation_problem(errors), request)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Never leak internals; the request id in the logs ties this answer to the traceback.
        return problem_response(
            Problem(title="Internal error", status=500, detail="An unexpected error occurred"), request
        )

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_unexpected)
