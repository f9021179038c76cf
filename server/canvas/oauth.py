"""Canvas OAuth2 with an institution's developer key: the key of each Canvas host, the
authorization URL, and the token endpoint (authorization-code and refresh grants).

The token endpoint is held to the same rules as every Canvas call (decisions §3): the
host is re-checked for https and public addresses before each request, redirects are not
followed, and neither the client secret, a code nor a token reaches a log line, an
exception or a repr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from pydantic import SecretStr

from server.canvas.client import (
    CANVAS_BAD_RESPONSE,
    CANVAS_UNAVAILABLE,
    USER_AGENT,
    CanvasError,
    backoff_delay,
    is_valid_token,
    shared_tls_context,
)
from server.canvas.urls import validate_canvas_base_url
from server.kernel.settings import Settings

logger = logging.getLogger(__name__)

AUTHORIZE_PATH = "/login/oauth2/auth"
TOKEN_PATH = "/login/oauth2/token"  # noqa: S105 - a path, not a secret
MAX_TOKEN_RESPONSE_BYTES = 64 * 1024
CANVAS_OAUTH_REJECTED = "canvas_oauth_rejected"
# RFC 6749 §5.2 error codes that say the grant or the client itself is refused.
INVALID_GRANT = "invalid_grant"
INVALID_CLIENT = "invalid_client"
INVALID_REQUEST = "invalid_request"
# Canvas answers a refresh token it does not know (revoked by the student, deleted by an
# administrator, or replaced by a newer sign-in) with 400 invalid_request and this
# description, not with invalid_grant (lib/canvas/oauth/request_error.rb,
# ``invalid_refresh_token``); its other refusals of a grant are invalid_grant
# ("authorization_code not found", "incorrect client").
REFRESH_TOKEN_NOT_FOUND = "refresh_token not found"  # noqa: S105 - a description


class CanvasOAuthRejected(CanvasError):
    """Canvas's token endpoint refused the grant or the client (``oauth_error`` says which)."""

    def __init__(self, oauth_error: str) -> None:
        if oauth_error == INVALID_CLIENT:
            message = "Canvas no longer accepts this service's developer key"
        else:
            message = "Canvas refused the sign-in (the code or refresh token is not valid)"
        super().__init__(message, code=CANVAS_OAUTH_REJECTED, details={"oauth_error": oauth_error})
        self.oauth_error = oauth_error

    @property
    def grant_is_dead(self) -> bool:
        """The code or refresh token will never work again (only a new sign-in helps); a
        refused client is the deployment's configuration instead."""
        return self.oauth_error != INVALID_CLIENT


def _refused_grant(status: int, data: dict[str, Any] | None) -> str | None:
    """The OAuth error of an answer that refuses the grant or the client, else None."""
    if not data or status not in (400, 401):
        return None
    error, description = data.get("error"), data.get("error_description")
    if error in (INVALID_GRANT, INVALID_CLIENT):
        return str(error)
    if error == INVALID_REQUEST and description == REFRESH_TOKEN_NOT_FOUND:
        return INVALID_REQUEST
    return None


@dataclass(frozen=True)
class OAuthApp:
    """One host's developer key, with its secret decrypted (``SecretStr`` hides it)."""

    client_id: str
    client_secret: SecretStr
    redirect_uris: frozenset[str]
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class TokenGrant:
    access_token: str = field(repr=False)
    # Canvas sends a refresh token with a new authorization; a refresh may omit it (the old
    # one stays valid) or rotate it.
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None


def canvas_host(canvas_base_url: str) -> str:
    """The host key of ``CANVAS_OAUTH_CLIENTS`` for a normalized Canvas address."""
    return urlsplit(canvas_base_url).netloc.lower()


