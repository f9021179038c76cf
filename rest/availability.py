"""Until its first readiness check passes, a process answers only its operator routes.

An API process that starts while PostgreSQL or Redis is unreachable stays up: it serves
``/healthz`` (alive), ``/readyz`` (503 naming the failing check) and ``/metrics``, and
every other request gets 503 ``service_unavailable`` with ``Retry-After``, until the
lifespan's readiness loop opens the gate. Later outages are answered per request
(``rest/errors.py`` maps connection errors to the same 503).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from rest.errors import RETRY_AFTER_SECONDS, error_response

OPERATOR_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
# "Try again later" (RFC 6455 §7.4.1); before the handshake it is answered as HTTP 403.
WEBSOCKET_TRY_AGAIN_LATER = 1013


class AvailabilityGate:
    """ASGI middleware reading ``app.state.serving`` (set by the lifespan when ready)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] not in ("http", "websocket")
            or scope["app"].state.serving
            or scope["path"] in OPERATOR_ROUTES
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": WEBSOCKET_TRY_AGAIN_LATER})
            return
        response = error_response(
            503,
            "service_unavailable",
            "The service is starting and waits for its database or Redis; try again shortly",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
        await response(scope, receive, send)
