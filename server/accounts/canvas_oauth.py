"""Signing in with Canvas OAuth2 where the institution issued a developer key.

For a browser extension (``chrome.identity.launchWebAuthFlow``): ``start`` gives the Canvas
authorization URL with a signed, single-use, short-lived ``state``; Canvas sends the
browser to our callback, which trades the code for tokens server-side, checks the Canvas
user, stores the tokens encrypted, and sends the browser on to the extension's registered
redirect URI with a one-time code; the extension trades that code, with the PKCE verifier
only it knows, for a backend JWT. No token or long-lived credential travels in a URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx
from pydantic import BaseModel, Field

from models.db import OAuthFlow, User
from server.accounts.users import AccessTokenView, access_token_view, connect_canvas_user
from server.canvas.client import CanvasClient
from server.canvas.urls import validate_canvas_base_url
from server.kernel.auth import mint_oauth_state, verify_oauth_state
from server.kernel.errors import AppError, BadRequest, Unauthorized
from server.runtime import Runtime

STATE_TTL = timedelta(minutes=10)  # time to sign in to Canvas and authorize
ONE_TIME_CODE_TTL = timedelta(minutes=2)  # the extension trades it at once
# RFC 7636: S256 challenges are 43 base64url characters; verifiers 43-128 unreserved ones.
CODE_CHALLENGE_PATTERN = r"^[A-Za-z0-9_-]{43}$"
CODE_VERIFIER_PATTERN = r"^[A-Za-z0-9._~-]{43,128}$"

SignInMethod = Literal["oauth", "personal_token"]


class SignInMethods(BaseModel):
    canvas_base_url: str
    methods: list[SignInMethod] = Field(description="Preferred first")


class OAuthStart(BaseModel):
    canvas_base_url: str
    redirect_uri: str = Field(
        max_length=2048, description="The extension's (chrome.identity.getRedirectURL())"
    )
    code_challenge: str = Field(
        pattern=CODE_CHALLENGE_PATTERN,
        description="base64url(SHA-256(code_verifier)), no padding (PKCE S256)",
    )


class OAuthStartView(BaseModel):
    authorization_url: str
    state: str
    expires_at: datetime


class OAuthCompletion(BaseModel):
    code: str = Field(min_length=1, max_length=128)
    code_verifier: str = Field(pattern=CODE_VERIFIER_PATTERN)


def _now() -> datetime:
    return datetime.now(UTC)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def pkce_challenge(code_verifier: str) -> str:
    """The S256 ``code_challenge`` of a PKCE ``code_verifier`` (RFC 7636 §4.2)."""
    digest = hashlib.sha256(code_verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def sign_in_methods(rt: Runtime, canvas_base_url: str) -> SignInMethods:
    """How a student of this Canvas site can sign in here."""
    base_url = await validate_canvas_base_url(
        canvas_base_url, allow_local=rt.settings.canvas_allow_local
    )
    methods: list[SignInMethod] = ["personal_token"]
    if rt.canvas_oauth.app_for(base_url) is not None:
        methods.insert(0, "oauth")
    return SignInMethods(canvas_base_url=base_url, methods=methods)


async def start_oauth(
    rt: Runtime, start: OAuthStart, callback_url: str, client_key: str
) -> OAuthStartView:
    """A new sign-in flow and the Canvas address to send the student to."""
    await rt.rate_limiter.check("onboarding", client_key)
    base_url = await validate_canvas_base_url(
        start.canvas_base_url, allow_local=rt.settings.canvas_allow_local
    )
    app = rt.canvas_oauth.app_for(base_url)
    if app is None:
        raise BadRequest(
            "Signing in with Canvas is not set up for this Canvas site; "
            "use a Canvas access token instead",
            code="oauth_not_configured",
        )
    if start.redirect_uri not in app.redirect_uris:
        raise BadRequest(
            "This redirect URI is not registered for signing in with Canvas",
            code="redirect_uri_not_allowed",
        )
    await OAuthFlow.filter(expires_at__lt=_now()).delete()
    flow_id = uuid.uuid4()
    state, expires_at = mint_oauth_state(rt.settings, str(flow_id), int(STATE_TTL.total_seconds()))
    await OAuthFlow.create(
        id=flow_id,
        canvas_base_url=base_url,
        redirect_uri=start.redirect_uri,
        callback_url=callback_url,
        code_challenge=start.code_challenge,
        expires_at=expires_at,
    )
    authorization_url = rt.canvas_oauth.authorization_url(
        base_url, app, callback_url=callback_url, state=state
    )
    return OAuthStartView(authorization_url=authorization_url, state=state, expires_at=expires_at)


async def finish_authorization(
    rt: Runtime, *, state: str | None, code: str | None, error: str | None
) -> str:
    """Handle Canvas's redirect to our callback; return where to send the browser next.

    Without a valid, unused state there is no trustworthy place to send the browser, so
    that is a 400 here; once the state is accepted, every outcome, failures included, goes
    to the extension's redirect URI, which the state names.
    """
    flow = await _take_state(rt, state)
    try:
        if error == "access_denied":
            raise BadRequest("Canvas sign-in was cancelled", code="canvas_authorization_denied")
        if error is not None:
            raise BadRequest("Canvas refused the sign-in", code="canvas_authorization_failed")
        if not code:
            raise BadRequest(
                "Canvas sent no authorization code", code="canvas_authorization_failed"
            )
        one_time_code = await _sign_in(rt, flow, code)
    except AppError as exc:
        return _extension_url(
            flow, {"error": exc.code, "error_description": exc.message, "state": state or ""}
        )
    return _extension_url(flow, {"code": one_time_code, "state": state or ""})


async def _take_state(rt: Runtime, state: str | None) -> OAuthFlow:
    try:
        flow_id = uuid.UUID(verify_oauth_state(rt.settings, state or ""))
    except (Unauthorized, ValueError):
        raise BadRequest(
            "The sign-in state is invalid or has expired; start signing in again",
            code="invalid_oauth_state",
        ) from None
    now = _now()
    taken = await OAuthFlow.filter(id=flow_id, state_used_at=None, expires_at__gt=now).update(
        state_used_at=now
    )
    if not taken:
        raise BadRequest(
            "This sign-in was already used or has expired; start signing in again",
            code="invalid_oauth_state",
        )
    return await OAuthFlow.get(id=flow_id)


async def _sign_in(rt: Runtime, flow: OAuthFlow, code: str) -> str:
    """Trade Canvas's code for tokens, store them for the Canvas user; return a one-time
    code for the extension."""
    app = rt.canvas_oauth.app_for(flow.canvas_base_url)
    if app is None:
        raise BadRequest(
            "Signing in with Canvas is no longer set up for this Canvas site",
            code="oauth_not_configured",
        )
    grant = await rt.canvas_oauth.exchange_code(
        flow.canvas_base_url, app, code=code, callback_url=flow.callback_url
    )
    async with CanvasClient.from_settings(
        flow.canvas_base_url, grant.access_token, rt.settings
    ) as canvas:
        profile = await canvas.get_self()
    user = await connect_canvas_user(rt, flow.canvas_base_url, profile, grant)
    one_time_code = secrets.token_urlsafe(32)
    await OAuthFlow.filter(id=flow.id).update(
        user_id=user.id,
        one_time_code_hash=_hash(one_time_code),
        expires_at=_now() + ONE_TIME_CODE_TTL,
    )
    return one_time_code


def _extension_url(flow: OAuthFlow, params: dict[str, str]) -> str:
    return str(httpx.URL(flow.redirect_uri).copy_merge_params(params))


async def complete_oauth(
    rt: Runtime, completion: OAuthCompletion, client_key: str
) -> AccessTokenView:
    """Trade the one-time code (with the PKCE verifier of the start) for a backend JWT."""
    await rt.rate_limiter.check("onboarding", client_key)
    now = _now()
    flow = await OAuthFlow.get_or_none(one_time_code_hash=_hash(completion.code))
    if (
        flow is None
        or flow.completed_at is not None
        or flow.expires_at <= now
        or not hmac.compare_digest(pkce_challenge(completion.code_verifier), flow.code_challenge)
    ):
        raise _invalid_code()
    if not await OAuthFlow.filter(id=flow.id, completed_at=None).update(completed_at=now):
        raise _invalid_code()  # a concurrent completion took it
    user = await User.get(id=flow.user_id)
    return await access_token_view(rt, user)


def _invalid_code() -> BadRequest:
    return BadRequest(
        "The sign-in code is invalid, already used or expired; start signing in again",
        code="invalid_oauth_code",
    )
