"""Every HTTP request gets a request id (``X-Request-ID``, taken from a proxy or made
here), one structured log line and its metrics.

Pure ASGI rather than Starlette's ``BaseHTTPMiddleware``: SSE streams pass through
unbuffered, and the request id set here is in the context of the endpoint and of every
task it starts.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.kernel.logs import log_context
from server.kernel.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS

REQUEST_ID_HEADER = "X-Request-ID"
# A request id from outside is kept only if it cannot forge or bloat a log line.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Bounded label values: any other method, and any path no route matched, share one.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"
# Probes and scrapes every few seconds would drown the access log at INFO.
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})

access_logger = logging.getLogger("canvas_workspace.access")


class _RequestIds:
    """Request ids made here: 32 hex digits, a random half per process (a forked one
    draws its own) and a counter: unique across processes as a random uuid4 is, without
    a system call for randomness on every request."""

    def __init__(self) -> None:
        self.restart()
        os.register_at_fork(after_in_child=self.restart)

    def restart(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.numbers = itertools.count()

    def next(self) -> str:
        return f"{self.prefix}{next(self.numbers):016x}"


_request_ids = _RequestIds()


def made_request_id() -> str:
    return _request_ids.next()


def _request_id(scope: Scope) -> str:
    offered = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
    return offered if _VALID_REQUEST_ID.fullmatch(offered) else made_request_id()


def _route_template(scope: Scope) -> str:
    """The matched route's path template (``/assignments/{course_id}/...``), so ids in
    paths do not make a metric series each."""
    route = scope.get("route")
    if route is not None:
        return str(route.path)
    if "app_root_path" in scope:  # a mounted app (GraphiQL's static files) matched
        root_path: str = scope["root_path"]
        return root_path.removeprefix(scope["app_root_path"]) + "/{path}"
    return UNMATCHED_ROUTE


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        # For the 500 answer of an exception that escapes the app: Starlette makes it in
        # its outermost middleware, after this one's context has ended.
        scope.setdefault("state", {})["request_id"] = request_id
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaped the app

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
                HTTP_REQUEST_SECONDS.labels(method, _route_template(scope)).observe(
                    time.perf_counter() - started
                )
            await send(message)

        with log_context(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_request_id)
            finally:
                self._record(scope, method, status, time.perf_counter() - started)

    @staticmethod
    def _record(scope: Scope, method: str, status: int, seconds: float) -> None:
        route = _route_template(scope)
        HTTP_REQUESTS.labels(method, route, str(status)).inc()
        access_logger.log(
            logging.DEBUG if route in _QUIET_ROUTES else logging.INFO,
            "%s %s %d %.1f ms",
            scope["method"],
            scope["path"],  # never the query string: it may hold a stream token
            status,
            seconds * 1000,
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
            },
        )
