"""HTTP client for the Canvas REST API (decisions §3 and §6).

Every failure ends as a ``CanvasError`` with a stable code and a message written for
the user. The access token goes only into the ``Authorization`` header of requests to
the Canvas origin: never into a URL, a log line, an exception or a repr. It comes from an
``AccessTokenSource``: a fixed personal token, or an OAuth token that is renewed once per
call when Canvas says it expired (401 with ``WWW-Authenticate``).
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import logging
import random
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol, Self

import httpx

from server.canvas.urls import check_redirect_target, validate_canvas_base_url
from server.kernel.errors import AppError, UpstreamError, ValidationFailed
from server.kernel.metrics import CANVAS_CALLS
from server.kernel.settings import MIB, Settings

logger = logging.getLogger(__name__)

MAX_PAGES = 50
MAX_REDIRECTS = 5
MAX_JSON_BYTES = 20 * MIB  # a Canvas JSON page is far smaller; this bounds a hostile host
MAX_ERROR_BODY_BYTES = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RATE_LIMIT_MARKER = "rate limit exceeded"  # Canvas: "403 Forbidden (Rate Limit Exceeded)"
USER_AGENT = "canvas-workspace/0.1"

# Numeric ids, "self", and Canvas's "sis_course_id:ABC" forms; never "/", "." or "%".
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_:\-]+$")
# Canvas tokens are printable ASCII ("1234~abcd..."); anything else cannot be a header.
_TOKEN_PATTERN = re.compile(r"^[\x21-\x7e]+$")

CANVAS_UNAUTHORIZED = "canvas_unauthorized"
CANVAS_FORBIDDEN = "canvas_forbidden"
CANVAS_NOT_FOUND = "canvas_not_found"
CANVAS_THROTTLED = "canvas_throttled"
CANVAS_UNAVAILABLE = "canvas_unavailable"
CANVAS_BAD_RESPONSE = "canvas_bad_response"
CANVAS_FILE_TOO_LARGE = "canvas_file_too_large"


class CanvasError(UpstreamError):
    """A Canvas call that failed; 502 when the call is synchronous."""

    status_code = 502
    code = CANVAS_UNAVAILABLE

    def __init__(
        self,
        message: str,
        *,
        code: str = CANVAS_UNAVAILABLE,
        canvas_status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        merged = dict(details or {})
        if canvas_status is not None:
            merged["canvas_status"] = canvas_status
        super().__init__(message, code=code, details=merged)
        self.canvas_status = canvas_status


class _Secret:
    """Holds the token so that a repr, ``vars()`` or a debugger shows no secret."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


@dataclass(frozen=True)
class _Failure:
    error: CanvasError
    retryable: bool
    retry_after: float | None = None


class AccessTokenSource(Protocol):
    """Where a client gets its Canvas access token, and a new one when Canvas rejects it."""

    def current(self) -> str: ...

    async def renew(self, rejected: str) -> str | None:
        """A new token after Canvas answered ``rejected`` with 401 and ``WWW-Authenticate``,
        or None when this kind of token cannot be renewed."""
        ...


class FixedToken:
    """A personal access token: it never changes, so an expired one stays expired."""

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = _check_token(token)

    def current(self) -> str:
        return self._token.reveal()

    async def renew(self, rejected: str) -> str | None:
        return None

    def __repr__(self) -> str:
        return "FixedToken(<secret>)"


Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: httpx.URL) -> Origin:
    return (url.scheme, url.host.lower(), url.port or _DEFAULT_PORTS.get(url.scheme, 0))


def _segment(value: str | int, what: str) -> str:
    """An id placed in a URL path: refuse anything that could change the path."""
    text = str(value)
    if not _ID_PATTERN.fullmatch(text):
        raise ValidationFailed(f"Invalid Canvas {what} id", code="invalid_canvas_id")
    return text


def is_valid_token(token: object) -> bool:
    """Whether ``token`` can be a Canvas token (and so an HTTP header value)."""
    return isinstance(token, str) and _TOKEN_PATTERN.fullmatch(token) is not None


def _check_token(token: str) -> _Secret:
    if not is_valid_token(token):
        # Never echo the value: it is (or is close to) a secret.
        raise ValidationFailed(
            "The Canvas access token is empty or contains characters a token cannot have",
            code="invalid_canvas_token",
        )
    return _Secret(token)


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _rate_limit_remaining(headers: httpx.Headers) -> float | None:
    try:
        return float(headers["X-Rate-Limit-Remaining"])
    except (KeyError, ValueError):
        return None


