"""One error model: domain errors carry their status; handlers render RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from ._db import database_unavailable

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "ConflictError",
    "DomainError",
    "ForbiddenError",
    "NotFoundError",
    "PreconditionFailedError",
    "Problem",
    "ProblemDetailItem",
    "RateLimitedError",
    "ServiceUnavailableError",
    "UnauthorizedError",
    "ValidationFailedError",
    "install_error_handlers",
    "problem_response",
    "problem_responses",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"
_TYPE_PREFIX = "urn:channel-suite:problem:"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
log = structlog.get_logger(__name__)


class ProblemDetailItem(BaseModel):
    """One failed check of a validation problem."""

    loc: list[str | int]
    msg: str
    type: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details; extension members may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[ProblemDetailItem] | None = None


class DomainError(Exception):
    """A failure a client can cause; rendered as problem+json with `status`."""

    status = 400
    code = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers or {}


class UnauthorizedError(DomainError):
    status, code = 401, "unauthorized"


class ForbiddenError(DomainError):
    status, code = 403, "forbidden"


class NotFoundError(DomainError):
    status, code = 404, "not-found"


class ConflictError(DomainError):
    status, code = 409, "conflict"


class PreconditionFailedError(DomainError):
    status, code = 412, "precondition-failed"


class ValidationFailedError(DomainError):
    """A business-rule validation failure on one or more fields (422)."""

    status, code = 422, "validation-failed"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail, extra={"errors": errors})


class RateLimitedError(DomainError):
    status, code = 429, "rate-limited"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ServiceUnavailableError(DomainError):
    status, code = 503, "service-unavailable"

    def __init__(self, detail: str, *, retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    title = _TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": _TYPE_PREFIX + (code or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail or title,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_CONTENT_TYPE)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries declaring problem+json bodies for the given statuses."""
    return {
        status: {
            "model": Problem,
            "description": _TITLES.get(status, "Error"),
            "content": {PROBLEM_CONTENT_TYPE: {}},
        }
        for status in statuses
    }


def _validation_items(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(p) if not isinstance(p, int) else p for p in e.get("loc", ())],
            "msg": e.get("msg", ""),
            "type": e.get("type"),
        }
        for e in exc.errors()
    ]


async def _on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem_response(
        exc.status, exc.detail, code=exc.code, headers=exc.headers or None, **exc.extra
    )


async def _on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem_response(exc.status_code, detail, headers=dict(exc.headers or {}))


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = _validation_items(exc)
    if any(item["type"] == "json_invalid" for item in items):
        return problem_response(400, "The request body is not valid JSON.", code="malformed-json")
    return problem_response(
        422, "The request is invalid; see errors.", code="validation-failed", errors=items
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if database_unavailable(exc):
        # A dependency outage, not a bug: 503 so that callers retry (DESIGN §3).
        log.warning("database_unavailable", path=request.url.path, error=repr(exc)[:300])
        return problem_response(
            503,
            "The database is unavailable; retry later.",
            code="database-unavailable",
            headers={"Retry-After": "1"},
        )
    log.exception("unhandled_error", path=request.url.path, error=type(exc).__name__)
    return problem_response(500, "An unexpected error occurred; it has been logged.")


def install_error_handlers(app: FastAPI) -> None:
    """Route every error path of `app` through problem+json."""
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)
