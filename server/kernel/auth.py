"""Backend JWTs: access tokens for the extension, and short-lived stream tokens.

Access tokens carry ``sub`` (our user id), ``exp``, ``iat``, ``iss``, ``aud`` and
``typ="access"``. A stream token has ``typ="stream"`` and names the one workspace stream it
opens, because a browser's EventSource cannot send an Authorization header. A Canvas
OAuth ``state`` has ``typ="oauth_state"`` and names its sign-in flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt

from server.kernel.errors import Unauthorized
from server.kernel.settings import Settings

OUR_ALGORITHM = "HS256"


def _mint(settings: Settings, claims: dict[str, Any], ttl_seconds: int) -> tuple[str, datetime]:
    now = datetime.now(UTC)
    expires_at = now + timedelta(seconds=ttl_seconds)
    payload = {
        **claims,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    assert settings.jwt_secret is not None
    return jwt.encode(payload, settings.jwt_secret, algorithm=OUR_ALGORITHM), expires_at


@dataclass(frozen=True)
class _Keys:
    """What verifying a token depends on (hashable, unlike the settings)."""

    secret: str | None
    public_key: str | None
    algorithm: str
    audience: str
    issuer: str

    @classmethod
    def of(cls, settings: Settings) -> _Keys:
        return cls(
            settings.jwt_secret,
            settings.jwt_public_key,
            settings.jwt_algorithm,
            settings.jwt_audience,
            settings.jwt_issuer,
        )


def _decode(settings: Settings, token: str, *, allow_external: bool) -> dict[str, Any]:
    return _decode_with(_Keys.of(settings), token, allow_external=allow_external)


def _decode_with(keys: _Keys, token: str, *, allow_external: bool) -> dict[str, Any]:
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
        if algorithm == OUR_ALGORITHM:
            assert keys.secret is not None
            key = keys.secret
        elif allow_external and keys.public_key:
            key = keys.public_key
        else:
            raise Unauthorized("The token is signed with an algorithm this server does not accept")
        allowed = [OUR_ALGORITHM] if algorithm == OUR_ALGORITHM else [keys.algorithm]
        return jwt.decode(
            token,
            key,
            algorithms=allowed,
            audience=keys.audience,
            issuer=keys.issuer,
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The token has expired", code="token_expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("The token is invalid", code="invalid_token") from None


@dataclass(frozen=True)
class Grant:
    """What a verified token grants: its user, until it expires (a stream opened with it
    ends then)."""

    user_id: int
    expires_at: datetime


def _grant(claims: dict[str, Any]) -> Grant:
    try:
        user_id = int(claims["sub"])
    except (KeyError, TypeError, ValueError):
        raise Unauthorized("The token names no valid user", code="invalid_token") from None
    return Grant(user_id, datetime.fromtimestamp(claims["exp"], UTC))


def bearer_credentials(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value, if it is one."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def mint_access_token(settings: Settings, user_id: int) -> tuple[str, datetime]:
    return _mint(
        settings, {"sub": str(user_id), "typ": "access"}, settings.access_token_ttl_seconds
    )


def verify_access_token(settings: Settings, token: str) -> int:
    return verify_access_grant(settings, token).user_id


def verify_access_grant(settings: Settings, token: str) -> Grant:
    """The grant of a valid access token. A token once verified is remembered until it
    expires (an extension sends the same one with every request, and verifying costs more
    than the rest of a cached read); a refused token is verified anew each time."""
    grant = _verified_access(_Keys.of(settings), token)
    if grant.expires_at <= datetime.now(UTC):
        raise Unauthorized("The token has expired", code="token_expired")
    return grant


@lru_cache(maxsize=4096)
def _verified_access(keys: _Keys, token: str) -> Grant:
    claims = _decode_with(keys, token, allow_external=True)
    if claims.get("typ", "access") != "access":
        raise Unauthorized("This token cannot be used here", code="invalid_token")
    return _grant(claims)


def mint_oauth_state(settings: Settings, flow_id: str, ttl_seconds: int) -> tuple[str, datetime]:
    """The ``state`` of a Canvas OAuth sign-in: it names the stored flow (which makes it
    usable once) and is signed, so a forged one is refused before any lookup."""
    return _mint(settings, {"sub": flow_id, "typ": "oauth_state"}, ttl_seconds)


def verify_oauth_state(settings: Settings, token: str) -> str:
    """The flow id in a state; raises ``Unauthorized`` when it is forged or expired."""
    claims = _decode(settings, token, allow_external=False)
    if claims.get("typ") != "oauth_state":
        raise Unauthorized("This token is not a sign-in state", code="invalid_token")
    return str(claims["sub"])


def _stream_scope(course_id: str, assignment_id: str) -> str:
    return f"events:{course_id}:{assignment_id}"


def mint_stream_token(
    settings: Settings, user_id: int, course_id: str, assignment_id: str
) -> tuple[str, datetime]:
    claims = {
        "sub": str(user_id),
        "typ": "stream",
        "scope": _stream_scope(course_id, assignment_id),
    }
    return _mint(settings, claims, settings.stream_token_ttl_seconds)


def verify_stream_token(
    settings: Settings, token: str, course_id: str, assignment_id: str
) -> Grant:
    claims = _decode(settings, token, allow_external=False)
    if claims.get("typ") != "stream" or claims.get("scope") != _stream_scope(
        course_id, assignment_id
    ):
        raise Unauthorized("This stream token is for another stream", code="invalid_token")
    return _grant(claims)
