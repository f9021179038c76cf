"""Signing in with Canvas OAuth2 against the simulator, the way the extension and the
browser do it: start, Canvas's consent page, our callback, complete."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from devkit.canvas_simulator import EXTENSION_REDIRECT_URI, RunningSimulator
from server.accounts.canvas_oauth import pkce_challenge


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, pkce_challenge(verifier)


@dataclass
class OAuthSignIn:
    """One walk through the flow, with what each step answered."""

    verifier: str
    start: httpx.Response
    consent: httpx.Response | None = None
    callback: httpx.Response | None = None
    complete: httpx.Response | None = None

    @property
    def extension_url(self) -> httpx.URL:
        """Where our callback sent the browser (the extension's redirect URI)."""
        assert self.callback is not None and self.callback.status_code == 302, self.callback
        return httpx.URL(self.callback.headers["location"])


async def start_sign_in(
    client: httpx.AsyncClient,
    canvas_base_url: str,
    *,
    redirect_uri: str = EXTENSION_REDIRECT_URI,
    code_challenge: str | None = None,
) -> tuple[str, httpx.Response]:
    """``POST /auth/canvas/oauth/start``; returns the PKCE verifier and the answer."""
    verifier, challenge = pkce_pair()
    start = await client.post(
        "/auth/canvas/oauth/start",
        json={
            "canvas_base_url": canvas_base_url,
            "redirect_uri": redirect_uri,
            "code_challenge": code_challenge or challenge,
        },
    )
    return verifier, start


async def walk_oauth_flow(
    client: httpx.AsyncClient,
    simulator: RunningSimulator,
    *,
    redirect_uri: str = EXTENSION_REDIRECT_URI,
    complete: bool = True,
) -> OAuthSignIn:
    """Start, let the simulated browser's user answer Canvas's consent page, follow Canvas's
    redirect to our callback, and (when it gave a code) complete."""
    verifier, start = await start_sign_in(client, simulator.base_url, redirect_uri=redirect_uri)
    flow = OAuthSignIn(verifier=verifier, start=start)
    if start.status_code != 200:
        return flow
    flow.consent = await client.get(start.json()["authorization_url"])
    assert flow.consent.status_code == 302, flow.consent.text
    flow.callback = await client.get(flow.consent.headers["location"])
    code = flow.extension_url.params.get("code") if flow.callback.status_code == 302 else None
    if code and complete:
        flow.complete = await client.post(
            "/auth/canvas/oauth/complete", json={"code": code, "code_verifier": verifier}
        )
    return flow


@dataclass
class OAuthStudent:
    canvas_user: dict[str, Any]
    access_token: str
    user: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def sign_in_with_oauth(
    client: httpx.AsyncClient, simulator: RunningSimulator, name: str = "OAuth Student"
) -> OAuthStudent:
    """A new Canvas user who signs in with OAuth; returns their backend JWT."""
    canvas_user = simulator.state.add_user(f"personal-{secrets.token_hex(8)}", name=name)
    simulator.state.authorize_as(canvas_user)
    flow = await walk_oauth_flow(client, simulator)
    assert flow.complete is not None and flow.complete.status_code == 200, flow.callback
    body = flow.complete.json()
    return OAuthStudent(
        canvas_user=canvas_user, access_token=body["access_token"], user=body["user"]
    )
