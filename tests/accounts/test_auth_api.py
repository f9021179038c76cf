"""Onboarding with a Canvas token, the current user, and credential management."""

from __future__ import annotations

import time

import jwt

from models.db import CanvasCredential
from tests.conftest import TEST_JWT_SECRET, onboard_student
from tests.support.errors import assert_error


async def test_onboarding_returns_a_backend_token_and_stores_the_canvas_token_encrypted(
    client, simulator
):
    student = await onboard_student(client, simulator, name="Ada Lovelace")
    assert student.user["name"] == "Ada Lovelace"
    assert student.user["has_canvas_credentials"] is True
    assert student.user["canvas_base_url"] == simulator.base_url

    claims = jwt.decode(
        student.access_token,
        TEST_JWT_SECRET,
        algorithms=["HS256"],
        audience="canvas-workspace-extension",
    )
    assert claims["sub"] == str(student.user["id"])
    assert claims["iss"] == "canvas-workspace"
    assert {"exp", "iat"} <= set(claims)

    credential = await CanvasCredential.get(user_id=student.user["id"])
    assert student.canvas_token not in credential.token_ciphertext

    me = await client.get("/me", headers=student.headers)
    assert me.status_code == 200
    assert me.json()["id"] == student.user["id"]


async def test_onboarding_the_same_canvas_user_twice_finds_the_same_user(client, simulator):
    first = await onboard_student(client, simulator)
    again = await client.post(
        "/auth/canvas",
        json={"canvas_base_url": simulator.base_url, "canvas_token": first.canvas_token},
    )
    assert again.status_code == 200
    assert again.json()["user"]["id"] == first.user["id"]


async def test_onboarding_with_a_token_canvas_rejects_is_a_502_with_a_clear_code(client, simulator):
    response = await client.post(
        "/auth/canvas",
        json={"canvas_base_url": simulator.base_url, "canvas_token": "not-a-real-token"},
    )
    body = assert_error(response, 502, "canvas_unauthorized")
    assert "not-a-real-token" not in response.text
    assert "not-a-real-token" not in body["message"]


async def test_onboarding_validation_errors_never_echo_the_token(client, simulator):
    response = await client.post("/auth/canvas", json={"canvas_token": "secret-token-value"})
    assert_error(response, 422, "validation_error")
    assert "secret-token-value" not in response.text

    response = await client.post(
        "/auth/canvas",
        json={"canvas_base_url": "ftp://canvas.example.edu", "canvas_token": "secret-token-value"},
    )
    assert_error(response, 422, "invalid_canvas_url")
    assert "secret-token-value" not in response.text

    response = await client.post(
        "/auth/canvas", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_error(response, 422, "validation_error")


async def test_routes_need_a_valid_bearer_token(client, student):
    assert_error(await client.get("/me"), 401, "missing_token")
    assert_error(
        await client.get("/me", headers={"Authorization": "Bearer nonsense"}), 401, "invalid_token"
    )
    assert_error(
        await client.get("/me", headers={"Authorization": "Basic abc"}), 401, "missing_token"
    )
    now = int(time.time())
    expired = jwt.encode(
        {
            "sub": str(student.user["id"]),
            "iat": now - 100,
            "exp": now - 10,
            "iss": "canvas-workspace",
            "aud": "canvas-workspace-extension",
            "typ": "access",
        },
        TEST_JWT_SECRET,
        algorithm="HS256",
    )
    response = await client.get("/me", headers={"Authorization": f"Bearer {expired}"})
    assert_error(response, 401, "token_expired")
    assert response.headers["www-authenticate"] == "Bearer"
    forged = jwt.encode(
        {
            "sub": str(student.user["id"]),
            "iat": now,
            "exp": now + 60,
            "iss": "canvas-workspace",
            "aud": "canvas-workspace-extension",
        },
        "another-secret-that-is-long-enough-for-hs256",
        algorithm="HS256",
    )
    assert_error(
        await client.get("/me", headers={"Authorization": f"Bearer {forged}"}), 401, "invalid_token"
    )


async def test_replacing_credentials_needs_a_token_of_the_same_canvas_user(
    client, simulator, student
):
    other = await onboard_student(client, simulator)
    response = await client.put(
        "/me/canvas-credentials",
        json={"canvas_base_url": simulator.base_url, "canvas_token": other.canvas_token},
        headers=student.headers,
    )
    assert_error(response, 400, "canvas_user_mismatch")

    new_token = student.canvas_token + "-rotated"
    simulator.state.users_by_token[new_token] = simulator.state.users_by_token[student.canvas_token]
    before = await CanvasCredential.get(user_id=student.user["id"])
    response = await client.put(
        "/me/canvas-credentials",
        json={"canvas_base_url": simulator.base_url, "canvas_token": new_token},
        headers=student.headers,
    )
    assert response.status_code == 200, response.text
    after = await CanvasCredential.get(user_id=student.user["id"])
    assert after.token_ciphertext != before.token_ciphertext
    assert new_token not in response.text


async def test_deleting_credentials_blocks_planning_until_canvas_is_connected_again(
    client, student
):
    assert (
        await client.delete("/me/canvas-credentials", headers=student.headers)
    ).status_code == 204
    me = (await client.get("/me", headers=student.headers)).json()
    assert me["has_canvas_credentials"] is False
    assert_error(
        await client.post("/assignments/101/1001/start", headers=student.headers),
        400,
        "canvas_credentials_missing",
    )
    assert_error(
        await client.delete("/me/canvas-credentials", headers=student.headers),
        404,
        "canvas_credentials_missing",
    )


async def test_unknown_routes_and_methods_use_the_same_error_shape(client, student):
    assert_error(await client.get("/nope", headers=student.headers), 404, "not_found")
    assert_error(await client.patch("/me", headers=student.headers), 405, "method_not_allowed")
