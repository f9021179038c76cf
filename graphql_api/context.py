"""The GraphQL context: the runtime, the caller, and the DataLoaders.

Strawberry builds it once per HTTP request, and once per websocket connection (not per
operation): so the caller is authenticated once per connection, at ``connection_init``, and
the loaders batch but never cache (a connection may live for hours).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from models.db import User
from server.accounts.users import get_user
from server.kernel.auth import Grant, bearer_credentials, verify_access_grant
from server.kernel.errors import Unauthorized
from server.runtime import Runtime
from server.workspaces import service as workspaces


def _authorization_param(params: Mapping[str, Any]) -> str | None:
    # GraphiQL sends its header editor's contents as the payload: {"Authorization": ...}.
    for key, value in params.items():
        if key.lower() == "authorization" and isinstance(value, str):
            return value
    return None


class GraphQLContext(BaseContext):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        self._user: User | None = None
        self.grant: Grant | None = None  # the caller's token, once verified
        self.plans: DataLoader[int, dict[str, Any] | None] = DataLoader(
            self._load_plans, cache=False
        )

    def _authorization(self) -> str | None:
        if isinstance(self.connection_params, Mapping):
            from_payload = _authorization_param(self.connection_params)
            if from_payload is not None:
                return from_payload
        # HTTP, or a websocket client that sent the header with its handshake.
        return self.request.headers.get("authorization") if self.request is not None else None

    async def user(self) -> User:
        """The authenticated caller; raises ``Unauthorized`` as the REST routes do."""
        if self._user is None:
            token = bearer_credentials(self._authorization())
            if token is None:
                raise Unauthorized(
                    "Send Authorization: Bearer <token> (an HTTP header, or in the "
                    "connection_init payload of a websocket)",
                    code="missing_token",
                )
            self.grant = verify_access_grant(self.runtime.settings, token)
            self._user = await get_user(self.grant.user_id)
        return self._user

    @property
    def expires_at(self) -> datetime | None:
        """When the caller's token expires (known once ``user()`` has verified it)."""
        return self.grant.expires_at if self.grant is not None else None

    async def close_connection(self, code: int) -> None:
        """Close the websocket this context belongs to (no-op over HTTP)."""
        if isinstance(self.request, WebSocket):
            await self.request.close(code)

    @property
    def client_key(self) -> str:
        """The caller's address, for the onboarding rate limit (as on REST)."""
        client = self.request.client if self.request is not None else None
        return client.host if client else "unknown"

    async def _load_plans(self, workspace_ids: Sequence[int]) -> list[dict[str, Any] | None]:
        plans = await workspaces.current_plans(await self.user(), workspace_ids)
        return [plans.get(workspace_id) for workspace_id in workspace_ids]


async def get_context(connection: HTTPConnection) -> GraphQLContext:
    """The router's context dependency: ``HTTPConnection``, not ``Request``, so that it also
    serves websockets."""
    return GraphQLContext(connection.app.state.runtime)
