"""A small Canvas simulator: the part of the Canvas REST API this service uses.

Used by the tests and the ``demo`` command over real HTTP on loopback. Two servers run:
the Canvas API, and a file host on another origin that Canvas file downloads redirect
to (as Canvas does with its file store), so tests can prove that the access token never
leaves the Canvas origin. Tests steer it through the mutable ``SimulatorState``: add
users, queue faults (throttling, 5xx, 401, slowness, bad JSON), inspect the requests
(the state is in ``devkit/simulator_state.py``; Canvas's lock rules in
``devkit/canvas_locks.py``).
It also plays Canvas's OAuth2 provider for developer keys: authorization codes, access
tokens that expire (``access_token_ttl``), refreshes that renew the access token and keep
the refresh token, revocation, and Canvas's refusals word for word
(``lib/canvas/oauth/request_error.rb``: a refresh token it does not know is
``400 invalid_request "refresh_token not found"``, not ``invalid_grant``). Not simulated:
Canvas's ``oauth_refresh_token_spam_interval`` (a second refresh within 5 s answers the
same access token).
"""

from __future__ import annotations

import asyncio
import hmac
import mimetypes
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from devkit import canvas_locks
from devkit.asgi_server import serve_in_background
from devkit.simulator_state import (
    DEFAULT_FIXTURES_DIR,
    REPO_ROOT,
    AuthorizationCode,
    Fault,
    OAuthGrant,
    RecordedRequest,
    SimulatorState,
    load_state,
)
from server.kernel.settings import CanvasOAuthClient

BASE_PLACEHOLDER = "$CANVAS_BASE"  # in fixture HTML; replaced by the simulator's address
RATE_LIMIT_BODY = "403 Forbidden (Rate Limit Exceeded)"  # Canvas's documented body
RATE_LIMIT_BUCKET = 700.0  # Canvas's default bucket; reported as X-Rate-Limit-Remaining
WWW_AUTHENTICATE = 'Bearer realm="canvas-lms"'
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100
# "+14d", "+14d23:59" (UTC) or "+14d23:59 local" (that time in the course's time zone).
_RELATIVE_DATE = re.compile(r"^([+-]\d+)d(?:(\d{1,2}):(\d{2})( local)?)?$")
AUTHORIZATION_CODE_TTL_SECONDS = 600.0  # Canvas's codes last ten minutes
# The simulated institution's developer key, and the redirect URI of a simulated extension.
DEVELOPER_KEY_ID = "170000000000042"
DEVELOPER_KEY_SECRET = "simulated-developer-key-secret"  # noqa: S105 - simulator only
EXTENSION_REDIRECT_URI = "https://simulated-extension-id.chromiumapp.org/canvas"
# The simulated institution's default time zone (its root account's ``default_time_zone``):
# what Canvas gives as a user's profile time zone when the user has not set one.
ACCOUNT_TIME_ZONE = "America/New_York"
# User fields that Canvas keeps for the profile (``user_profile.rb``), not ``/users/self``.
_PROFILE_ONLY_FIELDS = ("time_zone",)


# ----- Canvas-shaped JSON -------------------------------------------------------------


def simulator_now() -> datetime:
    """The simulator's clock: relative dates and lock states are worked out from it
    (tests that freeze output pin it)."""
    return datetime.now(UTC)


