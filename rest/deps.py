"""Request dependencies: the runtime and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.base import SecurityBase
from starlette.requests import HTTPConnection

from models.db import User
from server.accounts.users import get_user
from server.kernel.auth import Grant, bearer_credentials, verify_access_grant
from server.kernel.errors import Unauthorized
from server.kernel.settings import Settings
from server.runtime import Runtime

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
BEARER_SCHEME = "BackendJWT"
BEARER_DESCRIPTION = (
    "A backend JWT: POST /auth/canvas returns one (canvas-workspace token mints one)"
)
# Reads the Authorization header, and declares the scheme in the OpenAPI document.
BEARER_AUTH = HTTPBearer(
    auto_error=False,
    scheme_name=BEARER_SCHEME,
    bearerFormat="JWT",
    description=BEARER_DESCRIPTION,
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


def verified_grant(settings: Settings, credentials: str | None) -> Grant:
    """The grant of a bearer token; 401 with the Bearer challenge when it is missing or
    not valid."""
    if credentials is None:
        raise _missing_token()
    try:
        return verify_access_grant(settings, credentials)
    except Unauthorized as exc:
        exc.headers = BEARER_CHALLENGE
        raise


class BearerGrant(SecurityBase):
    """The same ``BackendJWT`` scheme as ``BEARER_AUTH`` in the OpenAPI document, as one
    dependency that reads the header and verifies the token itself: FastAPI solves each
    dependency at a cost comparable to a cached read, so the hot reads take one, not the
    three (runtime, header, grant) this would otherwise be."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(bearerFormat="JWT", description=BEARER_DESCRIPTION)
        self.scheme_name = BEARER_SCHEME

    async def __call__(self, connection: HTTPConnection) -> Grant:
        """The verified token alone, without reading the user: for reads whose own query
        finds nothing when the user is gone (and then asks, see ``own_workspace``).
        Async, so FastAPI does not hand it to a thread."""
        runtime: Runtime = connection.app.state.runtime
        token = bearer_credentials(connection.headers.get("Authorization"))
        return verified_grant(runtime.settings, token)


CurrentGrant = Annotated[Grant, Depends(BearerGrant())]


async def current_user(grant: CurrentGrant) -> User:
    return await get_user(grant.user_id)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
CurrentUser = Annotated[User, Depends(current_user)]


def public_url_for(
    connection: HTTPConnection, settings: Settings, route: str, **params: str
) -> str:
    """The absolute URL of ``route``: on ``PUBLIC_BASE_URL`` when it is set (behind a proxy
    the request's own address may be an internal one), else on the request's address."""
    if settings.public_base_url:
        path = connection.app.url_path_for(route, **params)  # a URLPath, a str
        return settings.public_base_url.rstrip("/") + str(path)
    return str(connection.url_for(route, **params))
