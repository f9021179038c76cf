"""Onboarding with a Canvas token, the current user, and their stored Canvas credentials."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.db import AssignmentWorkspace, CanvasAuthMethod, CanvasCredential, User
from server.accounts.canvas_tokens import (
    CanvasReauthRequired,
    decrypt_stored,
    needs_reauth,
    oauth_token_source,
)
from server.canvas.client import AccessTokenSource, CanvasClient
from server.canvas.oauth import TokenGrant
from server.canvas.urls import validate_canvas_base_url
from server.kernel.auth import mint_access_token
from server.kernel.errors import AppError, BadRequest, NotFound, Unauthorized
from server.kernel.queries import column_values
from server.runtime import Runtime

logger = logging.getLogger(__name__)

MAX_CANVAS_TOKEN_LENGTH = 4096


class UserView(BaseModel):
    id: int
    name: str
    canvas_base_url: str | None
    canvas_user_id: str
    has_canvas_credentials: bool
    created_at: datetime


class AccessTokenView(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: datetime
    user: UserView


class CanvasLogin(BaseModel):
    canvas_base_url: str
    canvas_token: str


async def user_view(user: User) -> UserView:
    credential = await CanvasCredential.get_or_none(user_id=user.id)
    return UserView(
        id=user.id,
        name=user.name,
        canvas_base_url=credential.base_url if credential else None,
        canvas_user_id=user.canvas_user_id,
        has_canvas_credentials=credential is not None and not needs_reauth(credential),
        created_at=user.created_at,
    )


async def get_user(user_id: int) -> User:
    user = await User.get_or_none(id=user_id)
    if user is None:
        # A valid token for a deleted user: the token no longer grants anything.
        raise Unauthorized("The user of this token no longer exists", code="invalid_token")
    return user


async def _canvas_profile(rt: Runtime, login: CanvasLogin) -> tuple[str, dict[str, object]]:
    token = login.canvas_token.strip()
    if not token or len(token) > MAX_CANVAS_TOKEN_LENGTH:
        raise BadRequest("canvas_token must be a non-empty Canvas access token")
    base_url = await validate_canvas_base_url(
        login.canvas_base_url, allow_local=rt.settings.canvas_allow_local
    )
    async with CanvasClient.from_settings(base_url, token, rt.settings) as canvas:
        return base_url, await canvas.get_self()


async def _store_credential(
    rt: Runtime, user: User, base_url: str, access: str | TokenGrant
) -> None:
    """Store a personal token (``str``) or an OAuth grant, replacing what was stored."""
    if isinstance(access, str):
        # Column values; Any, as Tortoise takes them (beside its own ``using_db``).
        fields: dict[str, Any] = {
            "auth_method": CanvasAuthMethod.PERSONAL_TOKEN,
            "token_ciphertext": rt.cipher.encrypt(access.strip()),
            "refresh_token_ciphertext": None,
            "token_expires_at": None,
        }
    else:
        assert access.refresh_token is not None  # an authorization always comes with one
        fields = {
            "auth_method": CanvasAuthMethod.OAUTH,
            "token_ciphertext": rt.cipher.encrypt(access.access_token),
            "refresh_token_ciphertext": rt.cipher.encrypt(access.refresh_token),
            "token_expires_at": access.expires_at,
        }
    fields.update(base_url=base_url, refresh_lease_until=None)
    updated = await CanvasCredential.filter(user_id=user.id).update(**fields)
    if not updated:
        try:
            await CanvasCredential.create(user_id=user.id, **fields)
        except IntegrityError:  # a concurrent onboarding of the same user created it
            await CanvasCredential.filter(user_id=user.id).update(**fields)


async def connect_canvas_user(
    rt: Runtime, base_url: str, profile: dict[str, object], access: str | TokenGrant
) -> User:
    """The user of a Canvas profile (``/users/self``), found or created whichever way they
    signed in, with their Canvas access stored encrypted."""
    user = await _find_or_create_user(
        urlsplit(base_url).netloc, str(profile.get("id")), str(profile.get("name") or "")
    )
    await _store_credential(rt, user, base_url, access)
    return user


async def access_token_view(rt: Runtime, user: User) -> AccessTokenView:
    access_token, expires_at = mint_access_token(rt.settings, user.id)
    return AccessTokenView(
        access_token=access_token, expires_at=expires_at, user=await user_view(user)
    )


async def _find_or_create_user(host: str, canvas_user_id: str, name: str) -> User:
    user = await User.get_or_none(canvas_host=host, canvas_user_id=canvas_user_id)
    if user is None:
        try:
            async with in_transaction():
                user = await User.create(canvas_host=host, canvas_user_id=canvas_user_id, name=name)
        except IntegrityError:
            user = await User.get(canvas_host=host, canvas_user_id=canvas_user_id)
    elif name and user.name != name:
        user.name = name
        await user.save(update_fields=["name", "updated_at"])
    return user


async def onboard_with_canvas_token(
    rt: Runtime, login: CanvasLogin, client_key: str
) -> AccessTokenView:
    """Check the token against Canvas, store it encrypted, and mint a backend JWT."""
    await rt.rate_limiter.check("onboarding", client_key)
    base_url, profile = await _canvas_profile(rt, login)
    user = await connect_canvas_user(rt, base_url, profile, login.canvas_token)
    return await access_token_view(rt, user)


async def replace_canvas_credentials(rt: Runtime, user: User, login: CanvasLogin) -> UserView:
    """Replace the stored token; it must belong to the same Canvas user."""
    await rt.rate_limiter.check("onboarding", f"user:{user.id}")
    base_url, profile = await _canvas_profile(rt, login)
    if urlsplit(base_url).netloc != user.canvas_host or str(profile.get("id")) != (
        user.canvas_user_id
    ):
        raise BadRequest(
            "This Canvas token belongs to another Canvas user or host",
            code="canvas_user_mismatch",
        )
    await _store_credential(rt, user, base_url, login.canvas_token)
    return await user_view(user)


async def delete_canvas_credentials(rt: Runtime, user: User) -> None:
    """Forget the user's Canvas access; an OAuth token is revoked at Canvas first."""
    credential = await CanvasCredential.get_or_none(user_id=user.id)
    if credential is None:
        raise NotFound("No Canvas credentials are stored", code="canvas_credentials_missing")
    if credential.auth_method == CanvasAuthMethod.OAUTH:
        await revoke_at_canvas(rt, user.id)
    await CanvasCredential.filter(user_id=user.id).delete()
    # The user's open streams end: they watch the credentials at each wake-up.
    for workspace_id in await column_values(AssignmentWorkspace.filter(user_id=user.id), "id"):
        await rt.bus.notify(int(workspace_id))