def resolve_date(value: Any, now: datetime | None = None, zone: str | None = None) -> Any:
    """``"+14d"`` -> now + 14 days; ``"+14d23:59"`` -> that day at 23:59 UTC (ISO, Z);
    ``"+14d23:59 local"`` -> that day at 23:59 in ``zone`` (a course's), sent in UTC as
    Canvas sends every date."""
    if not isinstance(value, str):
        return value
    match = _RELATIVE_DATE.match(value)
    if not match:
        return value
    local = ZoneInfo(zone) if match.group(4) and zone else UTC
    now = (now or simulator_now()).replace(microsecond=0).astimezone(local)
    when = now + timedelta(days=int(match.group(1)))
    if match.group(2) is not None:
        when = when.replace(hour=int(match.group(2)), minute=int(match.group(3)), second=0)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _render(obj: Any, request: Request, zone: str | None = None) -> Any:
    """Resolve relative dates in ``*_at`` fields (from the state's clock origin; "local"
    times in ``zone``, a course's) and put the base URL into HTML."""
    if isinstance(obj, dict):
        origin = _state(request).clock_origin
        return {
            key: resolve_date(value, origin, zone)
            if key.endswith("_at")
            else _render(value, request, zone)
            for key, value in obj.items()
        }
    if isinstance(obj, list):
        return [_render(item, request, zone) for item in obj]
    if isinstance(obj, str):
        return obj.replace(BASE_PLACEHOLDER, _base(request))
    return obj


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message}]}, status_code=status, headers=headers)


def _not_found() -> JSONResponse:
    return _error(404, "The specified resource does not exist.")


def _state(request: Request) -> SimulatorState:
    state: SimulatorState = request.app.state.simulator
    return state


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _current_user(request: Request) -> dict[str, Any] | None:
    token = _bearer_token(request)
    return _state(request).user_for_token(token) if token else None


def _unauthenticated() -> JSONResponse:
    return _error(401, "Invalid access token.", {"WWW-Authenticate": WWW_AUTHENTICATE})


def _int_param(request: Request, name: str) -> int | None:
    try:
        return int(request.path_params[name])
    except (KeyError, ValueError):
        return None


# ----- Canvas API endpoints -----------------------------------------------------------


async def users_self(request: Request) -> Response:
    """``GET /users/self`` (``users_controller#api_show``): no ``time_zone`` there."""
    user = _current_user(request)
    if user is None:
        return _unauthenticated()
    return JSONResponse({k: v for k, v in user.items() if k not in _PROFILE_ONLY_FIELDS})


async def user_profile(request: Request) -> Response:
    """``GET /users/self/profile``, shaped as ``lib/api/v1/user_profile.rb``: the time zone
    is the user's own, else the account's default, always as an IANA name."""
    user = _current_user(request)
    if user is None:
        return _unauthenticated()
    base = _base(request)
    return JSONResponse(
        {
            "id": user["id"],
            "name": user["name"],
            "short_name": user["short_name"],
            "sortable_name": user["sortable_name"],
            "avatar_url": f"{base}/images/messages/avatar-50.png",
            "title": None,
            "bio": None,
            "pronouns": None,
            "primary_email": f"student{user['id']}@example.edu",
            "login_id": f"student{user['id']}@example.edu",
            "integration_id": None,
            "time_zone": user.get("time_zone") or ACCOUNT_TIME_ZONE,
            "locale": user.get("locale"),
            "effective_locale": user.get("effective_locale") or "en",
            "calendar": {"ics": f"{base}/feeds/calendars/user_{user['id']}.ics"},
            "k5_user": False,
            "use_classic_font_in_k5": False,
        }
    )


async def course(request: Request) -> Response:
    if _current_user(request) is None:
        return _unauthenticated()
    found = _state(request).courses.get(_int_param(request, "course_id") or -1)
    return JSONResponse(_render(found, request)) if found else _not_found()


def _find_assignment(request: Request) -> dict[str, Any] | None:
    state = _state(request)
    course_id = _int_param(request, "course_id")
    assignment = state.assignments.get(_int_param(request, "assignment_id") or -1)
    if assignment is None or assignment["course_id"] != course_id:
        return None
    return assignment


async def assignment(request: Request) -> Response:
    if _current_user(request) is None:
        return _unauthenticated()
    found = _find_assignment(request)
    if found is None:
        return _not_found()
    base = _base(request)
    zone = _state(request).courses.get(found["course_id"], {}).get("time_zone")
    rendered = _render(found, request, zone)
    rendered["html_url"] = f"{base}/courses/{found['course_id']}/assignments/{found['id']}"
    _lock_assignment(request, rendered)
    return JSONResponse(rendered)