class CanvasOAuth:
    """The developer keys of this deployment and the per-user refresh locks of this process."""

    def __init__(
        self,
        apps: dict[str, OAuthApp],
        *,
        timeout: float,
        allow_local: bool,
        max_retries: int = 0,
        backoff_seconds: float = 0.0,
        backoff_max_seconds: float = 0.0,
    ) -> None:
        self._apps = apps
        self._timeout = timeout
        self._allow_local = allow_local
        self._max_retries = max(0, max_retries)
        self._backoff_seconds = backoff_seconds
        self._backoff_max_seconds = backoff_max_seconds
        self._refresh_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    @classmethod
    def from_settings(cls, settings: Settings, decrypt: Callable[[str], str]) -> CanvasOAuth:
        """Raises ``ValueError`` naming the host when an encrypted secret cannot be read."""
        apps = {}
        for host, client in settings.canvas_oauth_clients.items():
            secret = client.client_secret
            if secret is None:
                assert client.client_secret_encrypted is not None  # the settings model checks
                try:
                    secret = SecretStr(decrypt(client.client_secret_encrypted))
                except Exception:
                    raise ValueError(
                        f"client_secret_encrypted of Canvas host {host} cannot be decrypted "
                        "with CREDENTIALS_KEYS"
                    ) from None
            apps[host] = OAuthApp(
                client_id=client.client_id,
                client_secret=secret,
                redirect_uris=frozenset(client.redirect_uris),
                scopes=tuple(client.scopes),
            )
        return cls(
            apps,
            timeout=settings.canvas_timeout_seconds,
            allow_local=settings.canvas_allow_local,
            max_retries=settings.canvas_max_retries,
            backoff_seconds=settings.canvas_backoff_seconds,
            backoff_max_seconds=settings.canvas_backoff_max_seconds,
        )

    def app_for(self, canvas_base_url: str) -> OAuthApp | None:
        return self._apps.get(canvas_host(canvas_base_url))

    def refresh_lock(self, user_id: int) -> asyncio.Lock:
        """The lock that lets one job of this process refresh a user's token at a time."""
        lock = self._refresh_locks.get(user_id)
        if lock is None:
            lock = asyncio.Lock()
            self._refresh_locks[user_id] = lock
        return lock

    def authorization_url(
        self, canvas_base_url: str, app: OAuthApp, *, callback_url: str, state: str
    ) -> str:
        params = {
            "client_id": app.client_id,
            "response_type": "code",
            "redirect_uri": callback_url,
            "state": state,
        }
        if app.scopes:
            params["scope"] = " ".join(app.scopes)
        return f"{canvas_base_url}{AUTHORIZE_PATH}?{urlencode(params)}"

    async def exchange_code(
        self, canvas_base_url: str, app: OAuthApp, *, code: str, callback_url: str
    ) -> TokenGrant:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback_url,
            # Canvas then deletes this user's older tokens of the key: a second sign-in
            # leaves one authorization, not two.
            "replace_tokens": "1",
        }
        grant = await self._token_request(canvas_base_url, app, form)
        if grant.refresh_token is None:
            raise CanvasError(
                "Canvas sent no refresh token with the sign-in", code=CANVAS_BAD_RESPONSE
            )
        return grant

    async def refresh(self, canvas_base_url: str, app: OAuthApp, refresh_token: str) -> TokenGrant:
        return await self._token_request(
            canvas_base_url, app, {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    async def _token_request(
        self, canvas_base_url: str, app: OAuthApp, form: dict[str, str]
    ) -> TokenGrant:
        """One grant, retried with backoff while Canvas is unavailable (5xx, timeout, no
        connection): ``CANVAS_MAX_RETRIES`` retries, then ``canvas_unavailable``. Canvas
        keeps a refresh token through a refresh, so repeating one is harmless."""
        attempt = 0
        while True:
            try:
                return await self._token_attempt(canvas_base_url, app, form)
            except CanvasError as exc:
                if exc.code != CANVAS_UNAVAILABLE or attempt >= self._max_retries:
                    raise
                delay = backoff_delay(attempt, self._backoff_seconds, self._backoff_max_seconds)
                logger.warning(
                    "Canvas token endpoint unavailable (%s); retry %d in %.2f s",
                    exc.message,
                    attempt + 1,
                    delay,
                )
            await asyncio.sleep(delay)
            attempt += 1

    async def _token_attempt(
        self, canvas_base_url: str, app: OAuthApp, form: dict[str, str]
    ) -> TokenGrant:
        # Re-check on every use, as the Canvas client does: DNS may have changed.
        origin = await validate_canvas_base_url(canvas_base_url, allow_local=self._allow_local)
        form = {
            **form,
            "client_id": app.client_id,
            "client_secret": app.client_secret.get_secret_value(),
        }
        try:
            async with (
                asyncio.timeout(self._timeout),
                httpx.AsyncClient(
                    verify=shared_tls_context(),
                    follow_redirects=False,
                    headers={"User-Agent": USER_AGENT},
                ) as http,
                http.stream(
                    "POST", origin + TOKEN_PATH, data=form, headers={"Accept": "application/json"}
                ) as response,
            ):
                status = response.status_code
                body = await _read_capped(response)
        except TimeoutError:
            raise CanvasError(
                f"Canvas did not answer within {self._timeout:g} s", code=CANVAS_UNAVAILABLE
            ) from None
        except httpx.HTTPError:
            raise CanvasError("Could not connect to Canvas", code=CANVAS_UNAVAILABLE) from None
        return _grant_from(status, body)


async def _read_capped(response: httpx.Response) -> bytes:
    chunks = bytearray()
    async for chunk in response.aiter_bytes():
        chunks.extend(chunk)
        if len(chunks) > MAX_TOKEN_RESPONSE_BYTES:
            raise CanvasError("Canvas sent a response that is too large", code=CANVAS_BAD_RESPONSE)
    return bytes(chunks)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _grant_from(status: int, body: bytes) -> TokenGrant:
    data = _json_object(body)
    if status >= 500:
        raise CanvasError(
            f"Canvas is unavailable right now (HTTP {status}); try again later",
            code=CANVAS_UNAVAILABLE,
            canvas_status=status,
        )
    if status != 200:
        refused = _refused_grant(status, data)
        if refused is not None:
            raise CanvasOAuthRejected(refused)
        error = data.get("error") if data else None
        raise CanvasError(
            f"Canvas refused the sign-in request (HTTP {status}, {error or 'no error code'})",
            code=CANVAS_BAD_RESPONSE,
            canvas_status=status,
        )
    if data is None or not is_valid_token(data.get("access_token")):
        raise CanvasError("Canvas sent a sign-in answer without a token", code=CANVAS_BAD_RESPONSE)
    refresh_token = data.get("refresh_token")
    if refresh_token is not None and not is_valid_token(refresh_token):
        raise CanvasError("Canvas sent an invalid refresh token", code=CANVAS_BAD_RESPONSE)
    expires_in = data.get("expires_in")
    expires_at = None
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
    return TokenGrant(
        access_token=data["access_token"], refresh_token=refresh_token, expires_at=expires_at
    )


__all__ = [
    "CANVAS_OAUTH_REJECTED",
    "INVALID_CLIENT",
    "INVALID_GRANT",
    "INVALID_REQUEST",
    "REFRESH_TOKEN_NOT_FOUND",
    "CanvasOAuth",
    "CanvasOAuthRejected",
    "OAuthApp",
    "TokenGrant",
    "canvas_host",
]
