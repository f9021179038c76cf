"""The production stack as real processes: API servers and arq workers, started with the
same console commands an operator uses, against PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis.asyncio as redis_asyncio
from redis.exceptions import RedisError

from devkit.asgi_server import free_port
from tests.support.postgres import REPO_ROOT

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"


def redis_test_url() -> str:
    return os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)


async def require_clean_redis(url: str) -> None:
    """Skip (laptop) or fail (CI) without Redis; empty the test database otherwise."""
    client = redis_asyncio.Redis.from_url(url)
    try:
        await client.flushdb()
    except (RedisError, OSError) as exc:
        reason = f"Redis is not reachable at {url}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI needs it)")
        pytest.skip(reason)
    finally:
        await client.aclose()


@dataclass
class Stack:
    env: dict[str, str]
    log_dir: Path
    apis: list[str] = field(default_factory=list)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _spawn(
        self, name: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", *args],
            cwd=REPO_ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes[name] = process
        return process

    async def start_api(self, name: str) -> str:
        port = free_port()
        self._spawn(name, "serve", "--port", str(port))
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=1) as http:
            for _ in range(150):
                try:
                    if (await http.get(f"{url}/healthz")).status_code == 200:
                        self.apis.append(url)
                        return url
                except httpx.TransportError:
                    pass
                if self.processes[name].poll() is not None:
                    break
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{name} did not start:\n{self.log(name)}")

    def start_worker(self, name: str, **env: str) -> None:
        self._spawn(name, "worker", env=env)

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(10)

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
