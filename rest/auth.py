"""Onboarding and the current user's Canvas credentials."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from rest.deps import CurrentUser, RuntimeDep
from rest.errors import error_responses
from server.accounts import users
from server.accounts.users import AccessTokenView, CanvasLogin, UserView

router = APIRouter(tags=["auth"])

# Onboarding and replacing the token call Canvas synchronously (502) and are rate limited.
CANVAS_LOGIN_ERRORS = error_responses(400, 422, 429, 502, 503)


@router.post("/auth/canvas", response_model=AccessTokenView, responses=CANVAS_LOGIN_ERRORS)
async def onboard(login: CanvasLogin, request: Request, rt: RuntimeDep) -> AccessTokenView:
    """Check a Canvas token against Canvas, store it encrypted, and return a backend JWT."""
    client_key = request.client.host if request.client else "unknown"
    return await users.onboard_with_canvas_token(rt, login, client_key)


@router.get("/me", response_model=UserView, responses=error_responses(401, 503))
async def me(user: CurrentUser) -> UserView:
    return await users.user_view(user)


@router.put(
    "/me/canvas-credentials",
    response_model=UserView,
    responses={**error_responses(401), **CANVAS_LOGIN_ERRORS},
)
async def replace_credentials(login: CanvasLogin, user: CurrentUser, rt: RuntimeDep) -> UserView:
    """Replace the stored Canvas token (it must belong to the same Canvas user)."""
    return await users.replace_canvas_credentials(rt, user, login)


@router.delete(
    "/me/canvas-credentials",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 404, 503),
)
async def delete_credentials(user: CurrentUser, rt: RuntimeDep) -> Response:
    """Forget the Canvas credentials (an OAuth sign-in is also revoked at Canvas)."""
    await users.delete_canvas_credentials(rt, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
