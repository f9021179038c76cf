"""Request dependencies: the runtime and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from models.db import User
from server.accounts.users import get_user
from server.kernel.auth import Grant, verify_access_grant
from server.kernel.errors import Unauthorized
from server.kernel.settings import Settings
from server.runtime import Runtime

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
# Reads the Authorization header, and declares the scheme in the OpenAPI document.
BEARER_AUTH = HTTPBearer(
    auto_error=False,
    scheme_name="BackendJWT",
    bearerFormat="JWT",
    description="A backend JWT: POST /auth/canvas returns one (canvas-workspace token mints one)",
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER_AUTH)]


async def get_runtime(connection: HTTPConnection) -> Runtime:
    # Async: FastAPI runs a plain function dependency in a worker thread.
    runtime: Runtime = connection.app.state.runtime
    return runtime


def _missing_token() -> Unauthorized:
    return Unauthorized(
        "Send Authorization: Bearer <token>", code="missing_token", headers=BEARER_CHALLENGE
    )


async def current_user(
    rt: Annotated[Runtime, Depends(get_runtime)], credentials: BearerCredentials
) -> User:
    return await get_user((await current_grant(rt, credentials)).user_id)


async def current_grant(
    rt: Annotated[Runtime, Depends(get_runtime)], credentials: BearerCredentials
) -> Grant:
    """The verified token alone, without reading the user: for reads whose own query finds
    nothing when the user is gone (and then asks, see ``own_workspace``). Async, so
    FastAPI does not hand it to a thread."""
    if credentials is None:
        raise _missing_token()
    try:
        return verify_access_grant(rt.settings, credentials.credentials.strip())
    except Unauthorized as exc:
        exc.headers = BEARER_CHALLENGE
        raise


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
CurrentUser = Annotated[User, Depends(current_user)]
CurrentGrant = Annotated[Grant, Depends(current_grant)]


def public_url_for(
    connection: HTTPConnection, settings: Settings, route: str, **params: str
) -> str:
    """The absolute URL of ``route``: on ``PUBLIC_BASE_URL`` when it is set (behind a proxy
    the request's own address may be an internal one), else on the request's address."""
    if settings.public_base_url:
        path = connection.app.url_path_for(route, **params)  # a URLPath, a str
        return settings.public_base_url.rstrip("/") + str(path)
    return str(connection.url_for(route, **params))