async def revoke_at_canvas(rt: Runtime, user_id: int) -> None:
    try:
        async with await canvas_client_for(rt, user_id) as canvas:
            await canvas.revoke_token()
    except AppError as exc:
        # The user asked to disconnect: Canvas being away must not keep their token here.
        logger.warning("Canvas did not revoke the token of user %s (%s)", user_id, exc.code)


async def canvas_client_for(rt: Runtime, user_id: int) -> CanvasClient:
    """A Canvas client with the user's decrypted token (renewed when it expires, for an
    OAuth sign-in); re-encrypts what it read with the newest key."""
    credential = await CanvasCredential.get_or_none(user_id=user_id)
    if credential is None:
        raise _credentials_missing()
    token = decrypt_stored(rt, credential.token_ciphertext)
    await _rotate_encryption(rt, credential)
    source: str | AccessTokenSource = token
    if credential.auth_method == CanvasAuthMethod.OAUTH:
        source = await oauth_token_source(rt, user_id, credential, token)
    return CanvasClient.from_settings(credential.base_url, source, rt.settings)


async def _rotate_encryption(rt: Runtime, credential: CanvasCredential) -> None:
    # Conditional on the ciphertext read: a token renewed meanwhile must not be overwritten.
    for column in ("token_ciphertext", "refresh_token_ciphertext"):
        ciphertext = getattr(credential, column)
        if ciphertext is not None and rt.cipher.needs_rotation(ciphertext):
            await CanvasCredential.filter(id=credential.id, **{column: ciphertext}).update(
                **{column: rt.cipher.encrypt(decrypt_stored(rt, ciphertext))}
            )


async def require_canvas_credentials(user_id: int) -> None:
    credential = await CanvasCredential.get_or_none(user_id=user_id)
    if credential is None:
        raise _credentials_missing()
    if needs_reauth(credential):
        raise CanvasReauthRequired()


def _credentials_missing() -> BadRequest:
    return BadRequest(
        "Connect your Canvas account first (no Canvas credentials are stored)",
        code="canvas_credentials_missing",
    )
