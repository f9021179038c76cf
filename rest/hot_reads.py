"""The two reads a client makes most, answered before FastAPI's routing when all goes well.

The extension re-reads a workspace's snapshot and plan whenever a student opens an
assignment page, and most of those reads are answered from the rendered-representation
caches (or with a 304). Then FastAPI's routing, dependency solving and parameter validation
cost several times what the read itself does (bench row 2). So for ``GET
/assignments/{course_id}/{assignment_id}`` and ``GET .../plan`` with no query string, this
middleware verifies the bearer token and calls the very read the route calls, and answers
with the same ``conditional`` response. Every other request, and any of these whose token,
ids or read fails in any way, goes on to the routes, which answer it (or its error, in the
one error shape) as always: the shortcut only ever gives the route's own success answer.

It sits inside the observability, CORS and availability middlewares, so its answers carry
the request id, the access log line and the metrics of the route it stands in for.

A read it answered is remembered, and asked again it is answered from memory, without the
database, while its workspace has had no wake-up since (every change to what a snapshot or
a plan shows publishes an event, or wakes the bus itself, and every API process hears
every wake-up: ``ChangeClock``). A remembered read is at most one heartbeat old, the bound
a stream's follower has too for a lost wake-up; while Redis is away nothing is remembered.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from rest.assignments import get_plan, get_workspace, router
from rest.etags import conditional
from server.kernel.auth import bearer_credentials, verify_access_grant
from server.kernel.representations import Representation
from server.runtime import Runtime
from server.tracking.service import PLAN_CACHE_SIZE, read_plan
from server.workspaces.service import SNAPSHOT_CACHE_SIZE, read_snapshot

Read = Callable[[int, str, str], Awaitable[Representation]]
# A read: (of the plan?, user id, course id, assignment id).
_Key = tuple[bool, int, str, str]
# The routes' own paths: their str path parameters match one segment each.
_HOT_PATH = re.compile(r"^/assignments/([^/]+)/([^/]+)(/plan)?$")
# Reads remembered per process, as many as the two rendered caches hold together: an entry
# keeps its body (a plan's is tens of KiB) alive after those caches let it go.
REMEMBERED_READS = SNAPSHOT_CACHE_SIZE + PLAN_CACHE_SIZE


@dataclass(frozen=True)
class _Remembered:
    representation: Representation
    tick: int  # the bus clock's tick before the read began
    at: float  # time.monotonic() then


def _route(endpoint: Callable[..., object]) -> APIRoute:
    routes = [route for route in router.routes if isinstance(route, APIRoute)]
    return next(route for route in routes if route.endpoint is endpoint)


class HotReads:
    """ASGI middleware: the snapshot and plan reads, without the route's machinery."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The route each read stands in for: the metrics and the access log name it.
        self.reads: dict[bool, tuple[APIRoute, Read]] = {
            False: (_route(get_workspace), read_snapshot),
            True: (_route(get_plan), read_plan),
        }
        self.remembered: OrderedDict[_Key, _Remembered] = OrderedDict()
        self.reading: dict[_Key, asyncio.Future[_Remembered]] = {}

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine itself: a request it does not answer (an event stream, open for
        # hours) goes on without a frame of this middleware held all that time.
        matched = (
            _HOT_PATH.match(scope["path"])
            if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]
            else None
        )
        if matched is None:
            return self.app(scope, receive, send)
        return self._read(matched, scope, receive, send)

    async def _read(
        self, matched: re.Match[str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        headers = Headers(scope=scope)
        course_id, assignment_id, plan_suffix = matched.groups()
        plan = plan_suffix is not None
        route, read = self.reads[plan]
        representation = await self._answer(scope, headers, read, plan, course_id, assignment_id)
        if representation is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route
        response = conditional(representation, headers.get("If-None-Match"))
        await response(scope, receive, send)

    async def _answer(
        self,
        scope: Scope,
        headers: Headers,
        read: Read,
        plan: bool,
        course_id: str,
        assignment_id: str,
    ) -> Representation | None:
        """What the read answers for the request's token, or None for the route to answer."""
        token = bearer_credentials(headers.get("Authorization"))
        if token is None:
            return None
        runtime: Runtime = scope["app"].state.runtime
        try:
            grant = verify_access_grant(runtime.settings, token)
            key = (plan, grant.user_id, course_id, assignment_id)
            remembered = self.remembered.get(key)
            if remembered is not None and self._current(runtime, remembered):
                self.remembered.move_to_end(key)
                return remembered.representation
            remembered = await self._read_once(runtime, key, read)
        except Exception:
            # Whatever failed (token, ids, workspace, database), the route fails the same
            # way and answers it in the one error shape.
            return None
        return remembered.representation

    async def _read_once(self, runtime: Runtime, key: _Key, read: Read) -> _Remembered:
        """``key``'s read, shared by the requests asking for it while it runs.

        When many arrive with nothing remembered (a class opening the page at once, or
        every open connection once the remembered read is a heartbeat old), one read goes
        to the database instead of one each: on the embedded database's single connection,
        thirty-two reads at once queued for half a second (bench row 2). A request that
        joined a running read answers with it only if its workspace had no wake-up since
        that read began, as for a remembered read; otherwise it reads again."""
        running = self.reading.get(key)
        if running is not None:
            shared = await asyncio.shield(running)
            if runtime.bus.clock.unchanged_since(shared.representation.workspace_id, shared.tick):
                return shared
        # A task of its own: the read goes on for those who joined it even if the request
        # that started it is cancelled (its client went away).
        running = asyncio.ensure_future(self._remember(runtime, key, read))
        self.reading[key] = running
        running.add_done_callback(partial(self._read_done, key))
        return await asyncio.shield(running)

    async def _remember(self, runtime: Runtime, key: _Key, read: Read) -> _Remembered:
        tick, at = runtime.bus.clock.tick, time.monotonic()
        _, user_id, course_id, assignment_id = key
        remembered = _Remembered(await read(user_id, course_id, assignment_id), tick, at)
        self.remembered[key] = remembered
        self.remembered.move_to_end(key)
        if len(self.remembered) > REMEMBERED_READS:
            self.remembered.popitem(last=False)
        return remembered

    def _read_done(self, key: _Key, done: asyncio.Future[_Remembered]) -> None:
        if self.reading.get(key) is done:
            del self.reading[key]

    @staticmethod
    def _current(runtime: Runtime, remembered: _Remembered) -> bool:
        age = time.monotonic() - remembered.at
        return age < runtime.settings.sse_heartbeat_seconds and runtime.bus.clock.unchanged_since(
            remembered.representation.workspace_id, remembered.tick
        )
