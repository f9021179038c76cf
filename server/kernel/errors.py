"""Domain errors: each carries its HTTP status and a stable machine-readable code.

Services raise these; transports map them once (see ``rest/errors.py``). Messages are
written for the user and never contain secrets.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code: int = 400
    code: str = "invalid_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}
        self.headers = headers or {}


class BadRequest(AppError):
    status_code = 400
    code = "invalid_request"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class ValidationFailed(AppError):
    status_code = 422
    code = "validation_error"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"


class UpstreamError(AppError):
    """A failure of Canvas (or another upstream); 502 when the call is synchronous."""

    status_code = 502
    code = "canvas_unavailable"


class ServiceUnavailable(AppError):
    """This service cannot answer right now (a backing service is away); retry later."""

    status_code = 503
    code = "service_unavailable"


# The code for an error the web framework raises itself (an unknown route, a bad method,
# a body it cannot parse), by HTTP status: every transport answers it in the same shape.
HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}
