"""``canvas-workspace demo --oauth``: signing in with Canvas OAuth2 against the simulator,
step by step, with the demo playing the browser and the extension; then an hour passes, so
the planning job that follows has to renew the access token."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from devkit.canvas_simulator import EXTENSION_REDIRECT_URI, RunningSimulator
from server.accounts.canvas_oauth import pkce_challenge


async def sign_in_with_oauth(
    http: httpx.AsyncClient, simulator: RunningSimulator
) -> dict[str, Any]:
    """Walk the sign-in; returns the answer of ``/auth/canvas/oauth/complete``."""
    demo_student = simulator.state.users_by_token[simulator.demo_token]
    simulator.state.authorize_as(demo_student)
    verifier = secrets.token_urlsafe(48)
    print("Signing in with Canvas OAuth2 (the simulated institution's developer key):")
    start = await http.post(
        "/auth/canvas/oauth/start",
        json={
            "canvas_base_url": simulator.base_url,
            "redirect_uri": EXTENSION_REDIRECT_URI,
            "code_challenge": pkce_challenge(verifier),
        },
    )
    start.raise_for_status()
    print("  1. POST /auth/canvas/oauth/start -> Canvas's authorization page, with a state")
    consent = await http.get(start.json()["authorization_url"])
    print(f"  2. {demo_student['name']} clicks Authorize -> Canvas sends a code to our callback")
    callback = await http.get(consent.headers["location"])
    extension_url = httpx.URL(callback.headers["location"])
    if "code" not in extension_url.params:
        raise RuntimeError(f"sign-in failed: {extension_url.params.get('error_description')}")
    print(
        "  3. The callback trades the code for tokens (stored encrypted) and sends the browser "
        "to the extension with a one-time code"
    )
    complete = await http.post(
        "/auth/canvas/oauth/complete",
        json={"code": extension_url.params["code"], "code_verifier": verifier},
    )
    complete.raise_for_status()
    print("  4. POST /auth/canvas/oauth/complete with that code and the PKCE verifier -> our JWT")
    simulator.state.expire_access_tokens(demo_student["id"])
    print("An hour passes: Canvas now rejects the access token (planning will renew it).")
    body: dict[str, Any] = complete.json()
    return body


def report_refreshes(simulator: RunningSimulator) -> None:
    count = simulator.state.refresh_count()
    print(f"\nThe Canvas access token was renewed {count} time(s) with the refresh token.")
