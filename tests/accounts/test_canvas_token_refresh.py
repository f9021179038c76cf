"""OAuth access tokens that expire while the service uses them: renewal once per expiry
(across jobs and processes), failures of the renewal, and revocation at sign-out. All of it
against the Canvas simulator over real HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from devkit.canvas_simulator import DEVELOPER_KEY_ID
from models.db import CanvasCredential
from server.accounts.canvas_tokens import CanvasReauthRequired
from server.accounts.users import canvas_client_for
from server.canvas.client import CanvasError
from server.canvas.oauth import CanvasOAuth, CanvasOAuthRejected
from server.runtime import Runtime
from tests.conftest import wait_for_status
from tests.support.oauth import (
    OAuthStudent,
    sign_in_with_oauth,
    walk_oauth_flow,
)


@pytest_asyncio.fixture
async def oauth_student(client, simulator) -> AsyncIterator[OAuthStudent]:
    yield await sign_in_with_oauth(client, simulator)
    simulator.state.access_token_ttl = 3600.0


def grant_of(simulator, student: OAuthStudent):
    (grant,) = simulator.state.grants_of(student.canvas_user["id"])
    return grant


async def canvas_user_id(rt: Runtime, user_id: int) -> int:
    async with await canvas_client_for(rt, user_id) as canvas:
        return int((await canvas.get_self())["id"])


async def plan(client, student: OAuthStudent, assignment: str) -> dict:
    path = f"/assignments/101/{assignment}"
    started = await client.post(f"{path}/start", headers=student.headers)
    assert started.status_code == 202, started.text
    return await wait_for_status(client, path, student.headers, {"ready", "failed"})


async def test_a_job_that_outlives_its_access_token_still_finishes(
    client, api, simulator, oauth_student
):
    # The token lives long enough for the job's first calls even on a loaded machine, and
    # Canvas takes longer to answer the assignment than that: it has expired when checked.
    lifetime = 2.0
    simulator.state.access_token_ttl = lifetime
    grant_of(simulator, oauth_student).expires_at = time.monotonic() + lifetime
    first_token = grant_of(simulator, oauth_student).access_token
    refreshes = simulator.state.refresh_count()
    seen_before = len(simulator.state.requests)
    simulator.state.slow("/api/v1/courses/101/assignments/1001", lifetime + 0.5)

    workspace = await plan(client, oauth_student, "1001")

    assert workspace["status"] == "ready", workspace["last_error"]
    assert simulator.state.refresh_count() > refreshes
    assignment_calls = [
        r
        for r in simulator.state.requests[seen_before:]
        if r.path == "/api/v1/courses/101/assignments/1001"
    ]
    assert assignment_calls[0].authorization == f"Bearer {first_token}"
    assert assignment_calls[-1].authorization != f"Bearer {first_token}"
    # The newest tokens are stored (encrypted) for the next job.
    credential = await CanvasCredential.get(user_id=oauth_student.user["id"])
    newest = grant_of(simulator, oauth_student)
    assert api.runtime.cipher.decrypt(credential.token_ciphertext) == newest.access_token
    assert api.runtime.cipher.decrypt(credential.refresh_token_ciphertext) == newest.refresh_token


async def test_concurrent_jobs_of_one_user_refresh_once(client, simulator, oauth_student):
    expired_token = grant_of(simulator, oauth_student).access_token
    simulator.state.expire_access_tokens(oauth_student.canvas_user["id"])
    # A slow token endpoint: the second job is turned away while the first one refreshes.
    simulator.state.slow("/login/oauth2/token", 0.3)
    refreshes = simulator.state.refresh_count()

    workspaces = await asyncio.gather(
        plan(client, oauth_student, "1001"), plan(client, oauth_student, "1003")
    )

    assert [w["status"] for w in workspaces] == ["ready", "ready"]
    assert simulator.state.refresh_count() == refreshes + 1
    turned_away = [
        r for r in simulator.state.requests if r.authorization == f"Bearer {expired_token}"
    ]
    assert len(turned_away) >= 2


async def test_two_processes_refresh_once_through_the_database_lease(api, simulator, oauth_student):
    # Another process: same database and keys, its own in-process refresh locks.
    other_process = dataclasses.replace(
        api.runtime,
        canvas_oauth=CanvasOAuth.from_settings(api.settings, api.runtime.cipher.decrypt),
    )
    simulator.state.expire_access_tokens(oauth_student.canvas_user["id"])
    simulator.state.slow("/login/oauth2/token", 0.3)
    refreshes = simulator.state.refresh_count()
    user_id = oauth_student.user["id"]

    seen = await asyncio.gather(
        canvas_user_id(api.runtime, user_id),
        canvas_user_id(other_process, user_id),
        canvas_user_id(other_process, user_id),
    )

    assert seen == [oauth_student.canvas_user["id"]] * 3
    assert simulator.state.refresh_count() == refreshes + 1
    credential = await CanvasCredential.get(user_id=user_id)
    assert credential.refresh_lease_until is None


async def test_a_revoked_sign_in_fails_jobs_and_calls_with_reauth_required(
    client, api, simulator, oauth_student
):
    # An administrator deleted the student's token (or the student removed the
    # authorization): Canvas answers the refresh with invalid_request, not invalid_grant.
    simulator.state.expire_access_tokens(oauth_student.canvas_user["id"])
    refresh_token = grant_of(simulator, oauth_student).refresh_token
    simulator.state.revoke_grants(oauth_student.canvas_user["id"])
    oauth = api.runtime.canvas_oauth
    with pytest.raises(CanvasOAuthRejected) as refused:
        await oauth.refresh(simulator.base_url, oauth.app_for(simulator.base_url), refresh_token)
    assert refused.value.oauth_error == "invalid_request" and refused.value.grant_is_dead
    answer = simulator.state.requests_to("canvas", "/login/oauth2/token")[-1]
    assert answer.status == 400

    workspace = await plan(client, oauth_student, "1001")

    assert workspace["status"] == "failed"
    assert workspace["last_error"]["code"] == "canvas_reauth_required"
    assert "sign in" in workspace["last_error"]["message"]
    credential = await CanvasCredential.get(user_id=oauth_student.user["id"])
    assert credential.refresh_token_ciphertext is None  # dead, so nobody asks Canvas again
    me = (await client.get("/me", headers=oauth_student.headers)).json()
    assert me["has_canvas_credentials"] is False

    refreshes = simulator.state.refresh_count()
    with pytest.raises(CanvasReauthRequired) as raised:
        await canvas_user_id(api.runtime, oauth_student.user["id"])
    assert raised.value.status_code == 400
    assert raised.value.code == "canvas_reauth_required"
    started = await client.post("/assignments/101/1003/start", headers=oauth_student.headers)
    assert started.status_code == 400 and started.json()["code"] == "canvas_reauth_required"
    assert simulator.state.refresh_count() == refreshes

    # Signing in again repairs it.
    simulator.state.authorize_as(oauth_student.canvas_user)
    again = await walk_oauth_flow(client, simulator)
    assert again.complete.json()["user"]["id"] == oauth_student.user["id"]
    assert (
        await canvas_user_id(api.runtime, oauth_student.user["id"])
        == (oauth_student.canvas_user["id"])
    )
    me = (await client.get("/me", headers=oauth_student.headers)).json()
    assert me["has_canvas_credentials"] is True


async def test_a_developer_key_canvas_refuses_needs_reauth_but_keeps_the_refresh_token(
    api, simulator, oauth_student
):
    simulator.state.expire_access_tokens(oauth_student.canvas_user["id"])
    record = simulator.state.oauth_clients[DEVELOPER_KEY_ID]
    secret, record.secret = record.secret, "rotated-by-the-admin"
    try:
        with pytest.raises(CanvasReauthRequired):
            await canvas_user_id(api.runtime, oauth_student.user["id"])
    finally:
        record.secret = secret
    credential = await CanvasCredential.get(user_id=oauth_student.user["id"])
    assert credential.refresh_token_ciphertext is not None
    assert credential.refresh_lease_until is None
    # Once the configuration matches again, the same refresh token works.
    assert (
        await canvas_user_id(api.runtime, oauth_student.user["id"])
        == (oauth_student.canvas_user["id"])
    )


async def test_a_token_endpoint_5xx_is_retried_with_backoff(api, simulator, oauth_student):
    simulator.state.expire_access_tokens(oauth_student.canvas_user["id"])
    retries = api.settings.canvas_max_retries
    asked = len(simulator.state.requests_to("canvas", "/login/oauth2/token"))
    simulator.state.fail("/login/oauth2/token", 503, times=retries)

    seen = await canvas_user_id(api.runtime, oauth_student.user["id"])

    assert seen == oauth_student.canvas_user["id"]
    token_calls = simulator.state.requests_to("canvas", "/login/oauth2/token")[asked:]
    assert [call.status for call in token_calls] == [503] * retries + [200]


async def test_a_token_endpoint_timeout_is_retried(api, simulator, oauth_student):
    impatient = CanvasOAuth.from_settings(
        api.settings.model_copy(update={"canvas_timeout_seconds": 0.2}), api.runtime.cipher.decrypt
    )
    app = impatient.app_for(simulator.base_url)
    refresh_token = grant_of(simulator, oauth_student).refresh_token
    simulator.state.slow("/login/oauth2/token", 1.0)

    grant = await impatient.refresh(simulator.base_url, app, refresh_token)

    assert grant.access_token == grant_of(simulator, oauth_student).access_token


async def test_canvas_down_during_a_refresh_is_unavailable_and_the_next_call_retries(
    api, simulator, oauth_student
):
    simulator.state.expire_access_tokens(oauth_student.canvas_user["id"])
    asked = len(simulator.state.requests_to("canvas", "/login/oauth2/token"))
    attempts = api.settings.canvas_max_retries + 1
    simulator.state.fail("/login/oauth2/token", 503, times=attempts)
    with pytest.raises(CanvasError) as raised:
        await canvas_user_id(api.runtime, oauth_student.user["id"])
    assert raised.value.code == "canvas_unavailable"
    assert len(simulator.state.requests_to("canvas", "/login/oauth2/token")) - asked == attempts

    async with asyncio.timeout(2):  # the lease was released: nobody waits for it to lapse
        assert (
            await canvas_user_id(api.runtime, oauth_student.user["id"])
            == (oauth_student.canvas_user["id"])
        )


async def test_a_token_about_to_expire_is_renewed_before_it_is_used(api, simulator, oauth_student):
    old_token = grant_of(simulator, oauth_student).access_token
    margin = api.settings.canvas_token_renew_margin_seconds
    # Canvas would still take it, but it dies within the margin: renew first.
    await CanvasCredential.filter(user_id=oauth_student.user["id"]).update(
        token_expires_at=datetime.now(UTC) + timedelta(seconds=margin / 2)
    )
    refreshes = simulator.state.refresh_count()
    seen_before = len(simulator.state.requests)

    assert (
        await canvas_user_id(api.runtime, oauth_student.user["id"])
        == (oauth_student.canvas_user["id"])
    )

    assert simulator.state.refresh_count() == refreshes + 1
    api_calls = [r for r in simulator.state.requests[seen_before:] if r.path.startswith("/api/")]
    assert api_calls and all(r.authorization != f"Bearer {old_token}" for r in api_calls)
    credential = await CanvasCredential.get(user_id=oauth_student.user["id"])
    assert credential.token_expires_at > datetime.now(UTC) + timedelta(seconds=margin)

    # Far from its expiry, the stored token is used as it is.
    refreshes = simulator.state.refresh_count()
    await canvas_user_id(api.runtime, oauth_student.user["id"])
    assert simulator.state.refresh_count() == refreshes


async def test_a_refresh_keeps_the_refresh_token_as_canvas_does(api, simulator, oauth_student):
    oauth = api.runtime.canvas_oauth
    app = oauth.app_for(simulator.base_url)
    refresh_token = grant_of(simulator, oauth_student).refresh_token
    old_access = grant_of(simulator, oauth_student).access_token

    fresh = await oauth.refresh(simulator.base_url, app, refresh_token)

    assert fresh.refresh_token is None  # Canvas's refresh answer carries none
    assert fresh.access_token not in (None, old_access)
    assert fresh.access_token == grant_of(simulator, oauth_student).access_token
    assert fresh.expires_at is not None
    assert simulator.state.user_for_token(old_access) is None
    again = await oauth.refresh(simulator.base_url, app, refresh_token)
    assert again.access_token != fresh.access_token
    with pytest.raises(CanvasOAuthRejected) as refused:
        await oauth.refresh(simulator.base_url, app, "oauth-refresh-never-issued")
    assert refused.value.oauth_error == "invalid_request" and refused.value.grant_is_dead
    assert refresh_token not in str(refused.value) and refresh_token not in repr(fresh)


async def test_signing_out_revokes_the_token_at_canvas(client, simulator, oauth_student):
    response = await client.delete("/me/canvas-credentials", headers=oauth_student.headers)
    assert response.status_code == 204
    assert simulator.state.grants_of(oauth_student.canvas_user["id"]) == []
    revocations = simulator.state.requests_to("canvas", "/login/oauth2/token")
    assert revocations[-1].method == "DELETE"
    assert not await CanvasCredential.exists(user_id=oauth_student.user["id"])


async def test_signing_out_with_an_expired_token_refreshes_then_revokes(
    client, simulator, oauth_student
):
    simulator.state.expire_access_tokens(oauth_student.canvas_user["id"])
    refreshes = simulator.state.refresh_count()
    response = await client.delete("/me/canvas-credentials", headers=oauth_student.headers)
    assert response.status_code == 204
    assert simulator.state.refresh_count() == refreshes + 1
    assert simulator.state.grants_of(oauth_student.canvas_user["id"]) == []


async def test_signing_out_while_canvas_is_down_still_forgets_the_token(
    client, simulator, oauth_student
):
    simulator.state.fail("/login/oauth2/token", 503, times=10)
    response = await client.delete("/me/canvas-credentials", headers=oauth_student.headers)
    assert response.status_code == 204
    assert not await CanvasCredential.exists(user_id=oauth_student.user["id"])
