"""Request dependencies: the runtime and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from models.db import User
from server.auth import verify_access_token
from server.errors import Unauthorized
from server.runtime import Runtime
from server.services.users import get_user

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def get_runtime(connection: HTTPConnection) -> Runtime:
    runtime: Runtime = connection.app.state.runtime
    return runtime


def bearer_token(connection: HTTPConnection) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def current_user(
    connection: HTTPConnection, rt: Annotated[Runtime, Depends(get_runtime)]
) -> User:
    token = bearer_token(connection)
    if token is None:
        raise Unauthorized(
            "Send Authorization: Bearer <token>", code="missing_token", headers=BEARER_CHALLENGE
        )
    try:
        return await get_user(verify_access_token(rt.settings, token))
    except Unauthorized as exc:
        exc.headers = BEARER_CHALLENGE
        raise


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
CurrentUser = Annotated[User, Depends(current_user)]