def _is_throttled(status: int, body: str, headers: httpx.Headers) -> bool:
    if status == 429:
        return True
    if status != 403:
        return False
    remaining = _rate_limit_remaining(headers)
    return RATE_LIMIT_MARKER in body.lower() or (remaining is not None and remaining <= 0)


def _human_size(size: int) -> str:
    if size >= MIB:
        return f"{size / MIB:.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:.0f} KiB"
    return f"{size} bytes"


def _file_too_large(max_bytes: int) -> CanvasError:
    return CanvasError(
        f"The file is larger than the limit of {_human_size(max_bytes)}",
        code=CANVAS_FILE_TOO_LARGE,
        details={"max_bytes": max_bytes},
    )


def _bad_response(message: str, status: int | None = None) -> CanvasError:
    return CanvasError(message, code=CANVAS_BAD_RESPONSE, canvas_status=status)


def _canvas_reason(body: str) -> str | None:
    """Canvas's own words in an error body (``{"errors": [{"message": ...}]}``), if any:
    short, and never more than Canvas wrote."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    errors = data.get("errors") if isinstance(data, dict) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    message = first.get("message") if isinstance(first, dict) else None
    return " ".join(message.split())[:200] if isinstance(message, str) and message.strip() else None


def _failure_for_status(status: int, body: str, headers: httpx.Headers, resource: str) -> _Failure:
    """Map an error status of Canvas to a user-facing error, and say if a retry may help."""
    if _is_throttled(status, body, headers):
        return _Failure(
            CanvasError(
                "Canvas is limiting how fast requests can be made; try again in a minute",
                code=CANVAS_THROTTLED,
                canvas_status=status,
            ),
            retryable=True,
            retry_after=_parse_retry_after(headers.get("Retry-After")),
        )
    if status >= 500:
        return _Failure(
            CanvasError(
                f"Canvas is unavailable right now (HTTP {status}); try again later",
                code=CANVAS_UNAVAILABLE,
                canvas_status=status,
            ),
            retryable=True,
            retry_after=_parse_retry_after(headers.get("Retry-After")),
        )
    if status == 401 and "WWW-Authenticate" in headers:
        # Canvas adds WWW-Authenticate only when the token itself is bad.
        message = "Canvas rejected the stored access token (it is invalid or expired)"
        return _Failure(CanvasError(message, code=CANVAS_UNAUTHORIZED, canvas_status=401), False)
    if status in (401, 403):
        message = f"Your Canvas account is not allowed to access this {resource}"
        reason = _canvas_reason(body)
        if reason:
            message += f" (Canvas says: {reason})"
        return _Failure(CanvasError(message, code=CANVAS_FORBIDDEN, canvas_status=status), False)
    if status == 404:
        message = f"Canvas could not find this {resource} (it may have been deleted or hidden)"
        return _Failure(CanvasError(message, code=CANVAS_NOT_FOUND, canvas_status=404), False)
    return _Failure(_bad_response(f"Canvas refused the request (HTTP {status})", status), False)


def backoff_delay(
    attempt: int, base_seconds: float, max_seconds: float, *, retry_after: float | None = None
) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): what Canvas asked for, else
    exponential with jitter, never more than ``max_seconds``."""
    if retry_after is not None:
        return min(retry_after, max_seconds)
    ceiling: float = min(max_seconds, base_seconds * 2**attempt)
    # Jitter keeps several jobs throttled on one token from retrying in lockstep.
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - not for secrets


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """One TLS context per process: building one reads the CA bundle, about 40 ms on the
    event loop, which every job's client would otherwise pay (found by bench/run)."""
    return httpx.create_ssl_context()


