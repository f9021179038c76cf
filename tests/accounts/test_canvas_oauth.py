"""Signing in with Canvas OAuth2 (developer keys), over real HTTP against the simulator:
start, Canvas's consent page, our callback, complete; and the safety rules of the flow."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pydantic
import pytest
from cryptography.fernet import Fernet

from devkit.canvas_simulator import (
    DEVELOPER_KEY_ID,
    DEVELOPER_KEY_SECRET,
    EXTENSION_REDIRECT_URI,
)
from models.db import CanvasCredential, OAuthFlow, User
from server.canvas.oauth import CanvasOAuth
from server.kernel.auth import mint_oauth_state
from server.kernel.credentials import TokenCipher
from server.kernel.errors import ValidationFailed
from server.kernel.logs import redact
from server.kernel.settings import Settings
from tests.calendar.feeds import strict_parse
from tests.conftest import TEST_JWT_SECRET, onboard_student, wait_for_status
from tests.support.errors import assert_error
from tests.support.oauth import (
    pkce_pair,
    sign_in_with_oauth,
    start_sign_in,
    walk_oauth_flow,
)


def new_canvas_user(simulator, name: str = "OAuth Student") -> dict:
    user = simulator.state.add_user(f"personal-{secrets.token_hex(8)}", name=name)
    simulator.state.authorize_as(user)
    return user


async def test_methods_say_which_sign_in_a_canvas_site_offers(client, simulator):
    with_key = await client.get(
        "/auth/canvas/methods", params={"canvas_base_url": simulator.base_url + "/courses/101"}
    )
    assert with_key.status_code == 200, with_key.text
    assert with_key.json() == {
        "canvas_base_url": simulator.base_url,
        "methods": ["oauth", "personal_token"],
    }

    # Same server, another host name: no developer key is configured for it.
    other_host = simulator.base_url.replace("127.0.0.1", "localhost")
    without_key = await client.get("/auth/canvas/methods", params={"canvas_base_url": other_host})
    assert without_key.json()["methods"] == ["personal_token"]

    assert_error(
        await client.get("/auth/canvas/methods", params={"canvas_base_url": "ftp://x.edu"}),
        422,
        "invalid_canvas_url",
    )
    _, start = await start_sign_in(client, other_host)
    assert_error(start, 400, "oauth_not_configured")


async def test_the_whole_flow_signs_the_student_in_with_tokens_stored_encrypted(
    client, api, simulator, caplog
):
    caplog.set_level(logging.DEBUG)
    canvas_user = new_canvas_user(simulator, "Grace Hopper")
    flow = await walk_oauth_flow(client, simulator)

    assert flow.start.status_code == 200, flow.start.text
    started = flow.start.json()
    authorization = httpx.URL(started["authorization_url"])
    assert str(authorization).startswith(f"{simulator.base_url}/login/oauth2/auth?")
    assert authorization.params["client_id"] == DEVELOPER_KEY_ID
    assert authorization.params["response_type"] == "code"
    assert authorization.params["state"] == started["state"]
    assert authorization.params["redirect_uri"] == f"{api.url}/auth/canvas/oauth/callback"

    # Canvas sent the browser to our callback, which went on to the extension.
    assert flow.callback.headers["cache-control"] == "no-store"
    extension_url = flow.extension_url
    assert str(extension_url).startswith(EXTENSION_REDIRECT_URI + "?")
    assert set(extension_url.params) == {"code", "state"}
    assert extension_url.params["state"] == started["state"]

    assert flow.complete.status_code == 200, flow.complete.text
    signed_in = flow.complete.json()
    assert signed_in["user"]["canvas_user_id"] == str(canvas_user["id"])
    assert signed_in["user"]["name"] == "Grace Hopper"
    claims = jwt.decode(
        signed_in["access_token"],
        TEST_JWT_SECRET,
        algorithms=["HS256"],
        audience="canvas-workspace-extension",
    )
    assert claims["sub"] == str(signed_in["user"]["id"]) and claims["typ"] == "access"
    me = await client.get("/me", headers={"Authorization": f"Bearer {signed_in['access_token']}"})
    assert me.status_code == 200 and me.json()["has_canvas_credentials"] is True

    (grant,) = simulator.state.grants_of(canvas_user["id"])
    credential = await CanvasCredential.get(user_id=signed_in["user"]["id"])
    assert credential.auth_method == "oauth"
    assert credential.token_expires_at is not None
    assert credential.token_expires_at > datetime.now(UTC) + timedelta(minutes=50)
    stored = (credential.token_ciphertext, credential.refresh_token_ciphertext)
    for secret in (grant.access_token, grant.refresh_token):
        assert all(secret not in ciphertext for ciphertext in stored)
    # Canvas's code was traded server-side, with the same redirect URI as the start.
    assert simulator.state.token_grant_types[-1] == "authorization_code"

    # No token, code or secret travelled back to the browser or reached a log line.
    one_time_code = extension_url.params["code"]
    canvas_code = httpx.URL(flow.consent.headers["location"]).params["code"]
    answers = [flow.start.text, flow.callback.headers["location"], flow.complete.text]
    for secret in (grant.access_token, grant.refresh_token, DEVELOPER_KEY_SECRET, canvas_code):
        assert all(secret not in answer for answer in answers)
    logged = "\n".join(redact(record.getMessage()) for record in caplog.records)
    for secret in (
        grant.access_token,
        grant.refresh_token,
        DEVELOPER_KEY_SECRET,
        canvas_code,
        one_time_code,
    ):
        assert secret not in logged


async def test_an_oauth_student_plans_with_the_oauth_token(client, simulator):
    student = await sign_in_with_oauth(client, simulator)
    (grant,) = simulator.state.grants_of(student.canvas_user["id"])
    response = await client.post("/assignments/101/1001/start", headers=student.headers)
    assert response.status_code == 202, response.text
    workspace = await wait_for_status(
        client, "/assignments/101/1001", student.headers, {"ready", "failed"}
    )
    assert workspace["status"] == "ready", workspace["last_error"]
    used = simulator.state.requests_to("canvas", "/api/v1/courses/101/assignments/1001")
    assert used[-1].authorization == f"Bearer {grant.access_token}"


async def test_the_same_canvas_user_is_one_user_whichever_way_they_sign_in(client, simulator):
    by_token = await onboard_student(client, simulator, name="Two Ways")
    canvas_user = simulator.state.users_by_token[by_token.canvas_token]
    simulator.state.authorize_as(canvas_user)
    flow = await walk_oauth_flow(client, simulator)
    assert flow.complete.status_code == 200, flow.complete.text
    assert flow.complete.json()["user"]["id"] == by_token.user["id"]
    assert await User.filter(canvas_user_id=str(canvas_user["id"])).count() == 1
    credential = await CanvasCredential.get(user_id=by_token.user["id"])
    assert credential.auth_method == "oauth"

    # And back to a personal token: the refresh token is forgotten with the OAuth sign-in.
    again = await client.post(
        "/auth/canvas",
        json={"canvas_base_url": simulator.base_url, "canvas_token": by_token.canvas_token},
    )
    assert again.json()["user"]["id"] == by_token.user["id"]
    credential = await CanvasCredential.get(user_id=by_token.user["id"])
    assert credential.auth_method == "personal_token"
    assert credential.refresh_token_ciphertext is None


async def test_signing_in_again_leaves_one_authorization_at_canvas(client, api, simulator):
    student = await sign_in_with_oauth(client, simulator)
    first = simulator.state.grants_of(student.canvas_user["id"])[0].access_token
    again = await walk_oauth_flow(client, simulator)
    assert again.complete.json()["user"]["id"] == student.user["id"]
    (grant,) = simulator.state.grants_of(student.canvas_user["id"])
    assert grant.access_token != first
    credential = await CanvasCredential.get(user_id=student.user["id"])
    assert api.runtime.cipher.decrypt(credential.token_ciphertext) == grant.access_token


async def test_a_replayed_state_is_refused_before_canvas_is_asked(client, simulator):
    new_canvas_user(simulator)
    flow = await walk_oauth_flow(client, simulator)
    assert flow.complete.status_code == 200
    exchanges = len(simulator.state.token_grant_types)

    replay = await client.get(flow.consent.headers["location"])
    assert_error(replay, 400, "invalid_oauth_state")
    assert "location" not in replay.headers
    assert len(simulator.state.token_grant_types) == exchanges


async def test_forged_tampered_and_expired_states_are_refused(client, api, simulator):
    new_canvas_user(simulator)
    _, start = await start_sign_in(client, simulator.base_url)
    state = start.json()["state"]
    flow_id = jwt.decode(state, options={"verify_signature": False})["sub"]
    forged = jwt.encode(
        {
            **jwt.decode(state, options={"verify_signature": False}),
            "sub": flow_id,
        },
        "not-our-secret-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    unknown_flow, _ = mint_oauth_state(api.settings, str(uuid.uuid4()), 60)
    stream_token_as_state = jwt.encode(
        {**jwt.decode(state, options={"verify_signature": False}), "typ": "stream"},
        TEST_JWT_SECRET,
        algorithm="HS256",
    )
    for bad_state in (forged, state[:-4] + "AAAA", unknown_flow, stream_token_as_state, ""):
        response = await client.get(
            "/auth/canvas/oauth/callback", params={"code": "any", "state": bad_state}
        )
        assert_error(response, 400, "invalid_oauth_state")
    assert_error(await client.get("/auth/canvas/oauth/callback"), 400, "invalid_oauth_state")

    # The genuine state, once its flow has expired.
    await OAuthFlow.filter(id=flow_id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    response = await client.get(
        "/auth/canvas/oauth/callback", params={"code": "any", "state": state}
    )
    assert_error(response, 400, "invalid_oauth_state")


async def test_only_allowlisted_redirect_uris_are_accepted(client, simulator):
    for redirect_uri in (
        "https://evil.example/steal",
        EXTENSION_REDIRECT_URI + "/../../evil",
        EXTENSION_REDIRECT_URI + "?next=https://evil.example",
        EXTENSION_REDIRECT_URI.replace("https://", "http://"),
        EXTENSION_REDIRECT_URI.upper(),
    ):
        flow = await walk_oauth_flow(client, simulator, redirect_uri=redirect_uri)
        assert_error(flow.start, 400, "redirect_uri_not_allowed")

    _, plain_challenge = await start_sign_in(client, simulator.base_url, code_challenge="plain")
    assert_error(plain_challenge, 422, "validation_error")


async def test_the_one_time_code_works_once_and_only_with_the_starters_verifier(client, simulator):
    new_canvas_user(simulator)
    flow = await walk_oauth_flow(client, simulator, complete=False)
    code, verifier = flow.extension_url.params["code"], flow.verifier

    other_verifier, _ = pkce_pair()
    wrong = await client.post(
        "/auth/canvas/oauth/complete", json={"code": code, "code_verifier": other_verifier}
    )
    assert_error(wrong, 400, "invalid_oauth_code")
    assert_error(
        await client.post(
            "/auth/canvas/oauth/complete", json={"code": "guess", "code_verifier": verifier}
        ),
        400,
        "invalid_oauth_code",
    )
    first = await client.post(
        "/auth/canvas/oauth/complete", json={"code": code, "code_verifier": verifier}
    )
    assert first.status_code == 200, first.text
    again = await client.post(
        "/auth/canvas/oauth/complete", json={"code": code, "code_verifier": verifier}
    )
    assert_error(again, 400, "invalid_oauth_code")
    assert_error(
        await client.post("/auth/canvas/oauth/complete", json={"code": code}),
        422,
        "validation_error",
    )


async def test_an_expired_one_time_code_is_refused(client, simulator):
    new_canvas_user(simulator)
    flow = await walk_oauth_flow(client, simulator, complete=False)
    flow_id = jwt.decode(flow.start.json()["state"], options={"verify_signature": False})["sub"]
    await OAuthFlow.filter(id=flow_id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    response = await client.post(
        "/auth/canvas/oauth/complete",
        json={"code": flow.extension_url.params["code"], "code_verifier": flow.verifier},
    )
    assert_error(response, 400, "invalid_oauth_code")


@pytest.mark.parametrize(
    ("tamper", "expected_code"),
    [
        ("deny", "canvas_authorization_denied"),
        ("bad_code", "canvas_oauth_rejected"),
        ("bad_secret", "canvas_oauth_rejected"),
    ],
)
async def test_failures_after_a_valid_state_go_back_to_the_extension(
    client, simulator, tamper, expected_code
):
    canvas_user = new_canvas_user(simulator)
    if tamper == "deny":
        simulator.state.authorize_as(canvas_user, approve=False)
    _, start = await start_sign_in(client, simulator.base_url)
    consent = await client.get(start.json()["authorization_url"])
    to_callback = httpx.URL(consent.headers["location"])
    if tamper == "bad_code":
        to_callback = to_callback.copy_set_param("code", "a-code-canvas-never-issued")
    record = simulator.state.oauth_clients[DEVELOPER_KEY_ID]
    if tamper == "bad_secret":  # the institution rotated the key's secret
        record.secret = "rotated-secret"
    try:
        callback = await client.get(str(to_callback))
    finally:
        record.secret = DEVELOPER_KEY_SECRET

    assert callback.status_code == 302, callback.text
    extension_url = httpx.URL(callback.headers["location"])
    assert str(extension_url).startswith(EXTENSION_REDIRECT_URI + "?")
    assert extension_url.params["error"] == expected_code
    assert extension_url.params["error_description"]
    assert "code" not in extension_url.params
    assert not simulator.state.grants_of(canvas_user["id"])
    assert not await User.exists(canvas_user_id=str(canvas_user["id"]))


async def test_the_token_endpoint_is_held_to_the_canvas_address_rules(api, simulator):
    strict = CanvasOAuth.from_settings(
        api.settings.model_copy(update={"canvas_allow_local": False}), lambda text: text
    )
    app = strict.app_for(simulator.base_url)
    assert app is not None
    before = len(simulator.state.token_grant_types)
    with pytest.raises(ValidationFailed) as refused:
        await strict.refresh(simulator.base_url, app, "any-refresh-token")
    assert refused.value.code == "invalid_canvas_url"
    https_loopback = simulator.base_url.replace("http://", "https://")
    with pytest.raises(ValidationFailed):
        await strict.exchange_code(https_loopback, app, code="c", callback_url="https://x")
    assert len(simulator.state.token_grant_types) == before


async def test_the_client_secret_never_shows_in_a_repr(api, simulator):
    app = api.runtime.canvas_oauth.app_for(simulator.base_url)
    assert app.client_secret.get_secret_value() == DEVELOPER_KEY_SECRET
    for shown in (repr(api.settings), repr(api.runtime.canvas_oauth), repr(app), str(app)):
        assert DEVELOPER_KEY_SECRET not in shown


REPO_ROOT = str(Path(__file__).resolve().parents[2])


def clean_environment() -> dict[str, str]:
    """This process's environment without the settings a test run may have set."""
    return {
        name: value
        for name, value in os.environ.items()
        if name.lower() not in Settings.model_fields
    }


