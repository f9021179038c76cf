"""What the benchmarks run against: the Canvas simulator (timing its own answers), and the
embedded and production setups started as real processes with the operator's commands."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis.asyncio as redis_asyncio
from cryptography.fernet import Fernet
from starlette.types import ASGIApp, Receive, Scope, Send

from devkit.asgi_server import serve_in_background
from devkit.canvas_simulator import (
    RunningSimulator,
    SimulatorState,
    create_file_host,
    create_simulator,
    load_state,
)
from tests.support.postgres import admin_url, temporary_postgres_database
from tests.support.processes import Stack, require_clean_redis

# A Redis database of the benchmarks' own (the tests use 7); flushed before and after.
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
STARTUP_SECONDS = 30.0


class ResponseTimes:
    """ASGI middleware recording how long the wrapped app takes to answer each request:
    the server's own time, without the client's or the network's."""

    def __init__(self) -> None:
        self.durations: list[float] = []

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def timed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            await app(scope, receive, send)
            self.durations.append(time.perf_counter() - started)

        return timed

    def total_since(self, mark: int) -> float:
        return sum(self.durations[mark:])


@dataclass
class TimedSimulator:
    canvas: RunningSimulator
    response_times: ResponseTimes

    def add_user(self) -> str:
        """A new Canvas user; returns their Canvas token."""
        token = f"bench-{secrets.token_hex(12)}"
        self.canvas.state.add_user(token, name=f"Bench Student {token[-6:]}")
        return token

    def sample_assignments(self) -> list[tuple[str, str]]:
        """(course id, assignment id) of every assignment in the simulator's fixtures."""
        return [(str(a["course_id"]), str(a["id"])) for a in self.canvas.state.assignments.values()]


@asynccontextmanager
async def timed_simulator(state: SimulatorState | None = None) -> AsyncIterator[TimedSimulator]:
    """The Canvas simulator and its file host (another origin), as ``running_simulator``
    starts them, with each answer's own time recorded; serving ``state`` (default: the
    simulator's fixtures)."""
    state = state or load_state()
    times = ResponseTimes()
    async with AsyncExitStack() as stack:
        file_host_url = await stack.enter_async_context(
            serve_in_background(
                times.wrap(create_file_host(state)), host="localhost", lifespan="off"
            )
        )
        base_url = await stack.enter_async_context(
            serve_in_background(times.wrap(create_simulator(state)), lifespan="off")
        )
        state.file_host_url = file_host_url
        yield TimedSimulator(RunningSimulator(base_url, file_host_url, state), times)


def _common_env(data_dir: Path, engine: dict[str, str]) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATA_DIR": str(data_dir),
        "CANVAS_ALLOW_LOCAL": "true",
        # Limits a load test must not trip (decisions §4: "false for load tests, benchmarks").
        "RATE_LIMIT_ENABLED": "false",
        "MAX_ACTIVE_JOBS_PER_USER": "1000",
        "LOG_LEVEL": "INFO",
        **engine,
    }


@dataclass(frozen=True)
class Engine:
    """The planning engine a setup runs with, as settings."""

    label: str
    env: dict[str, str]


OFFLINE = Engine("offline engine", {"LLM_ENGINE": "offline"})


@dataclass
class Setup:
    """One way of running the service: its processes and its first API's address."""

    name: str
    engine: Engine
    stack: Stack
    api: str = ""
    database_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.name}, {self.engine.label}"

    def pid(self, process: str) -> int:
        return self.stack.processes[process].pid

    async def start_worker(self, name: str) -> None:
        """Start an arq worker and wait until it has connected to Redis."""
        self.stack.start_worker(name)
        deadline = time.monotonic() + STARTUP_SECONDS
        while "Starting worker" not in await asyncio.to_thread(self.stack.log, name):
            if self.stack.processes[name].poll() is not None or time.monotonic() > deadline:
                log = await asyncio.to_thread(self.stack.log, name)
                raise RuntimeError(f"{name} did not start:\n{log}")
            await asyncio.sleep(0.1)

    def stop(self, name: str) -> None:
        process = self.stack.processes.pop(name)
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


async def onboard(http: httpx.AsyncClient, sim: TimedSimulator, token: str) -> dict[str, str]:
    """``POST /auth/canvas`` for a simulator user; returns the Authorization header."""
    response = await http.post(
        "/auth/canvas", json={"canvas_base_url": sim.canvas.base_url, "canvas_token": token}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@asynccontextmanager
async def _running(setup: Setup, sim: TimedSimulator, *workers: str) -> AsyncIterator[Setup]:
    try:
        setup.api = await setup.stack.start_api(setup.name)
        for worker in workers:
            await setup.start_worker(worker)
        async with httpx.AsyncClient(base_url=setup.api, timeout=30) as http:
            setup.headers = await onboard(http, sim, sim.canvas.demo_token)
        yield setup
    finally:
        setup.stack.stop_all()


@asynccontextmanager
async def embedded_setup(
    workdir: Path, sim: TimedSimulator, engine: Engine
) -> AsyncIterator[Setup]:
    """``canvas-workspace serve`` on embedded defaults (SQLite, in-process jobs) in a data
    directory of its own."""
    data_dir = Path(tempfile.mkdtemp(prefix="embedded-", dir=workdir))
    stack = Stack(env=_common_env(data_dir, engine.env), log_dir=data_dir)
    async with _running(Setup("embedded", engine, stack), sim) as setup:
        yield setup


@dataclass(frozen=True)
class ProductionDatabase:
    """A fresh, migrated PostgreSQL database, the benchmarks' Redis database, and the
    secrets every process on them shares."""

    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.env["DATABASE_URL"]


@asynccontextmanager
async def production_database() -> AsyncIterator[ProductionDatabase]:
    await require_clean_redis(BENCH_REDIS_URL)
    try:
        async with temporary_postgres_database(admin_url(), migrate=True) as database_url:
            yield ProductionDatabase(
                {
                    "DATABASE_URL": database_url,
                    "REDIS_URL": BENCH_REDIS_URL,
                    "JWT_SECRET": secrets.token_urlsafe(32),
                    "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
                }
            )
    finally:
        await require_clean_redis(BENCH_REDIS_URL)


@asynccontextmanager
async def production_setup(
    workdir: Path, sim: TimedSimulator, database: ProductionDatabase, engine: Engine
) -> AsyncIterator[Setup]:
    """An API process and an arq worker (``worker-1``) on ``database``."""
    data_dir = Path(tempfile.mkdtemp(prefix="production-", dir=workdir))
    env = {**_common_env(data_dir, engine.env), **database.env}
    stack = Stack(env=env, log_dir=data_dir)
    setup = Setup("production", engine, stack, database_url=database.url)
    async with _running(setup, sim, "worker-1") as running:
        yield running


async def server_versions() -> tuple[str, str]:
    """PostgreSQL's and Redis's versions, for the machine line."""
    connection = await asyncpg.connect(admin_url())
    try:
        postgres = str(await connection.fetchval("SHOW server_version")).split()[0]
    finally:
        await connection.close()
    client = redis_asyncio.Redis.from_url(BENCH_REDIS_URL)
    try:
        info: dict[str, Any] = await client.info("server")
    finally:
        await client.aclose()
    return postgres, str(info["redis_version"])