class CanvasClient:
    """Talks to one Canvas site with one access token. Use as an async context manager."""

    def __init__(
        self,
        base_url: str,
        token: str | AccessTokenSource,
        *,
        timeout: float,
        max_retries: int,
        backoff_seconds: float,
        backoff_max_seconds: float,
        per_page: int,
        allow_local: bool,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._tokens = FixedToken(token) if isinstance(token, str) else token
        self._timeout = timeout
        self._max_retries = max(0, max_retries)
        self._backoff_seconds = max(0.0, backoff_seconds)
        self._backoff_max_seconds = max(0.0, backoff_max_seconds)
        self._per_page = max(1, min(per_page, 100))  # Canvas caps per_page at 100
        self._allow_local = allow_local
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self.rate_limit_remaining: float | None = None  # last X-Rate-Limit-Remaining seen

    @classmethod
    def from_settings(
        cls, base_url: str, token: str | AccessTokenSource, settings: Settings
    ) -> CanvasClient:
        return cls(
            base_url,
            token,
            timeout=settings.canvas_timeout_seconds,
            max_retries=settings.canvas_max_retries,
            backoff_seconds=settings.canvas_backoff_seconds,
            backoff_max_seconds=settings.canvas_backoff_max_seconds,
            per_page=settings.canvas_per_page,
            allow_local=settings.canvas_allow_local,
        )

    def __repr__(self) -> str:
        return f"CanvasClient(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    async def __aenter__(self) -> Self:
        if self._transport is None:
            # Re-check on every use: the host's DNS may have changed since onboarding.
            # With an injected transport the caller decides where requests go.
            self._base_url = await validate_canvas_base_url(
                self._base_url, allow_local=self._allow_local
            )
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(self._timeout),
            verify=shared_tls_context(),
            follow_redirects=False,  # redirects are followed by hand, see download()
            transport=self._transport,
            headers={"User-Agent": USER_AGENT},
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # ----- public API -------------------------------------------------------------

    async def get_self(self) -> dict[str, Any]:
        return await self._get_object("/api/v1/users/self", resource="user")

    async def get_profile(self) -> dict[str, Any]:
        """The user's profile; its ``time_zone`` (an IANA name) is the user's own setting,
        else the account's default (``lib/api/v1/user_profile.rb``). ``/users/self`` has
        no time zone."""
        return await self._get_object("/api/v1/users/self/profile", resource="user profile")

    async def get_course(self, course_id: str) -> dict[str, Any]:
        path = f"/api/v1/courses/{_segment(course_id, 'course')}"
        return await self._get_object(path, resource="course")

    async def get_assignment(self, course_id: str, assignment_id: str) -> dict[str, Any]:
        """The assignment; a rubric comes inside as ``rubric`` and ``rubric_settings``."""
        path = (
            f"/api/v1/courses/{_segment(course_id, 'course')}"
            f"/assignments/{_segment(assignment_id, 'assignment')}"
        )
        return await self._get_object(path, resource="assignment")

    async def list_assignment_groups(self, course_id: str) -> list[dict[str, Any]]:
        path = f"/api/v1/courses/{_segment(course_id, 'course')}/assignment_groups"
        return await self._get_all_pages(path, resource="course")

    async def get_file(self, file_id: str, *, course_id: str | None = None) -> dict[str, Any]:
        """File metadata (display_name, filename, content-type, size, url)."""
        path = f"/api/v1/files/{_segment(file_id, 'file')}"
        if course_id is not None:
            path = f"/api/v1/courses/{_segment(course_id, 'course')}{path.removeprefix('/api/v1')}"
        return await self._get_object(path, resource="file")

    async def get_page(self, course_id: str, page_url: str) -> dict[str, Any]:
        """A course's Page (``GET /api/v1/courses/:course_id/pages/:url``), with ``body``."""
        path = f"/api/v1/courses/{_segment(course_id, 'course')}/pages/{_segment(page_url, 'page')}"
        return await self._get_object(path, resource="page")

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        """The bytes at ``url`` (a file's ``url`` from Canvas), at most ``max_bytes``.

        Redirects are followed by hand, at most ``MAX_REDIRECTS``: each target is checked
        like a Canvas address, and the token is sent only to the Canvas origin (Canvas
        redirects downloads to a file store on another host). The timeout bounds each
        read, not the whole download: wrap the call in ``asyncio.timeout`` for that.
        """
        current = await self._first_download_url(url)
        return await self._download_following_redirects(current, max_bytes)

    async def revoke_token(self) -> None:
        """Log out of Canvas: it deletes this OAuth access token and its refresh token."""
        url = self._api_url("/login/oauth2/token")
        response = await self._send("DELETE", url, resource="sign-in", accept="application/json")
        await response.aclose()

    # ----- JSON calls ---------------------------------------------------------------

    def _api_url(self, path: str, params: dict[str, Any] | None = None) -> httpx.URL:
        return httpx.URL(self._base_url + path, params=params)

    async def _get_object(self, path: str, *, resource: str) -> dict[str, Any]:
        data, _ = await self._get_json(self._api_url(path), resource=resource)
        if not isinstance(data, dict):
            raise _bad_response("Canvas sent an unexpected response (not a JSON object)")
        return data

    async def _get_all_pages(self, path: str, *, resource: str) -> list[dict[str, Any]]:
        """Follow ``Link: rel="next"`` to the end, bounded by ``MAX_PAGES``."""
        url = self._api_url(path, {"per_page": self._per_page})
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            seen.add(str(url))
            data, next_url = await self._get_json(url, resource=resource)
            if not isinstance(data, list):
                raise _bad_response("Canvas sent an unexpected response (not a JSON list)")
            items.extend(item for item in data if isinstance(item, dict))
            if next_url is None:
                return items
            if str(next_url) in seen:
                raise _bad_response("Canvas sent pagination links that go round in a loop")
            url = next_url
        raise _bad_response(f"Canvas sent more than {MAX_PAGES} pages; giving up")

    async def _get_json(self, url: httpx.URL, *, resource: str) -> tuple[Any, httpx.URL | None]:
        """GET JSON; return it with the next page's URL (from the ``Link`` header)."""
        response = await self._send("GET", url, resource=resource, accept="application/json")
        try:
            if response.status_code in REDIRECT_STATUSES:
                # The API does not redirect; a redirect means the address is not Canvas's.
                raise _bad_response(
                    "Canvas answered with a redirect; check the Canvas address",
                    response.status_code,
                )
            next_url = self._next_page_url(response)
            body = await self._read_capped(response, MAX_JSON_BYTES, too_large=None)
        finally:
            await response.aclose()
        try:
            return json.loads(body), next_url
        except (ValueError, UnicodeDecodeError) as exc:
            raise _bad_response("Canvas sent a response that is not valid JSON") from exc

    def _next_page_url(self, response: httpx.Response) -> httpx.URL | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        next_url = response.url.join(link)
        # A next link elsewhere would receive the token: it must stay on Canvas's origin.
        if not self._is_canvas_origin(next_url):
            raise _bad_response("Canvas sent a pagination link to another site")
        return next_url

    # ----- downloads ----------------------------------------------------------------

    async def _first_download_url(self, url: str) -> httpx.URL:
        if not url or not url.strip():
            raise _bad_response("Canvas gave no download address for this file")
        try:
            target = httpx.URL(self._base_url).join(url)
        except httpx.InvalidURL as exc:
            raise _bad_response("Canvas gave an invalid file address") from exc
        await self._check_target(target)
        return target

    async def _check_target(self, target: httpx.URL) -> None:
        if self._is_canvas_origin(target):
            return  # checked when the client was opened
        try:
            await check_redirect_target(str(target), allow_local=self._allow_local)
        except AppError as exc:
            raise _bad_response(
                "Canvas sent the download to an address that is not allowed"
            ) from exc

    async def _download_following_redirects(self, url: httpx.URL, max_bytes: int) -> bytes:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            # identity: count the bytes as sent, no decompression bomb inside a chunk.
            response = await self._send(
                "GET",
                current,
                resource="file",
                accept="*/*",
                extra={"Accept-Encoding": "identity"},
            )
            if response.status_code not in REDIRECT_STATUSES:
                return await self._read_download(response, max_bytes)
            location = response.headers.get("Location")
            await response.aclose()
            if not location:
                raise _bad_response("Canvas sent a redirect without a location", 302)
            try:
                current = current.join(location)
            except httpx.InvalidURL as exc:
                raise _bad_response("Canvas sent a redirect to an invalid address") from exc
            await self._check_target(current)
        raise _bad_response(f"The file download redirected more than {MAX_REDIRECTS} times")

    async def _read_download(self, response: httpx.Response, max_bytes: int) -> bytes:
        try:
            if not 200 <= response.status_code < 300:
                raise _bad_response(
                    f"Canvas answered the download with HTTP {response.status_code}",
                    response.status_code,
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _file_too_large(max_bytes)  # refuse before reading a byte
            return await self._read_capped(response, max_bytes, too_large=_file_too_large)
        finally:
            await response.aclose()

    # ----- one request with retries ------------------------------------------------

    def _is_canvas_origin(self, url: httpx.URL) -> bool:
        return _origin(url) == _origin(httpx.URL(self._base_url))

    def _headers_for(
        self, url: httpx.URL, accept: str, extra: dict[str, str], token: str
    ) -> dict[str, str]:
        headers = {"Accept": accept, **extra}
        if self._is_canvas_origin(url):
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("CanvasClient must be used as 'async with CanvasClient(...)'")
        return self._http

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        *,
        resource: str,
        accept: str,
        extra: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request (streamed) with bounded retries of throttling, 5xx and network
        errors, and one renewal of the token when Canvas says it expired.

        Returns an open response with a status below 400; the caller closes it.
        """
        attempt = 0
        token = self._tokens.current()
        renewed = False
        while True:
            try:
                failure = await self._attempt(method, url, resource, accept, extra or {}, token)
            except CanvasError as exc:
                CANVAS_CALLS.labels(exc.code).inc()
                raise
            if isinstance(failure, httpx.Response):
                CANVAS_CALLS.labels("ok").inc()
                return failure
            CANVAS_CALLS.labels(failure.error.code).inc()
            if (
                failure.error.code == CANVAS_UNAUTHORIZED
                and not renewed
                and self._is_canvas_origin(url)
            ):
                renewed = True
                fresh = await self._tokens.renew(token)
                if fresh is not None:
                    token = fresh
                    continue
            if not failure.retryable or attempt >= self._max_retries:
                raise failure.error
            delay = self._retry_delay(attempt, failure.retry_after)
            logger.warning(
                "Canvas %s %s failed (%s); retry %d/%d in %.2f s",
                method,
                url.path,
                failure.error.code,
                attempt + 1,
                self._max_retries,
                delay,
            )
            await asyncio.sleep(delay)
            attempt += 1

    async def _attempt(
        self,
        method: str,
        url: httpx.URL,
        resource: str,
        accept: str,
        extra: dict[str, str],
        token: str,
    ) -> httpx.Response | _Failure:
        client = self._client()
        headers = self._headers_for(url, accept, extra, token)
        request = client.build_request(method, url, headers=headers)
        try:
            response = await client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise self._timeout_error() from exc
        except httpx.NetworkError:
            error = CanvasError("Could not connect to Canvas", code=CANVAS_UNAVAILABLE)
            return _Failure(error, retryable=True)
        except httpx.TransportError as exc:
            raise CanvasError("Could not connect to Canvas", code=CANVAS_UNAVAILABLE) from exc
        remaining = _rate_limit_remaining(response.headers)
        if remaining is not None:
            self.rate_limit_remaining = remaining
        if response.status_code < 400:
            return response
        body = await self._read_error_body(response)
        return _failure_for_status(response.status_code, body, response.headers, resource)

    def _timeout_error(self) -> CanvasError:
        return CanvasError(
            f"Canvas did not answer within {self._timeout:g} s", code=CANVAS_UNAVAILABLE
        )

    def _retry_delay(self, attempt: int, retry_after: float | None) -> float:
        return backoff_delay(
            attempt, self._backoff_seconds, self._backoff_max_seconds, retry_after=retry_after
        )

    async def _read_error_body(self, response: httpx.Response) -> str:
        """The start of an error body (enough to spot "Rate Limit Exceeded")."""
        chunks = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                chunks.extend(chunk)
                if len(chunks) >= MAX_ERROR_BODY_BYTES:
                    break
        except httpx.HTTPError:
            pass  # the status alone decides
        finally:
            await response.aclose()
        return chunks[:MAX_ERROR_BODY_BYTES].decode("utf-8", errors="replace")

    async def _read_capped(
        self,
        response: httpx.Response,
        limit: int,
        *,
        too_large: Callable[[int], CanvasError] | None,
    ) -> bytes:
        """Read a streamed body, stopping as soon as it passes ``limit`` bytes."""
        chunks = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                chunks.extend(chunk)
                if len(chunks) > limit:
                    if too_large is not None:
                        raise too_large(limit)
                    raise _bad_response("Canvas sent a response that is too large")
        except httpx.TimeoutException as exc:
            raise self._timeout_error() from exc
        except httpx.TransportError as exc:
            raise CanvasError(
                "The connection to Canvas broke off", code=CANVAS_UNAVAILABLE
            ) from exc
        return bytes(chunks)


__all__ = [
    "CANVAS_BAD_RESPONSE",
    "CANVAS_FILE_TOO_LARGE",
    "CANVAS_FORBIDDEN",
    "CANVAS_NOT_FOUND",
    "CANVAS_THROTTLED",
    "CANVAS_UNAUTHORIZED",
    "CANVAS_UNAVAILABLE",
    "AccessTokenSource",
    "CanvasClient",
    "CanvasError",
    "FixedToken",
    "backoff_delay",
    "is_valid_token",
]
