"""One JSON error shape on every route: ``{"code", "message", "details"}``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from rest.observability import REQUEST_ID_HEADER
from server.kernel.errors import HTTP_CODES, AppError
from server.kernel.logs import log_context

logger = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}
_ERROR_DESCRIPTIONS = {
    400: "Invalid request or a missing prerequisite (e.g. canvas_credentials_missing)",
    401: "Missing, invalid or expired token (missing_token, invalid_token, token_expired)",
    404: "Not found, also when it belongs to another user",
    409: "Conflict: another reprocess is active (reprocess_in_progress)",
    422: "Validation failed (validation_error; details.errors lists each problem)",
    429: "Rate limited (rate_limited, too_many_active_jobs)",
    502: "Canvas failed (canvas_unauthorized, canvas_unavailable, ...)",
    503: "Briefly unavailable: a database or Redis is away (service_unavailable, not_ready)",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route's error statuses, all with the one error shape."""
    return {
        status: {
            "model": ErrorBody,
            "description": _ERROR_DESCRIPTIONS[status],
            **({"headers": _RETRY_AFTER} if status in (429, 503) else {}),
        }
        for status in statuses
    }


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(code=code, message=message, details=details or {})
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


def _safe_validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo the input back: it may hold a Canvas token.
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _safe_validation_errors(exc)
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"] if part != "body") or "request"
    return error_response(422, "validation_error", f"{where}: {first['msg']}", {"errors": errors})


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


# A database or Redis that is away for a while: the client should retry, nothing is lost.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    ConnectionError,  # includes Tortoise's DBConnectionError and refused connections
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    RedisConnectionError,
    RedisTimeoutError,
)
RETRY_AFTER_SECONDS = "5"


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    logger.warning("a backing service is unavailable: %s", type(exc).__name__)
    return error_response(
        503,
        "service_unavailable",
        "A backing service is briefly unavailable; try again shortly",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    with log_context(request_id=request_id):
        logger.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
    # Starlette answers this one outside every middleware: the id is set here.
    headers = {REQUEST_ID_HEADER: request_id} if request_id else None
    return error_response(
        500, "internal_error", "Something went wrong on our side", headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for error in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error, _unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
