"""Browser origins (ALLOWED_ORIGINS): CORS on REST and on the SSE route, and the GraphQL
websocket's Origin check, over real HTTP and a real websocket. The suite's API allows the
extension's origin; an API process started with the defaults allows none."""

from __future__ import annotations

import json
import secrets

import httpx
import pytest
import pytest_asyncio
import websockets
from cryptography.fernet import Fernet
from websockets.exceptions import InvalidStatus

from tests.conftest import EXTENSION_ORIGIN, TEST_JWT_SECRET
from tests.support.processes import Stack

OTHER_ORIGIN = "https://evil.example"
ESSAY = "/assignments/101/1001"
TRANSPORT_WS = "graphql-transport-ws"


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/graphql"


async def preflight(client: httpx.AsyncClient, path: str, origin: str) -> httpx.Response:
    return await client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": (
                "authorization, idempotency-key, last-event-id, if-none-match"
            ),
        },
    )


async def test_a_preflight_from_the_extension_allows_its_headers(client):
    response = await preflight(client, f"{ESSAY}/start", EXTENSION_ORIGIN)

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == EXTENSION_ORIGIN
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "idempotency-key", "last-event-id", "if-none-match"} <= allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response.headers  # bearer, no cookies
    assert response.headers["X-Request-ID"]


async def test_any_other_origin_gets_no_cors_headers(client, student):
    refused = await preflight(client, f"{ESSAY}/start", OTHER_ORIGIN)
    assert refused.status_code == 400
    assert "Access-Control-Allow-Origin" not in refused.headers

    me = await client.get("/me", headers={**student.headers, "Origin": OTHER_ORIGIN})
    assert me.status_code == 200  # the server answers; the browser withholds it
    # Starlette still lists the exposed headers; without Allow-Origin they grant nothing.
    assert "Access-Control-Allow-Origin" not in me.headers


async def test_rest_answers_to_the_extension_expose_etag_retry_after_and_request_id(
    client, student
):
    me = await client.get("/me", headers={**student.headers, "Origin": EXTENSION_ORIGIN})

    assert me.status_code == 200
    assert me.headers["Access-Control-Allow-Origin"] == EXTENSION_ORIGIN
    exposed = {h.strip().lower() for h in me.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "retry-after", "x-request-id"} <= exposed
    # Errors carry them too, so the extension can read the code and the request id.
    missing = await client.get(ESSAY, headers={**student.headers, "Origin": EXTENSION_ORIGIN})
    assert missing.status_code == 404
    assert missing.headers["Access-Control-Allow-Origin"] == EXTENSION_ORIGIN


async def test_the_event_stream_answers_the_extension_and_no_other_origin(client, student):
    started = await client.post(f"{ESSAY}/start", headers=student.headers)
    assert started.status_code == 202
    for origin, allowed in ((EXTENSION_ORIGIN, True), (OTHER_ORIGIN, False)):
        headers = {**student.headers, "Origin": origin, "Last-Event-ID": "0"}
        async with client.stream("GET", f"{ESSAY}/events", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers.get("Access-Control-Allow-Origin") == (
                origin if allowed else None
            )


async def graphql_ws_handshake(base: str, origin: str, access_token: str) -> dict:
    async with websockets.connect(
        ws_url(base), origin=origin, subprotocols=[TRANSPORT_WS], open_timeout=10
    ) as socket:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {access_token}"}}
        await socket.send(json.dumps(init))
        return json.loads(await socket.recv())


async def test_the_graphql_websocket_accepts_the_extension_and_refuses_other_origins(api, student):
    ack = await graphql_ws_handshake(api.url, EXTENSION_ORIGIN, student.access_token)
    assert ack["type"] == "connection_ack"

    with pytest.raises(InvalidStatus) as refused:
        await graphql_ws_handshake(api.url, OTHER_ORIGIN, student.access_token)
    assert refused.value.response.status_code == 403

    # Not a browser (no Origin header): not affected.
    async with websockets.connect(ws_url(api.url), subprotocols=[TRANSPORT_WS]) as socket:
        init = {
            "type": "connection_init",
            "payload": {"Authorization": student.headers["Authorization"]},
        }
        await socket.send(json.dumps(init))
        assert json.loads(await socket.recv())["type"] == "connection_ack"


def test_allowed_origins_are_exact_origins():
    from server.kernel.settings import Settings

    settings = Settings(
        _env_file=None, allowed_origins="chrome-extension://abc, https://Dash.Example.edu:443"
    )
    assert settings.allowed_origins == ["chrome-extension://abc", "https://dash.example.edu"]
    for wrong in ("*", "https://dash.example.edu/", "https://dash.example.edu/app", "null"):
        with pytest.raises(ValueError, match="exact origin"):
            Settings(_env_file=None, allowed_origins=wrong)


@pytest_asyncio.fixture
async def default_process(tmp_path):
    """An API process with nothing configured: SQLite, no Redis, no ALLOWED_ORIGINS."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DATA_DIR": str(tmp_path),
        "JWT_SECRET": TEST_JWT_SECRET,
        "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
    }
    stack = Stack(env=env, log_dir=tmp_path)
    try:
        yield stack, await stack.start_api("api")
    finally:
        stack.stop_all()


async def test_by_default_no_browser_origin_is_allowed(default_process):
    _, base = default_process
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        answer = await preflight(http, f"{ESSAY}/start", EXTENSION_ORIGIN)
        assert "Access-Control-Allow-Origin" not in answer.headers
    token = secrets.token_urlsafe(8)  # the Origin check comes before any authentication
    with pytest.raises(InvalidStatus) as refused:
        await graphql_ws_handshake(base, EXTENSION_ORIGIN, token)
    assert refused.value.response.status_code == 403
