"""``/graphql``: queries and mutations over HTTP, subscriptions over websockets
(``graphql-transport-ws``, and the legacy ``graphql-ws``), and GraphiQL served with its
assets from this package, so it works offline."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable
from contextlib import suppress
from pathlib import Path
from typing import overload

from cross_web import HTTPException
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry import Schema
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types.unset import UNSET, UnsetType

from graphql_api.context import GraphQLContext, get_context
from graphql_api.lean_subscriptions import LeanSubscription, validated_subscription
from graphql_api.schema import build_schema
from graphql_api.shared_events import encoded_payload
from server.kernel.errors import HTTP_CODES, Unauthorized
from server.kernel.settings import Settings

PATH = "/graphql"
HERE = Path(__file__).parent
ASSETS_ROUTE = "graphiql-assets"
GRAPHIQL_PAGE = (HERE / "graphiql.html").read_text(encoding="utf-8")


class LeanTransportWSHandler(BaseGraphQLTransportWSHandler[GraphQLContext, None]):
    """Strawberry's graphql-transport-ws handler, holding less while a subscription idles
    (thousands may be open on one process, issue 17)."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        # The timeout task is cancelled (or done) by now; Strawberry keeps it for the
        # connection's life only to cancel it again at shutdown.
        self.connection_init_timeout_task = None

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # Every subscriber of an operation sends the same text: interned, all of them
        # hold one copy (an interned string is freed with its last holder).
        payload = message.get("payload")
        if isinstance(payload, dict) and isinstance(payload.get("query"), str):
            payload["query"] = sys.intern(payload["query"])
        await super().handle_subscribe(message)
        # The handler's receiving loop holds the last message received until the next
        # one: for an idle subscriber, this one. The operation has what it needs.
        dict.clear(message)  # type: ignore[arg-type]  # a TypedDict is a dict

    async def run_operation(self, operation: Operation[GraphQLContext, None]) -> None:
        """A subscription runs lean (``graphql_api.lean_subscriptions``); anything else,
        and a document that does not validate, as Strawberry runs it."""
        schema = self.schema
        assert isinstance(schema, Schema)  # the router's
        document = await validated_subscription(
            schema, self.context, operation.query, operation.variables, operation.operation_name
        )
        if document is None:
            await super().run_operation(operation)
            return
        try:
            await LeanSubscription(schema, self.context, operation, document).run()
        except Exception as error:  # as Strawberry's: logged, completed, forgotten
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise


class WorkspaceGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
    graphql_transport_ws_handler_class = LeanTransportWSHandler

    async def on_ws_connect(self, context: GraphQLContext) -> UnsetType | dict[str, object] | None:
        """A websocket is authenticated once, by its ``connection_init`` payload
        (``{"Authorization": "Bearer <token>"}``); without a valid token it is closed
        (4403 on graphql-transport-ws)."""
        try:
            await context.user()
        except Unauthorized as exc:
            raise ConnectionRejectionError({"code": exc.code, "message": exc.message}) from None
        return await super().on_ws_connect(context)  # accepted, with no acknowledgement payload

    @overload
    async def run(
        self, request: Request, context: GraphQLContext = UNSET, root_value: None = UNSET
    ) -> Response: ...

    @overload
    async def run(
        self, request: WebSocket, context: GraphQLContext = UNSET, root_value: None = UNSET
    ) -> WebSocket: ...

    async def run(
        self,
        request: Request | WebSocket,
        context: GraphQLContext = UNSET,
        root_value: None = UNSET,
    ) -> Response | WebSocket:
        """Requests that are not GraphQL (bad JSON, no query, a subscription over plain
        HTTP) answer with the status Strawberry chose, as a GraphQL error with a code."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            code = HTTP_CODES.get(exc.status_code, "invalid_request")
            error = {"message": exc.reason, "extensions": {"code": code, "status": exc.status_code}}
            return JSONResponse({"data": None, "errors": [error]}, status_code=exc.status_code)

    def encode_json(self, data: object) -> str | bytes:
        """A ``next`` message of a result shared by many subscriptions (graphql_api.
        shared_events) splices its payload's JSON, encoded once, beside its own id."""
        if isinstance(data, dict) and data.get("type") == "next" and len(data) == 3:
            payload = encoded_payload(data.get("payload"))
            if payload is not None:
                return f'{{"id":{json.dumps(data["id"])},"type":"next","payload":{payload}}}'
        return super().encode_json(data)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        assets = request.url_for(ASSETS_ROUTE, path="").path.rstrip("/")
        return HTMLResponse(GRAPHIQL_PAGE.replace("{{ assets }}", assets))


class SubscriptionSockets:
    """ASGI middleware: a ``/graphql`` websocket goes straight to the router's handler.

    FastAPI's websocket route holds, for the connection's whole life, the frames of its
    routing and exception middleware and the exit stacks of its dependency solving (a few
    KiB per open subscription, issue 17). The route's only dependency is the context, made
    here the same way (``get_context``, with the websocket as its request); the handler is
    the router's own ``run``, so the origin check, ``connection_init`` authentication,
    subscription limit and protocols are those of the route.
    """

    def __init__(self, app: ASGIApp, router: WorkspaceGraphQLRouter) -> None:
        self.app = app
        self.router = router

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine itself: every other request goes on without a frame of this
        # middleware held while it lasts.
        if scope["type"] == "websocket" and scope["path"] == PATH:
            return self._serve(WebSocket(scope, receive, send))
        return self.app(scope, receive, send)

    async def _serve(self, websocket: WebSocket) -> None:
        context = await get_context(websocket)
        context.request = websocket
        await self.router.run(websocket, context, None)


def graphql_router(settings: Settings) -> WorkspaceGraphQLRouter:
    return WorkspaceGraphQLRouter(
        build_schema(settings),
        context_getter=get_context,
        max_subscriptions_per_connection=settings.graphql_max_subscriptions_per_connection,
        # A websocket from a browser page on any other origin is refused (HTTP 403) before
        # it is accepted; clients without an Origin header (not browsers) are not affected.
        allowed_origins=settings.allowed_origins,
    )


def install_graphql(app: FastAPI, router: WorkspaceGraphQLRouter) -> None:
    """The router's routes (its websockets are served by ``SubscriptionSockets``, which
    the application adds among its middlewares) and GraphiQL's assets."""
    app.include_router(router, prefix=PATH, tags=["graphql"])
    app.mount(f"{PATH}/static", StaticFiles(directory=HERE / "static"), name=ASSETS_ROUTE)
