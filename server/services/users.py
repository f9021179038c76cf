"""Onboarding with a Canvas token, the current user, and their stored Canvas credentials."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.db import CanvasCredential, User
from server.auth import mint_access_token
from server.canvas.client import CanvasClient
from server.canvas.urls import validate_canvas_base_url
from server.credentials import CredentialsUnreadable
from server.errors import BadRequest, NotFound, Unauthorized
from server.runtime import Runtime

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
        has_canvas_credentials=credential is not None,
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


async def _store_credential(rt: Runtime, user: User, base_url: str, token: str) -> None:
    ciphertext = rt.cipher.encrypt(token.strip())
    updated = await CanvasCredential.filter(user_id=user.id).update(
        base_url=base_url, token_ciphertext=ciphertext, auth_method="personal_token"
    )
    if not updated:
        try:
            await CanvasCredential.create(
                user_id=user.id, base_url=base_url, token_ciphertext=ciphertext
            )
        except IntegrityError:  # a concurrent onboarding of the same user created it
            await CanvasCredential.filter(user_id=user.id).update(
                base_url=base_url, token_ciphertext=ciphertext
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
    rt.rate_limiter.check("onboarding", client_key)
    base_url, profile = await _canvas_profile(rt, login)
    user = await _find_or_create_user(
        urlsplit(base_url).netloc, str(profile.get("id")), str(profile.get("name") or "")
    )
    await _store_credential(rt, user, base_url, login.canvas_token)
    access_token, expires_at = mint_access_token(rt.settings, user.id)
    return AccessTokenView(
        access_token=access_token, expires_at=expires_at, user=await user_view(user)
    )


async def replace_canvas_credentials(rt: Runtime, user: User, login: CanvasLogin) -> UserView:
    """Replace the stored token; it must belong to the same Canvas user."""
    rt.rate_limiter.check("onboarding", f"user:{user.id}")
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


async def delete_canvas_credentials(user: User) -> None:
    if not await CanvasCredential.filter(user_id=user.id).delete():
        raise NotFound("No Canvas credentials are stored", code="canvas_credentials_missing")


async def canvas_client_for(rt: Runtime, user_id: int) -> CanvasClient:
    """A Canvas client with the user's decrypted token; re-encrypts with the newest key."""
    credential = await CanvasCredential.get_or_none(user_id=user_id)
    if credential is None:
        raise _credentials_missing()
    try:
        token = rt.cipher.decrypt(credential.token_ciphertext)
    except CredentialsUnreadable:
        raise BadRequest(
            "The stored Canvas credentials can no longer be read; connect Canvas again",
            code="canvas_credentials_unreadable",
        ) from None
    if rt.cipher.needs_rotation(credential.token_ciphertext):
        credential.token_ciphertext = rt.cipher.encrypt(token)
        await credential.save(update_fields=["token_ciphertext", "updated_at"])
    return CanvasClient.from_settings(credential.base_url, token, rt.settings)


async def require_canvas_credentials(user_id: int) -> None:
    if not await CanvasCredential.exists(user_id=user_id):
        raise _credentials_missing()


def _credentials_missing() -> BadRequest:
    return BadRequest(
        "Connect your Canvas account first (no Canvas credentials are stored)",
        code="canvas_credentials_missing",
    )
