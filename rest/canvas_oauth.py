"""Signing in with Canvas OAuth2 (hosts with a developer key), for the browser extension."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from rest.deps import RuntimeDep, public_url_for
from rest.errors import error_responses
from server.accounts import canvas_oauth
from server.accounts.canvas_oauth import (
    OAuthCompletion,
    OAuthStart,
    OAuthStartView,
    SignInMethods,
)
from server.accounts.users import AccessTokenView

router = APIRouter(prefix="/auth/canvas", tags=["auth"])

ERRORS = error_responses(400, 422, 429, 503)
CALLBACK_ROUTE = "canvas_oauth_callback"
# Nothing in the redirect may be cached or sent on as a Referer (it carries a code).
NO_TRACE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/methods", response_model=SignInMethods, responses=ERRORS)
async def methods(
    rt: RuntimeDep,
    canvas_base_url: Annotated[str, Query(description="The Canvas site's address")],
) -> SignInMethods:
    """How students of a Canvas site can sign in: ``oauth`` when a developer key is set up
    for it, and ``personal_token``."""
    return await canvas_oauth.sign_in_methods(rt, canvas_base_url)


@router.post("/oauth/start", response_model=OAuthStartView, responses=ERRORS)
async def start(start: OAuthStart, request: Request, rt: RuntimeDep) -> OAuthStartView:
    """Begin signing in with Canvas: open ``authorization_url`` with
    ``chrome.identity.launchWebAuthFlow``; it ends at ``redirect_uri`` with ``code`` (or
    ``error``) and ``state``."""
    return await canvas_oauth.start_oauth(
        rt, start, public_url_for(request, rt.settings, CALLBACK_ROUTE), _client_key(request)
    )


@router.get(
    "/oauth/callback",
    name=CALLBACK_ROUTE,
    status_code=302,
    response_class=RedirectResponse,
    responses=ERRORS,
)
async def callback(
    rt: RuntimeDep,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
) -> RedirectResponse:
    """Where Canvas sends the browser back; it goes on to the extension's redirect URI."""
    target = await canvas_oauth.finish_authorization(rt, state=state, code=code, error=error)
    return RedirectResponse(target, status_code=302, headers=NO_TRACE)


@router.post("/oauth/complete", response_model=AccessTokenView, responses=ERRORS)
async def complete(
    completion: OAuthCompletion, request: Request, rt: RuntimeDep
) -> AccessTokenView:
    """Trade the one-time ``code`` and the PKCE ``code_verifier`` for a backend JWT."""
    return await canvas_oauth.complete_oauth(rt, completion, _client_key(request))
