"""Canvas OAuth access tokens that renew themselves with the stored refresh token.

Canvas OAuth access tokens live about an hour, so a planning job may outlive one. When
Canvas rejects a token as expired, the job's client asks for a new one here. Jobs of one
user that hit the expiry together renew it once: one at a time through a per-user lock in
this process, and through a lease on the credential row across processes; whoever comes
second finds the stored token already renewed and uses it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q

from models.db import CanvasAuthMethod, CanvasCredential
from server.canvas.client import CANVAS_UNAVAILABLE, CanvasError, FixedToken
from server.canvas.oauth import CanvasOAuthRejected, TokenGrant, canvas_host
from server.kernel.credentials import CredentialsUnreadable
from server.kernel.errors import BadRequest
from server.runtime import Runtime

logger = logging.getLogger(__name__)

LEASE_POLL_SECONDS = 0.1


class CanvasReauthRequired(BadRequest):
    """The Canvas sign-in cannot be renewed: the user has to sign in with Canvas again."""

    code = "canvas_reauth_required"

    def __init__(
        self,
        message: str = "Your Canvas sign-in has expired or was revoked; sign in with Canvas again",
    ) -> None:
        super().__init__(message)


def decrypt_stored(rt: Runtime, ciphertext: str) -> str:
    try:
        return rt.cipher.decrypt(ciphertext)
    except CredentialsUnreadable:
        raise BadRequest(
            "The stored Canvas credentials can no longer be read; connect Canvas again",
            code="canvas_credentials_unreadable",
        ) from None


def needs_reauth(credential: CanvasCredential) -> bool:
    """An OAuth sign-in whose refresh token Canvas refused: only a new sign-in helps."""
    return (
        credential.auth_method == CanvasAuthMethod.OAUTH
        and credential.refresh_token_ciphertext is None
    )


async def oauth_token_source(
    rt: Runtime, user_id: int, credential: CanvasCredential, token: str
) -> RefreshingToken:
    """The token source of an OAuth sign-in, renewed first when the stored token expires
    within ``CANVAS_TOKEN_RENEW_MARGIN_SECONDS``, so a job does not start on a token that
    dies under it. While Canvas cannot renew it, a token that has not expired yet is used."""
    if needs_reauth(credential):
        raise CanvasReauthRequired()
    source = RefreshingToken(rt, user_id, token)
    expires_at = credential.token_expires_at
    margin = timedelta(seconds=rt.settings.canvas_token_renew_margin_seconds)
    if expires_at is not None and expires_at - datetime.now(UTC) <= margin:
        try:
            await source.renew(token)
        except CanvasError as exc:
            if exc.code != CANVAS_UNAVAILABLE or expires_at <= datetime.now(UTC):
                raise
            logger.warning("could not renew an expiring Canvas token early (%s)", exc.code)
    return source


class RefreshingToken:
    """The ``AccessTokenSource`` of an OAuth credential: renews through the refresh token."""

    def __init__(self, rt: Runtime, user_id: int, token: str) -> None:
        self._rt = rt
        self._user_id = user_id
        self._token = FixedToken(token)

    def current(self) -> str:
        return self._token.current()

    async def renew(self, rejected: str) -> str:
        async with self._rt.canvas_oauth.refresh_lock(self._user_id):
            token = await renew_stored_token(self._rt, self._user_id, rejected)
        self._token = FixedToken(token)
        return token

    def __repr__(self) -> str:
        return f"RefreshingToken(user_id={self._user_id})"


async def renew_stored_token(rt: Runtime, user_id: int, rejected: str) -> str:
    """The user's access token now that Canvas rejected ``rejected``: the stored one if
    another job or process has renewed it meanwhile, else a new one from Canvas."""
    lease_seconds = 2 * rt.settings.canvas_timeout_seconds
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + lease_seconds
    while True:
        credential = await CanvasCredential.get_or_none(user_id=user_id)
        if credential is None:
            raise CanvasReauthRequired()
        stored = decrypt_stored(rt, credential.token_ciphertext)
        if stored != rejected:
            return stored
        if credential.refresh_token_ciphertext is None:
            raise CanvasReauthRequired()
        if await _take_refresh_lease(credential, lease_seconds):
            # Shielded: a job cancelled mid-refresh must still store what Canvas sent, or a
            # rotated refresh token would be lost with it.
            return await asyncio.shield(_refresh(rt, credential))
        if loop.time() >= give_up_at:
            raise CanvasError(
                "Renewing the Canvas sign-in is taking too long; try again",
                code=CANVAS_UNAVAILABLE,
            )
        await asyncio.sleep(LEASE_POLL_SECONDS)


async def _take_refresh_lease(credential: CanvasCredential, lease_seconds: float) -> bool:
    """Whether this caller now holds the refresh lease of the credential as it was read."""
    now = datetime.now(UTC)
    taken = await CanvasCredential.filter(
        Q(refresh_lease_until__isnull=True) | Q(refresh_lease_until__lt=now),
        id=credential.id,
        token_ciphertext=credential.token_ciphertext,
    ).update(refresh_lease_until=now + timedelta(seconds=lease_seconds))
    return bool(taken)


async def _refresh(rt: Runtime, credential: CanvasCredential) -> str:
    try:
        grant = await _refresh_at_canvas(rt, credential)
    except Exception:
        await CanvasCredential.filter(id=credential.id).update(refresh_lease_until=None)
        raise
    changes = {
        "token_ciphertext": rt.cipher.encrypt(grant.access_token),
        "token_expires_at": grant.expires_at,
        "refresh_lease_until": None,
    }
    if grant.refresh_token is not None:  # rotated; otherwise the old one stays valid
        changes["refresh_token_ciphertext"] = rt.cipher.encrypt(grant.refresh_token)
    await CanvasCredential.filter(id=credential.id).update(**changes)
    return grant.access_token


async def _refresh_at_canvas(rt: Runtime, credential: CanvasCredential) -> TokenGrant:
    app = rt.canvas_oauth.app_for(credential.base_url)
    if app is None:
        raise CanvasReauthRequired(
            "Signing in with Canvas is no longer set up for this Canvas site; "
            "connect Canvas again with an access token"
        )
    assert credential.refresh_token_ciphertext is not None  # checked by the caller
    refresh_token = decrypt_stored(rt, credential.refresh_token_ciphertext)
    try:
        return await rt.canvas_oauth.refresh(credential.base_url, app, refresh_token)
    except CanvasOAuthRejected as exc:
        if exc.grant_is_dead:
            # The refresh token is dead for good: later callers learn it without asking,
            # and the user is shown as having no usable Canvas access until they sign in.
            await CanvasCredential.filter(id=credential.id).update(refresh_token_ciphertext=None)
        else:
            logger.error(
                "Canvas %s refused the developer key (%s); check CANVAS_OAUTH_CLIENTS",
                canvas_host(credential.base_url),
                exc.oauth_error,
            )
        raise CanvasReauthRequired() from None