def developer_key(**overrides: object) -> dict:
    return {
        "client_id": "170000000000007",
        "client_secret": "plain-secret",
        "redirect_uris": [EXTENSION_REDIRECT_URI],
        **overrides,
    }


def test_developer_keys_are_read_from_one_json_setting(monkeypatch, tmp_path):
    monkeypatch.setenv(
        "CANVAS_OAUTH_CLIENTS",
        json.dumps({"canvas.example.edu": developer_key(scopes=["url:GET|/api/v1/users/:id"])}),
    )
    settings = Settings(_env_file=None, data_dir=tmp_path)
    client = settings.canvas_oauth_clients["canvas.example.edu"]
    assert client.client_secret.get_secret_value() == "plain-secret"
    assert client.scopes == ["url:GET|/api/v1/users/:id"]
    assert "plain-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("canvas.example.edu", developer_key(client_secret=None)),
        ("canvas.example.edu", developer_key(client_secret_encrypted="gAAAA")),
        ("canvas.example.edu", developer_key(redirect_uris=["/relative"])),
        ("canvas.example.edu", developer_key(redirect_uris=[])),
        ("https://canvas.example.edu", developer_key()),
        ("Canvas.Example.edu", developer_key()),
    ],
)
def test_a_malformed_developer_key_setting_is_refused(tmp_path, host, key):
    with pytest.raises(pydantic.ValidationError):
        Settings(_env_file=None, data_dir=tmp_path, canvas_oauth_clients={host: key})


