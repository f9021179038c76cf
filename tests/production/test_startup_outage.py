"""Processes that start during an outage: an API process started while Redis (or
PostgreSQL) is unreachable stays up, answers /healthz, /readyz with the failing check, and
every other route with 503 service_unavailable and Retry-After, then becomes ready by
itself when the service comes back; an arq worker started then waits and runs jobs.

Real processes: the API and worker are started with the operator's commands, Redis is a
``redis-server`` of the test's own on a free port, started late, and PostgreSQL's late
arrival is a TCP relay to it that starts listening late."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet

from devkit.asgi_server import free_port
from tests.conftest import onboard_student, read_stream
from tests.support.postgres import REPO_ROOT
from tests.support.processes import Stack, redis_test_url, require_clean_redis

READY_WITHIN_SECONDS = 30


class LateRedis:
    """A redis-server of the test's own on a port nothing listens on until ``start``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        server = shutil.which("redis-server")
        assert server, "redis-server is installed by .ci/run"
        self.process = await asyncio.create_subprocess_exec(
            *(server, "--port", str(self.port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no"),
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


class LateRelay:
    """A TCP relay to ``target`` that accepts connections only after ``start``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.port = free_port()
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()


def base_env(tmp_path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "JWT_SECRET": secrets.token_urlsafe(32),
        "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
        "CANVAS_ALLOW_LOCAL": "true",
        "RATE_LIMIT_ENABLED": "false",
        "CANVAS_BACKOFF_SECONDS": "0.01",
        "SSE_HEARTBEAT_SECONDS": "1",
        "DATA_DIR": str(tmp_path),
        "LOG_LEVEL": "INFO",
    }


@pytest_asyncio.fixture
async def late_redis() -> AsyncIterator[LateRedis]:
    redis = LateRedis()
    try:
        yield redis
    finally:
        await redis.stop()


@pytest_asyncio.fixture
async def stack(tmp_path) -> AsyncIterator[Stack]:
    stack = Stack(env=base_env(tmp_path), log_dir=tmp_path)
    try:
        yield stack
    finally:
        stack.stop_all()


async def assert_waiting(http: httpx.AsyncClient, failing: str) -> None:
    assert (await http.get("/healthz")).status_code == 200
    ready = await http.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    checks = ready.json()["details"]["checks"]
    assert checks[failing].startswith(("unreachable", "no answer")), checks
    for method, path in (("GET", "/me"), ("POST", "/assignments/101/1001/start")):
        answer = await http.request(method, path)
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "service_unavailable"
        assert answer.headers["Retry-After"] and answer.headers["X-Request-ID"]


async def wait_until_serving(http: httpx.AsyncClient) -> dict:
    """Poll until routes are served (the gate opens within a second of the first passing
    readiness check); then /readyz must say ready."""
    for _ in range(READY_WITHIN_SECONDS * 4):
        if (await http.get("/me")).status_code != 503:
            break
        await asyncio.sleep(0.25)
    ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text
    return ready.json()


async def test_an_api_started_while_redis_is_down_becomes_ready_when_it_returns(
    database_url, stack, late_redis
):
    if not database_url.startswith("sqlite"):
        stack.env["DATABASE_URL"] = database_url
    stack.env["REDIS_URL"] = late_redis.url
    api = await stack.start_api("api")
    async with httpx.AsyncClient(base_url=api, timeout=10) as http:
        await assert_waiting(http, "redis")
        await asyncio.sleep(1.5)  # still up, still waiting: not a crash loop
        assert stack.processes["api"].poll() is None
        await assert_waiting(http, "redis")

        await late_redis.start()

        ready = await wait_until_serving(http)
        assert ready["checks"]["redis"] == "ok"
        me = await http.get("/me")
        assert me.status_code == 401 and me.json()["code"] == "missing_token"
    assert "ready: serving every route" in stack.log("api")


async def test_an_api_started_while_postgres_is_down_becomes_ready_when_it_returns(
    database_url, stack
):
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's outage is tested in the PostgreSQL pass (TEST_DATABASE_URL)")
    parts = httpx.URL(database_url.replace("postgres://", "http://", 1))
    relay = LateRelay(parts.host, parts.port or 5432)
    stack.env["DATABASE_URL"] = database_url.replace(
        f"{parts.host}:{parts.port or 5432}", f"127.0.0.1:{relay.port}", 1
    )
    api = await stack.start_api("api")
    try:
        async with httpx.AsyncClient(base_url=api, timeout=10) as http:
            await assert_waiting(http, "database")
            await relay.start()
            ready = await wait_until_serving(http)
            assert ready["checks"]["database"] == "ok"
            assert (await http.get("/me")).json()["code"] == "missing_token"
    finally:
        stack.stop_all()
        await relay.stop()


@pytest.mark.production
async def test_a_worker_started_while_redis_is_down_runs_jobs_once_it_returns(
    database_url, stack, late_redis, simulator
):
    if database_url.startswith("sqlite"):
        pytest.skip("the production tests run in the PostgreSQL pass (TEST_DATABASE_URL)")
    await require_clean_redis(redis_test_url())  # not used; keeps the pass's Redis rules
    stack.env.update(DATABASE_URL=database_url, REDIS_URL=late_redis.url)
    stack.start_worker("worker")
    api = await stack.start_api("api")
    await asyncio.sleep(2)
    assert stack.processes["worker"].poll() is None, stack.log("worker")

    await late_redis.start()

    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        await wait_until_serving(http)
        student = await onboard_student(http, simulator)
        path = "/assignments/101/1001"
        assert (await http.post(f"{path}/start", headers=student.headers)).status_code == 202
        events = await asyncio.wait_for(
            read_stream(http, f"{path}/events", headers=student.headers), 60
        )
    assert events[-1].event == "plan_ready", [m.event for m in events]
    assert "cannot reach Redis" in stack.log("worker")