def _user_zone(request: Request) -> ZoneInfo:
    user = _current_user(request) or {}
    try:
        # Canvas words dates in the user's zone, else the account's default.
        return ZoneInfo(user.get("time_zone") or ACCOUNT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _lock_assignment(request: Request, rendered: dict[str, Any]) -> None:
    """Canvas's lock fields for the student; a withheld description is ``null``, and a
    discussion the student cannot view has the explanation as its message."""
    course_id = rendered["course_id"]
    now = simulator_now()
    zone = _user_zone(request)
    modules_url = f"{_base(request)}/courses/{course_id}/modules"
    module = canvas_locks.locking_module(
        _state(request).modules, course_id, "Assignment", rendered["id"]
    )
    info = canvas_locks.lock_info(rendered, f"assignment_{rendered['id']}", now, module)
    canvas_locks.apply_lock(rendered, info, "assignment", zone, modules_url)
    if canvas_locks.withholds_content(info):
        rendered["description"] = None
    topic = rendered.get("discussion_topic")
    if isinstance(topic, dict):
        topic_info = canvas_locks.lock_info(topic, f"discussion_topic_{topic['id']}", now, module)
        canvas_locks.apply_lock(topic, topic_info, "topic", zone, modules_url)
        if canvas_locks.withholds_content(topic_info):
            topic["message"] = topic["lock_explanation"]


def _page_links(request: Request, page: int, per_page: int, last_page: int) -> str:
    def link(number: int, rel: str) -> str:
        url = request.url.include_query_params(page=number, per_page=per_page)
        return f'<{url}>; rel="{rel}"'

    links = [link(page, "current")]
    if page < last_page:
        links.append(link(page + 1, "next"))
    if page > 1:
        links.append(link(page - 1, "prev"))
    links += [link(1, "first"), link(last_page, "last")]
    return ",".join(links)


async def assignment_groups(request: Request) -> Response:
    if _current_user(request) is None:
        return _unauthenticated()
    course_id = _int_param(request, "course_id") or -1
    state = _state(request)
    if course_id not in state.courses:
        return _not_found()
    try:
        per_page = int(request.query_params.get("per_page", DEFAULT_PER_PAGE))
        page = int(request.query_params.get("page", 1))
    except ValueError:
        return _error(400, "Invalid pagination parameters")
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    groups = state.assignment_groups.get(course_id, [])
    last_page = max(1, -(-len(groups) // per_page))
    page = max(1, page)
    items = groups[(page - 1) * per_page : page * per_page]
    headers = {"Link": _page_links(request, page, per_page, last_page)}
    return JSONResponse(_render(items, request), headers=headers)


def _file_object(request: Request, state: SimulatorState, meta: dict[str, Any]) -> dict[str, Any]:
    base = _base(request)
    file_id = meta["id"]
    data = state.blob(file_id)
    verifier = state.verifier(file_id)
    zone = state.courses.get(meta.get("course_id", -1), {}).get("time_zone")
    rendered: dict[str, Any] = _render(
        {k: v for k, v in meta.items() if k != "course_id"}, request, zone
    )
    info = canvas_locks.lock_info(rendered, f"attachment_{file_id}", simulator_now(), None)
    hidden = bool(meta.get("hidden"))
    rendered.update(
        {
            "uuid": state.sign(file_id * 7)[:20],
            "size": len(data) if data is not None else int(meta.get("size", 0)),
            # lib/api/v1/attachment.rb: no address when the file is locked for the user;
            # a hidden file is still served to whoever has its link.
            "url": ""
            if info
            else f"{base}/files/{file_id}/download?download_frd=1&verifier={verifier}",
            "locked": bool(meta.get("locked")),
            "hidden": hidden,
            "hidden_for_user": hidden,
            "unlock_at": rendered.get("unlock_at"),
            "lock_at": rendered.get("lock_at"),
            "thumbnail_url": None,
        }
    )
    canvas_locks.apply_lock(rendered, info, "file", _user_zone(request), None)
    return rendered


async def file_metadata(request: Request) -> Response:
    if _current_user(request) is None:
        return _unauthenticated()
    state = _state(request)
    meta = state.files.get(_int_param(request, "file_id") or -1)
    course_id = _int_param(request, "course_id")
    if meta is None or (course_id is not None and meta.get("course_id") != course_id):
        return _not_found()
    if meta.get("course_id") not in state.courses:
        # A file of a course the student is not in: Canvas's render_unauthorized_action.
        return _not_authorized()
    return JSONResponse(_file_object(request, state, meta))


def _not_authorized() -> JSONResponse:
    body = {
        "status": "unauthorized",
        "errors": [{"message": "user not authorized to perform that action"}],
    }
    return JSONResponse(body, status_code=401)


async def page(request: Request) -> Response:
    """``GET /api/v1/courses/:course_id/pages/:url`` (``lib/api/v1/wiki_page.rb``)."""
    if _current_user(request) is None:
        return _unauthenticated()
    state = _state(request)
    course_id = _int_param(request, "course_id") or -1
    found = state.pages.get((course_id, request.path_params["url"]))
    if found is None:
        return _error(404, "page not found")
    base = _base(request)
    rendered = _render({k: v for k, v in found.items() if k != "course_id"}, request)
    rendered["html_url"] = f"{base}/courses/{course_id}/pages/{found['url']}"
    module = canvas_locks.locking_module(state.modules, course_id, "Page", found["page_id"])
    info = canvas_locks.lock_info({}, f"wiki_page_{found['page_id']}", simulator_now(), module)
    canvas_locks.apply_lock(
        rendered, info, "page", _user_zone(request), f"{base}/courses/{course_id}/modules"
    )
    if info is not None:
        rendered.pop("body", None)  # wiki_page.rb sends no body to a locked-out student
    return JSONResponse(rendered)


async def file_download(request: Request) -> Response:
    """Like Canvas: the verifier (or the token) grants access; 302 to the file store."""
    state = _state(request)
    file_id = _int_param(request, "file_id") or -1
    if file_id not in state.files:
        return _not_found()
    verifier_ok = hmac.compare_digest(
        request.query_params.get("verifier", ""), state.verifier(file_id)
    )
    if not verifier_ok and _current_user(request) is None:
        return _unauthenticated()
    file_host = state.file_host_url or _base(request)
    return RedirectResponse(f"{file_host}/blobs/{file_id}?sig={state.sign(file_id)}", 302)


# ----- OAuth2 (developer keys) --------------------------------------------------------


def _with_params(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


async def oauth_authorize(request: Request) -> Response:
    """Canvas's consent page, with the browser's user clicking "Authorize" (or not)."""
    state = _state(request)
    params = request.query_params
    client_id = params.get("client_id", "")
    client = state.oauth_clients.get(client_id)
    redirect_uri = params.get("redirect_uri", "")
    if client is None:
        return _error(400, "unknown client_id")
    if not any(redirect_uri.startswith(allowed) for allowed in client.redirect_uris):
        return _error(400, "redirect_uri does not match client settings")
    back = {"state": params["state"]} if "state" in params else {}
    if params.get("response_type") != "code":
        return RedirectResponse(
            _with_params(redirect_uri, {**back, "error": "unsupported_response_type"}), 302
        )
    if state.browser_user is None:
        return _error(401, "Log in to Canvas first")
    if not state.browser_approves:
        back.update(error="access_denied", error_description="The user denied the request")
        return RedirectResponse(_with_params(redirect_uri, back), 302)
    code = secrets.token_urlsafe(24)
    state.authorization_codes[code] = AuthorizationCode(
        client_id,
        redirect_uri,
        state.browser_user,
        time.monotonic() + AUTHORIZATION_CODE_TTL_SECONDS,
    )
    return RedirectResponse(_with_params(redirect_uri, {**back, "code": code}), 302)


NO_REFRESH_TOKEN = (
    "You must provide the refresh_token parameter when using the refresh_token grant type"  # noqa: S105
)


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _token_answer(state: SimulatorState, grant: OAuthGrant, *, new_grant: bool) -> JSONResponse:
    """Canvas's ``Canvas::OAuth::Token#as_json``: the refresh token only when the grant was
    just created (its plaintext exists only then), so a refresh answer has none."""
    user = grant.user
    answer: dict[str, Any] = {
        "access_token": grant.access_token,
        "token_type": "Bearer",
        "user": {"id": user["id"], "name": user["name"], "global_id": str(user["id"])},
    }
    if new_grant:
        answer["refresh_token"] = grant.refresh_token
    answer["expires_in"] = state.access_token_ttl
    answer["canvas_region"] = "simulated"
    return JSONResponse(answer)


async def oauth_token(request: Request) -> Response:
    """The token endpoint: authorization-code and refresh grants (refresh tokens rotate)."""
    state = _state(request)
    form = dict(parse_qsl((await request.body()).decode(errors="replace")))
    grant_type = form.get("grant_type", "")
    state.token_grant_types.append(grant_type)
    client_id = form.get("client_id", "")
    client = state.oauth_clients.get(client_id)
    if client is None or not hmac.compare_digest(client.secret, form.get("client_secret", "")):
        return _oauth_error(401, "invalid_client", "unknown client")
    now = time.monotonic()
    if grant_type == "authorization_code":
        code = state.authorization_codes.pop(form.get("code", ""), None)
        if (
            code is None
            or code.client_id != client_id
            or code.expires_at <= now
            or code.redirect_uri != form.get("redirect_uri")
        ):
            return _oauth_error(400, "invalid_grant", "authorization_code not found")
        if form.get("replace_tokens") == "1":
            state.oauth_grants = [
                g
                for g in state.oauth_grants
                if not (g.client_id == client_id and g.user["id"] == code.user["id"])
            ]
        grant = OAuthGrant(client_id, code.user, "", "", 0.0)
        state.issue_tokens(grant)
        state.oauth_grants.append(grant)
        return _token_answer(state, grant, new_grant=True)
    if grant_type == "refresh_token":
        # Canvas's GrantTypes::RefreshToken and the answers of its RequestError map.
        refresh_token = form.get("refresh_token", "")
        if not refresh_token:
            return _oauth_error(400, "invalid_request", NO_REFRESH_TOKEN)
        found = next((g for g in state.oauth_grants if g.refresh_token == refresh_token), None)
        if found is None:  # revoked, deleted by an administrator, or replaced by a sign-in
            return _oauth_error(400, "invalid_request", "refresh_token not found")
        if found.client_id != client_id:
            return _oauth_error(400, "invalid_grant", "incorrect client")
        state.regenerate_access_token(found)
        return _token_answer(state, found, new_grant=False)
    return _oauth_error(
        400, "unsupported_grant_type", "The grant_type you requested is not currently supported"
    )


async def oauth_logout(request: Request) -> Response:
    """Deletes the OAuth access token used for this request, with its refresh token."""
    state = _state(request)
    token = _bearer_token(request) or ""
    grant = state.grant_for_access_token(token)
    if grant is None and token in state.users_by_token:
        message = "can't delete OAuth access token when not using an OAuth access token"
        return JSONResponse({"message": message}, status_code=400)
    if grant is None or grant.expires_at <= time.monotonic():
        return _unauthenticated()
    state.oauth_grants.remove(grant)
    return JSONResponse({})


# ----- file host ----------------------------------------------------------------------


async def blob(request: Request) -> Response:
    """Serves the bytes to anyone holding the signature; needs (and wants) no token."""
    state = _state(request)
    file_id = _int_param(request, "file_id") or -1
    if not hmac.compare_digest(request.query_params.get("sig", ""), state.sign(file_id)):
        return Response("Signature does not match", status_code=403, media_type="text/plain")
    data = state.blob(file_id)
    if data is None:
        return Response("No such blob", status_code=404, media_type="text/plain")
    meta = state.files.get(file_id, {})
    name = meta.get("filename", f"file-{file_id}")
    media_type = meta.get("content-type") or mimetypes.guess_type(name)[0]
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if state.chunked_downloads:
        return StreamingResponse(_chunks(data), media_type=media_type, headers=headers)
    return Response(data, media_type=media_type or "application/octet-stream", headers=headers)


async def _chunks(data: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(0)


# ----- faults and recording -----------------------------------------------------------


def _fault_response(fault: Fault) -> Response:
    status = fault.status or 200
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = f"{fault.retry_after:g}"
    throttled = status == 429 or (status == 403 and fault.body in (None, RATE_LIMIT_BODY))
    if throttled:
        headers["X-Rate-Limit-Remaining"] = "0.0"
    if fault.body is not None:
        media_type = "application/json" if status < 300 else "text/plain"
        return Response(fault.body, status_code=status, media_type=media_type, headers=headers)
    if status == 403:
        return Response(RATE_LIMIT_BODY, 403, media_type="text/plain", headers=headers)
    if status == 401 and fault.www_authenticate:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
        return _error(401, "Invalid access token.", headers)
    if status == 401:
        # Canvas's answer when the token is fine but the user may not see the resource.
        body = {"status": "unauthorized", "errors": [{"message": "user not authorized"}]}
        return JSONResponse(body, status_code=401, headers=headers)
    if status == 429:
        return _error(429, "Rate limit exceeded", headers)
    if status >= 500:
        return _error(status, "An error occurred.", headers)
    return _error(status, f"Simulated HTTP {status}", headers)


async def _wait_unless_disconnected(receive: Receive, delay: float) -> list[Message]:
    """Sleep ``delay`` seconds, returning early if the client hangs up.

    Returns the messages taken from ``receive`` so the app can still read them.
    """
    taken: list[Message] = []
    try:
        async with asyncio.timeout(delay):
            while True:
                message = await receive()
                taken.append(message)
                if message["type"] == "http.disconnect":
                    return taken
    except TimeoutError:
        pass
    return taken


def _replaying(taken: list[Message], receive: Receive) -> Receive:
    async def replay() -> Message:
        if taken:
            return taken.pop(0)
        return await receive()

    return replay


class FaultsAndRecording:
    """ASGI middleware: records every request, then applies a queued fault, if any.

    It runs before routing, so a fault can hit any path, known or not.
    """

    def __init__(self, app: ASGIApp, state: SimulatorState, server: str) -> None:
        self.app = app
        self.state = state
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        authorization = request.headers.get("Authorization")
        record = RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            host=request.headers.get("Host", ""),
            server=self.server,
            has_authorization=authorization is not None,
            authorization=authorization,
        )
        self.state.requests.append(record)
        send = _recording_status(send, record)
        fault = self.state.take_fault(request.url.path)
        if fault is not None and fault.delay > 0:
            taken = await _wait_unless_disconnected(receive, fault.delay)
            if any(message["type"] == "http.disconnect" for message in taken):
                return
            receive = _replaying(taken, receive)
        if fault is not None and fault.status is not None:
            await _fault_response(fault)(scope, receive, send)
            return
        await self.app(scope, receive, _with_rate_limit_header(send, self.server))


def _recording_status(send: Send, record: RecordedRequest) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            record.status = message["status"]
        await send(message)

    return sending


def _with_rate_limit_header(send: Send, server: str) -> Send:
    """Canvas reports its throttling bucket on every API response."""
    if server != "canvas":
        return send

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers.append((b"x-rate-limit-remaining", f"{RATE_LIMIT_BUCKET:.1f}".encode()))
            headers.append((b"x-request-cost", b"0.1"))
            message = {**message, "headers": headers}
        await send(message)

    return sending


# ----- the apps -----------------------------------------------------------------------


def _blob_route() -> Route:
    return Route("/blobs/{file_id:int}", blob)


def create_simulator(state: SimulatorState) -> ASGIApp:
    """The Canvas API. It also serves ``/blobs`` for when no separate file host runs."""
    routes = [
        Route("/api/v1/users/self", users_self),
        Route("/api/v1/users/self/profile", user_profile),
        Route("/api/v1/courses/{course_id:int}", course),
        Route("/api/v1/courses/{course_id:int}/assignments/{assignment_id:int}", assignment),
        Route("/api/v1/courses/{course_id:int}/assignment_groups", assignment_groups),
        Route("/api/v1/files/{file_id:int}", file_metadata),
        Route("/api/v1/courses/{course_id:int}/files/{file_id:int}", file_metadata),
        Route("/api/v1/courses/{course_id:int}/pages/{url}", page),
        Route("/files/{file_id:int}/download", file_download),
        Route("/courses/{course_id:int}/files/{file_id:int}/download", file_download),
        Route("/login/oauth2/auth", oauth_authorize),
        Route("/login/oauth2/token", oauth_token, methods=["POST"]),
        Route("/login/oauth2/token", oauth_logout, methods=["DELETE"]),
        _blob_route(),
    ]
    app = Starlette(routes=routes)
    app.state.simulator = state
    return FaultsAndRecording(app, state, server="canvas")


def create_file_host(state: SimulatorState) -> ASGIApp:
    """The file store Canvas redirects downloads to: another origin, no token needed."""
    app = Starlette(routes=[_blob_route()])
    app.state.simulator = state
    return FaultsAndRecording(app, state, server="files")


@dataclass
class RunningSimulator:
    base_url: str
    file_host_url: str
    state: SimulatorState

    @property
    def demo_token(self) -> str:
        return next(iter(self.state.users_by_token))

    def oauth_clients_setting(self) -> dict[str, CanvasOAuthClient]:
        """``CANVAS_OAUTH_CLIENTS`` for signing in through this simulator."""
        client = CanvasOAuthClient(
            client_id=DEVELOPER_KEY_ID,
            client_secret=DEVELOPER_KEY_SECRET,
            redirect_uris=[EXTENSION_REDIRECT_URI],
        )
        return {urlsplit(self.base_url).netloc: client}

    def register_developer_key(self, callback_url: str) -> None:
        """What the Canvas admin does: the developer key, with our callback as redirect URI."""
        self.state.add_oauth_client(DEVELOPER_KEY_ID, DEVELOPER_KEY_SECRET, [callback_url])


@asynccontextmanager
async def running_simulator(
    fixtures_dir: Path | None = None,
    *,
    files_dir: Path | None = None,
    port: int | None = None,
    file_host_port: int | None = None,
    state: SimulatorState | None = None,
) -> AsyncIterator[RunningSimulator]:
    """Run the Canvas API on ``http://127.0.0.1:<port>`` and the file host on
    ``http://localhost:<port2>`` (a different origin) in the current event loop, serving
    ``state`` (the labelled corpus, say) or else the fixtures in ``fixtures_dir``."""
    state = state or load_state(fixtures_dir, files_dir)
    async with AsyncExitStack() as stack:
        file_host_url = await stack.enter_async_context(
            serve_in_background(
                create_file_host(state), host="localhost", port=file_host_port, lifespan="off"
            )
        )
        base_url = await stack.enter_async_context(
            serve_in_background(create_simulator(state), port=port, lifespan="off")
        )
        state.file_host_url = file_host_url
        yield RunningSimulator(base_url=base_url, file_host_url=file_host_url, state=state)


__all__ = [
    "ACCOUNT_TIME_ZONE",
    "DEFAULT_FIXTURES_DIR",
    "DEVELOPER_KEY_ID",
    "DEVELOPER_KEY_SECRET",
    "EXTENSION_REDIRECT_URI",
    "RATE_LIMIT_BODY",
    "REPO_ROOT",
    "Fault",
    "OAuthGrant",
    "RecordedRequest",
    "RunningSimulator",
    "SimulatorState",
    "create_file_host",
    "create_simulator",
    "load_state",
    "resolve_date",
    "running_simulator",
    "simulator_now",
]
