"""Shared test fixtures: a Canvas simulator and the API, both served over real HTTP.

The database is SQLite in a temporary directory, or PostgreSQL when TEST_DATABASE_URL is
set (CI runs the suite once for each, in separate processes: Tortoise cannot hold a SQLite
and a PostgreSQL context in one process). A PostgreSQL test run creates a fresh database,
applies the aerich migrations to it, and drops it at the end.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet

from devkit.asgi_server import serve_in_background
from devkit.canvas_simulator import RunningSimulator, running_simulator
from devkit.sse_client import SseMessage, iter_sse
from server.app import create_app
from server.kernel.settings import Settings
from tests.support.openai_server import RunningModelServer, ScriptedModel, running_model_server
from tests.support.postgres import temporary_postgres_database

TEST_JWT_SECRET = "test-jwt-secret-" + "x" * 32
# The browser extension's origin the suite's API allows (ALLOWED_ORIGINS).
EXTENSION_ORIGIN = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


def make_settings(data_dir: Path, database_url: str | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "redis_url": None,
        "jwt_secret": TEST_JWT_SECRET,
        "credentials_keys": Fernet.generate_key().decode(),
        "canvas_allow_local": True,
        "canvas_backoff_seconds": 0.01,
        "canvas_backoff_max_seconds": 0.05,
        "canvas_timeout_seconds": 5,
        "rate_limit_enabled": False,
        "sse_heartbeat_seconds": 0.5,
        "llm_engine": "offline",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest_asyncio.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    postgres_url = os.environ.get("TEST_DATABASE_URL")
    if postgres_url:
        async with temporary_postgres_database(postgres_url, migrate=True) as url:
            yield url
    else:
        yield f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest_asyncio.fixture(scope="session")
async def simulator() -> AsyncIterator[RunningSimulator]:
    async with running_simulator() as sim:
        yield sim


@pytest_asyncio.fixture(scope="session")
async def model_server() -> AsyncIterator[RunningModelServer]:
    """The scripted OpenAI-compatible server (tests/support/openai_server.py)."""
    async with running_model_server() as server:
        yield server


@pytest.fixture
def model(model_server: RunningModelServer) -> ScriptedModel:
    """The scripted model, with no replies and no requests left from another test."""
    model_server.model.reset()
    return model_server.model


@pytest.fixture(autouse=True)
def _reset_simulator_faults(request: pytest.FixtureRequest) -> None:
    """Faults queued by one test must not leak into the next."""
    if "simulator" in request.fixturenames:
        request.getfixturevalue("simulator").state.faults.clear()


@dataclass
class Api:
    url: str
    settings: Settings
    app: Any

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime


@pytest_asyncio.fixture(scope="session")
async def api(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, simulator: RunningSimulator
) -> AsyncIterator[Api]:
    settings = make_settings(
        tmp_path_factory.mktemp("data"),
        database_url,
        canvas_oauth_clients=simulator.oauth_clients_setting(),
        allowed_origins=[EXTENSION_ORIGIN],
    )
    app = create_app(settings)
    async with serve_in_background(app) as url:
        simulator.register_developer_key(f"{url}/auth/canvas/oauth/callback")
        yield Api(url=url, settings=settings, app=app)


@pytest_asyncio.fixture
async def client(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        yield http


@dataclass
class Student:
    canvas_token: str
    access_token: str
    user: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def onboard_student(
    client: httpx.AsyncClient, simulator: RunningSimulator, name: str = "Test Student"
) -> Student:
    canvas_token = f"canvas-{secrets.token_hex(12)}"
    simulator.state.add_user(canvas_token, name=name)
    response = await client.post(
        "/auth/canvas",
        json={"canvas_base_url": simulator.base_url, "canvas_token": canvas_token},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Student(canvas_token=canvas_token, access_token=body["access_token"], user=body["user"])


@pytest_asyncio.fixture
async def student(client: httpx.AsyncClient, simulator: RunningSimulator) -> Student:
    """A fresh Canvas user per test, so tests never share workspaces."""
    return await onboard_student(client, simulator, name=f"Student {uuid.uuid4().hex[:6]}")


TERMINAL = {"plan_ready", "failed", "feedback_ready"}


async def read_stream(
    client: httpx.AsyncClient,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    until: set[str] = TERMINAL,
    limit: int = 200,
    from_start: bool = True,
) -> list[SseMessage]:
    """Read SSE messages from ``path`` until one of ``until`` arrives (bounded).

    ``from_start`` replays the workspace's whole history (``Last-Event-ID: 0``), so a
    job that finished before the stream opened is still seen to the end.
    """
    headers = dict(headers or {})
    if from_start:
        headers.setdefault("Last-Event-ID", "0")
    messages: list[SseMessage] = []
    async with asyncio.timeout(60), client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        async for message in iter_sse(response):
            messages.append(message)
            if message.event in until or len(messages) >= limit:
                break
    return messages


async def wait_for_status(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], statuses: set[str]
) -> dict[str, Any]:
    """Follow the workspace's stream until its status is one of ``statuses``."""
    async with (
        asyncio.timeout(60),
        client.stream("GET", f"{path}/events", headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        async for message in iter_sse(response):
            if message.event == "snapshot" and message.json()["status"] in statuses:
                break
            if message.event in TERMINAL and message.json()["status"] in statuses:
                break
    return (await client.get(path, headers=headers)).json()
