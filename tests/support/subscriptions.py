"""GraphQL subscriptions over a real websocket (the gql client) against the running API: a
session authenticated at connection_init, and the messages of one subscription read to an
end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import TERMINAL

TRANSPORT_WS = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL  # graphql-transport-ws


def ws_url(api) -> str:
    return api.url.replace("http://", "ws://", 1) + "/graphql"


@asynccontextmanager
async def connected(
    api, student, protocol: str = TRANSPORT_WS
) -> AsyncIterator[AsyncClientSession]:
    transport = WebsocketsTransport(
        url=ws_url(api),
        init_payload={"Authorization": student.headers["Authorization"]},
        subprotocols=[protocol],
    )
    async with Client(transport=transport) as session:
        yield session


def is_terminal(message: dict[str, Any]) -> bool:
    return message.get("eventType") in TERMINAL


def never(_: dict[str, Any]) -> bool:
    return False  # read to the stream's own end


async def collect(
    session: AsyncClientSession,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    stop: Callable[[dict[str, Any]], bool] = is_terminal,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Messages of one subscription up to the one ``stop`` accepts (or the end), bounded."""
    field = "jobEvents" if "jobEvents" in query else "workspaceEvents"
    messages: list[dict[str, Any]] = []
    request = GraphQLRequest(query, variable_values=variables)
    async with asyncio.timeout(60):
        async for result in session.subscribe(request):
            messages.append(result[field])
            if stop(result[field]) or len(messages) >= limit:
                break
    return messages


def events_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m["__typename"] == "ProgressEvent"]