def test_an_encrypted_client_secret_is_read_with_the_credentials_keys(tmp_path):
    keys = Fernet.generate_key().decode()
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "encrypt-secret"],
        input="the-real-secret\n",
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,  # no .env of the working copy
        env={**clean_environment(), "CREDENTIALS_KEYS": keys, "DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    encrypted = result.stdout.strip()
    assert "the-real-secret" not in encrypted
    key = developer_key(client_secret=None, client_secret_encrypted=encrypted)
    settings = Settings(
        _env_file=None, data_dir=tmp_path, canvas_oauth_clients={"canvas.example.edu": key}
    )
    oauth = CanvasOAuth.from_settings(settings, TokenCipher([keys]).decrypt)
    app = oauth.app_for("https://canvas.example.edu")
    assert app.client_secret.get_secret_value() == "the-real-secret"

    other_keys = TokenCipher([Fernet.generate_key().decode()])
    with pytest.raises(ValueError) as unreadable:
        CanvasOAuth.from_settings(settings, other_keys.decrypt)
    assert "canvas.example.edu" in str(unreadable.value)
    assert "the-real-secret" not in str(unreadable.value)


async def test_the_demo_walks_the_oauth_flow_and_renews_the_token(tmp_path):
    # A separate process: the demo runs its own service and simulator on embedded defaults.
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "devkit", "demo", "--oauth"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=tmp_path,
        # The demo is a development tool of the checkout, not of the installed package.
        env={**clean_environment(), "PYTHONPATH": REPO_ROOT},
    )
    assert result.returncode == 0, result.stderr
    for step in ("/auth/canvas/oauth/start", "clicks Authorize", "/auth/canvas/oauth/complete"):
        assert step in result.stdout
    assert "Signed in as Demo Student" in result.stdout
    assert "renewed 1 time(s)" in result.stdout
    # The progress part: a ticked task, the milestone dates, and the calendar file.
    assert "Ticked [" in result.stdout and "Milestone dates (" in result.stdout
    calendar = tmp_path / "canvas-workspace-101-1001.ics"
    assert f"Calendar written to {calendar}" in result.stdout
    assert strict_parse(calendar.read_bytes()).walk("VEVENT")
